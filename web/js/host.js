// Host page: sign in, upload and pick question sets, open a speed-run, run the lobby, watch it
// live, and read the results. The run's host token lives in sessionStorage, so a reload resumes.
// What each server message does to the run is decided by host_state.js (pure); this module draws
// the run and does the I/O.
import { ApiError, apiFetch, apiJson } from "./api.js";
import { currentIdToken, currentUserName, SignInError, signIn, signOut } from "./auth.js";
import { formatDuration, serverClock } from "./clock.js";
import { announce, byId, el, formatPoints, showScreen } from "./dom.js";
import { applyHostMessage, applyLeaderboard, newHostRun, participantCount } from "./host_state.js";
import { LiveSocket } from "./live.js";
import { forgetAllHostTokens, forgetHostToken, hostTokenFor, rememberHostToken, runAction, runStatusText } from "./runs.js";
import { appendChat, renderConnection, renderLeaderboard, renderOutcomeChart, wireChat } from "./views.js";

const RUN_KEY = "speedrun.host.run";
const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;
const RESULTS_RETRIES = 15; // the reporter persists a run shortly after it completes
const REASONS = {
  all_finished: "Everyone finished.",
  deadline: "The time limit was reached.",
  host_ended: "You ended the run.",
};

const notice = byId("notice");
let sets = [];
let setsCursor = null;
let runs = [];
let runsCursor = null;
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

// ---------- dashboard: question sets ----------

async function showDashboard() {
  if (live) live.close();
  live = null;
  clearInterval(clockTimer);
  byId("connection").hidden = true;
  byId("leaderboard-panel").hidden = true;
  byId("chat-panel").hidden = true;
  showScreen("screen-dashboard");
  await Promise.all([loadSets(true), loadRuns(true)]);
}

// ---------- dashboard: the host's speed-runs ----------

async function loadRuns(fromStart) {
  const token = currentIdToken();
  if (!token) return showSignIn("Please sign in.");
  const status = byId("runs-status");
  const query = !fromStart && runsCursor ? `?cursor=${encodeURIComponent(runsCursor)}` : "";
  try {
    const page = await apiJson(`/api/speedruns${query}`, { token });
    runs = fromStart ? page.items || [] : runs.concat(page.items || []);
    runsCursor = page.next_cursor || null;
    announce(status, "");
    renderRuns();
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) announce(status, "Your live runs cannot be listed right now. Try Refresh in a moment.", "error");
    else handleApiError(error, status);
  }
  return undefined;
}

function runActionCell(item) {
  const action = runAction(item, Boolean(hostTokenFor(sessionStorage, item.run_id)));
  if (action.kind === "reopen") {
    return el("button", {
      type: "button",
      class: "primary small",
      text: action.label,
      "aria-label": `${action.label} ${item.name}`,
      onclick: () => reopenRun(item),
    });
  }
  if (action.kind === "results") {
    return el("button", {
      type: "button",
      class: "secondary small",
      text: action.label,
      "aria-label": `Results of ${item.name}`,
      onclick: () => openResults(item),
    });
  }
  const text = action.kind === "wait" ? "Results soon" : "Opened in another tab";
  return el("span", { class: "muted small-text", text });
}

function renderRuns() {
  const body = byId("runs-body");
  body.replaceChildren(
    ...runs.map((item) =>
      el(
        "tr",
        { dataset: { runId: item.run_id } },
        el("th", { scope: "row", text: item.name }),
        el("td", {}, el("span", { class: `run-status ${item.persisted ? "persisted" : item.status}`, text: runStatusText(item) })),
        el("td", { class: "num", text: item.participant_count ?? "" }),
        el("td", { class: "code", text: item.persisted ? "" : item.join_code || "" }),
        el("td", { text: item.created_at ? new Date(item.created_at).toLocaleString() : "" }),
        el("td", {}, runActionCell(item)),
      ),
    ),
  );
  if (!runs.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "empty", text: "No speed-runs yet: create one above." })));
  byId("runs-more").hidden = !runsCursor;
}

