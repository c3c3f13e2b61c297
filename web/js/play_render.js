// Draws the participant page: the join form, the lobby and score, the question with its countdown
// and feedback, the leaderboard and the final review. DOM only: what to show comes from
// play_state.js and play_question.js; play.js decides when to draw and does the I/O.
import { announce, byId, el, showScreen } from "./dom.js";
import { formatElapsed, formatPoints, formatRank } from "./format.js";
import { feedbackText, picksMany, questionProgress, readyToSubmit, reviewQuestion } from "./play_question.js";
import { drawQuestion } from "./question_view.js";
import { renderLeaderboard, renderRecentNames } from "./views.js";

/** Panels that only make sense while connected to a run. */
const LIVE_PANELS = ["leave", "connection", "score-chip", "chat-panel"];

/** The join form (pre-filled from the page's `?code=`), with `message` as its error. */
export function renderJoin(message, codeParam) {
  const code = byId("join-code");
  if (!code.value && codeParam) code.value = codeParam;
  announce(byId("join-error"), message || "", "error");
  for (const id of [...LIVE_PANELS, "leaderboard-panel"]) byId(id).hidden = true;
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
  if (play.status === "completed") {
    // Over: nothing more can be answered; the results replace this screen as soon as they come.
    for (const button of byId("options").children) button.disabled = true;
    byId("submit-answer").disabled = true;
    byId("next-question").hidden = true;
  }
}

/** A question screen; each option calls `onChoose(optionIndex)`. */
export function renderQuestion(question, controls, questionCount, onChoose) {
  byId("question-progress").textContent = questionProgress(question, questionCount);
  const parts = {
    category: byId("question-category"),
    image: byId("question-image"),
    text: byId("question-text"),
    hint: byId("question-hint"),
    options: byId("options"),
  };
  drawQuestion(parts, question, { selected: controls.selected, onChoose });
  const submit = byId("submit-answer");
  submit.hidden = !picksMany(question);
  submit.disabled = !readyToSubmit(question, controls.selected);
  byId("feedback").hidden = true;
  byId("next-question").hidden = true;
  byId("countdown-alert").textContent = "";
  showScreen("screen-question");
  parts.options.querySelector("button").focus();
}

/** A multi-answer question's toggled options. */
export function renderSelection(question, selected) {
  for (const button of byId("options").children) {
    button.setAttribute("aria-pressed", String(selected.has(Number(button.dataset.index))));
  }
  byId("submit-answer").disabled = !readyToSubmit(question, selected);
}

/** The answer went out: the options are locked, the chosen ones marked. */
export function renderSent(selected) {
  for (const button of byId("options").children) {
    button.disabled = true;
    button.classList.toggle("chosen", selected.has(Number(button.dataset.index)));
  }
  byId("submit-answer").disabled = true;
}

/** One countdown tick (play_question.countdownTick). */
export function renderCountdown(tick) {
  const fill = byId("countdown-fill");
  fill.style.transform = `scaleX(${tick.fraction})`;
  fill.dataset.urgent = String(tick.urgent);
  byId("countdown-seconds").textContent = tick.seconds;
  if (tick.speak !== null) byId("countdown-alert").textContent = `${tick.speak} seconds left`;
}

/** The feedback of the question on screen: right and wrong options marked, the outcome, *Next*. */
export function renderFeedback(result, selected) {
  const correct = new Set(result.correct_options || []);
  for (const button of byId("options").children) {
    const index = Number(button.dataset.index);
    button.disabled = true;
    button.classList.toggle("correct", correct.has(index));
    button.classList.toggle("wrong", selected.has(index) && !correct.has(index));
    button.classList.toggle("chosen", selected.has(index));
  }
  byId("submit-answer").hidden = true;
  const text = feedbackText(result);
  const feedback = byId("feedback");
  feedback.dataset.outcome = result.outcome;
  feedback.replaceChildren(el("strong", { class: "outcome", text: text.outcome }), el("span", { text: text.points }));
  feedback.hidden = false;
  const next = byId("next-question");
  next.textContent = text.next;
  next.hidden = false;
  next.focus();
}

function reviewItem(question) {
  const review = reviewQuestion(question);
  return el(
    "li",
    { class: `review-item ${review.outcome}` },
    el(
      "p",
      { class: "review-head" },
      el("span", { class: `badge ${review.outcome}`, text: review.badge }),
      el("span", { class: "muted", text: review.points }),
    ),
    el("p", { class: "review-text", text: question.text }),
    el(
      "ul",
      { class: "review-options" },
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

/** The final screen: the own score, every question reviewed, and the board. */
export function renderResults(play, results, highlightId) {
  renderScore(play);
  byId("results-summary").textContent =
    `You scored ${formatPoints(play.score)} points, rank ${formatRank(play.rank)}, in ${formatElapsed(results.elapsed_ms)}.`;
  byId("results-review").replaceChildren(...(results.questions || []).map(reviewItem));
  byId("leave").hidden = true;
  byId("connection").hidden = true;
  byId("chat-panel").hidden = true;
  renderBoard(play, highlightId);
  showScreen("screen-results");
}
