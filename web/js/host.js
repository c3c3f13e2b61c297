// Host page: sign in, then the dashboard (host_dashboard.js) or the open run: its lobby, the live
// view and the results. The run's host token lives in sessionStorage, so a reload resumes. What each
// server message does to the run is decided by host_state.js (pure) and host_render.js draws it; this
// module holds the open run and does its I/O (the socket, the durable results, the CSV).
import { ApiError, apiFetch, apiJson } from "./api.js";
import { currentIdToken, currentUserName, SignInError, signIn, signOut } from "./auth.js";
import { serverClock } from "./clock.js";
import { connectionNotice, mayBeRefused } from "./connection.js";
import { announce, byId, el, showScreen } from "./dom.js";
import { loadDashboard, wireDashboard } from "./host_dashboard.js";
import { askExtraTime, renderChatRecipients, renderLive, renderLobby, renderResults, renderTimeLeft } from "./host_render.js";
import { afterHostMessage, applyHostMessage, extraTimeAction, hostErrorReaction, joinLink, withResults } from "./host_state.js";
import { LiveSocket } from "./live.js";
import { forgetAllHostTokens, forgetHostToken } from "./runs.js";
import { appendChat, renderConnection, wireChat } from "./views.js";

const RUN_KEY = "speedrun.host.run";
const RESULTS_RETRIES = 15; // the reporter persists a run shortly after it completes

const notice = byId("notice");
let hostRun = readRun();
let live = null;
let clockTimer = null;

function readRun() {
  try {
    return JSON.parse(sessionStorage.getItem(RUN_KEY) || "null");
  } catch {
    return null;
  }
}

function saveRun() {
  sessionStorage.setItem(RUN_KEY, JSON.stringify(hostRun));
}

/** API errors that mean "sign in again" send the host back to the sign-in form. */
function handleApiError(error, region) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    showSignIn("Your session expired. Please sign in again.");
    return;
  }
  announce(region || notice, error.message || String(error), "error");
}

// ---------- sign-in ----------

function showSignIn(message) {
  byId("sign-out").hidden = true;
  byId("user-name").textContent = "";
  announce(byId("signin-error"), message || "", "error");
  showScreen("screen-signin");
  byId("signin-username").focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const username = byId("signin-username").value.trim();
  const password = byId("signin-password").value;
  const error = byId("signin-error");
  if (!username || !password) {
    announce(error, "Enter your user name and password.", "error");
    return;
  }
  byId("signin-submit").disabled = true;
  try {
    await signIn(username, password);
    byId("signin-password").value = "";
    announce(error, "");
    await resume();
  } catch (err) {
    announce(error, err instanceof SignInError ? err.message : `Sign-in failed: ${err.message || err}`, "error");
  } finally {
    byId("signin-submit").disabled = false;
  }
}

function onSignOut() {
  if (live) live.close();
  live = null;
  hostRun = null;
  sessionStorage.removeItem(RUN_KEY);
  forgetAllHostTokens(sessionStorage);
  signOut();
  showSignIn("");
}

async function showDashboard() {
  if (live) live.close();
  live = null;
  clearInterval(clockTimer);
  byId("connection").hidden = true;
  byId("leaderboard-panel").hidden = true;
  byId("chat-panel").hidden = true;
  showScreen("screen-dashboard");
  await loadDashboard();
}

// ---------- live run ----------

/** Opens `run` (created, or reopened from the list) and connects to it. */
function goLive(run) {
  hostRun = run;
  saveRun();
  startLive();
}

/** Shows a finished `run` (its results). */
function showRun(run) {
  hostRun = run;
  saveRun();
  render();
}

function startLive() {
  byId("connection").hidden = false;
  byId("chat-panel").hidden = false;
  showScreen("screen-loading");
  live = new LiveSocket(hostRun.ws_url, hostRun.host_token, onMessage, onStatus);
  live.connect();
}

function onStatus(status) {
  renderConnection(byId("connection"), status);
  const said = connectionNotice(status, "The run cannot be reached: it may have ended. Still trying…");
  if (said) announce(notice, said.text, said.tone);
  if (said && said.unreachable) {
    byId("screen-loading").querySelector("p").replaceChildren(
      "The run is not reachable. ",
      el("button", { type: "button", class: "secondary small", text: "Back to dashboard", onclick: leaveRun }),
    );
  }
  if (mayBeRefused(status)) loadPersistedResults();
}

/** When the socket keeps failing the run may be over and its live state gone: the durable results tell. */
async function loadPersistedResults() {
  if (!hostRun) return;
  try {
    const results = await apiJson(`/api/speedruns/${encodeURIComponent(hostRun.speedrun_id)}/results`, {
      token: currentIdToken() || hostRun.host_token,
    });
    if (!hostRun) return;
    if (live) live.close();
    live = null;
    showRun(withResults(hostRun, results));
  } catch {
    // not persisted (yet), or not reachable either: keep reconnecting
  }
}

