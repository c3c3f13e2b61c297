// The final podium: the top 3 of a final leaderboard drawn 2nd–1st–3rd, each a name, a score and a
// bar that rises (CSS; no animation under `prefers-reduced-motion: reduce`). DOM only. The
// participant's final screen draws it (play_render.js) and the host's results screen may too.
import { el } from "./dom.js";
import { formatPoints } from "./format.js";

const PLACES = 3;
const PLACE_WORDS = ["1st", "2nd", "3rd"];

/** The entries on the podium: the first three by rank (a list without ranks: as given). */
export function podiumEntries(entries) {
  const ranked = (entries || []).filter((entry) => entry && typeof entry.name === "string");
  return [...ranked].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity)).slice(0, PLACES);
}

/**
 * Draws the podium of `entries` (leaderboard entries: {rank, participant_id, name, score, ...}, e.g.
 * `completed.leaderboard`) into `container`, replacing what it held; the container is hidden when
 * there is nobody to show. The list is in rank order (what a screen reader reads); the stylesheet
 * places 2nd, 1st, 3rd side by side. `highlightId` (optional) marks that participant's place "(you)".
 */
export function renderPodium(container, entries, { highlightId = null } = {}) {
  const top = podiumEntries(entries);
  container.hidden = !top.length;
  if (!top.length) {
    container.replaceChildren();
    return;
  }
  const places = top.map((entry, at) => {
    const own = Boolean(highlightId) && entry.participant_id === highlightId;
    return el(
      "li",
      { class: "podium-place", dataset: own ? { place: at + 1, self: "true" } : { place: at + 1 } },
      el("span", { class: "podium-name" }, entry.name, own ? el("span", { class: "podium-you", text: " (you)" }) : null),
      el("span", { class: "podium-score", text: `${formatPoints(entry.score)} points` }),
      el("span", { class: "podium-bar" }, el("span", { class: "podium-rank", text: PLACE_WORDS[at] })),
    );
  });
  container.replaceChildren(el("ol", { class: "podium", "aria-label": "Podium: the top 3" }, ...places));
}
