// A question on the participant's screen: how it is answered (options chosen, a number typed, items
// put in order), how its countdown runs, what its hint, feedback and review say. Pure: play.js keeps
// the on-screen controls ({index, selected: Set, order: [option index], value: text typed, sent,
// timeoutSent, spokenMark}) and does the drawing and the sending.
import { toEpochMs } from "./clock.js";
import { formatDuration, formatPoints, formatRank } from "./format.js";
import { MAX_NUMERIC_ABS } from "./protocol.js";
import { QUESTION_TYPES, questionTypeOf } from "./question_types.js";

/** Seconds left at which screen readers hear the time (not every tick). */
const SPOKEN_MARKS_S = [10, 5];
const URGENT_BELOW_MS = 5000;
const OUTCOME_TEXT = { correct: "Correct!", incorrect: "Not quite.", timeout: "Time's up.", answered: "Answer recorded." };
/** A number as typed: optional sign, digits with one decimal point or comma (no exponent, no thousands separators). */
const NUMBER_TEXT = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;
const NUMBER_PROBLEMS = {
  empty: "Type a number.",
  format: "Type a number, e.g. 42, -3.5 or 0.25.",
  range: `Type a number between -${MAX_NUMERIC_ABS.toLocaleString()} and ${MAX_NUMERIC_ABS.toLocaleString()}.`,
};

/** A `question` frame's type (`question_type`; `choice` when absent or unknown to this client). */
export function frameType(question) {
  return QUESTION_TYPES.includes(question.question_type) ? question.question_type : "choice";
}

/** Whether the question's options are buttons (choice, true_false, poll): numeric and order have their own controls. */
export function hasOptionButtons(question) {
  const type = frameType(question);
  return type !== "numeric" && type !== "order";
}

/** Whether the question asks for more than one option (toggled, then submitted). */
export function picksMany(question) {
  return frameType(question) === "choice" && (question.select_count || 1) > 1;
}

/** Whether *Submit* is how the answer goes out (select-many, a number, an order); else one click answers. */
export function needsSubmit(question) {
  return picksMany(question) || !hasOptionButtons(question);
}

export function questionProgress(question, questionCount) {
  return `Question ${question.index + 1} of ${questionCount || "?"}`;
}

export function questionHint(question) {
  const keys = question.options.length;
  switch (frameType(question)) {
    case "true_false":
      return `True or false? Keys 1–${keys} answer.`;
    case "poll":
      return `A poll: no right or wrong answer, no points. Pick one. Keys 1–${keys} answer.`;
    case "numeric":
      return "Type a number (decimals and negative numbers are fine), then submit.";
    case "order":
      return "Put the items in order, first at the top: Move up / Move down, or Alt+↑ / Alt+↓ on an item. Then submit.";
    default:
      return picksMany(question)
        ? `Pick ${question.select_count} answers, then submit. Keys 1–${keys} select.`
        : `Pick one answer. Keys 1–${keys} answer.`;
  }
}

/**
 * The controls of question `question` on screen. Served again (after a reconnect) with no result,
 * the server has no answer for it: the selection, the order and the number typed stay and a lost
 * answer may be sent again.
 */
