-- ARGV: now, slot, connection id: the socket is closed. It leaves the slot's open connections, and
-- stops being the slot's current connection only if it still is (a newer one stays).
local slot, conn = ARGV[2], ARGV[3]
local open = open_connections(slot)
if open[conn] then
  open[conn] = nil
  save_open_connections(slot, open)
end
if redis.call('HGET', K_CONNS, slot) == conn then redis.call('HDEL', K_CONNS, slot) end
return ok({})
