-- ARGV: now, slot ('host' or participant id), connection id. One live connection per token, the
-- newest: the connection becomes the slot's current one (the only one any action accepts from now
-- on) and joins the slot's open connections. Answers `close` (id -> admitted within
-- CONNECT_WINDOW_MS), for the caller to close: the connection it replaces, and any other open one
-- not asked to close in the last RECLOSE_MS (one that outlasted its closer's retries). So racing
-- handshakes cost one close each, not one per open connection.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local slot, conn = ARGV[2], ARGV[3]
if slot ~= 'host' then
  local p = load_player(slot)
  if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
end
local open = open_connections(slot)
local previous = redis.call('HGET', K_CONNS, slot)
if not previous then  -- an unreached current connection
  for id, entry in pairs(open) do
    if entry[3] == 1 then previous = id end
  end
end
if previous == conn then previous = false end
if previous and not open[previous] then open[previous] = array({0, 0}) end
open[conn] = nil
-- API Gateway has closed whatever it admitted over 2 h ago; of the rest the newest are kept.
local ids = {}
for id, entry in pairs(open) do
  if NOW - entry[1] < CONNECTION_MAX_MS or id == previous then ids[#ids + 1] = id end
end
table.sort(ids, function(a, b) return open[a][1] > open[b][1] end)
local kept, close = {}, {}
for i, id in ipairs(ids) do
  local entry = open[id]
  if id == previous or NOW - entry[2] >= RECLOSE_MS then
    close[id] = may_be_connecting(entry)
    entry[2] = NOW
  end
  if i < OPEN_MAX then kept[id] = array({entry[1], entry[2]}) end  -- replaced: no longer unreached
end
kept[conn] = array({NOW, 0})
save_open_connections(slot, kept)
redis.call('HSET', K_CONNS, slot, conn)
follow_lobby_expiry(meta)
return ok({close = close})
