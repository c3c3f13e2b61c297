// Draws the participant page: the join form, the lobby and score, the question (each type) with its
// countdown, the run's time left and the extra-time note, the feedback, the leaderboard, and the
// final podium and review. DOM only: what to show comes from play_state.js and play_question.js;
// play.js decides when to draw and does the I/O.
import { announce, byId, el, showScreen } from "./dom.js";
import { formatElapsed, formatPoints, formatRank } from "./format.js";
import {
  extraTimeNote,
  feedbackText,
  frameType,
  hasOptionButtons,
  needsSubmit,
  orderMoveText,
  questionProgress,
  readyToSubmit,
  reviewQuestion,
} from "./play_question.js";
import { renderPodium } from "./podium.js";
import { drawOrderItems, drawQuestion, showNumberProblem } from "./question_view.js";
import { renderLeaderboard, renderRecentNames } from "./views.js";

/** Panels that only make sense while connected to a run. */
const LIVE_PANELS = ["leave", "connection", "score-chip", "chat-panel"];
const SUBMIT_WORDS = { order: "Submit order" };

/** The join form (pre-filled from the page's `?code=`), with `message` as its error. */
export function renderJoin(message, codeParam) {
  const code = byId("join-code");
  if (!code.value && codeParam) code.value = codeParam;
  announce(byId("join-error"), message || "", "error");
  for (const id of [...LIVE_PANELS, "leaderboard-panel", "extra-time-note"]) byId(id).hidden = true;
  showScreen("screen-join");
  (code.value ? byId("join-name") : code).focus();
}

/** The loading screen of a run being connected to as `name`. */
export function renderConnecting(name) {
  for (const id of LIVE_PANELS) byId(id).hidden = false;
  byId("lobby-name").textContent = name;
  showScreen("screen-loading");
}

function renderScore(play) {
  byId("score-value").textContent = formatPoints(play.score);
  byId("waiting-score").textContent = formatPoints(play.score);
  byId("waiting-rank").textContent = formatRank(play.rank);
}

function renderBoard(play, highlightId) {
  byId("leaderboard-panel").hidden = !play.leaderboard.length && play.status !== "completed";
  renderLeaderboard(byId("leaderboard-body"), play.leaderboard, { highlightId, questionCount: play.questionCount });
}

/** The parts that follow the state whatever the screen: lobby, score, leaderboard, chat. */
export function renderStatus(play, highlightId) {
  byId("lobby-run-name").textContent = play.name || "the speed-run";
  byId("lobby-count").textContent = play.count || 0;
  renderRecentNames(byId("lobby-recent"), play.recent);
  byId("lobby-recent-block").hidden = !play.recent.length;
  // The host may allow chat; without it a participant can only read what the host sends.
  if (play.chat !== undefined) byId("chat-form").hidden = !play.chat;
  renderScore(play);
  renderBoard(play, highlightId);
  const note = byId("extra-time-note");
  const said = play.status === "completed" ? "" : extraTimeNote(play.extraTime);
  if (note.textContent !== said) note.textContent = said;
  note.hidden = !said;
  if (play.status === "completed") {
    // Over: nothing more can be answered; the results replace this screen as soon as they come.
    for (const control of byId("options").querySelectorAll("button, input")) control.disabled = true;
    byId("submit-answer").disabled = true;
    byId("next-question").hidden = true;
  }
}

/**
 * A question screen. `handlers`: `onChoose(optionIndex)` (option buttons), `onMove(position, delta)`
 * (order items), `onInput(text)` and `onSubmit()` (the number field).
 */
export function renderQuestion(question, controls, questionCount, handlers) {
  byId("question-progress").textContent = questionProgress(question, questionCount);
  const parts = {
    category: byId("question-category"),
    image: byId("question-image"),
    text: byId("question-text"),
    hint: byId("question-hint"),
    options: byId("options"),
  };
  drawQuestion(parts, question, {
    selected: controls.selected,
    order: controls.order,
    value: controls.value,
    ...handlers,
  });
  const submit = byId("submit-answer");
  submit.textContent = SUBMIT_WORDS[frameType(question)] || "Submit answer";
  submit.hidden = !needsSubmit(question);
  submit.disabled = !readyToSubmit(question, controls);
  byId("feedback").hidden = true;
  byId("next-question").hidden = true;
  byId("countdown-alert").textContent = "";
  showScreen("screen-question");
  parts.options.querySelector("button:not(:disabled), input").focus();
}

/** A multi-answer question's toggled options, or what was typed: whether *Submit* is enabled. */
export function renderSelection(question, controls) {
  if (hasOptionButtons(question)) {
    for (const button of byId("options").querySelectorAll(".option")) {
      button.setAttribute("aria-pressed", String(controls.selected.has(Number(button.dataset.index))));
    }
  }
  byId("submit-answer").disabled = !readyToSubmit(question, controls);
}

/** An order question's items after a move: the focus follows the moved item, a screen reader hears its place. */
export function renderOrder(question, controls, moved, onMove) {
  const options = byId("options");
  drawOrderItems(options.querySelector(".order-list"), question, controls.order, { onMove, focus: moved });
  options.querySelector(".order-status").textContent = orderMoveText(question, controls.order, moved.position);
}

