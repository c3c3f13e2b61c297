// The participant page's state and how each server message changes it (protocol.md revisions 1 and 2; docs/web-client.md).
// Pure: `applyPlayMessage(state, message)` returns a new state and never touches the DOM, the socket
// or storage. What the page must send because of a message is in the new state's `outbox` (frames
// without request_id; the page sends them and clears it with `takeOutbox`); which screen to show is
// `screen`, and the question on it `question` (a `question` frame) with its `result` once answered.
//
// Pushes are asynchronous (revision 2), so replies are matched by index, not by arrival order: a
// `question` for an index not asked for is ignored, `completed` may come before this participant's
// last `answer_result` (which is then only recorded), and boards that arrive after `completed` are
// older than its final one.
//
// Question types and run options (docs/engine.md): an untimed run's `question_duration_s` is null
// (kept as null), `ends_at` is kept for the run's time left, and extra time — `state.extra_time` and
// the `extra_time` push — sets the multiplier and, for the question being answered, its new deadline
// (`timing`; `currentTiming` is what the countdown reads).
//
// Also what the page redraws (`screenChange`), how it meets an `error` reply, what the tab keeps of a
// finished run, and which images to fetch ahead (`runImages`).
import { boardOf, isRunStatus } from "./protocol.js";

export const RECENT_NAMES = 10;

/** A fresh participant state; `fields` may set e.g. participantId. */
export function initialPlayState(fields = {}) {
  return {
    status: null, // "lobby" | "running" | "completed"
    name: "",
    questionCount: 0,
    questionDurationS: 20, // null: untimed questions
    endsAt: null, // the run's end (server time), once started
    extraTime: 1, // this participant's time multiplier (1: none)
    participantId: null,
    score: 0,
    rank: null,
    count: 0, // participants in the run
    recent: [], // the latest joiners' names, newest last (lobby)
    leaderboard: [], // top entries: {rank, participant_id, name, score, answered, elapsed_ms}
    chat: undefined, // whether participants may chat (undefined: not told)
    screen: "loading", // "loading" | "lobby" | "question" | "waiting" | "results"
    asked: null, // the index of the question last asked for
    question: null, // the question on screen (a `question` frame)
    result: null, // its `answer_result`, once it came
    timing: null, // {index, deadline, duration_ms}: the question's deadline moved by extra time
    answers: {}, // index -> {outcome, points, score}: every answer_result seen
    finished: false, // this participant answered (or gave up) every question
    results: null, // the `results` reply
    removed: false, // the host removed this participant
    outbox: [],
    ...fields,
  };
}

/** The frames to send, and the state without them. */
export function takeOutbox(state) {
  return { frames: state.outbox, state: state.outbox.length ? { ...state, outbox: [] } : state };
}

function send(state, frame) {
  return { ...state, outbox: [...state.outbox, frame] };
}

/** Asks for question `index` (its reply is the only `question` that will be shown). */
export function askQuestion(state, index) {
  return send({ ...state, asked: index }, { action: "question", index });
}

function askResults(state) {
  return state.results ? state : send(state, { action: "results" });
}

/** A new board, and this participant's rank from it when it lists them. */
function withBoard(state, entries) {
  const me = entries.find((entry) => state.participantId && entry.participant_id === state.participantId);
  return { ...state, leaderboard: entries, rank: me ? me.rank : state.rank };
}

function withCount(state, count) {
  return typeof count === "number" ? { ...state, count } : state;
}

function withRecent(state, names) {
  const clean = names.filter((name) => typeof name === "string" && name);
  return { ...state, recent: clean.slice(-RECENT_NAMES) };
}

/** The `question` frame shown: a new one, or the same index served again (after a reconnect; its deadline is the latest). */
function showQuestion(state, question) {
  const same = state.question && state.question.index === question.index;
  return { ...state, asked: question.index, question, result: same ? state.result : null, timing: null, screen: "question" };
}

/** A field the message has, even when null (an untimed run's `question_duration_s`), else `fallback`. */
function given(message, field, fallback) {
  return message[field] === undefined ? fallback : message[field];
}

/** The `extra_time` push: the multiplier, and the new deadline of the question being answered. */
function onExtraTime(state, message) {
  if (state.participantId && message.participant_id && message.participant_id !== state.participantId) return state;
  let next = { ...state, extraTime: typeof message.multiplier === "number" ? message.multiplier : state.extraTime };
  const answering = typeof message.index === "number" && message.deadline !== null && message.deadline !== undefined;
  if (answering && state.status !== "completed") {
    next = { ...next, timing: { index: message.index, deadline: message.deadline, duration_ms: message.duration_ms ?? null } };
  }
  return next;
}

