// What both pages say about their socket (LiveSocket status updates): the badge's words, the notice,
// and when repeated failures mean something. Pure: the pages announce and act on it.

/** Failed connects in a row after which a reachable site means the handshake refuses our token. */
const REFUSED_AFTER_FAILURES = 3;
/** Failed connects in a row after which the page says the run cannot be reached. */
const GIVE_UP_AFTER_FAILURES = 6;

/** The connection badge's text. */
export function connectionLabel(status) {
  const labels = {
    connecting: "Connecting…",
    open: "Live",
    reconnecting: status.failures > 2 ? `Reconnecting (attempt ${status.failures + 1})…` : "Reconnecting…",
    closed: "Offline",
  };
  return labels[status.state] || status.state;
}

/**
 * The page notice for a status: {text, tone, unreachable} (empty text clears it), or null to leave
 * it as it is. `unreachableText` is the page's own words for a run that cannot be reached.
 */
export function connectionNotice(status, unreachableText) {
  if (status.state === "open") return { text: "", tone: "info", unreachable: false };
  if (status.state !== "reconnecting") return null;
  if (status.failures >= GIVE_UP_AFTER_FAILURES) return { text: unreachableText, tone: "error", unreachable: true };
  return { text: "Connection lost — reconnecting…", tone: "warn", unreachable: false };
}

/** The moment to check whether the token is refused (once per run of failures). */
export function mayBeRefused(status) {
  return status.state === "reconnecting" && status.failures === REFUSED_AFTER_FAILURES;
}
