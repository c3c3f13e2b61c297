-- ARGV: now, sender slot ('host' or participant id), to ('all', 'host' or a participant id), content,
-- connection id.
-- Chat: participants write to the host or everyone when the run allows chat; the host to anyone.
-- At most 5 messages per sender per 10 s.
local RATE_WINDOW_MS, RATE_LIMIT = 10000, 5
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection(ARGV[2], ARGV[5])
if refused then return refused end
enforce_deadline(meta)
if meta.status == 'completed' then return fail('not_running', 'the speed-run is over') end
local sender, to = ARGV[2], ARGV[3]
local from_name = 'Host'
if sender ~= 'host' then
  local p = load_player(sender)
  if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
  if meta.chat ~= '1' then return fail('forbidden', 'chat is off in this speed-run') end
  if to ~= 'host' and to ~= 'all' then return fail('forbidden', 'participants may write to host or all only') end
  from_name = p.name
elseif to == 'host' then
  return fail('bad_request', 'to: the host cannot write to itself')
elseif to ~= 'all' then
  local p = load_player(to)
  if not p or p.kicked then return fail('not_found', 'no such participant') end
end
local recent = array()
local raw = redis.call('HGET', K_CHAT, sender)
for _, at in ipairs(raw and cjson.decode(raw) or {}) do
  if at > NOW - RATE_WINDOW_MS then recent[#recent + 1] = at end
end
if #recent >= RATE_LIMIT then return fail('rate_limited', 'at most 5 messages per 10 seconds') end
recent[#recent + 1] = NOW
redis.call('HSET', K_CHAT, sender, json(recent))
emit('message_sent', json({from = sender, to = to, content = ARGV[4]}))
follow_lobby_expiry(meta)
local conns = connections()
local recipients = {}
if to == 'all' then
  for slot, conn in pairs(conns) do
    if slot ~= sender then recipients[#recipients + 1] = conn end
  end
elseif conns[to] then
  recipients[1] = conns[to]
end
return ok({from = sender, from_name = from_name, to = to, content = ARGV[4], sent_at = NOW,
           recipients = array(recipients)})
