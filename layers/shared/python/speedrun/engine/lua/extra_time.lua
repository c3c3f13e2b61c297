-- ARGV: now, participant id, multiplier (1..4; 1 removes it), the host's connection id. Grants a
-- participant extra time: every deadline the server sets them from now on is their window (the
-- question's time x the multiplier); a question they are answering gets its deadline moved to match.
-- The reply names their connection, for the one push that tells them.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection('host', ARGV[4])
if refused then return refused end
enforce_deadline(meta)
if meta.status == 'completed' then return fail('not_running', 'the speed-run is over') end
local p = load_player(ARGV[2])
if not p or p.kicked then return fail('not_found', 'no such participant') end
local multiplier = tonumber(ARGV[3])
p.extra = multiplier ~= 1 and multiplier or nil
local answering = meta.status == 'running' and p.cur >= 0
if answering then
  p.window = window_ms(meta, p)
  p.deadline = deadline_of(meta, p, p.served_at)
end
save_player(p)
emit('extra_time_granted', json({participant_id = p.id, multiplier = multiplier}))
local reply = {participant_id = p.id, multiplier = multiplier, conn = redis.call('HGET', K_CONNS, p.id) or nil}
if answering then reply.index, reply.deadline, reply.duration_ms = p.cur, p.deadline, p.window end
return ok(reply)
