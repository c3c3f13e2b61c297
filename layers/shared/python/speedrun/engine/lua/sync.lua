-- ARGV: now, slot ('host' or participant id), connection id. The protocol's `state` snapshot, and for a
-- participant exactly where they are: next index, score, rank and the question being answered.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection(ARGV[2], ARGV[3], true)
if refused then return refused end
enforce_deadline(meta)
local state = {
  status = meta.status, name = meta.name, question_count = tonumber(meta.question_count),
  question_duration_s = tonumber(meta.question_duration_s), options = run_options(meta),
  started_at = tonumber(meta.started_at), ends_at = tonumber(meta.ends_at),
  participant_count = tonumber(meta.participant_count),
  leaderboard = build_board(ARGV[2] == 'host' and HOST_BOARD_MAX or 10),
  chat = meta.chat == '1',
}
if ARGV[2] == 'host' then
  local conns = connections()
  local players = {}
  for _, raw in ipairs(redis.call('HVALS', K_PLAYERS)) do
    local p = cjson.decode(raw)
    if not p.kicked then players[#players + 1] = p end
  end
  table.sort(players, function(a, b) return a.order < b.order end)
  local list = array()
  for i, p in ipairs(players) do
    list[i] = {participant_id = p.id, name = p.name, connected = conns[p.id] ~= nil, finished = p.finished,
               extra_time = p.extra or 1}
  end
  state.participants = list
  return ok(state)
end
local p = load_player(ARGV[2])
if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
state.images = meta.images
state.participant_id = p.id
state.participant_name = p.name
state.next_index = p.next
state.score = p.score
state.elapsed_ms = p.elapsed
state.extra_time = p.extra or 1
state.finished = p.finished
state.rank = rank_of(p)
if p.cur >= 0 and meta.status == 'running' then
  state.current_question = served_question(cjson.decode(redis.call('HGET', K_QUESTIONS, p.cur)), p)
end
return ok(state)
