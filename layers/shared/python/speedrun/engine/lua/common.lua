-- Prelude of every engine script (the loader prepends it, after the constants it shares with the
-- Python side: speedrun.engine.scripts.LUA_CONSTANTS). KEYS are always the run's keys in
-- speedrun.engine.keys.RUN_KEY_PARTS order; ARGV[1] is the server clock (epoch ms).
local K_META, K_QUESTIONS, K_PLAYERS, K_NAMES = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_BOARD, K_EVENTS, K_CONNS, K_CHAT = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_FEED, K_WATCHERS = KEYS[9], KEYS[10]
local NOW = tonumber(ARGV[1])

local GRACE_MS = 1000                  -- an answer up to 1 s after the deadline still counts (network delay)
local BOARD_INTERVAL_MS = 1000         -- at most one leaderboard broadcast per run per second
local BOARD_PUSHES_PER_S = 250         -- and about 250 board pushes a second: a larger run refreshes less often
local FEED_INTERVAL_MS = 1000          -- the host's notifications: at most one message of each kind a second
local LOBBY_PUSHES_PER_S = 250         -- lobby updates: at most one a second, fewer in a large lobby
local LOBBY_RECENT = 10                -- names a lobby update carries
local FLUSH_STALE_MS = 10000           -- a flush asked for and not seen by then is asked for again
local SCORE_SPAN = 524288              -- 2^19 > 500 questions x 1000 points
local ELAPSED_SPAN = 268435456         -- 2^28 ms > 500 questions x 300 s

-- JSON: cjson turns an empty table into {} and prints numbers with 14 digits, so arrays are
-- marked explicitly and integers printed exactly.
local ARRAY = {}
local function array(t) return setmetatable(t or {}, ARRAY) end

local function json(v)
  local kind = type(v)
  if kind == 'string' then return cjson.encode(v) end
  if kind == 'number' then
    if v == math.floor(v) and math.abs(v) < 9007199254740992 then return string.format('%.0f', v) end
    return string.format('%.17g', v)
  end
  if kind == 'boolean' then return v and 'true' or 'false' end
  if v == nil or v == cjson.null then return 'null' end
  local parts = {}
  if getmetatable(v) == ARRAY or #v > 0 then
    for i = 1, #v do parts[i] = json(v[i]) end
    return '[' .. table.concat(parts, ',') .. ']'
  end
  for key, value in pairs(v) do parts[#parts + 1] = cjson.encode(tostring(key)) .. ':' .. json(value) end
  return '{' .. table.concat(parts, ',') .. '}'
end

local function hash_map(flat)
  local map = {}
  for i = 1, #flat, 2 do map[flat[i]] = flat[i + 1] end
  return map
end

local function load_meta()
  local flat = redis.call('HGETALL', K_META)
  if #flat == 0 then return nil end
  return hash_map(flat)
end

local function load_player(pid)
  local raw = redis.call('HGET', K_PLAYERS, pid)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save_player(p) redis.call('HSET', K_PLAYERS, p.id, json(p)) end

local function board_member(p) return string.format('%08d:%s', p.order, p.id) end

-- Whether total elapsed time breaks ties: always under speed scoring, under accuracy scoring only
-- while the host keeps `speed_tiebreak` (runs frozen before the options read as speed).
local function elapsed_breaks_ties(meta) return meta.scoring ~= 'accuracy' or meta.speed_tiebreak ~= '0' end

-- Sorted ascending = rank order: score desc, then total elapsed asc (when it breaks ties); equal values
-- fall back to the member, whose zero-padded join order prefix sorts by join order.
local function board_value(meta, p)
  local elapsed = elapsed_breaks_ties(meta) and p.elapsed or 0
  return string.format('%.0f', (SCORE_SPAN - p.score) * ELAPSED_SPAN + elapsed)
end

-- Timing (docs/engine.md, Scoring). A question's time in ms: nil when questions are untimed (the run's
-- deadline still ends the run). A participant's window is that time times their extra-time multiplier,
-- fixed when the question is served (and re-set when the host grants extra time mid-question).
local function question_ms(meta)
  local seconds = tonumber(meta.question_duration_s)
  return seconds and seconds * 1000 or nil