function onState(state, snapshot) {
  const incoming = snapshot.status;
  // A snapshot taken before `completed` arrived (pushes are asynchronous) says nothing new.
  if (state.status === "completed" && incoming !== "completed") return state;
  let next = {
    ...state,
    status: isRunStatus(incoming) ? incoming : state.status,
    name: snapshot.name || state.name,
    questionCount: snapshot.question_count ?? state.questionCount,
    questionDurationS: given(snapshot, "question_duration_s", state.questionDurationS),
    endsAt: snapshot.ends_at ?? state.endsAt,
    extraTime: typeof snapshot.extra_time === "number" ? snapshot.extra_time : state.extraTime,
    score: snapshot.score ?? state.score,
    rank: snapshot.rank ?? state.rank,
    participantId: snapshot.participant_id || state.participantId,
    chat: snapshot.chat ?? state.chat,
    finished: snapshot.finished ?? state.finished,
  };
  // Participants get the count (`participants` in revision 1's words, `participant_count` too).
  const count = typeof snapshot.participants === "number" ? snapshot.participants : snapshot.participant_count;
  next = withCount(next, count);
  const board = boardOf(snapshot.leaderboard);
  if (board) next = withBoard(next, board);

  if (next.status === "lobby") return { ...next, screen: "lobby" };
  if (next.status === "completed") return askResults(next);
  if (next.status !== "running") return next;
  const nextIndex = snapshot.next_index ?? 0;
  const feedbackFor = next.question && next.result ? next.question.index : null;
  if (next.questionCount && nextIndex >= next.questionCount) {
    // Everything answered: keep the last feedback on screen until "See the leaderboard".
    next = { ...next, finished: true };
    return feedbackFor === null ? { ...next, screen: "waiting" } : next;
  }
  if (feedbackFor === nextIndex - 1) return next; // the feedback of the previous one stays until "Next"
  const served = snapshot.current_question;
  if (served && served.index === nextIndex) return showQuestion(next, served);
  return askQuestion(next, nextIndex); // the current question comes back with its original deadline
}

function onJoined(state, message) {
  const joined = Array.isArray(message.joined) && message.joined.length ? message.joined : [message];
  const names = joined.map((item) => item.name);
  const count = message.participant_count ?? state.count + joined.length;
  return withRecent(withCount(state, count), [...state.recent, ...names]);
}

function onResult(state, result) {
  let next = {
    ...state,
    answers: { ...state.answers, [result.index]: { outcome: result.outcome, points: result.points, score: result.score } },
    finished: state.finished || Boolean(result.finished),
  };
  next = withCount(next, result.participant_count);
  if (next.status === "completed") {
    // `completed` came first: the run is over and its final board and results win; only the own
    // score is kept (it is the same as the results' one) unless the results are here already.
    return next.results ? next : { ...next, score: result.score ?? next.score };
  }
  next = { ...next, score: result.score ?? next.score, rank: result.rank ?? next.rank };
  if (Array.isArray(result.top)) {
    next = { ...withBoard(next, result.top), rank: result.rank ?? next.rank };
  }
  if (next.question && next.question.index === result.index) {
    return next.result ? next : { ...next, result };
  }
  // A result for a question no longer on screen (e.g. after a reload): move on, unless we are past it.
  const at = Math.max(next.question ? next.question.index : -1, next.asked ?? -1);
  if (at > result.index) return next;
  if (result.finished) return { ...next, screen: "waiting" };
  return askQuestion(next, result.index + 1);
}

/**
 * The state after one server message. Messages it does not track (`message`, `error`, `pong`,
 * anything newer than this client) return the state unchanged (the same object).
 */
