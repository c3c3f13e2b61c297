// Shapes of the WebSocket protocol (protocol.md; docs/engine.md) that both pages' reducers read the same way. Pure.

/** The largest size of a numeric answer's `value` (speedrun/question_types.py MAX_NUMERIC_ABS, the contract's limit). */
export const MAX_NUMERIC_ABS = 1_000_000_000;

const STATUS_ORDER = { lobby: 0, running: 1, completed: 2 };

export function isRunStatus(status) {
  return status in STATUS_ORDER;
}

/** A run only moves forward (lobby -> running -> completed): a late push or snapshot never moves it back. */
export function laterStatus(current, incoming) {
  if (!isRunStatus(incoming)) return current ?? incoming ?? null;
  if (!isRunStatus(current)) return incoming;
  return STATUS_ORDER[incoming] >= STATUS_ORDER[current] ? incoming : current;
}

/** A leaderboard's entries, whether it came as a list or as `{entries}`; null when there is none. */
export function boardOf(value) {
  if (Array.isArray(value)) return value;
  if (value && Array.isArray(value.entries)) return value.entries;
  return null;
}
