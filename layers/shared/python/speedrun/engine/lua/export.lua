-- ARGV: now. Returns the run's status and event stream (raw JSON strings, in order).
local status = redis.call('HGET', K_META, 'status')
if not status then return {} end
local events = redis.call('LRANGE', K_EVENTS, 0, -1)
table.insert(events, 1, status)
return events
