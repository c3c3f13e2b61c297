// Draws the host's run: the lobby, the live table, the results, the chat's recipients and the time
// left. DOM only: what each screen shows of the run comes from host_state.js; host.js decides when to
// draw and does the I/O (the kick button calls `onKick`).
import { byId, el, showScreen } from "./dom.js";
import { formatDuration, formatPoints, outcomeMark } from "./format.js";
import { completionText, liveRows, resultsReview, shownCount } from "./host_state.js";
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

export function renderLobby(run, joinUrl, onKick) {
  byId("lobby-title").textContent = `${run.name} — lobby`;
  byId("join-code").textContent = run.join_code;
  byId("join-link").textContent = joinUrl;
  byId("join-link").href = joinUrl;
  const people = Object.values(run.participants);
  byId("lobby-count").textContent = shownCount(run);
  byId("lobby-participants").replaceChildren(
    ...people.map((who) =>
      el(
        "li",
        { class: "person" },
        el("span", { class: "avatar", "aria-hidden": "true", text: (who.name[0] || "?").toUpperCase() }),
        el("span", { class: "person-name", text: who.name }),
        kickButton(who, onKick),
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

export function renderLive(run, onKick) {
  const count = run.question_count || 0;
  const rows = liveRows(run);
  byId("live-title").textContent = `${run.name} — live`;
  byId("live-code").textContent = run.join_code;
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
        el("th", { scope: "row" }, row.who.name, row.who.connected === false ? el("span", { class: "muted", text: " (offline)" }) : null),
        progressCell(row, count),
        el("td", { class: "num", text: formatPoints(row.who.score) }),
        ...row.outcomes.map(outcomeCell),
        el("td", {}, kickButton(row.who, onKick)),
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
  renderLeaderboard(byId("results-body"), run.leaderboard, { questionCount: run.question_count });
  byId("leaderboard-panel").hidden = true;
  byId("chat-panel").hidden = true;
  byId("connection").hidden = true;
  const questions = run.results && run.results.questions;
  if (questions) {
    renderOutcomeChart(byId("results-chart"), questions);
    byId("results-questions").replaceChildren(
      ...resultsReview(questions).map((question) =>
        el(
          "li",
          { class: "review-item" },
          el("p", { class: "review-text", text: question.text }),
          el("p", { class: "muted", text: question.answer }),
          el("p", { class: "small-text" }, question.correct),
        ),
      ),
    );
  }
  showOnce("screen-results");
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
