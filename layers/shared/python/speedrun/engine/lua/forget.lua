-- ARGV: now, then connection ids that answered 410 Gone to a push. Each one still registered as its
-- slot's current connection is no longer pushed to (a newer socket of the same identity stays). It
-- is marked unreached, not forgotten as the token's connection: API Gateway answers 410 until a
-- connection's $connect has returned, so a live socket can still act (its `sync` makes it current
-- again); a gone one never sends anything.
local gone = {}
for i = 2, #ARGV do gone[ARGV[i]] = true end
local flat = redis.call('HGETALL', K_CONNS)
for i = 1, #flat, 2 do
  local field, conn = flat[i], flat[i + 1]
  if gone[conn] and is_slot_field(field) then
    local open = open_connections(field)
    if open[conn] then
      open[conn][3] = 1
      save_open_connections(field, open)
    end
    redis.call('HDEL', K_CONNS, field)
  end
end
return ok({})
