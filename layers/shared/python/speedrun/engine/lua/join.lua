-- ARGV: now, participant id, name, folded name, player handle ('' for none)
local meta = load_meta()
if not meta then return fail('not_found', 'unknown join code') end
enforce_deadline(meta)
local open = meta.status == 'lobby' or (meta.status == 'running' and meta.late_join == '1')
if not open then return fail('conflict', 'the speed-run is not open for joining') end
if redis.call('HEXISTS', K_NAMES, ARGV[4]) == 1 then return fail('conflict', 'name already taken') end
if tonumber(meta.participant_count) >= tonumber(meta.max_participants) then
  return fail('forbidden', 'the speed-run is full')
end
local order = redis.call('HINCRBY', K_META, 'join_seq', 1)
local count = redis.call('HINCRBY', K_META, 'participant_count', 1)
local handle = ARGV[5] ~= '' and ARGV[5] or cjson.null
local p = {id = ARGV[2], name = ARGV[3], handle = handle, order = order, score = 0, elapsed = 0,
           next = 0, cur = -1, served_at = 0, deadline = 0, finished = false, kicked = false}
save_player(p)
redis.call('HSET', K_NAMES, ARGV[4], p.id)
redis.call('ZADD', K_BOARD, board_value(meta, p), board_member(p))
emit('participant_joined', json({participant_id = p.id, name = p.name, player_handle = handle, join_order = order}))
meta.participant_count = count
-- The host hears of it within a second (coalesced); the lobby's participants by the next lobby update.
notify_host(meta, 'joined', {participant_id = p.id, name = p.name})
follow_lobby_expiry(meta)
return ok({participant_count = count})
