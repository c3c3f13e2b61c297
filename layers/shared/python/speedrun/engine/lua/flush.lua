-- ARGV: now. A flush the run asked for (common.lua, request_flush), received by the fan-out function:
-- takes whatever coalesced push is due (the host's notifications, a lobby update, the watchers'
-- board) as effects, and asks for the next flush when something is pending but not yet due.
local meta = load_meta()
if not meta then return ok({}) end
meta.flush_at, meta.flush_due = nil, nil
redis.call('HDEL', K_META, 'flush_at', 'flush_due')
if tonumber(meta.feed_at or 0) + FEED_INTERVAL_MS <= NOW or meta.status == 'completed' then
  EFFECTS.host_feed = take_host_feed(meta)
elseif redis.call('EXISTS', K_FEED) == 1 then
  request_flush(meta, tonumber(meta.feed_at) + FEED_INTERVAL_MS)
end
local count = tonumber(meta.participant_count)
if meta.status == 'lobby' and count ~= tonumber(meta.lobby_count or 0) then
  -- The next update's time is fixed when one is sent (from the count then): a due time computed
  -- from the growing count would recede as fast as a big crowd joins, and never come.
  local due = tonumber(meta.lobby_next or 0)
  if due <= NOW then
    redis.call('HSET', K_META, 'lobby_count', json(count), 'lobby_next', json(NOW + lobby_interval_ms(count)))
    local conns = connections()
    conns.host = nil
    EFFECTS.lobby = {participant_count = count, recent = recent_names(), conns = conns}
  else
    request_flush(meta, due)
  end
end
if meta.status == 'running' and meta.board_dirty == '1' then
  local watchers = watcher_connections()
  local watcher_count = 0
  for _ in pairs(watchers) do watcher_count = watcher_count + 1 end
  local due = tonumber(meta.board_next or 0)  -- fixed when the last board went out, as the lobby's
  if due <= NOW then
    redis.call('HSET', K_META, 'board_dirty', '0', 'board_next', json(NOW + board_interval_ms(watcher_count)))
    if watcher_count > 0 then
      EFFECTS.leaderboard = {entries = build_board(HOST_BOARD_MAX), participant_count = count, conns = watchers}
    end
  else
    request_flush(meta, due)
  end
end
return ok({})
