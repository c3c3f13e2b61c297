// The host page's run state and how each server message changes it (protocol.md revisions 1 and 2; docs/web-client.md).
// Pure: `applyHostMessage(run, message)` returns a new run object and never touches the DOM, the
// socket or storage; host_render.js draws the result and host.js does the I/O (asking for `results`,
// closing).
//
// The run: {speedrun_id, host_token, ws_url, join_code, name, status, question_count, started_at,
// ends_at, chat, reason, participant_count, participants: {id: participant}, left: {id: true},
// leaderboard: [entries], results, options: {scoring, speed_tiebreak, show_explanations,
// question_duration_s} (as `state` / `started` said them)}. A participant: {participant_id, name,
// answers: {index: outcome}, score, answered, connected, finished, elapsed_ms, rank, extra_time (the
// multiplier of their time per question, 1 = none)}.
//
// Also what the page does after a message (`afterHostMessage`), and what its screens show of the run
// (`liveRows`, `resultsReview`, ...), so host_render.js only draws.
import { boardOf, laterStatus } from "./protocol.js";
import { QUESTION_TYPE_NAMES, questionTypeOf } from "./question_types.js";

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
  return {
    participant_id: id,
    name: name || "?",
    answers: {},
    score: 0,
    answered: 0,
    connected: true,
    finished: false,
    extra_time: 1,
  };
}

/** The run options a `state` or `started` message carries (question_duration_s null: untimed). */
const RUN_OPTIONS = ["scoring", "speed_tiebreak", "show_explanations", "question_duration_s"];

function withRunOptions(run, message) {
  const said = RUN_OPTIONS.filter((key) => key in message);
  if (!said.length) return run;
  return { ...run, options: { ...(run.options || {}), ...Object.fromEntries(said.map((key) => [key, message[key]])) } };
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
          extra_time: entry.extra_time ?? old.extra_time,
        },
      };
    }
    next = { ...next, participants, participant_count: total };
  } else if (typeof state.participant_count === "number") {
    next = { ...next, participant_count: state.participant_count };
  }
  next = withRunOptions(next, state);
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

/** The reply to the host's `extra_time`: the participant's new multiplier (1: none). */
function onExtraTime(run, message) {
  const who = run.participants[message.participant_id];
  return { ...run, participants: { ...run.participants, [who.participant_id]: { ...who, extra_time: message.multiplier } } };
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
      return withRunOptions(
        {
          ...current,
          status: "running",
          started_at: message.started_at ?? current.started_at,
          ends_at: message.ends_at ?? current.ends_at,
          question_count: message.question_count ?? current.question_count,
        },
        message,
      );
    case "extra_time": {
      // Someone not listed here (gone, or cut from a big run's list) stays unlisted.
      const known = current.participants[message.participant_id] && typeof message.multiplier === "number";
      return known ? onExtraTime(current, message) : run;
    }
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

// ---------- extra time and the run's options ----------

/** The multipliers the host can grant (the server takes 1..4; 1 takes extra time away). */
export const EXTRA_TIME_CHOICES = Object.freeze([1, 1.5, 2, 3]);

/** What the participant list says next to a name: "1.5× time", or "" without extra time. */
export function extraTimeText(multiplier) {
  return multiplier && multiplier !== 1 ? `${multiplier}× time` : "";
}

/** The choices offered for a participant who has `current`: the usual ones, and theirs if it is not one of them. */
export function extraTimeChoices(current = 1) {
  const choices = EXTRA_TIME_CHOICES.includes(current) ? [...EXTRA_TIME_CHOICES] : [...EXTRA_TIME_CHOICES, current];
  return choices.sort((a, b) => a - b).map((multiplier) => ({
    multiplier,
    label: multiplier === 1 ? "1× (no extra time)" : `${multiplier}×`,
    current: multiplier === current,
  }));
}

/** The host's `extra_time` action for participant `id` (what the page sends). */
export function extraTimeAction(id, multiplier) {
  return { action: "extra_time", participant_id: id, multiplier };
}

/** The run's options in words, for the lobby and the live view ("" before the server said them). */
export function runOptionsText(options) {
  if (!options || !options.scoring) return "";
  const parts = [];
  if (options.scoring === "accuracy") {
    // Without the speed tiebreak, equal scores rank in the order the participants joined.
    parts.push(options.speed_tiebreak === false ? "Accuracy scoring, ties by join order" : "Accuracy scoring, ties broken by speed");
  } else parts.push("Speed scoring");
  if (options.question_duration_s === null) parts.push("untimed questions");
  else if (typeof options.question_duration_s === "number") parts.push(`${options.question_duration_s} s per question`);
  if (options.show_explanations) parts.push("explanations shown");
  return `${parts.join(" · ")}.`;
}

// ---------- the results, question by question ----------

/** A number as the results show it (up to 6 decimals, the browser's digit grouping). */
export function formatNumber(value) {
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: 6 });
}

