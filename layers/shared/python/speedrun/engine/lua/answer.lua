-- ARGV: now, participant id, index, mode ('answer' or 'timeout'), the answer (JSON: an array of option
-- indexes, or a numeric question's number), connection id.
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
local qtype = q.type or 'choice'
local given_up = ARGV[4] == 'timeout'
local given = cjson.decode(ARGV[5])
local selected, value = array(), nil
if not given_up then
  if qtype == 'numeric' then
    if type(given) ~= 'number' then return fail('bad_request', 'value: a numeric question is answered with a number') end
    value = given
  else
    if type(given) ~= 'table' then
      return fail('bad_request', 'selected: a ' .. qtype .. ' question is answered with option indexes')
    end
    local seen = {}
    for i, option in ipairs(given) do
      if option < 0 or option >= #q.options or option ~= math.floor(option) then
        return fail('bad_request', 'selected: option ' .. option .. ' does not exist')
      end
      if seen[option] then return fail('bad_request', 'selected: option ' .. option .. ' given twice') end
      seen[option] = true
      selected[i] = option
    end
    if #selected ~= q.select_count then
      if qtype == 'order' then
        return fail('bad_request', 'selected: put all ' .. q.select_count .. ' options in order')
      end
      return fail('bad_request', 'selected: exactly ' .. q.select_count .. ' option(s) must be selected')
    end
  end
end

-- docs/engine.md, Scoring. `window`: the participant's time for this question (nil: untimed).
local base_ms = question_ms(meta)
local window = base_ms and (p.window or window_ms(meta, p)) or nil
local elapsed = NOW - p.served_at
if window then elapsed = math.min(elapsed, window) end
local outcome, points = 'timeout', 0
local right, closeness = false, 1
if given_up or NOW > p.deadline + GRACE_MS then
  selected, value = array(), nil
elseif qtype == 'poll' then
  outcome = 'answered'
else
  if qtype == 'numeric' then
    -- A hair of slack, so that a value a decimal tolerance away (0.3 +/- 0.1: 0.4) is not refused for
    -- the doubles' rounding of its distance (0.10000000000000003).
    local distance = math.abs(value - q.answer)
    right = distance <= q.tolerance + NUMERIC_SLACK * math.max(1, math.abs(q.answer))
    if right and q.tolerance > 0 then closeness = 1 - math.min(distance, q.tolerance) / (2 * q.tolerance) end
  elseif qtype == 'order' then
    right = true
    for i, option in ipairs(q.correct) do right = right and selected[i] == option end
  else
    local wanted = {}
    for _, option in ipairs(q.correct) do wanted[option] = true end
    right = #q.correct == #selected
    for _, option in ipairs(selected) do right = right and wanted[option] == true end
  end
  if right then
    outcome, points = 'correct', 1000
    if window and meta.scoring ~= 'accuracy' then  -- sign-on refuses speed scoring of untimed questions
      -- round(1000 x (1 - elapsed / (2 x window))), half up, in exact integer arithmetic
      local numerator = 2000 * window - 1000 * elapsed + window
      local denominator = 2 * window
      points = (numerator - numerator % denominator) / denominator
    end
    if closeness < 1 then points = math.floor(points * closeness + 0.5) end
  else
    outcome = 'incorrect'
  end
end
-- The tiebreak's time: a poll adds none; extra time does not count against its holder (the time is
-- scaled back to the question's own duration).
local counted = elapsed
if qtype == 'poll' then
  counted = 0
elseif window and window ~= base_ms then
  local scaled = elapsed * base_ms
  counted = (scaled - scaled % window) / window
end

p.score = p.score + points
p.elapsed = p.elapsed + counted
p.next = p.next + 1
p.cur = -1
p.finished = p.next >= tonumber(meta.question_count)
save_player(p)
redis.call('ZADD', K_BOARD, board_value(meta, p), board_member(p))
local scored = {participant_id = p.id, index = index, selected = selected, outcome = outcome,
                points = points, elapsed_ms = counted, score = p.score}
if qtype == 'numeric' then scored.value = value or cjson.null end
emit('answer_scored', json(scored))
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
local result = {index = index, question_type = qtype, outcome = outcome, points = points, score = p.score,
                correct_options = array(q.correct), finished = p.finished, rank = rank,
                top = build_board(PARTICIPANT_BOARD), participant_count = tonumber(meta.participant_count)}
if qtype == 'numeric' then
  result.correct_value, result.tolerance, result.value = q.answer, q.tolerance, value or cjson.null
end
if meta.show_explanations == '1' then result.explanation = q.explanation or cjson.null end
return ok(result)
