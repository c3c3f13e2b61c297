// The host dashboard's I/O: loads the question sets and the host's runs (page by page), uploads a set,
// opens the editor on a new or a listed set (editor.js), duplicates and deletes sets, creates a run,
// and opens a listed run (reopen a live one, or its durable results). What the forms accept is
// host_forms.js, the runs built host_state.js; drawing is dashboard_render.js. The page (host.js) owns
// the open run: this module hands it over through `page`.
import { ApiError, apiJson } from "./api.js";
import { currentIdToken } from "./auth.js";
import { announce, byId, confirmInPage, showScreen } from "./dom.js";
import { openNewSet, openSet, wireEditor } from "./editor.js";
import {
  chosenCategoryBoxes,
  chosenScoring,
  clearUploadProblems,
  renderCategories,
  renderRuns,
  renderScoringControls,
  renderSets,
  showUploadProblems,
} from "./dashboard_render.js";
import { createRunRequest, refusedUpload, uploadProblem } from "./host_forms.js";
import { createdRun, persistedRun, reopenedRun } from "./host_state.js";
import { forgetHostToken, hostTokenFor, rememberHostToken } from "./runs.js";

let sets = [];
let setsCursor = null;
let runs = [];
let runsCursor = null;
/** {apiError(error, region), signIn(message), goLive(run), showRun(run)}: see wireDashboard. */
let page = null;

function pageQuery(fromStart, cursor) {
  return !fromStart && cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
}

/** Reloads both lists from their first page. */
export function loadDashboard() {
  return Promise.all([loadSets(true), loadRuns(true)]);
}

// ---------- the host's speed-runs ----------

async function loadRuns(fromStart) {
  const token = currentIdToken();
  if (!token) return page.signIn("Please sign in.");
  const status = byId("runs-status");
  try {
    const reply = await apiJson(`/api/speedruns${pageQuery(fromStart, runsCursor)}`, { token });
    runs = fromStart ? reply.items || [] : runs.concat(reply.items || []);
    runsCursor = reply.next_cursor || null;
    announce(status, "");
    drawRuns();
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) {
      announce(status, "Your live runs cannot be listed right now. Try Refresh in a moment.", "error");
    } else page.apiError(error, status);
  }
  return undefined;
}

function drawRuns() {
  renderRuns(runs, Boolean(runsCursor), {
    hasToken: (runId) => Boolean(hostTokenFor(sessionStorage, runId)),
    onReopen: reopenRun,
    onResults: openResults,
  });
}

/** A live run of this tab: reconnect with its host token (the `state` reply redraws everything). */
function reopenRun(item) {
  const held = hostTokenFor(sessionStorage, item.run_id);
  if (!held) {
    drawRuns();
    return;
  }
  page.goLive(reopenedRun(item, held));
}

/** A persisted run: its durable results, as the host saw them at the end. */
async function openResults(item) {
  try {
    const results = await apiJson(`/api/speedruns/${encodeURIComponent(item.run_id)}/results`, { token: currentIdToken() });
    const run = persistedRun(item, results);
    forgetHostToken(sessionStorage, item.run_id);
    page.showRun(run);
  } catch (error) {
    page.apiError(error, byId("runs-status"));
  }
}

// ---------- question sets ----------

async function loadSets(fromStart) {
  const token = currentIdToken();
  if (!token) return page.signIn("Please sign in.");
  try {
    const reply = await apiJson(`/api/question-sets${pageQuery(fromStart, setsCursor)}`, { token });
    sets = fromStart ? reply.items || [] : sets.concat(reply.items || []);
    setsCursor = reply.next_cursor || null;
    drawSets();
  } catch (error) {
    page.apiError(error);
  }
  return undefined;
}

function drawSets() {
  renderSets(sets, Boolean(setsCursor), { onPick: pickSet, onEdit: editSet, onDuplicate: duplicateSet, onDelete: deleteSet });
}

function setPath(set, tail = "") {
  return `/api/question-sets/${encodeURIComponent(set.id)}${tail}`;
}

async function editSet(set) {
  try {
    await openSet(set.id);
  } catch (error) {
    page.apiError(error, byId("sets-status"));
  }
}

/** A copy of `set` (the server names it "<name> (copy)"), listed at once. */
async function duplicateSet(set) {
  const status = byId("sets-status");
  try {
    const copy = await apiJson(setPath(set, "/copy"), { method: "POST", token: currentIdToken() });
    await loadSets(true);
    announce(status, `Duplicated "${set.name}" as "${copy.name}".`, "ok");
  } catch (error) {
    page.apiError(error, status);
  }
}