/** A live run of this tab: reconnect with its host token (the `state` reply redraws everything). */
function reopenRun(item) {
  const held = hostTokenFor(sessionStorage, item.run_id);
  if (!held) {
    renderRuns();
    return;
  }
  hostRun = newHostRun({
    ...held,
    name: item.name || held.name,
    question_count: item.question_count,
    participant_count: item.participant_count,
    status: item.status,
  });
  saveRun();
  startLive();
}

/** A persisted run: its durable results, as the host saw them at the end. */
async function openResults(item) {
  const status = byId("runs-status");
  try {
    const results = await apiJson(`/api/speedruns/${encodeURIComponent(item.run_id)}/results`, { token: currentIdToken() });
    hostRun = newHostRun({
      speedrun_id: item.run_id,
      name: item.name,
      join_code: item.join_code,
      question_count: (results.questions || []).length || item.question_count,
      status: "completed",
      reason: item.completion_reason,
      results,
    });
    if (Array.isArray(results.leaderboard)) hostRun = applyLeaderboard(hostRun, results.leaderboard);
    forgetHostToken(sessionStorage, item.run_id);
    saveRun();
    render();
  } catch (error) {
    handleApiError(error, status);
  }
}

async function loadSets(fromStart) {
  const token = currentIdToken();
  if (!token) return showSignIn("Please sign in.");
  const query = !fromStart && setsCursor ? `?cursor=${encodeURIComponent(setsCursor)}` : "";
  try {
    const page = await apiJson(`/api/question-sets${query}`, { token });
    sets = fromStart ? page.items || [] : sets.concat(page.items || []);
    setsCursor = page.next_cursor || null;
    renderSets();
  } catch (error) {
    handleApiError(error);
  }
  return undefined;
}

function categoryText(categories) {
  return Object.entries(categories || {})
    .map(([name, count]) => `${name} (${count})`)
    .join(", ");
}

function renderSets() {
  const body = byId("sets-body");
  body.replaceChildren(
    ...sets.map((set) =>
      el(
        "tr",
        {},
        el("td", { text: set.name }),
        el("td", { class: "num", text: set.question_count }),
        el("td", { text: categoryText(set.categories) }),
        el("td", { text: set.created_at ? new Date(set.created_at).toLocaleString() : "" }),
        el(
          "td",
          {},
          el("button", {
            type: "button",
            class: "secondary small",
            text: "Use",
            "aria-label": `Create a speed-run from ${set.name}`,
            onclick: () => pickSet(set.id),
          }),
        ),
      ),
    ),
  );
  if (!sets.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No question sets yet: upload one." })));
  byId("sets-more").hidden = !setsCursor;

  const select = byId("create-set");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "", text: "Upload or pick a set…" }),
    ...sets.map((set) => el("option", { value: set.id, text: `${set.name} (${set.question_count} questions)` })),
  );
  if (sets.some((set) => set.id === chosen)) select.value = chosen;
}

function describeProblem(problem) {
  if (typeof problem === "string") return problem;
  const where = [];
  if (problem.line != null) where.push(`line ${problem.line}`);
  if (problem.question != null) where.push(`question ${problem.question}`);
  if (problem.field) where.push(problem.field);
  const reason = problem.reason || problem.message || problem.msg || JSON.stringify(problem);
  return where.length ? `${where.join(", ")}: ${reason}` : reason;
}