export function applyPlayMessage(state, message) {
  switch (message.type) {
    case "state":
      return onState(state, message);
    case "lobby": // revision 2: the count and the latest names, at most once a second
      return withRecent(withCount(state, message.participant_count), Array.isArray(message.recent) ? message.recent : state.recent);
    case "participant_joined": // revision 1: one message per join
      return onJoined(state, message);
    case "participant_left":
      if (state.participantId && message.participant_id === state.participantId) return { ...state, removed: true };
      return withCount(state, message.participant_count);
    case "started": {
      if (state.status === "completed") return state;
      const next = {
        ...state,
        status: "running",
        questionCount: message.question_count ?? state.questionCount,
        questionDurationS: given(message, "question_duration_s", state.questionDurationS),
        endsAt: message.ends_at ?? state.endsAt,
      };
      // A `state` reply may have asked for (or shown) the first question already.
      return next.asked === null && !next.question ? askQuestion(next, 0) : next;
    }
    case "question":
      if (state.status === "completed" || message.index !== state.asked) return state; // not the one asked for
      if (state.question && state.question.index === message.index && state.result) return state; // answered already
      return showQuestion(state, message);
    case "answer_result":
      return onResult(state, message);
    case "extra_time":
      return onExtraTime(state, message);
    case "leaderboard": {
      if (state.status === "completed") return state; // `completed` carried the final board
      return withCount(withBoard(state, message.entries || []), message.participant_count);
    }
    case "completed": {
      if (state.status === "completed" && state.results) return state;
      const first = state.status !== "completed";
      let next = withCount({ ...state, status: "completed" }, message.participant_count);
      const board = boardOf(message.leaderboard);
      if (board) next = withBoard(next, board);
      return first ? askResults(next) : next;
    }
    case "results":
      return {
        ...state,
        status: "completed",
        results: message,
        score: message.score ?? state.score,
        rank: message.rank ?? state.rank,
        screen: "results",
      };
    default:
      return state;
  }
}

/**
 * The image URLs a `state` or `started` message lists (`images`: every image of the run, protocol.md),
 * for the page to fetch while the lobby waits; none for other messages.
 */
export function runImages(message) {
  if (message.type !== "state" && message.type !== "started") return [];
  return Array.isArray(message.images) ? message.images.filter((url) => typeof url === "string" && url) : [];
}

/**
 * The times the countdown of the question on screen runs by: {served_at, deadline, duration_ms}
 * (duration_ms null: untimed), the extra time's new deadline when one moved it; null without a question.
 */
export function currentTiming(state) {
  const question = state.question;
  if (!question) return null;
  // A frame from before `duration_ms` is timed by its deadline, unless the run's questions are untimed.
  const untimedRun = state.questionDurationS === null ? null : undefined;
  const durationMs = given(question, "duration_ms", untimedRun);
  const own = { served_at: question.served_at, deadline: question.deadline, duration_ms: durationMs };
  const moved = state.timing && state.timing.index === question.index ? state.timing : null;
  return moved ? { ...own, deadline: moved.deadline, duration_ms: moved.duration_ms } : own;
}

/** "Next question" / "See the leaderboard" after the feedback of the question on screen. */
export function afterFeedback(state) {
  if (!state.question || !state.result || state.status === "completed") return state;
  if (state.result.finished) return { ...state, screen: "waiting" };
  return askQuestion(state, state.result.index + 1);
}

/**
 * What the page redraws after the state went from `before` to `state`: the whole `screen` (it moved,
 * or the results came), only the `result` (the feedback of the question on screen), or null.
 */
export function screenChange(before, state) {
  const moved = state.screen !== before.screen || state.question !== before.question;
  if (moved || (state.screen === "results" && state.results !== before.results)) return "screen";
  if (state.screen === "question" && state.result && state.result !== before.result) return "result";
  return null;
}

/** Whether question `index` (the one on screen) can still be answered: no result yet, the run not over. */
export function canAnswer(state, index) {
  return Boolean(state.question && state.question.index === index && !state.result && state.status !== "completed");
}

const RESYNC_CODES = ["out_of_order", "conflict", "not_running"];
const ANSWERING_ACTIONS = ["question", "answer", "timeout"];

/**
 * What an `error` reply to `action` means: {do: "sync"} (our view is behind the server's: catch up),
 * {do: "chat" | "leave" | "notice", text}.
 */
export function playErrorReaction(error, action) {
  if (RESYNC_CODES.includes(error.code) && ANSWERING_ACTIONS.includes(action)) return { do: "sync" };
  if (action === "message") {
    return { do: "chat", text: error.code === "forbidden" ? "Chat is turned off for this run." : error.message };
  }
  if (error.code === "unauthorized") return { do: "leave", text: "Your place in this run is no longer valid. Join again with the code." };
  return { do: "notice", text: error.message || `Error: ${error.code}` };
}

/** What the tab keeps of a finished run (sessionStorage), so a reload still shows its results. */
export function finishedRecord(state, session) {
  return { results: state.results, leaderboard: state.leaderboard, questionCount: state.questionCount, session };
}

/** The state of a finished run the tab kept (`finishedRecord`): its results on screen. */
export function finishedState(record) {
  return initialPlayState({
    participantId: record.session.participant_id || null,
    status: "completed",
    questionCount: record.questionCount || 0,
    leaderboard: record.leaderboard || [],
    results: record.results,
    score: record.results.score ?? 0,
    rank: record.results.rank ?? null,
    screen: "results",
  });
}
