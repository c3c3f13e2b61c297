// Draws the host's run: the lobby (with the join link's QR code), the live table, the extra-time
// dialog, the results (podium, ranking, chart, each question by its type), the chat's recipients and the time
// left. DOM only: what each screen shows of the run comes from host_state.js; host.js decides when to
// draw and does the I/O (the participant buttons call `actions.onKick(who)` and
// `actions.onExtraTime(who)`).
import { byId, el, showScreen } from "./dom.js";
import { formatDuration, formatPoints, outcomeMark } from "./format.js";
import {
  completionText,
  extraTimeChoices,
  extraTimeText,
  formatNumber,
  liveRows,
  resultsReview,
  runOptionsText,
  shownCount,
} from "./host_state.js";
import { drawQrCode } from "./join_qr.js";
import { renderPodium } from "./podium.js";
import { renderLeaderboard, renderOutcomeChart } from "./views.js";

function showOnce(screenId) {
  if (document.body.dataset.screen !== screenId) showScreen(screenId);
}

function kickButton(who, onKick) {
  return el("button", {
    type: "button",
    class: "ghost small danger-text",
    text: "Kick",
    "aria-label": `Remove ${who.name}`,
    onclick: () => onKick(who),
  });
}

/** Opens the extra-time dialog for `who`; the button is found again by its data attribute after a redraw. */
function extraTimeButton(who, onExtraTime) {
  return el("button", {
    type: "button",
    class: "ghost small",
    text: "Extra time",
    "aria-label": `Extra time for ${who.name}`,
    dataset: { extraTime: who.participant_id },
    onclick: () => onExtraTime(who),
  });
}

/** "1.5× time" beside a name with extra time; nothing without. */
function extraTimeBadge(who) {
  const text = extraTimeText(who.extra_time);
  return text ? el("span", { class: "badge extra-time", text }) : null;
}

/**
 * Asks which multiplier `who` gets (the page's `<dialog>`, theirs ticked); `onChoose(multiplier)`
 * when the host sets it. The focus goes back to their *Extra time* button, the one on screen now.
 */
export function askExtraTime(who, onChoose) {
  const dialog = byId("extra-time-dialog");
  byId("extra-time-title").textContent = `Extra time for ${who.name}`;
  const choices = extraTimeChoices(who.extra_time ?? 1);
  byId("extra-time-choices").replaceChildren(
    el("legend", { text: "Time per question" }),
    ...choices.map((choice) =>
      el(
        "label",
        { class: "check" },
        el("input", { type: "radio", name: "extra-time", value: String(choice.multiplier), checked: choice.current }),
        ` ${choice.label}`,
      ),
    ),
  );
  dialog.returnValue = "";
  dialog.addEventListener(
    "close",
    () => {
      const picked = dialog.querySelector("input[name=extra-time]:checked");
      if (dialog.returnValue === "ok" && picked) onChoose(Number(picked.value));
      const again = document.querySelector(`button[data-extra-time="${CSS.escape(who.participant_id)}"]`);
      if (again) again.focus();
    },
    { once: true },
  );
  dialog.showModal();
  dialog.querySelector("input[name=extra-time]:checked").focus();
}

export function renderLobby(run, joinUrl, actions) {
  byId("lobby-title").textContent = `${run.name} — lobby`;
  byId("join-code").textContent = run.join_code;
  byId("join-link").textContent = joinUrl;
  byId("join-link").href = joinUrl;
  drawQrCode(byId("join-qr"), joinUrl, "QR code for the join link");
  byId("lobby-options").textContent = runOptionsText(run.options);
  const people = Object.values(run.participants);
  byId("lobby-count").textContent = shownCount(run);
  byId("lobby-participants").replaceChildren(
    ...people.map((who) =>
      el(
        "li",
        { class: "person" },
        el("span", { class: "avatar", "aria-hidden": "true", text: (who.name[0] || "?").toUpperCase() }),
        el("span", { class: "person-name", text: who.name }),
        extraTimeBadge(who),
        extraTimeButton(who, actions.onExtraTime),
        kickButton(who, actions.onKick),
      ),
    ),
  );
  if (!people.length) byId("lobby-participants").append(el("li", { class: "muted", text: "Nobody yet — share the code." }));
  byId("leaderboard-panel").hidden = true;
  showOnce("screen-lobby");
}

function progressCell(row, count) {
  const { who, answered, percent } = row;
  return el(
    "td",
    {},
    el(
      "div",
      {
        class: `progress${who.finished ? " done" : ""}`,
        role: "progressbar",
        "aria-valuemin": 0,
        "aria-valuemax": count,
        "aria-valuenow": answered,
        "aria-label": `${who.name}: ${answered} of ${count} answered`,
      },
      el("span", { class: "progress-fill", style: `width: ${percent}%` }),
    ),
    el("span", { class: "progress-text", text: `${answered}/${count}` }),
  );
}

function outcomeCell(outcome, index) {
  return el("td", {
    class: `cell ${outcome || "pending"}`,
    title: outcome ? `Q${index + 1}: ${outcome}` : `Q${index + 1}: not answered yet`,
    text: outcomeMark(outcome),
    "aria-label": outcome || "not answered",
  });
}