async function onUpload(event) {
  event.preventDefault();
  const file = byId("upload-file").files[0];
  const problems = byId("upload-problems");
  const status = byId("upload-status");
  announce(status, "");
  problems.hidden = true;
  if (!file) {
    showProblems("Choose a question set file (JSON or CSV).", []);
    return;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    showProblems("The file is larger than 4 MiB.", []);
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  const name = byId("upload-name").value.trim();
  if (name) form.append("name", name);
  byId("upload-submit").disabled = true;
  try {
    const created = await apiJson("/api/question-sets", { method: "POST", form, token: currentIdToken() });
    announce(status, `Uploaded "${created.name}": ${created.question_count} questions.`, "ok");
    byId("upload-form").reset();
    await loadSets(true);
    pickSet(created.id, created);
  } catch (error) {
    if (error instanceof ApiError && error.status === 413) showProblems("The file is too large (4 MiB at most).", []);
    else if (error instanceof ApiError && error.status === 400) {
      showProblems(error.message, Array.isArray(error.details) ? error.details : error.details ? [error.details] : []);
    } else handleApiError(error, status);
  } finally {
    byId("upload-submit").disabled = false;
  }
}

function showProblems(message, details) {
  const problems = byId("upload-problems");
  problems.replaceChildren(
    el("p", { class: "form-error-title", text: message }),
    details.length ? el("ul", {}, ...details.map((problem) => el("li", { text: describeProblem(problem) }))) : null,
  );
  problems.hidden = false;
  byId("upload-file").setAttribute("aria-invalid", "true");
}

// ---------- dashboard: creating a run ----------

function pickSet(setId, knownSet) {
  const select = byId("create-set");
  select.value = setId;
  renderCategories(knownSet || sets.find((set) => set.id === setId));
  select.focus();
}

function renderCategories(set) {
  const fieldset = byId("create-categories");
  const legend = el("legend", { text: "Categories" });
  if (!set) {
    fieldset.disabled = true;
    fieldset.replaceChildren(legend, el("p", { class: "muted", text: "Pick a question set first." }));
    updateCountLimit();
    return;
  }
  fieldset.disabled = false;
  fieldset.replaceChildren(
    legend,
    ...Object.entries(set.categories || {}).map(([name, count]) =>
      el(
        "label",
        { class: "check" },
        el("input", { type: "checkbox", value: name, checked: true, dataset: { count }, onchange: updateCountLimit }),
        ` ${name} `,
        el("span", { class: "muted", text: `(${count})` }),
      ),
    ),
  );
  updateCountLimit();
}

function selectedCategories() {
  return [...byId("create-categories").querySelectorAll("input:checked")];
}

function updateCountLimit() {
  const boxes = selectedCategories();
  const available = boxes.reduce((sum, box) => sum + Number(box.dataset.count || 0), 0);
  const count = byId("create-count");
  count.max = String(Math.max(1, available));
  if (!count.value || Number(count.value) > available) count.value = available ? String(Math.min(available, 10)) : "";
  byId("create-count-help").textContent = available ? `${available} available in the chosen categories` : "";
}

async function onCreate(event) {
  event.preventDefault();
  const error = byId("create-error");
  const setId = byId("create-set").value;
  const set = sets.find((candidate) => candidate.id === setId);
  const questionCount = Number(byId("create-count").value);
  const questionDuration = Number(byId("create-question-duration").value);
  const minutes = byId("create-duration").value;
  const maxParticipants = byId("create-max").value;
  const chosen = selectedCategories().map((box) => box.value);
  const problems = [];
  if (!setId) problems.push("pick a question set");
  if (set && chosen.length === 0) problems.push("pick at least one category");
  if (!Number.isInteger(questionCount) || questionCount < 1 || questionCount > Number(byId("create-count").max)) {
    problems.push(`number of questions must be 1..${byId("create-count").max}`);
  }
  if (!Number.isInteger(questionDuration) || questionDuration < 5 || questionDuration > 300) {
    problems.push("seconds per question must be 5..300");
  }
  if (minutes && (Number(minutes) * 60 < 30 || Number(minutes) * 60 > 7200)) problems.push("time limit must be 0.5..120 minutes");
  if (problems.length) {
    announce(error, `Please fix: ${problems.join("; ")}.`, "error");
    return;
  }
  const body = { question_set_id: setId, question_count: questionCount, question_duration_s: questionDuration };
  const name = byId("create-name").value.trim();
  if (name) body.name = name;
  if (set && chosen.length < Object.keys(set.categories || {}).length) body.categories = chosen;
  if (minutes) body.duration_s = Math.round(Number(minutes) * 60);
  if (maxParticipants) body.max_participants = Number(maxParticipants);
  body.shuffle = byId("create-shuffle").checked;
  body.chat = byId("create-chat").checked;
  announce(error, "");
  byId("create-submit").disabled = true;
  try {
    const created = await apiJson("/api/signon/speedruns", { method: "POST", json: body, token: currentIdToken() });
    rememberHostToken(sessionStorage, created, name || (set && set.name) || "Speed-run");
    hostRun = newHostRun({
      ...created,
      name: name || (set && set.name) || "Speed-run",
      question_count: questionCount,
      status: "lobby",
    });
    saveRun();
    startLive();
  } catch (err) {
    handleApiError(err, error);
  } finally {
    byId("create-submit").disabled = false;
  }
}

// ---------- live run ----------

function startLive() {
  byId("connection").hidden = false;
  byId("chat-panel").hidden = false;
  showScreen("screen-loading");
  live = new LiveSocket(hostRun.ws_url, hostRun.host_token, onMessage, onStatus);
  live.connect();
}

function onStatus(status) {
  renderConnection(byId("connection"), status);
  if (status.state === "open") announce(notice, "");
  else if (status.state === "reconnecting" && status.failures >= 6) {
    announce(notice, "The run cannot be reached: it may have ended. Still trying…", "error");
    byId("screen-loading").querySelector("p").replaceChildren(
      "The run is not reachable. ",
      el("button", { type: "button", class: "secondary small", text: "Back to dashboard", onclick: leaveRun }),
    );
  } else if (status.state === "reconnecting") announce(notice, "Connection lost — reconnecting…", "warn");
  if (status.state === "reconnecting" && status.failures === 3) loadPersistedResults();
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
    hostRun = { ...hostRun, status: "completed", results };
    if (Array.isArray(results.leaderboard)) hostRun = applyLeaderboard(hostRun, results.leaderboard);
    saveRun();
    render();
  } catch {
    // not persisted (yet), or not reachable either: keep reconnecting
  }
}

