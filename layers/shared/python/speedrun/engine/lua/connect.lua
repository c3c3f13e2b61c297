-- ARGV: now, slot ('host' or participant id), connection id. One live connection per identity:
-- answers the connection it replaces (for the caller to close).
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
if ARGV[2] ~= 'host' then
  local p = load_player(ARGV[2])
  if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
end
local previous = redis.call('HGET', K_CONNS, ARGV[2])
redis.call('HSET', K_CONNS, ARGV[2], ARGV[3])
follow_lobby_expiry(meta)
if previous == ARGV[3] then previous = false end
return ok({replaced = previous or nil})
