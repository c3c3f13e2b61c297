// The speed-run WebSocket (protocol.md; docs/engine.md): connect with the run-scoped token, `sync` first, `ping`
// to stay under the idle timeout, and reconnect with backoff after any drop. A reconnect with the
// same token replaces the old connection, and `sync` brings the client back to the server's state.
import { socketUrl } from "./config.js";

const PING_EVERY_MS = 4 * 60 * 1000; // API Gateway closes idle sockets after 10 minutes
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;

export class LiveSocket {
  /**
   * @param {string} wsUrl   the run's ws_url from sign-on
   * @param {string} token   host_token or participant_token
   * @param {(message: object, action: string|undefined) => void} onMessage  every server frame;
   *        `action` is the client action an `error` reply answers (matched by request_id)
   * @param {(status: {state: string, failures: number}) => void} onStatus
   *        state: "connecting" | "open" | "reconnecting" | "closed"
   */
  constructor(wsUrl, token, onMessage, onStatus) {
    this.url = socketUrl(wsUrl, token);
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.failures = 0; // consecutive attempts that closed without ever opening
    this.stopped = false;
    this.pingTimer = null;
    this.retryTimer = null;
    this.nextRequestId = 1;
    this.pendingActions = new Map();
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.dropDeadSocket();
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.onStatus({ state: this.failures ? "reconnecting" : "connecting", failures: this.failures });
    let opened = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      opened = true;
      this.failures = 0;
      this.onStatus({ state: "open", failures: 0 });
      this.send({ action: "sync" });
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ action: "ping" }), PING_EVERY_MS);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // the contract only sends JSON; anything else is not ours to act on
      }
      const action = message.request_id ? this.pendingActions.get(message.request_id) : undefined;
      if (message.request_id) this.pendingActions.delete(message.request_id);
      this.onMessage(message, action);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return; // an older socket we already replaced
      clearInterval(this.pingTimer);
      this.socket = null;
      if (this.stopped) {
        this.onStatus({ state: "closed", failures: this.failures });
        return;
      }
      if (!opened) this.failures += 1;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.failures);
      const jitter = Math.random() * delay * 0.3;
      this.onStatus({ state: "reconnecting", failures: this.failures });
      this.retryTimer = setTimeout(() => this.connect(), delay + jitter);
    });
  }

  /**
   * The device lost its network: a socket may take minutes to notice on its own, so close it now;
   * the page shows "reconnecting" and the backoff retries until the network is back.
   */
  dropDeadSocket() {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(4000, "offline");
  }

  /** Reconnect at once (the network came back), instead of waiting out the backoff. */
  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
    this.connect();
  }

  get isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  /** Sends one action with a fresh request_id; false when the socket is not open (sync will catch up). */
  send(frame) {
    if (!this.isOpen) return false;
    const requestId = String(this.nextRequestId++);
    this.pendingActions.set(requestId, frame.action);
    if (this.pendingActions.size > 100) {
      this.pendingActions.delete(this.pendingActions.keys().next().value);
    }
    this.socket.send(JSON.stringify({ ...frame, request_id: requestId }));
    return true;
  }

  /** Stops for good: no reconnect. */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    if (this.socket) this.socket.close(1000, "bye");
    else this.onStatus({ state: "closed", failures: this.failures });
  }
}