export function questionControls(question, previous, answered) {
  if (previous && previous.index === question.index && !answered) return { ...previous, sent: false, timeoutSent: false };
  return {
    index: question.index,
    selected: new Set(),
    order: question.options.map((_, optionIndex) => optionIndex), // as served: the server's shuffle
    value: "",
    timeoutSent: false,
    sent: false,
  };
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

/**
 * The order after the item at `position` moved by `delta` (-1 up, +1 down): {order, position} (its
 * new place); unchanged at either end.
 */
export function moveItem(order, position, delta) {
  const target = position + delta;
  if (target < 0 || target >= order.length || position < 0 || position >= order.length) return { order, position };
  const next = [...order];
  [next[position], next[target]] = [next[target], next[position]];
  return { order: next, position: target };
}

/** The move a key asks for on an order item (Alt+ArrowUp -1, Alt+ArrowDown +1), or null. */
export function orderMoveForKey(key, altKey) {
  if (!altKey) return null;
  if (key === "ArrowUp") return -1;
  if (key === "ArrowDown") return 1;
  return null;
}

/** What a screen reader hears after a move: the item and its new place. */
export function orderMoveText(question, order, position) {
  return `${question.options[order[position]]}: position ${position + 1} of ${order.length}.`;
}

/** A typed number: {value} (a finite number within ±MAX_NUMERIC_ABS) or {problem} in words. */
export function parseNumber(text) {
  const trimmed = String(text ?? "").trim();
  if (!trimmed) return { problem: NUMBER_PROBLEMS.empty };
  if (!NUMBER_TEXT.test(trimmed)) return { problem: NUMBER_PROBLEMS.format };
  const value = Number(trimmed.replace(",", "."));
  if (!Number.isFinite(value) || Math.abs(value) > MAX_NUMERIC_ABS) return { problem: NUMBER_PROBLEMS.range };
  return { value: Object.is(value, -0) ? 0 : value };
}

/** Whether *Submit* is enabled: exactly `select_count` options chosen, something typed, or (order) always. */
export function readyToSubmit(question, controls) {
  const type = frameType(question);
  if (type === "numeric") return String(controls.value ?? "").trim() !== "";
  if (type === "order") return true;
  return controls.selected.size === question.select_count;
}

/** The `answer` frame for the chosen options (choice, true_false, poll). */
export function answerFrame(index, selected) {
  return { action: "answer", index, selected: [...selected].sort((a, b) => a - b) };
}

/**
 * The `answer` frame of the question on screen: {frame} or {problem} (a number that does not
 * read as one). An order question sends every option index in the participant's order.
 */
export function answerFor(question, controls) {
  const type = frameType(question);
  if (type === "order") return { frame: { action: "answer", index: controls.index, selected: [...controls.order] } };
  if (type === "numeric") {
    const parsed = parseNumber(controls.value);
    return parsed.problem ? parsed : { frame: { action: "answer", index: controls.index, value: parsed.value } };
  }
  return { frame: answerFrame(controls.index, controls.selected) };
}

/** The option a number key (`1`..`8`) picks, or null. */
export function optionForKey(key, optionCount) {
  const number = Number(key);
  return Number.isInteger(number) && number >= 1 && number <= optionCount ? number - 1 : null;
}

/**
 * One countdown tick with `leftMs` left on the server's clock: whether the question is `timed` (an
 * untimed one, `duration_ms` null, has no bar: its deadline is the run's end), the bar's `fraction`,
 * `urgent`, the `seconds` shown, the mark to `speak` (null: none), and whether to give the question
 * up (`timeout`). `timing` is {served_at, deadline, duration_ms} (the question's, or the extra time's
 * that moved it); `durationS` the run's question duration, for a question without times.
 */
export function countdownTick(timing, leftMs, durationS, controls) {
  const timed = timing.duration_ms !== null;
  const totalMs =
    (typeof timing.duration_ms === "number" && timing.duration_ms) ||
    toEpochMs(timing.deadline) - toEpochMs(timing.served_at) ||
    (durationS || 0) * 1000;
  const seconds = Math.ceil(leftMs / 1000);
  return {
    timed,
    fraction: totalMs > 0 ? Math.min(1, leftMs / totalMs) : 0,
    urgent: leftMs < URGENT_BELOW_MS,
    seconds,
    speak: SPOKEN_MARKS_S.includes(seconds) && controls.spokenMark !== seconds ? seconds : null,
    timeout: leftMs <= 0 && !controls.timeoutSent && !controls.sent,
  };
}

/** The run's time left in words ("" when the run has no end time). */
export function runTimeText(leftMs) {
  return leftMs === null || leftMs === undefined ? "" : `Run ends in ${formatDuration(leftMs)}`;
}

/** The participant's note about their extra time ("" without: multiplier 1 or none). */
export function extraTimeNote(multiplier) {
  return typeof multiplier === "number" && multiplier !== 1 ? `You have extra time (${multiplier}×)` : "";
}

/** A numeric question's answer in words: "42", or "42 (± 0.5)" with a tolerance. */
export function numberWithTolerance(value, tolerance) {
  const shown = Number(value).toLocaleString(undefined, { maximumFractionDigits: 20 });
  return tolerance ? `${shown} (± ${Number(tolerance).toLocaleString(undefined, { maximumFractionDigits: 20 })})` : shown;
}

function numberText(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString(undefined, { maximumFractionDigits: 20 });
}

/**
 * The feedback of an `answer_result` for `question` (the `question` frame on screen): its outcome in
 * words, the points line, `lines` (a numeric question's answer and the value given), `correctOrder`
 * (an order question's items in the correct order, else null), the `explanation` (null unless the
 * run shows them) and the next button.
 */
export function feedbackText(result, question = null) {
  const type = result.question_type || (question ? frameType(question) : "choice");
  const standing = `score ${formatPoints(result.score)} · rank ${formatRank(result.rank)}`;
  const lines = [];
  if (type === "numeric" && result.correct_value !== undefined && result.correct_value !== null) {
    lines.push(`The answer: ${numberWithTolerance(result.correct_value, result.tolerance)}`);
    if (result.outcome !== "timeout") lines.push(`Your answer: ${numberText(result.value)}`);
  }
  const options = question ? question.options : [];
  const correctOrder =
    type === "order" && Array.isArray(result.correct_options) && result.correct_options.length
      ? result.correct_options.map((optionIndex) => options[optionIndex] ?? `Item ${optionIndex + 1}`)
      : null;
  return {
    outcome: OUTCOME_TEXT[result.outcome] || result.outcome,
    points: type === "poll" ? ` No points for a poll · ${standing}` : ` +${formatPoints(result.points)} points · ${standing}`,
    lines,
    correctOrder,
    explanation: typeof result.explanation === "string" && result.explanation ? result.explanation : null,
    next: result.finished ? "See the leaderboard" : "Next question",
  };
}

/**
 * A question of the final review (a results question: `type`, options, correct_options, selected,
 * outcome, points, and a numeric one's value, correct_value, tolerance): its badge text, each option
 * marked correct and/or chosen (choice, true_false, poll), `lines` (a numeric question's answer and
 * value), and `lists` (an order question's correct order and the participant's, as texts).
 */
export function reviewQuestion(question) {
  const type = questionTypeOf(question);
  const options = question.options || [];
  const correct = new Set(type === "order" ? [] : question.correct_options || []);
  const selected = new Set(type === "order" ? [] : question.selected || []);
  const outcome = question.outcome || "unanswered";
  const review = {
    type,
    outcome,
    badge: OUTCOME_TEXT[question.outcome] || "Not reached",
    points: type === "poll" ? " · a poll, no points" : ` +${formatPoints(question.points)} points`,
    options: [],
    lines: [],
    lists: [],
  };
  if (type === "numeric") {
    if (question.correct_value !== undefined && question.correct_value !== null) {
      review.lines.push(`Correct answer: ${numberWithTolerance(question.correct_value, question.tolerance)}`);
    }
    review.lines.push(`Your answer: ${numberText(question.value)}`);
  } else if (type === "order") {
    const texts = (indexes) => indexes.map((optionIndex) => options[optionIndex] ?? `Item ${optionIndex + 1}`);
    review.lists.push({ title: "Correct order", items: texts(question.correct_options || []) });
    if (Array.isArray(question.selected) && question.selected.length) {
      review.lists.push({ title: "Your order", items: texts(question.selected) });
    }
  } else {
    review.options = options.map((text, index) => {
      const marks = [];
      if (correct.has(index)) marks.push("correct answer");
      if (selected.has(index)) marks.push("your choice");
      const classes = [correct.has(index) ? "correct" : "", selected.has(index) ? "chosen" : ""].join(" ").trim();
      return { text, classes: classes || null, marks };
    });
  }
  return review;
}