end

local function window_ms(meta, p)
  local base = question_ms(meta)
  if not base then return nil end
  return math.floor(base * (p.extra or 1) + 0.5)
end

-- The participant's deadline for a question served at `served_at`: the window's end, or the run's.
local function deadline_of(meta, p, served_at)
  local window = window_ms(meta, p)
  if window then return served_at + window end
  return tonumber(meta.ends_at)
end

local function emit(event_type, data)
  local seq = redis.call('LLEN', K_EVENTS) + 1
  redis.call('RPUSH', K_EVENTS,
    '{"seq":' .. json(seq) .. ',"type":' .. json(event_type) .. ',"at":' .. json(NOW) .. ',"data":' .. data .. '}')
end

local function hmget_many(key, fields)
  local values, chunk = {}, 1000      -- unpack() has a stack limit: fetch in chunks
  for first = 1, #fields, chunk do
    local part = {}
    for i = first, math.min(first + chunk - 1, #fields) do part[#part + 1] = fields[i] end
    local got = redis.call('HMGET', key, unpack(part))
    for i = 1, #got do values[#values + 1] = got[i] end
  end
  return values
end

-- The run's scoring options as `state` and `started` tell them (runs frozen before them: the defaults).
local function run_options(meta)
  return {scoring = meta.scoring or 'speed', speed_tiebreak = meta.speed_tiebreak ~= '0',
          show_explanations = meta.show_explanations == '1'}
end

-- A question as its participant is served it: never its answer (`correct`, a numeric `answer`).
-- `duration_ms`: the participant's window (absent when untimed).
local function served_question(q, p)
  return {index = q.index, question_type = q.type or 'choice', category = q.category, text = q.text,
          options = array(q.options), select_count = q.select_count, served_at = p.served_at,
          deadline = p.deadline, duration_ms = p.window, image = q.image, option_images = q.option_images}
end

-- The board in rank order, the whole of it or its first `limit` entries (the host's view; participants
-- get a prefix of it).
local function build_board(limit)
  local members = redis.call('ZRANGE', K_BOARD, 0, limit and limit - 1 or -1)
  local pids = {}
  for i, member in ipairs(members) do pids[i] = string.sub(member, 10) end
  local entries = array()
  if #pids == 0 then return entries end
  local raws = hmget_many(K_PLAYERS, pids)
  for i, raw in ipairs(raws) do
    local p = cjson.decode(raw)
    entries[i] = {rank = i, participant_id = p.id, name = p.name, score = p.score, answered = p.next, elapsed_ms = p.elapsed}
  end
  return entries
end

local function rank_of(p) return redis.call('ZRANK', K_BOARD, board_member(p)) + 1 end

-- A due board goes to its watchers (the host and the participants who have finished), so a run's
-- boards cost watchers x pushes; the interval grows with them to keep that near BOARD_PUSHES_PER_S
-- (1 s up to 250 watchers, 4 s at 1,000). Every answer_result carries a fresh rank and the top 10.
local function board_interval_ms(watchers)
  return math.max(BOARD_INTERVAL_MS, math.ceil(watchers * 1000 / BOARD_PUSHES_PER_S))
end

-- Lobby updates go to every participant: the interval grows with the lobby the same way.
local function lobby_interval_ms(participant_count)
  return math.max(FEED_INTERVAL_MS, math.ceil(participant_count * 1000 / LOBBY_PUSHES_PER_S))
end

-- Connections (K_CONNS). Per slot ('host' or a participant id), one field per kind:
--   <slot>            the slot's current connection: pushes go to it, and it is the only one that
--                     may act (one live connection per token; the newest $connect wins)
--   open:<slot>       JSON {connection id: [admitted at, last asked to close at (0: never),
--                     1 if unreached]} (ms): every connection of the slot that $connect admitted and
--                     no $disconnect has closed yet (the current one too), so that a reconnect or a
--                     kick can close them all; the newest OPEN_MAX are kept
-- Unreached: the current connection once a push to it answered 410 (`forget`). It is no longer
-- pushed to (no longer <slot>), but it stays the one that may act: API Gateway answers 410 until a
-- connection's $connect has returned, so a push racing the handshake must not cut a new socket off
-- (a gone one sends nothing anyway). Its `sync` (a client's first frame) makes it current again.
local OPEN_PREFIX = 'open:'
local OPEN_MAX = 32                    -- bounds the field and what one kick closes
local CONNECT_WINDOW_MS = 30000        -- a $connect is over by then (its integration may take 29 s): before,
                                       -- a 410 to a DELETE may mean "not registered yet" rather than gone
local RECLOSE_MS = 2000                -- a connection asked to close is asked again by a later connect only
                                       -- after this (the closer's own retries are over by then)
local CONNECTION_MAX_MS = 7260000      -- API Gateway closes every connection after 2 h

local function is_slot_field(field) return not string.find(field, ':', 1, true) end

-- slot -> current connection (the push targets)
local function connections()
  local flat, map = redis.call('HGETALL', K_CONNS), {}
  for i = 1, #flat, 2 do
    if is_slot_field(flat[i]) then map[flat[i]] = flat[i + 1] end
  end
  return map
end

-- slot -> current connection of the board's watchers: the host and the participants who finished
local function watcher_connections()
  local map, pids = {}, redis.call('SMEMBERS', K_WATCHERS)
  map.host = redis.call('HGET', K_CONNS, 'host') or nil
  if #pids == 0 then return map end
  local conns = hmget_many(K_CONNS, pids)
  for i, pid in ipairs(pids) do
    if conns[i] then map[pid] = conns[i] end
  end
  return map
end

-- The latest joiners' names, newest last (in the lobby every score is 0, so board order is join order).
local function recent_names()
  local members = redis.call('ZRANGE', K_BOARD, -LOBBY_RECENT, -1)
  local names = array()
  if #members == 0 then return names end
  local pids = {}
  for i, member in ipairs(members) do pids[i] = string.sub(member, 10) end
  for i, raw in ipairs(redis.call('HMGET', K_PLAYERS, unpack(pids))) do names[i] = cjson.decode(raw).name end
  return names
end

local function open_connections(slot)
  local raw = redis.call('HGET', K_CONNS, OPEN_PREFIX .. slot)
  if not raw then return {} end
  return cjson.decode(raw)
end

local function save_open_connections(slot, open)
  if next(open) == nil then
    redis.call('HDEL', K_CONNS, OPEN_PREFIX .. slot)
  else
    redis.call('HSET', K_CONNS, OPEN_PREFIX .. slot, json(open))
  end
end

-- What the caller closes, as connection id -> true when it was admitted so recently that its own
-- $connect may not have returned yet (a DELETE answers 410 until then: worth trying again shortly).
local function may_be_connecting(entry) return NOW - entry[1] < CONNECT_WINDOW_MS end

local function to_close(open)
  local close = {}
  for id, entry in pairs(open) do close[id] = may_be_connecting(entry) end
  return close
end

local EFFECTS = {}

-- Coalesced pushes (protocol revision 2). An action never sends them itself: it records what changed
-- (a host notification in K_FEED, the lobby's count, a board marked dirty) and asks for a flush,
-- a message the fan-out function receives after `EFFECTS.flush_in_ms` and answers with the `flush`
-- script, which turns whatever is due into pushes. A run has one flush on its way at a time, unless
-- something is due before the pending one (then both come; a flush with nothing due sends nothing).
local function request_flush(meta, due_at)
  due_at = math.max(NOW, due_at)
  local asked, pending = tonumber(meta.flush_at or 0), tonumber(meta.flush_due or 0)
  if asked > 0 and NOW - asked < FLUSH_STALE_MS and pending <= due_at then return end
  meta.flush_at, meta.flush_due = NOW, due_at
  redis.call('HSET', K_META, 'flush_at', json(NOW), 'flush_due', json(due_at))
  if EFFECTS.flush_in_ms == nil or due_at - NOW < EFFECTS.flush_in_ms then EFFECTS.flush_in_ms = due_at - NOW end
end

-- A notification for the host (`joined`, `answered`, `finished`), sent with the others of its second.
local function notify_host(meta, kind, item)
  redis.call('RPUSH', K_FEED, json({kind = kind, item = item}))
  request_flush(meta, tonumber(meta.feed_at or 0) + FEED_INTERVAL_MS)
end

-- The pending host notifications, taken (the host's connection: nil when it is not connected).
local function take_host_feed(meta)
  local raws = redis.call('LRANGE', K_FEED, 0, -1)
  if #raws == 0 then return nil end
  redis.call('DEL', K_FEED)
  redis.call('HSET', K_META, 'feed_at', json(NOW))
  meta.feed_at = NOW
  local items = array()
  for i, raw in ipairs(raws) do items[i] = cjson.decode(raw) end
  return {conn = redis.call('HGET', K_CONNS, 'host') or nil, items = items,
          participant_count = tonumber(meta.participant_count)}
end

local function complete(meta, reason)
  meta.status = 'completed'
  redis.call('HSET', K_META, 'status', 'completed', 'completed_at', NOW, 'completion_reason', reason)
  EFFECTS.host_feed = take_host_feed(meta)  -- the host's last notifications go out before `completed`
  local board = build_board()
  emit('run_completed', json({reason = reason, completed_at = NOW, leaderboard = board}))
  EFFECTS.completed = {
    reason = reason, completed_at = NOW, leaderboard = board,
    participant_count = tonumber(meta.participant_count), conns = connections(),
  }
end

-- The deadline is enforced lazily on every action from the server clock (the finalizer only makes
-- sure an idle run completes too).
local function enforce_deadline(meta)
  if meta.status == 'running' and NOW >= tonumber(meta.ends_at) then complete(meta, 'deadline') end
end

local function complete_if_all_finished(meta)
  local active = tonumber(meta.participant_count)
  if meta.status == 'running' and active > 0 and tonumber(meta.finished_count) >= active then
    complete(meta, 'all_finished')
  end
end

-- Runs that never start expire; every key written in the lobby follows the meta key's expiry.
local function follow_lobby_expiry(meta)
  if meta.status == 'lobby' then
    for _, key in ipairs(KEYS) do redis.call('PEXPIREAT', key, meta.expires_at) end
  end
end

local function ok(reply) return json({ok = reply, effects = EFFECTS}) end
local function fail(code, message) return json({error = {code = code, message = message}, effects = EFFECTS}) end

-- Every action checks, in its own call, that the caller's connection is the one its token may act
-- on: the slot's current connection, or the unreached one (with `resume`, for `sync`, it becomes
-- current again: pushes reach it from then on). Any other connection is refused and the effect
-- `close_caller` asks the caller to close it: one replaced by a newer connection of the same token,
-- or one of a kicked participant. `conn` nil: a call made by the server itself, not over a socket.
local function refuse_connection(slot, conn, resume)
  if conn == nil then return nil end
  local current = redis.call('HGET', K_CONNS, slot)
  if current == conn then return nil end
  if not current then
    local open = open_connections(slot)
    local entry = open[conn]
    if entry and entry[3] == 1 then
      if resume then
        open[conn] = array({entry[1], entry[2]})
        save_open_connections(slot, open)
        redis.call('HSET', K_CONNS, slot, conn)
      end
      return nil
    end
  end
  EFFECTS.close_caller = conn
  if slot ~= 'host' then
    local p = load_player(slot)
    if not p or p.kicked then return fail('forbidden', 'not a participant of this speed-run') end
  end
  return fail('unauthorized', 'this connection was replaced by a newer connection with the same token')
end
