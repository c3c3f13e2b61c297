// The host page's run state and how each server message changes it (protocol.md revisions 1 and 2; docs/web-client.md).
// Pure: `applyHostMessage(run, message)` returns a new run object and never touches the DOM, the
// socket or storage; host_render.js draws the result and host.js does the I/O (asking for `results`,
// closing).
//
// The run: {speedrun_id, host_token, ws_url, join_code, name, status, question_count, started_at,
// ends_at, chat, reason, participant_count, participants: {id: participant}, left: {id: true},
// leaderboard: [entries], results}. A participant: {participant_id, name, answers: {index: outcome},
// score, answered, connected, finished, elapsed_ms, rank}.
//
// Also what the page does after a message (`afterHostMessage`), and what its screens show of the run
// (`liveRows`, `resultsReview`, ...), so host_render.js only draws.
import { boardOf, laterStatus } from "./protocol.js";

/** A fresh host run from what sign-on (or the run list) said about it. */
export function newHostRun(fields = {}) {
  return { participants: {}, left: {}, leaderboard: [], status: "lobby", ...fields };
}

/** The run sign-on just created (`created`: its reply), named `name`, with `questionCount` questions. */
export function createdRun(created, name, questionCount) {
  return newHostRun({ ...created, name, question_count: questionCount, status: "lobby" });
}

/** A live run of the host's list reopened with the host token this tab holds for it (`held`). */
export function reopenedRun(item, held) {
  return newHostRun({
    ...held,
    name: item.name || held.name,
    question_count: item.question_count,
    participant_count: item.participant_count,
    status: item.status,
  });
}

/** A persisted run of the host's list, from its durable results. */
export function persistedRun(item, results) {
  const run = newHostRun({
    speedrun_id: item.run_id,
    name: item.name,
    join_code: item.join_code,
    question_count: (results.questions || []).length || item.question_count,
    status: "completed",
    reason: item.completion_reason,
  });
  return withResults(run, results);
}

/** The run with its results (a `results` reply, or the durable ones): completed, with their final board. */
export function withResults(run, results) {
  const next = { ...run, status: "completed", results };
  return Array.isArray(results.leaderboard) ? applyLeaderboard(next, results.leaderboard) : next;
}

function blankParticipant(id, name) {
  return { participant_id: id, name: name || "?", answers: {}, score: 0, answered: 0, connected: true, finished: false };
}

/** `participants` with participant `id` replaced by `update(old)` (created when new; names refreshed). */
function withParticipant(run, participants, id, name, update = (who) => who) {
  if (!id || (run.left && run.left[id])) return participants; // removed: a late push does not bring them back
  const old = participants[id] || blankParticipant(id, name);
  const who = update({ ...old, name: name || old.name });
  return { ...participants, [id]: who };
}

/** The entries of a coalesced notification: its list when there is one, else the message itself. */
export function notificationItems(message, listField) {
  const list = message[listField];
  if (Array.isArray(list) && list.length) return list;
  return message.participant_id ? [message] : [];
}

/** How many questions a participant answered: the server's count, or the outcomes seen if more. */
function answeredCount(who) {
  return Math.max(who.answered || 0, Object.keys(who.answers || {}).length);
}

/** A leaderboard (entries as in `leaderboard`) folded into the run: the board, and each participant's standing. */
function applyLeaderboard(run, entries) {
  if (!Array.isArray(entries)) return run;
  let participants = run.participants || {};
  const left = run.left || {};
  const board = entries.filter((entry) => !left[entry.participant_id]);
  for (const entry of board) {
    participants = withParticipant(run, participants, entry.participant_id, entry.name, (who) => ({
      ...who,
      score: entry.score ?? who.score,
      answered: Math.max(entry.answered ?? 0, answeredCount(who)),
      elapsed_ms: entry.elapsed_ms ?? who.elapsed_ms,
      rank: entry.rank,
    }));
  }
  return { ...run, participants, leaderboard: board };
}

/** A snapshot taken before `completed` arrived (pushes are asynchronous) says nothing new. */
function isStale(run, state) {
  return laterStatus(run.status, state.status) !== state.status;
}

function onState(run, state) {
  const status = state.status;
  let next = {
    ...run,
    status,
    name: state.name || run.name,
    question_count: state.question_count ?? run.question_count,
    started_at: state.started_at ?? run.started_at,
    ends_at: state.ends_at ?? run.ends_at,
    chat: state.chat ?? run.chat,
  };
  if (Array.isArray(state.participants)) {
    const total = state.participant_count ?? state.participants.length;
    // The list is cut to what fits in one message in a very big run: only a whole list tells who left.
    const complete = state.participants.length >= total;
    let participants = complete ? {} : { ...run.participants };
    for (const entry of state.participants) {
      if (run.left && run.left[entry.participant_id]) continue;
      const old = (run.participants || {})[entry.participant_id] || blankParticipant(entry.participant_id, entry.name);
      participants = {
        ...participants,
        [entry.participant_id]: {
          ...old,
          name: entry.name || old.name,
          connected: entry.connected !== false,
          finished: Boolean(entry.finished),
        },
      };
    }
    next = { ...next, participants, participant_count: total };
  } else if (typeof state.participant_count === "number") {
    next = { ...next, participant_count: state.participant_count };
  }
  const board = boardOf(state.leaderboard);
  return board ? applyLeaderboard(next, board) : next;
}

function onJoined(run, message) {
  let participants = run.participants;
  for (const item of notificationItems(message, "joined")) {
    participants = withParticipant(run, participants, item.participant_id, item.name);
  }
  return {
    ...run,
    participants,
    participant_count: message.participant_count ?? Object.keys(participants).length,
  };
}

