-- ARGV: now, slot, connection id: forgets the connection only if it is still the slot's current one.
if redis.call('HGET', K_CONNS, ARGV[2]) == ARGV[3] then redis.call('HDEL', K_CONNS, ARGV[2]) end
return ok({})
