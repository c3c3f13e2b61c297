-- ARGV: now, then connection ids that answered 410 Gone. Each is forgotten wherever it is still
-- registered (a newer socket of the same identity stays).
local gone = {}
for i = 2, #ARGV do gone[ARGV[i]] = true end
local flat = redis.call('HGETALL', K_CONNS)
for i = 1, #flat, 2 do
  if gone[flat[i + 1]] then redis.call('HDEL', K_CONNS, flat[i]) end
end
return ok({})