function onMessage(message, action) {
  switch (message.type) {
    case "message":
      serverClock.observe(message.sent_at);
      appendChat(message, "host", (id) => (hostRun.participants[id] || {}).name || id);
      return;
    case "error":
      onError(message, action);
      return;
    case "started":
      serverClock.observe(message.started_at);
      break;
    case "completed":
      serverClock.observe(message.completed_at);
      break;
    default:
      break;
  }
  if (!hostRun) return;
  const before = hostRun;
  hostRun = applyHostMessage(hostRun, message);
  // Unchanged: pong, anything newer than this client, or a stale push. A `state` reply always redraws
  // (it is what takes the page off the loading screen after a connect).
  if (hostRun === before && message.type !== "state") return;
  if (hostRun.status === "completed" && !hostRun.results && (message.type === "completed" || message.type === "state")) {
    live.send({ action: "results" });
  }
  if (message.type === "results") {
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
  if (action === "message") {
    announce(document.querySelector("#chat-panel .form-error"), error.message || error.code, "error");
    return;
  }
  if (action === "results" && error.code === "not_running") return; // completes shortly; `completed` follows
  announce(notice, `${action ? `${action}: ` : ""}${error.message || error.code}`, "error");
}

function render() {
  const status = hostRun.status;
  if (status === "lobby") renderLobby();
  else if (status === "running") renderLive();
  else if (status === "completed") renderResults();
  renderChatRecipients();
}

function joinLink() {
  return new URL(`play.html?code=${encodeURIComponent(hostRun.join_code)}`, window.location.href).toString();
}

function renderLobby() {
  byId("lobby-title").textContent = `${hostRun.name} — lobby`;
  byId("join-code").textContent = hostRun.join_code;
  byId("join-link").textContent = joinLink();
  byId("join-link").href = joinLink();
  const people = Object.values(hostRun.participants);
  byId("lobby-count").textContent = Math.max(participantCount(hostRun), people.length);
  byId("lobby-participants").replaceChildren(
    ...people.map((who) =>
      el(
        "li",
        { class: "person" },
        el("span", { class: "avatar", "aria-hidden": "true", text: (who.name[0] || "?").toUpperCase() }),
        el("span", { class: "person-name", text: who.name }),
        kickButton(who),
      ),
    ),
  );
  if (!people.length) byId("lobby-participants").append(el("li", { class: "muted", text: "Nobody yet — share the code." }));
  byId("leaderboard-panel").hidden = true;
  if (document.body.dataset.screen !== "screen-lobby") showScreen("screen-lobby");
}

function kickButton(who) {
  return el("button", {
    type: "button",
    class: "ghost small danger-text",
    text: "Kick",
    "aria-label": `Remove ${who.name}`,
    onclick: () => {
      if (window.confirm(`Remove ${who.name} from this speed-run?`)) live.send({ action: "kick", participant_id: who.participant_id });
    },
  });
}

function renderLive() {
  const count = hostRun.question_count || 0;
  const people = Object.values(hostRun.participants).sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
  byId("live-title").textContent = `${hostRun.name} — live`;
  byId("live-code").textContent = hostRun.join_code;
  byId("live-count").textContent = Math.max(participantCount(hostRun), people.length);
  byId("live-finished").textContent = people.filter((who) => who.finished).length;
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
    ...people.map((who) => {
      const answered = Math.max(who.answered || 0, Object.keys(who.answers).length);
      const percent = count ? Math.round((100 * answered) / count) : 0;
      return el(
        "tr",
        { dataset: { participantId: who.participant_id } },
        el("th", { scope: "row" }, who.name, who.connected === false ? el("span", { class: "muted", text: " (offline)" }) : null),
        el(
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
        ),
        el("td", { class: "num", text: formatPoints(who.score) }),
        ...Array.from({ length: count }, (_, index) => {
          const outcome = who.answers[index];
          return el("td", {
            class: `cell ${outcome || "pending"}`,
            title: outcome ? `Q${index + 1}: ${outcome}` : `Q${index + 1}: not answered yet`,
            text: { correct: "✓", incorrect: "✗", timeout: "⏱" }[outcome] || "",
            "aria-label": outcome || "not answered",
          });
        }),
        el("td", {}, kickButton(who)),
      );
    }),
  );
  byId("leaderboard-panel").hidden = false;
  renderLeaderboard(byId("leaderboard-body"), hostRun.leaderboard, { questionCount: count });
  if (document.body.dataset.screen !== "screen-live") showScreen("screen-live");
  startClock();
}