function names(list) {
  return (list || []).map((who) => who.name).join(", ") || "nobody";
}

/**
 * How many chose each option (`option_counts`) as bars: {label, count, percent (of those who answered
 * it), correct}. Null when the question has no counts (order, numeric, or results from before them).
 */
export function optionBars(question) {
  const counts = question.option_counts;
  if (!Array.isArray(counts)) return null;
  const poll = questionTypeOf(question) === "poll";
  const answerers = ["correct", "incorrect", "answered"].reduce(
    (sum, outcome) => sum + (question[`${outcome}_answerers`] || []).length,
    0,
  );
  const base = Math.max(answerers, ...counts, 1);
  const correct = new Set(poll ? [] : question.correct_options || []);
  return counts.map((count, index) => ({
    label: (question.options || [])[index] ?? `Option ${index + 1}`,
    count,
    percent: Math.round((100 * count) / base),
    correct: correct.has(index),
  }));
}

const HISTOGRAM_BINS = 6;

/**
 * A numeric question's answered `values` summed up: {count, min, median, max, bins: [{from, to, count,
 * correct (the bin reaches into answer ± tolerance)}]} (equal-width bins, at most 6); null without values.
 */
export function valuesSummary(values, answer = null, tolerance = 0) {
  const sorted = (values || []).filter((value) => typeof value === "number").sort((a, b) => a - b);
  if (!sorted.length) return null;
  const count = sorted.length;
  const middle = Math.floor(count / 2);
  const median = count % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const min = sorted[0];
  const max = sorted[count - 1];
  const binCount = min === max ? 1 : Math.min(HISTOGRAM_BINS, Math.ceil(Math.sqrt(count)) + 1);
  const width = (max - min) / binCount;
  const bins = Array.from({ length: binCount }, (_, at) => ({
    from: min + at * width,
    to: at === binCount - 1 ? max : min + (at + 1) * width,
    count: 0,
  }));
  for (const value of sorted) bins[width ? Math.min(binCount - 1, Math.floor((value - min) / width)) : 0].count += 1;
  const reaches = (bin) => answer !== null && bin.from <= answer + (tolerance || 0) && bin.to >= answer - (tolerance || 0);
  return { count, min, median, max, bins: bins.map((bin) => ({ ...bin, correct: reaches(bin) })) };
}

function answerLine(question) {
  const type = questionTypeOf(question);
  const options = question.options || [];
  const chosen = (question.correct_options || []).map((index) => options[index]);
  if (type === "poll") return "A poll: no right or wrong answer.";
  if (type === "order") return `Correct order: ${chosen.join(" → ")}`;
  if (type === "numeric") {
    const tolerance = question.tolerance ? ` ± ${formatNumber(question.tolerance)}` : "";
    return `Answer: ${question.correct_value == null ? "?" : formatNumber(question.correct_value)}${tolerance}`;
  }
  return `Answer: ${chosen.join(", ")}`;
}

/**
 * The results' questions as the host reads them: {number, text, type, typeLabel, answer (the right
 * answer in words), who (who got it right; a poll: who answered), bars (`optionBars`), values
 * (`valuesSummary`, numeric only)}.
 */
export function resultsReview(questions) {
  return (questions || []).map((question, at) => {
    const type = questionTypeOf(question);
    return {
      number: (question.index ?? at) + 1,
      text: question.text,
      type,
      typeLabel: QUESTION_TYPE_NAMES[type],
      answer: answerLine(question),
      who: type === "poll" ? `Answered: ${names(question.answered_answerers)}` : `Correct: ${names(question.correct_answerers)}`,
      bars: optionBars(question),
      values: type === "numeric" ? valuesSummary(question.values, question.correct_value ?? null, question.tolerance || 0) : null,
    };
  });
}
