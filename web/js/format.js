// How numbers, times and lists read on screen, for both pages. Pure: strings in, strings out.

export function formatPoints(points) {
  return Number(points || 0).toLocaleString();
}

/** Seconds with one decimal for a participant's elapsed time; a dash when there is none. */
export function formatElapsed(ms) {
  if (ms === null || ms === undefined) return "—";
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "m:ss" for a duration in milliseconds. */
export function formatDuration(ms) {
  const totalSeconds = Math.ceil(Math.max(0, ms) / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = String(totalSeconds % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

/** A rank, or a dash while there is none yet. */
export function formatRank(rank) {
  return rank ?? "–";
}

/** A server `*_at` time in the browser's locale; empty when there is none. */
export function formatTimestamp(value) {
  return value ? new Date(value).toLocaleString() : "";
}

/** A question set's categories {name: count} as "name (count), …". */
export function formatCategories(categories) {
  return Object.entries(categories || {})
    .map(([name, count]) => `${name} (${count})`)
    .join(", ");
}

const OUTCOME_MARKS = { correct: "✓", incorrect: "✗", timeout: "⏱", answered: "●" }; // answered: a poll's (no right or wrong)

/** The symbol of an answer's outcome (the text says it too: outcomes are never told by colour alone). */
export function outcomeMark(outcome) {
  return OUTCOME_MARKS[outcome] || "";
}
