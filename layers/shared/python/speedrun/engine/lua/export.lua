-- ARGV: now, and for a caller (the `results` action): slot, connection id. Returns the run's status
-- and event stream (raw JSON strings, in order); for a caller whose connection is refused,
-- {'refused', <the refusal document>}.
local status = redis.call('HGET', K_META, 'status')
if not status then return {} end
local refused = refuse_connection(ARGV[2], ARGV[3])
if refused then return {'refused', refused} end
local events = redis.call('LRANGE', K_EVENTS, 0, -1)
table.insert(events, 1, status)
return events
