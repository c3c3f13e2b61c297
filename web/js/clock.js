// Server time only (architecture rule 6): deadlines and ends_at are server clock times, so the
// client estimates the offset between the server clock and its own.
const OFFSET_KEY = "speedrun.clockOffsetMs";
/** The server time each message type carries (protocol.md; docs/web-client.md, Server time). */
const MESSAGE_TIMES = { message: "sent_at", started: "started_at", question: "served_at", completed: "completed_at" };

/** Epoch milliseconds from a protocol time: a number (epoch ms) or an ISO-8601 string (`*_at`). */
export function toEpochMs(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return value;
  if (/^\d+(\.\d+)?$/.test(String(value))) return Number(value);
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? null : parsed;
}

/**
 * Every server timestamp we receive was taken before we received it, so `server time - local
 * receive time` is a lower bound of the true offset (lower by the network delay). The largest such
 * bound is the best estimate, and it never runs ahead of the server: a countdown computed from it
 * never gives up a question before the server's deadline.
 */
export class ServerClock {
  constructor() {
    const stored = Number(sessionStorage.getItem(OFFSET_KEY));
    this.offsetMs = sessionStorage.getItem(OFFSET_KEY) !== null && Number.isFinite(stored) ? stored : null;
  }

  observe(serverTime, localReceiveMs = Date.now()) {
    const serverMs = toEpochMs(serverTime);
    if (serverMs === null) return;
    const sample = serverMs - localReceiveMs;
    if (this.offsetMs === null || sample > this.offsetMs) {
      this.offsetMs = sample;
      sessionStorage.setItem(OFFSET_KEY, String(sample));
    }
  }

  /** The protocol time a server message carries (see MESSAGE_TIMES), when it has one. */
  observeMessage(message, localReceiveMs = Date.now()) {
    const field = MESSAGE_TIMES[message.type];
    if (field) this.observe(message[field], localReceiveMs);
  }

  /** An HTTP `Date` header is truncated to the second: still a lower bound. */
  observeHttpDate(header) {
    if (header) this.observe(Date.parse(header));
  }

  now() {
    return Date.now() + (this.offsetMs ?? 0);
  }

  /** Milliseconds left until a server time (never negative); null when there is no such time. */
  remainingMs(serverTime) {
    const target = toEpochMs(serverTime);
    return target === null ? null : Math.max(0, target - this.now());
  }
}

export const serverClock = new ServerClock();
