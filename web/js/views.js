// Views the host and participant pages share: leaderboard table, per-question chart, connection badge,
// the lobby's latest joiners.
import { connectionLabel } from "./connection.js";
import { el } from "./dom.js";
import { formatElapsed, formatPoints } from "./format.js";
import { questionTypeOf } from "./question_types.js";

/** Renders leaderboard entries [{rank, participant_id, name, score, answered, elapsed_ms}] into a table body. */
export function renderLeaderboard(tbody, entries, { highlightId, questionCount } = {}) {
  tbody.replaceChildren(
    ...(entries || []).map((entry) =>
      el(
        "tr",
        { class: entry.participant_id === highlightId ? "me" : null, dataset: { participantId: entry.participant_id } },
        el("td", { class: "num", text: entry.rank }),
        el("td", { text: entry.participant_id === highlightId ? `${entry.name} (you)` : entry.name }),
        el("td", { class: "num", text: formatPoints(entry.score) }),
        el("td", {
          class: "num",
          text: questionCount ? `${entry.answered ?? 0}/${questionCount}` : (entry.answered ?? 0),
        }),
        el("td", { class: "num", text: formatElapsed(entry.elapsed_ms) }),
      ),
    ),
  );
  if (!entries || entries.length === 0) {
    tbody.append(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No scores yet." })));
  }
}

/** The latest joiners' names (newest last, as `lobby.recent` lists them) as a list of tags. */
export function renderRecentNames(list, names) {
  list.replaceChildren(...(names || []).map((name) => el("li", { class: "tag", text: name })));
}

const OUTCOMES = [
  ["correct", "Correct"],
  ["incorrect", "Incorrect"],
  ["answered", "Answered"],
  ["timeout", "Timed out"],
];
/** A poll has no right or wrong: its answers are `answered` (or timed out). */
const POLL_OUTCOMES = OUTCOMES.filter(([outcome]) => outcome === "answered" || outcome === "timeout");
const GRADED_OUTCOMES = OUTCOMES.filter(([outcome]) => outcome !== "answered");

/**
 * A stacked horizontal bar per question (correct / incorrect / timeout; a poll's answered / timeout),
 * plain DOM and CSS. `questions`: the host `results` questions (with *_answerers lists, `type`).
 */
export function renderOutcomeChart(container, questions) {
  const anyPoll = (questions || []).some((question) => questionTypeOf(question) === "poll");
  const rows = (questions || []).map((question) => {
    const outcomes = questionTypeOf(question) === "poll" ? POLL_OUTCOMES : GRADED_OUTCOMES;
    const counts = Object.fromEntries(
      outcomes.map(([outcome]) => [outcome, (question[`${outcome}_answerers`] || []).length]),
    );
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const summary = outcomes.map(([outcome, label]) => `${counts[outcome]} ${label.toLowerCase()}`).join(", ");
    return el(
      "div",
      { class: "chart-row", role: "listitem" },
      el("span", { class: "chart-label", text: `Q${question.index + 1}`, title: question.text }),
      el(
        "span",
        { class: "chart-bar", role: "img", "aria-label": `Question ${question.index + 1}: ${summary}` },
        ...outcomes.filter(([outcome]) => counts[outcome] > 0).map(([outcome, label]) =>
          el(
            "span",
            {
              class: `chart-segment ${outcome}`,
              style: `flex-grow: ${counts[outcome]}`,
              title: `${label}: ${counts[outcome]}`,
            },
            String(counts[outcome]),
          ),
        ),
        total === 0 ? el("span", { class: "chart-segment none", text: "no answers" }) : null,
      ),
    );
  });
  const legend = el(
    "p",
    { class: "chart-legend" },
    ...(anyPoll ? OUTCOMES : GRADED_OUTCOMES).map(([outcome, label]) =>
      el("span", { class: `legend ${outcome}` }, el("i", { "aria-hidden": "true" }), label),
    ),
  );
  container.replaceChildren(legend, el("div", { class: "chart", role: "list" }, ...rows));
}

/** A small "connected / reconnecting" badge from LiveSocket status updates. */
export function renderConnection(badge, status) {
  badge.textContent = connectionLabel(status);
  badge.dataset.state = status.state;
}

/**
 * Wires a chat panel (form #chat-form, select #chat-to, input #chat-text, list #chat-log).
 * `send(to, content)` returns false when it could not send (offline).
 */
export function wireChat(send) {
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-text");
  const status = el("p", { class: "form-error", role: "alert", hidden: true });
  form.after(status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content) return;
    if (send(document.getElementById("chat-to").value, content)) {
      input.value = "";
      status.hidden = true;
    } else {
      status.textContent = "Not sent: reconnecting…";
      status.hidden = false;
    }
  });
  return status;
}

/** Adds a `message` frame to #chat-log; `nameOf(participant_id)` names recipients of our own messages. */
export function appendChat(message, ownId, nameOf = (id) => id) {
  const log = document.getElementById("chat-log");
  const mine = message.from === ownId;
  let to = "you";
  if (message.to === "all") to = "everyone";
  else if (mine) to = message.to === "host" ? "host" : nameOf(message.to);
  log.append(
    el(
      "li",
      { class: mine ? "mine" : null },
      el("strong", { text: mine ? "You" : message.from_name || message.from }),
      el("span", { class: "muted", text: ` → ${to}` }),
      el("p", { text: message.content }),
    ),
  );
  log.scrollTop = log.scrollHeight;
}
