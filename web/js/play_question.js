// A question on the participant's screen: how its options are chosen, how its countdown runs, what
// its hint, feedback and review say. Pure: play.js keeps the on-screen controls ({index, selected: Set,
// sent, timeoutSent, spokenMark}) and does the drawing and the sending.
import { toEpochMs } from "./clock.js";
import { formatPoints, formatRank } from "./format.js";

/** Seconds left at which screen readers hear the time (not every tick). */
const SPOKEN_MARKS_S = [10, 5];
const URGENT_BELOW_MS = 5000;
const OUTCOME_TEXT = { correct: "Correct!", incorrect: "Not quite.", timeout: "Time's up." };

/** Whether the question asks for more than one option (toggled, then submitted). */
export function picksMany(question) {
  return (question.select_count || 1) > 1;
}

export function questionProgress(question, questionCount) {
  return `Question ${question.index + 1} of ${questionCount || "?"}`;
}

export function questionHint(question) {
  const keys = question.options.length;
  return picksMany(question)
    ? `Pick ${question.select_count} answers, then submit. Keys 1–${keys} select.`
    : `Pick one answer. Keys 1–${keys} answer.`;
}

/**
 * The controls of question `question` on screen. Served again (after a reconnect) with no result,
 * the server has no answer for it: the selection stays and a lost answer may be sent again.
 */
export function questionControls(question, previous, answered) {
  if (previous && previous.index === question.index && !answered) return { ...previous, sent: false, timeoutSent: false };
  return { index: question.index, selected: new Set(), timeoutSent: false, sent: false };
}

/**
 * The selection after option `optionIndex` was clicked: a one-answer question is answered at once
 * (`submit`); otherwise the option toggles, up to `select_count` options.
 */
export function chooseOption(question, selected, optionIndex) {
  if (!picksMany(question)) return { selected: new Set([optionIndex]), submit: true };
  const next = new Set(selected);
  if (next.has(optionIndex)) next.delete(optionIndex);
  else if (next.size < question.select_count) next.add(optionIndex);
  return { selected: next, submit: false };
}

/** Whether *Submit* is enabled: exactly `select_count` options chosen. */
export function readyToSubmit(question, selected) {
  return selected.size === question.select_count;
}

/** The `answer` frame for the chosen options. */
export function answerFrame(index, selected) {
  return { action: "answer", index, selected: [...selected].sort((a, b) => a - b) };
}

/** The option a number key (`1`..`8`) picks, or null. */
export function optionForKey(key, optionCount) {
  const number = Number(key);
  return Number.isInteger(number) && number >= 1 && number <= optionCount ? number - 1 : null;
}

/**
 * One countdown tick with `leftMs` left on the server's clock: the bar's `fraction`, `urgent`, the
 * `seconds` shown, the mark to `speak` (null: none), and whether to give the question up (`timeout`).
 * `durationS` is the run's question duration, for a question without `served_at`.
 */
export function countdownTick(question, leftMs, durationS, controls) {
  const totalMs = toEpochMs(question.deadline) - toEpochMs(question.served_at) || durationS * 1000;
  const seconds = Math.ceil(leftMs / 1000);
  return {
    fraction: Math.min(1, leftMs / totalMs),
    urgent: leftMs < URGENT_BELOW_MS,
    seconds,
    speak: SPOKEN_MARKS_S.includes(seconds) && controls.spokenMark !== seconds ? seconds : null,
    timeout: leftMs <= 0 && !controls.timeoutSent && !controls.sent,
  };
}

/** The feedback of an `answer_result`: its outcome in words, the points line, and the next button. */
export function feedbackText(result) {
  return {
    outcome: OUTCOME_TEXT[result.outcome] || result.outcome,
    points: ` +${formatPoints(result.points)} points · score ${formatPoints(result.score)} · rank ${formatRank(result.rank)}`,
    next: result.finished ? "See the leaderboard" : "Next question",
  };
}

/** A question of the final review: its badge text and each option marked correct and/or chosen. */
export function reviewQuestion(question) {
  const correct = new Set(question.correct_options || []);
  const selected = new Set(question.selected || []);
  return {
    outcome: question.outcome || "unanswered",
    badge: OUTCOME_TEXT[question.outcome] || "Not reached",
    points: ` +${formatPoints(question.points)} points`,
    options: (question.options || []).map((text, index) => {
      const marks = [];
      if (correct.has(index)) marks.push("correct answer");
      if (selected.has(index)) marks.push("your choice");
      const classes = [correct.has(index) ? "correct" : "", selected.has(index) ? "chosen" : ""].join(" ").trim();
      return { text, classes: classes || null, marks };
    }),
  };
}