function onLeft(run, message) {
  const id = message.participant_id;
  const known = Boolean(run.participants[id]);
  const participants = { ...run.participants };
  delete participants[id];
  let count = run.participant_count;
  if (typeof message.participant_count === "number") count = message.participant_count;
  else if (known && typeof count === "number") count = Math.max(0, count - 1);
  return {
    ...run,
    participants,
    left: { ...(run.left || {}), [id]: true },
    leaderboard: (run.leaderboard || []).filter((entry) => entry.participant_id !== id),
    participant_count: count,
  };
}

function onAnswered(run, message) {
  let participants = run.participants;
  for (const item of notificationItems(message, "answered")) {
    participants = withParticipant(run, participants, item.participant_id, item.name, (who) => {
      const answers = item.index === undefined ? who.answers : { ...who.answers, [item.index]: item.outcome };
      return { ...who, answers, score: item.score ?? who.score, answered: Math.max(who.answered || 0, Object.keys(answers).length) };
    });
  }
  return { ...run, participants };
}

function onFinished(run, message) {
  let participants = run.participants;
  for (const item of notificationItems(message, "finished")) {
    participants = withParticipant(run, participants, item.participant_id, item.name, (who) => ({
      ...who,
      finished: true,
      score: item.score ?? who.score,
      elapsed_ms: item.elapsed_ms ?? who.elapsed_ms,
    }));
  }
  return { ...run, participants };
}

/**
 * The run after one server message. Messages this state does not track (`message`, `error`,
 * `pong`, anything newer than this client) return the run unchanged (the same object).
 */
export function applyHostMessage(run, message) {
  const current = { participants: {}, left: {}, leaderboard: [], ...run };
  switch (message.type) {
    case "state":
      return isStale(current, message) ? run : onState(current, message);
    case "participant_joined":
      return onJoined(current, message);
    case "participant_left":
      return onLeft(current, message);
    case "started":
      if (current.status === "completed") return run;
      return {
        ...current,
        status: "running",
        started_at: message.started_at ?? current.started_at,
        ends_at: message.ends_at ?? current.ends_at,
        question_count: message.question_count ?? current.question_count,
      };
    case "participant_answered":
      return onAnswered(current, message);
    case "participant_finished":
      return onFinished(current, message);
    case "leaderboard": {
      // `completed` carries the final board: a push that was on its way is older.
      if (current.status === "completed") return run;
      const next = applyLeaderboard(current, message.entries || []);
      return typeof message.participant_count === "number" ? { ...next, participant_count: message.participant_count } : next;
    }
    case "completed": {
      const next = {
        ...current,
        status: "completed",
        reason: message.reason ?? current.reason,
        participant_count: message.participant_count ?? current.participant_count,
      };
      return applyLeaderboard(next, boardOf(message.leaderboard) || current.leaderboard);
    }
    case "results":
      return withResults(current, message);
    default:
      return run;
  }
}

/** How many participants the run has: the server's count when it sent one, else those we know of. */
export function participantCount(run) {
  const known = Object.keys(run.participants || {}).length;
  return typeof run.participant_count === "number" ? run.participant_count : known;
}

/** The count the lobby and the live view show: never fewer than the participants listed. */
export function shownCount(run) {
  return Math.max(participantCount(run), Object.keys(run.participants || {}).length);
}

/**
 * What the page does after `message` turned `before` into `run`: `redraw` (and keep the run), ask for
 * `results`, or close the socket because they came (`done`).
 */
export function afterHostMessage(before, run, message) {
  // Unchanged: pong, anything newer than this client, or a stale push. A `state` reply always redraws
  // (it is what takes the page off the loading screen after a connect).
  const redraw = run !== before || message.type === "state";
  const snapshot = message.type === "completed" || message.type === "state";
  return {
    redraw,
    askResults: redraw && run.status === "completed" && !run.results && snapshot,
    done: redraw && message.type === "results",
  };
}

/** Where an `error` reply to `action` is told: {to: "chat" | "notice", text}, or null to say nothing. */
export function hostErrorReaction(error, action) {
  if (action === "message") return { to: "chat", text: error.message || error.code };
  if (action === "results" && error.code === "not_running") return null; // completes shortly; `completed` follows
  return { to: "notice", text: `${action ? `${action}: ` : ""}${error.message || error.code}` };
}

/** The participants' page link for the run, absolute against the host page's `pageUrl`. */
export function joinLink(run, pageUrl) {
  return new URL(`play.html?code=${encodeURIComponent(run.join_code)}`, pageUrl).toString();
}

/**
 * The live table's rows, best rank first: each participant with how many questions they answered
 * (`answered`, `percent` of the run's) and each question's outcome (`outcomes`, null when not yet).
 */
export function liveRows(run) {
  const count = run.question_count || 0;
  return Object.values(run.participants)
    .sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9))
    .map((who) => {
      const answered = answeredCount(who);
      return {
        who,
        answered,
        percent: count ? Math.round((100 * answered) / count) : 0,
        outcomes: Array.from({ length: count }, (_, index) => who.answers[index] || null),
      };
    });
}

const COMPLETION_REASONS = {
  all_finished: "Everyone finished.",
  deadline: "The time limit was reached.",
  host_ended: "You ended the run.",
};

/** Why the run ended, in words. */
export function completionText(reason) {
  return COMPLETION_REASONS[reason] || "The speed-run is over.";
}

/** The results' questions as the host reads them: the text, the right answer, who got it right. */
export function resultsReview(questions) {
  return (questions || []).map((question) => ({
    text: question.text,
    answer: `Answer: ${(question.correct_options || []).map((index) => (question.options || [])[index]).join(", ")}`,
    correct: `Correct: ${(question.correct_answerers || []).map((who) => who.name).join(", ") || "nobody"}`,
  }));
}