/** Deletes `set` once the host confirms in the page; runs already created from it keep their questions. */
async function deleteSet(set) {
  const status = byId("sets-status");
  const confirmed = await confirmInPage({
    title: "Delete this question set?",
    message: `"${set.name}" will be gone for good. Speed-runs already created from it keep their questions and results.`,
    confirm: "Delete set",
  });
  if (!confirmed) return;
  try {
    await apiJson(setPath(set), { method: "DELETE", token: currentIdToken() });
    if (byId("create-set").value === set.id) {
      byId("create-set").value = "";
      renderCategories(undefined);
    }
    await loadSets(true);
    announce(status, `Deleted "${set.name}".`, "ok");
    byId("sets-title").focus(); // its row, and the button pressed, are gone
  } catch (error) {
    page.apiError(error, status);
  }
}

/** Back from the editor: the lists again, and the set just saved picked for a run. */
async function closeEditor(savedSetId) {
  showScreen("screen-dashboard");
  await loadDashboard();
  const saved = sets.find((set) => set.id === savedSetId);
  if (saved) pickSet(saved.id, saved);
}

async function onUpload(event) {
  event.preventDefault();
  const file = byId("upload-file").files[0];
  const status = byId("upload-status");
  announce(status, "");
  byId("upload-problems").hidden = true;
  const problem = uploadProblem(file);
  if (problem) {
    showUploadProblems(problem, []);
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
    const refused = refusedUpload(error);
    if (refused) showUploadProblems(refused.message, refused.problems);
    else page.apiError(error, status);
  } finally {
    byId("upload-submit").disabled = false;
  }
}

// ---------- creating a run ----------

function pickSet(setId, knownSet) {
  const select = byId("create-set");
  select.value = setId;
  renderCategories(knownSet || sets.find((set) => set.id === setId));
  select.focus();
}

async function onCreate(event) {
  event.preventDefault();
  const error = byId("create-error");
  const setId = byId("create-set").value;
  const request = createRunRequest({
    set: sets.find((candidate) => candidate.id === setId),
    setId,
    name: byId("create-name").value,
    questionCount: byId("create-count").value,
    maxQuestions: byId("create-count").max,
    questionDuration: byId("create-question-duration").value,
    minutes: byId("create-duration").value,
    maxParticipants: byId("create-max").value,
    categories: chosenCategoryBoxes().map((box) => box.value),
    shuffle: byId("create-shuffle").checked,
    chat: byId("create-chat").checked,
    scoring: chosenScoring(),
    speedTiebreak: byId("create-speed-tiebreak").checked,
    untimed: byId("create-untimed").checked,
    showExplanations: byId("create-explanations").checked,
  });
  if (request.problem) {
    announce(error, request.problem, "error");
    return;
  }
  announce(error, "");
  byId("create-submit").disabled = true;
  try {
    const created = await apiJson("/api/signon/speedruns", { method: "POST", json: request.body, token: currentIdToken() });
    rememberHostToken(sessionStorage, created, request.runName);
    page.goLive(createdRun(created, request.runName, request.body.question_count));
  } catch (err) {
    page.apiError(err, error);
  } finally {
    byId("create-submit").disabled = false;
  }
}

/**
 * Wires the dashboard's forms and buttons. `hostPage`: {apiError(error, region) (reports an API
 * error, or signs out on 401), signIn(message) (the sign-in form), goLive(run) (connects to a run),
 * showRun(run) (shows a finished run's results)}.
 */
export function wireDashboard(hostPage) {
  page = hostPage;
  wireEditor({ apiError: hostPage.apiError, close: closeEditor });
  byId("new-set").addEventListener("click", openNewSet);
  byId("upload-form").addEventListener("submit", onUpload);
  byId("upload-file").addEventListener("change", clearUploadProblems);
  byId("create-form").addEventListener("submit", onCreate);
  for (const id of ["create-untimed", "create-scoring-speed", "create-scoring-accuracy"]) {
    byId(id).addEventListener("change", renderScoringControls);
  }
  renderScoringControls();
  byId("create-set").addEventListener("change", (event) => renderCategories(sets.find((set) => set.id === event.target.value)));
  byId("sets-more").addEventListener("click", () => loadSets(false));
  byId("runs-more").addEventListener("click", () => loadRuns(false));
  byId("runs-refresh").addEventListener("click", () => loadRuns(true));
}