function onMessage(message, action) {
  serverClock.observeMessage(message);
  if (message.type === "message") {
    appendChat(message, "host", (id) => (hostRun.participants[id] || {}).name || id);
    return;
  }
  if (message.type === "error") {
    onError(message, action);
    return;
  }
  if (!hostRun) return;
  const before = hostRun;
  hostRun = applyHostMessage(hostRun, message);
  const next = afterHostMessage(before, hostRun, message);
  if (!next.redraw) return;
  if (next.askResults) live.send({ action: "results" });
  if (next.done) {
    forgetHostToken(sessionStorage, hostRun.speedrun_id); // nothing left to reconnect to
    live.close(); // the run is over and durable soon; nothing more will come
  }
  saveRun();
  scheduleRender();
}

let renderPending = false;

/** Many answers can arrive within one frame in a big run: draw once per frame. */
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (hostRun) render();
  });
}

function onError(error, action) {
  const said = hostErrorReaction(error, action);
  if (!said) return;
  const region = said.to === "chat" ? document.querySelector("#chat-panel .form-error") : notice;
  announce(region, said.text, "error");
}

function kick(who) {
  if (window.confirm(`Remove ${who.name} from this speed-run?`)) live.send({ action: "kick", participant_id: who.participant_id });
}

/** The server's `extra_time` reply updates the list (host_state.js); nothing changes before it. */
function extraTime(who) {
  askExtraTime(who, (multiplier) => live && live.send(extraTimeAction(who.participant_id, multiplier)));
}

const participantActions = { onKick: kick, onExtraTime: extraTime };

function render() {
  const status = hostRun.status;
  if (status === "lobby") renderLobby(hostRun, joinLink(hostRun, window.location.href), participantActions);
  else if (status === "running") {
    renderLive(hostRun, participantActions);
    startClock();
  } else if (status === "completed") {
    clearInterval(clockTimer);
    renderResults(hostRun);
  }
  renderChatRecipients(hostRun);
}

function startClock() {
  clearInterval(clockTimer);
  const tick = () => renderTimeLeft(serverClock.remainingMs(hostRun.ends_at));
  tick();
  clockTimer = setInterval(tick, 500);
}

function leaveRun() {
  hostRun = null;
  sessionStorage.removeItem(RUN_KEY);
  showDashboard();
}

async function downloadCsv() {
  const status = byId("csv-status");
  const button = byId("download-csv");
  button.disabled = true;
  try {
    for (let attempt = 0; attempt < RESULTS_RETRIES; attempt += 1) {
      try {
        const response = await apiFetch(`/api/speedruns/${encodeURIComponent(hostRun.speedrun_id)}/results?format=csv`, {
          token: currentIdToken() || hostRun.host_token,
          accept: "text/csv",
        });
        const blob = await response.blob();
        const link = el("a", { href: URL.createObjectURL(blob), download: `speedrun-${hostRun.join_code}-results.csv` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
        announce(status, "CSV downloaded.", "ok");
        return;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        announce(status, "The results are still being saved…", "info");
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    announce(status, "The results are not saved yet. Try again in a minute.", "error");
  } catch (error) {
    handleApiError(error, status);
  } finally {
    button.disabled = false;
  }
}

// ---------- start ----------

async function resume() {
  if (!currentIdToken()) return showSignIn("");
  byId("sign-out").hidden = false;
  byId("user-name").textContent = currentUserName();
  if (hostRun && hostRun.status === "completed" && hostRun.results) {
    render();
    return undefined;
  }
  if (hostRun) {
    startLive();
    return undefined;
  }
  return showDashboard();
}

function main() {
  byId("signin-form").addEventListener("submit", onSignIn);
  byId("sign-out").addEventListener("click", onSignOut);
  wireDashboard({ apiError: handleApiError, signIn: showSignIn, goLive, showRun });
  byId("copy-link").addEventListener("click", async () => {
    const link = joinLink(hostRun, window.location.href);
    try {
      await navigator.clipboard.writeText(link);
      byId("copy-status").textContent = "Join link copied.";
    } catch {
      byId("copy-status").textContent = `Copy this link: ${link}`;
    }
  });
  byId("start-run").addEventListener("click", () => live && live.send({ action: "start" }));
  byId("leave-lobby").addEventListener("click", () => {
    if (window.confirm("Leave this lobby? The run stays open until it expires; reopen it from Your speed-runs.")) leaveRun();
  });
  byId("end-run").addEventListener("click", () => {
    if (window.confirm("End the speed-run now for everyone?")) live.send({ action: "end" });
  });
  byId("download-csv").addEventListener("click", downloadCsv);
  byId("new-run").addEventListener("click", leaveRun);
  wireChat((to, content) => Boolean(live) && live.send({ action: "message", to, content }));
  return resume();
}

main().catch((error) => announce(notice, `The page failed to start: ${error.message}`, "error"));
