// The host's list of speed-runs (GET /api/speedruns): what each row says and offers, and the host
// tokens this tab holds. A live run is reopened with its host token, which only sign-on issues (at
// creation) and which lives in sessionStorage: this tab can reopen the runs it opened, until their
// tokens expire. Pure helpers (the storage is passed in), so they are tested on their own.

export const HOST_TOKENS_KEY = "speedrun.host.tokens";

function read(storage) {
  try {
    const tokens = JSON.parse(storage.getItem(HOST_TOKENS_KEY) || "{}");
    return tokens && typeof tokens === "object" && !Array.isArray(tokens) ? tokens : {};
  } catch {
    return {};
  }
}

function expired(entry, now) {
  const expiresAt = Date.parse(entry.expires_at || "");
  return !entry.host_token || (Number.isFinite(expiresAt) && expiresAt <= now);
}

/** Every host token of this tab still valid at `now`, by run id (expired ones are dropped). */
export function hostTokens(storage, now = Date.now()) {
  const tokens = read(storage);
  const valid = Object.fromEntries(Object.entries(tokens).filter(([, entry]) => entry && !expired(entry, now)));
  if (Object.keys(valid).length !== Object.keys(tokens).length) storage.setItem(HOST_TOKENS_KEY, JSON.stringify(valid));
  return valid;
}

/** Keeps what reconnecting to a run needs (the sign-on reply, plus the run's name). */
export function rememberHostToken(storage, created, name) {
  const tokens = read(storage);
  tokens[created.speedrun_id] = {
    speedrun_id: created.speedrun_id,
    host_token: created.host_token,
    ws_url: created.ws_url,
    join_code: created.join_code,
    expires_at: created.expires_at,
    name: name || created.name || "",
  };
  storage.setItem(HOST_TOKENS_KEY, JSON.stringify(tokens));
}

export function hostTokenFor(storage, runId, now = Date.now()) {
  return hostTokens(storage, now)[runId] || null;
}

export function forgetHostToken(storage, runId) {
  const tokens = read(storage);
  if (!(runId in tokens)) return;
  delete tokens[runId];
  storage.setItem(HOST_TOKENS_KEY, JSON.stringify(tokens));
}

export function forgetAllHostTokens(storage) {
  storage.removeItem(HOST_TOKENS_KEY);
}

/** The row's status in words (never told by colour alone). */
export function runStatusText(item) {
  if (item.status === "lobby") return "In the lobby";
  if (item.status === "running") return "Running";
  return item.persisted ? "Finished" : "Finished — saving results…";
}

/**
 * What the row offers: `reopen` a live run this tab holds the host token of, `results` of a
 * persisted run, `wait` for a finished run whose results are still being saved, or `elsewhere` for
 * a live run opened in another tab or browser (its host token is there). `label` is the button's
 * text (or the row's words when it offers no button); `ariaLabel` names the run a button opens.
 */
export function runAction(item, hasToken) {
  const button = (kind, label, ariaLabel) => ({ kind, label, ariaLabel });
  if (item.persisted) return button("results", "Results", `Results of ${item.name}`);
  if (hasToken) {
    const label = item.status === "completed" ? "Open" : "Reopen";
    return button("reopen", label, `${label} ${item.name}`);
  }
  if (item.status === "completed") return { kind: "wait", label: "Results soon" };
  return { kind: "elsewhere", label: "Opened in another tab" };
}