function startClock() {
  clearInterval(clockTimer);
  const tick = () => {
    const left = serverClock.remainingMs(hostRun.ends_at);
    byId("time-left").textContent = left === null ? "–" : formatDuration(left);
  };
  tick();
  clockTimer = setInterval(tick, 500);
}

function renderResults() {
  clearInterval(clockTimer);
  byId("results-title").textContent = `${hostRun.name} — results`;
  byId("results-reason").textContent = REASONS[hostRun.reason] || "The speed-run is over.";
  renderLeaderboard(byId("results-body"), hostRun.leaderboard, { questionCount: hostRun.question_count });
  byId("leaderboard-panel").hidden = true;
  byId("chat-panel").hidden = true;
  byId("connection").hidden = true;
  const questions = hostRun.results && hostRun.results.questions;
  if (questions) {
    renderOutcomeChart(byId("results-chart"), questions);
    byId("results-questions").replaceChildren(
      ...questions.map((question) =>
        el(
          "li",
          { class: "review-item" },
          el("p", { class: "review-text", text: question.text }),
          el("p", {
            class: "muted",
            text: `Answer: ${(question.correct_options || []).map((index) => (question.options || [])[index]).join(", ")}`,
          }),
          el(
            "p",
            { class: "small-text" },
            `Correct: ${(question.correct_answerers || []).map((who) => who.name).join(", ") || "nobody"}`,
          ),
        ),
      ),
    );
  }
  if (document.body.dataset.screen !== "screen-results") showScreen("screen-results");
}

function renderChatRecipients() {
  const select = byId("chat-to");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "all", text: "Everyone" }),
    ...Object.values(hostRun.participants).map((who) => el("option", { value: who.participant_id, text: who.name })),
  );
  select.value = [...select.options].some((option) => option.value === chosen) ? chosen : "all";
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
  byId("upload-form").addEventListener("submit", onUpload);
  byId("upload-file").addEventListener("change", () => {
    byId("upload-problems").hidden = true;
    byId("upload-file").removeAttribute("aria-invalid");
  });
  byId("create-form").addEventListener("submit", onCreate);
  byId("create-set").addEventListener("change", (event) => renderCategories(sets.find((set) => set.id === event.target.value)));
  byId("sets-more").addEventListener("click", () => loadSets(false));
  byId("runs-more").addEventListener("click", () => loadRuns(false));
  byId("runs-refresh").addEventListener("click", () => loadRuns(true));
  byId("copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(joinLink());
      byId("copy-status").textContent = "Join link copied.";
    } catch {
      byId("copy-status").textContent = `Copy this link: ${joinLink()}`;
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
