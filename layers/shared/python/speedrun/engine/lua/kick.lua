-- ARGV: now, participant id, the host's connection id. Removes the participant: off the board,
-- every connection forgotten (`close`: id -> admitted within CONNECT_WINDOW_MS, for the caller to
-- close them all), marked kicked so the authorizer refuses their token from now on.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection('host', ARGV[3])
if refused then return refused end
enforce_deadline(meta)
if meta.status == 'completed' then return fail('not_running', 'the speed-run is over') end
local p = load_player(ARGV[2])
if not p or p.kicked then return fail('not_found', 'no such participant') end
p.kicked = true
save_player(p)
redis.call('ZREM', K_BOARD, board_member(p))
redis.call('SREM', K_WATCHERS, p.id)
meta.participant_count = redis.call('HINCRBY', K_META, 'participant_count', -1)
if p.finished then meta.finished_count = redis.call('HINCRBY', K_META, 'finished_count', -1) end
emit('participant_kicked', json({participant_id = p.id}))
local open = open_connections(p.id)
local current = redis.call('HGET', K_CONNS, p.id)
if current and not open[current] then open[current] = array({0, 0}) end
redis.call('HDEL', K_CONNS, p.id, OPEN_PREFIX .. p.id)
if meta.status == 'lobby' then  -- the lobby's count changed: its next update says so
  request_flush(meta, tonumber(meta.lobby_next or 0))
end
follow_lobby_expiry(meta)
complete_if_all_finished(meta)
return ok({participant_id = p.id, close = to_close(open), participant_count = tonumber(meta.participant_count),
           conns = connections()})
