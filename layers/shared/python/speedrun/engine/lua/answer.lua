-- ARGV: now, participant id, index, mode ('answer' or 'timeout'), selected (JSON array of ints),
-- connection id.
-- Validates, scores, updates the board, appends the events, and completes the run when this was
-- the last participant to finish. The host's notification and the watchers' board are coalesced
-- (common.lua, request_flush); the reply carries the participant's rank and the top entries.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection(ARGV[2], ARGV[6])
if refused then return refused end
enforce_deadline(meta)
if meta.status ~= 'running' then return fail('not_running', 'the speed-run is not running') end
local p = load_player(ARGV[2])
if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
local index = tonumber(ARGV[3])
if index >= tonumber(meta.question_count) then return fail('bad_request', 'no such question') end
if index < p.next then return fail('conflict', 'question ' .. index .. ' is already answered') end
if index > p.next or p.cur ~= index then
  return fail('out_of_order', 'question ' .. index .. ' has not been served; the next question is ' .. p.next)
end
local q = cjson.decode(redis.call('HGET', K_QUESTIONS, index))
local duration_ms = tonumber(meta.question_duration_s) * 1000
local given_up = ARGV[4] == 'timeout'
local selected = array()
if not given_up then
  local seen = {}
  for i, option in ipairs(cjson.decode(ARGV[5])) do
    if option < 0 or option >= #q.options or option ~= math.floor(option) then
      return fail('bad_request', 'selected: option ' .. option .. ' does not exist')
    end
    if seen[option] then return fail('bad_request', 'selected: option ' .. option .. ' given twice') end
    seen[option] = true
    selected[i] = option
  end
  if #selected ~= q.select_count then
    return fail('bad_request', 'selected: exactly ' .. q.select_count .. ' option(s) must be selected')
  end
end

local elapsed = math.min(NOW - p.served_at, duration_ms)
local outcome, points = 'timeout', 0
if given_up or NOW > p.deadline + GRACE_MS then
  selected = array()
else
  local wanted = {}
  for _, option in ipairs(q.correct) do wanted[option] = true end
  local exact = #q.correct == #selected
  for _, option in ipairs(selected) do exact = exact and wanted[option] == true end
  if exact then
    -- round(1000 x (1 - elapsed / (2 x duration))), half up, in exact integer arithmetic
    local numerator = 2000 * duration_ms - 1000 * elapsed + duration_ms
    local denominator = 2 * duration_ms
    outcome, points = 'correct', (numerator - numerator % denominator) / denominator
  else
    outcome = 'incorrect'
  end
end

p.score = p.score + points
p.elapsed = p.elapsed + elapsed
p.next = p.next + 1
p.cur = -1
p.finished = p.next >= tonumber(meta.question_count)
save_player(p)
redis.call('ZADD', K_BOARD, board_value(p), board_member(p))
emit('answer_scored', json({participant_id = p.id, index = index, selected = selected, outcome = outcome,
                            points = points, elapsed_ms = elapsed, score = p.score}))
notify_host(meta, 'answered',
  {participant_id = p.id, name = p.name, index = index, outcome = outcome, points = points, score = p.score})
if p.finished then
  meta.finished_count = redis.call('HINCRBY', K_META, 'finished_count', 1)
  emit('participant_finished', json({participant_id = p.id, score = p.score, elapsed_ms = p.elapsed}))
  redis.call('SADD', K_WATCHERS, p.id)
  notify_host(meta, 'finished', {participant_id = p.id, name = p.name, score = p.score, elapsed_ms = p.elapsed})
end
local rank = rank_of(p)
complete_if_all_finished(meta)
if meta.status == 'running' then
  -- The board changed: its watchers get it when due (the flush the notification asked for sees to it).
  redis.call('HSET', K_META, 'board_dirty', '1')
end
return ok({index = index, outcome = outcome, points = points, score = p.score, correct_options = q.correct,
           finished = p.finished, rank = rank, top = build_board(PARTICIPANT_BOARD),
           participant_count = tonumber(meta.participant_count)})
