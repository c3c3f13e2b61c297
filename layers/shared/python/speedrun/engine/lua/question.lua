-- ARGV: now, participant id, index, connection id. Serves the participant's next question; asking
-- again for the one being answered returns it with its original served_at and deadline.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection(ARGV[2], ARGV[4])
if refused then return refused end
enforce_deadline(meta)
if meta.status ~= 'running' then return fail('not_running', 'the speed-run is not running') end
local p = load_player(ARGV[2])
if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
local index = tonumber(ARGV[3])
if index >= tonumber(meta.question_count) then return fail('bad_request', 'no such question') end
if p.finished or index ~= p.next then return fail('out_of_order', 'the next question is ' .. p.next) end
if p.cur ~= index then
  p.cur = index
  p.served_at = NOW
  p.window = window_ms(meta, p)
  p.deadline = deadline_of(meta, p, NOW)
  save_player(p)
  emit('question_served', json({participant_id = p.id, index = index, served_at = p.served_at, deadline = p.deadline}))
end
return ok(served_question(cjson.decode(redis.call('HGET', K_QUESTIONS, index)), p))