export function renderLive(run, actions) {
  const count = run.question_count || 0;
  const rows = liveRows(run);
  byId("live-title").textContent = `${run.name} — live`;
  byId("live-code").textContent = run.join_code;
  byId("live-options").textContent = runOptionsText(run.options);
  byId("live-count").textContent = shownCount(run);
  byId("live-finished").textContent = rows.filter((row) => row.who.finished).length;
  byId("answers-head").replaceChildren(
    el(
      "tr",
      {},
      el("th", { scope: "col", text: "Participant" }),
      el("th", { scope: "col", text: "Progress" }),
      el("th", { scope: "col", class: "num", text: "Score" }),
      ...Array.from({ length: count }, (_, index) => el("th", { scope: "col", class: "q", text: `Q${index + 1}` })),
      el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "Actions" })),
    ),
  );
  byId("answers-body").replaceChildren(
    ...rows.map((row) =>
      el(
        "tr",
        { dataset: { participantId: row.who.participant_id } },
        el(
          "th",
          { scope: "row" },
          row.who.name,
          row.who.connected === false ? el("span", { class: "muted", text: " (offline)" }) : null,
          extraTimeBadge(row.who),
        ),
        progressCell(row, count),
        el("td", { class: "num", text: formatPoints(row.who.score) }),
        ...row.outcomes.map(outcomeCell),
        el(
          "td",
          {},
          el("div", { class: "row-actions" }, extraTimeButton(row.who, actions.onExtraTime), kickButton(row.who, actions.onKick)),
        ),
      ),
    ),
  );
  byId("leaderboard-panel").hidden = false;
  renderLeaderboard(byId("leaderboard-body"), run.leaderboard, { questionCount: count });
  showOnce("screen-live");
}

/** The live view's time left (`ms` null: the run has no end time). */
export function renderTimeLeft(ms) {
  byId("time-left").textContent = ms === null ? "–" : formatDuration(ms);
}

export function renderResults(run) {
  byId("results-title").textContent = `${run.name} — results`;
  byId("results-reason").textContent = completionText(run.reason);
  renderPodium(byId("results-podium"), run.leaderboard);
  renderLeaderboard(byId("results-body"), run.leaderboard, { questionCount: run.question_count });
  byId("leaderboard-panel").hidden = true;
  byId("chat-panel").hidden = true;
  byId("connection").hidden = true;
  const questions = run.results && run.results.questions;
  if (questions) {
    renderOutcomeChart(byId("results-chart"), questions);
    byId("results-questions").replaceChildren(...resultsReview(questions).map(reviewItem));
  }
  showOnce("screen-results");
}

/** How many chose each option: a labelled bar each (the words say it all; the bar only shows it). */
function optionBarList(question) {
  return el(
    "ul",
    { class: "option-bars", "aria-label": `Answers to question ${question.number}` },
    ...question.bars.map((bar) =>
      el(
        "li",
        { class: bar.correct ? "correct" : null },
        el("span", { class: "option-bar-label", text: `${bar.correct ? "✓ " : ""}${bar.label}` }),
        el(
          "span",
          { class: "option-bar", "aria-hidden": "true" },
          el("span", { class: "option-bar-fill", style: `width: ${bar.percent}%` }),
        ),
        el("span", { class: "option-bar-count", text: `${bar.count} (${bar.percent} %)` }),
      ),
    ),
  );
}

function short(value) {
  return formatNumber(Math.round(value * 100) / 100);
}

/** A numeric question's answers: count, min / median / max, and a small histogram (ranges reaching the right one marked). */
function valuesView(question) {
  const values = question.values;
  if (!values) return el("p", { class: "muted small-text", text: "Nobody answered it." });
  const most = Math.max(...values.bins.map((bin) => bin.count));
  const spread = [`min ${formatNumber(values.min)}`, `median ${formatNumber(values.median)}`, `max ${formatNumber(values.max)}`];
  return el(
    "div",
    { class: "values-summary" },
    el("p", { class: "small-text", text: `${values.count} answered: ${spread.join(", ")}` }),
    el(
      "ul",
      { class: "histogram", "aria-label": `Answers to question ${question.number} by range` },
      ...values.bins.map((bin) => {
        const range = bin.from === bin.to ? short(bin.from) : `${short(bin.from)} – ${short(bin.to)}`;
        return el(
          "li",
          { class: bin.correct ? "correct" : null, title: `${range}: ${bin.count}` },
          el("span", {
            class: "histogram-bar",
            "aria-hidden": "true",
            style: `height: ${Math.round((100 * bin.count) / most)}%`,
          }),
          el("span", { class: "histogram-count", text: bin.count }),
          el("span", { class: "histogram-range", text: `${bin.correct ? "✓ " : ""}${range}` }),
        );
      }),
    ),
  );
}

function reviewItem(question) {
  return el(
    "li",
    { class: "review-item", dataset: { type: question.type } },
    el("p", { class: "review-text" }, el("span", { class: "badge question-type", text: question.typeLabel }), ` ${question.text}`),
    el("p", { class: "muted", text: question.answer }),
    question.bars ? optionBarList(question) : null,
    question.type === "numeric" ? valuesView(question) : null,
    el("p", { class: "small-text", text: question.who }),
  );
}

/** The chat's recipients: everyone, or one participant (the choice is kept while they are there). */
export function renderChatRecipients(run) {
  const select = byId("chat-to");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "all", text: "Everyone" }),
    ...Object.values(run.participants).map((who) => el("option", { value: who.participant_id, text: who.name })),
  );
  select.value = [...select.options].some((option) => option.value === chosen) ? chosen : "all";
}
