-- ARGV: now. Deletes every key of the run; returns its join code (its index lives in another slot).
local code = redis.call('HGET', K_META, 'join_code')
redis.call('DEL', unpack(KEYS))
return code or ''