/** A number that does not read as one: said under the field, which gets the focus. */
export function renderNumberProblem(problem) {
  showNumberProblem(byId("options"), problem);
  if (problem) byId("options").querySelector("input").focus();
}

/** The answer went out: the controls are locked, the chosen options marked. */
export function renderSent(question, controls) {
  showNumberProblem(byId("options"), "");
  for (const control of byId("options").querySelectorAll("button, input")) control.disabled = true;
  if (hasOptionButtons(question)) {
    for (const button of byId("options").querySelectorAll(".option")) {
      button.classList.toggle("chosen", controls.selected.has(Number(button.dataset.index)));
    }
  }
  byId("submit-answer").disabled = true;
}

/** One countdown tick (play_question.countdownTick): an untimed question has no bar and no seconds. */
export function renderCountdown(tick) {
  byId("countdown-bar").hidden = !tick.timed;
  byId("countdown-text").hidden = !tick.timed;
  const fill = byId("countdown-fill");
  fill.style.transform = `scaleX(${tick.fraction})`;
  fill.dataset.urgent = String(tick.urgent);
  byId("countdown-seconds").textContent = tick.seconds;
  if (tick.speak !== null) byId("countdown-alert").textContent = `${tick.speak} seconds left`;
}

/** The run's time left on the question screen ("" hides it). */
export function renderRunClock(text) {
  const line = byId("run-time-left");
  if (line.textContent !== text) line.textContent = text;
  line.hidden = !text;
}

/** The options of a choice, true/false or poll question marked: right and wrong (a poll has neither), chosen. */
function markOptions(question, result, selected) {
  const poll = frameType(question) === "poll";
  const correct = new Set(result.correct_options || []);
  for (const button of byId("options").querySelectorAll(".option")) {
    const index = Number(button.dataset.index);
    button.classList.toggle("correct", !poll && correct.has(index));
    button.classList.toggle("wrong", !poll && selected.has(index) && !correct.has(index));
    button.classList.toggle("chosen", selected.has(index));
  }
}

/**
 * The feedback of the question on screen: its options marked, the outcome, a numeric question's
 * answer, an order question's correct order, the explanation when the run shows them, *Next*.
 */
export function renderFeedback(result, question, controls) {
  for (const control of byId("options").querySelectorAll("button, input")) control.disabled = true;
  if (hasOptionButtons(question)) markOptions(question, result, controls.selected);
  byId("submit-answer").hidden = true;
  const text = feedbackText(result, question);
  const feedback = byId("feedback");
  feedback.dataset.outcome = result.outcome;
  const parts = [
    el("strong", { class: "outcome", text: text.outcome }),
    el("span", { text: text.points }),
    ...text.lines.map((line) => el("p", { class: "feedback-line", text: line })),
    text.correctOrder
      ? el(
          "div",
          { class: "feedback-order" },
          el("p", { class: "feedback-line", text: "The correct order:" }),
          el("ol", { class: "correct-order" }, ...text.correctOrder.map((item) => el("li", { text: item }))),
        )
      : null,
    text.explanation ? el("p", { class: "explanation" }, el("strong", { text: "Why: " }), text.explanation) : null,
  ];
  feedback.replaceChildren(...parts.filter(Boolean));
  feedback.hidden = false;
  const next = byId("next-question");
  next.textContent = text.next;
  next.hidden = false;
  next.focus();
}

function reviewList(list) {
  return el(
    "div",
    { class: "review-order" },
    el("p", { class: "muted", text: `${list.title}:` }),
    el("ol", { class: "review-order-items" }, ...list.items.map((item) => el("li", { text: item }))),
  );
}

function reviewItem(question) {
  const review = reviewQuestion(question);
  return el(
    "li",
    { class: `review-item ${review.outcome}`, dataset: { type: review.type } },
    el(
      "p",
      { class: "review-head" },
      el("span", { class: `badge ${review.outcome}`, text: review.badge }),
      el("span", { class: "muted", text: review.points }),
    ),
    el("p", { class: "review-text", text: question.text }),
    ...review.lines.map((line) => el("p", { class: "review-line", text: line })),
    ...review.lists.map(reviewList),
    el(
      "ul",
      { class: "review-options", hidden: !review.options.length },
      ...review.options.map((option) =>
        el(
          "li",
          { class: option.classes },
          option.text,
          option.marks.length ? el("span", { class: "muted", text: ` — ${option.marks.join(", ")}` }) : null,
        ),
      ),
    ),
  );
}

/** The final screen: the podium (the final board's top 3), the own score, every question reviewed, and the board. */
export function renderResults(play, results, highlightId) {
  renderScore(play);
  renderPodium(byId("results-podium"), play.leaderboard, { highlightId });
  byId("results-summary").textContent =
    `You scored ${formatPoints(play.score)} points, rank ${formatRank(play.rank)}, in ${formatElapsed(results.elapsed_ms)}.`;
  byId("results-review").replaceChildren(...(results.questions || []).map(reviewItem));
  byId("leave").hidden = true;
  byId("connection").hidden = true;
  byId("chat-panel").hidden = true;
  byId("extra-time-note").hidden = true;
  renderBoard(play, highlightId);
  showScreen("screen-results");
}
