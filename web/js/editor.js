// The question-set editor's I/O: loads a set's content, saves it (a new set, or the next version of
// one), uploads images, and leaves for the dashboard. The document and every edit are editor_state.js
// (pure), the drawing editor_render.js; this module holds the state being edited.
import { ApiError, apiJson } from "./api.js";
import { currentIdToken } from "./auth.js";
import { announce, byId, confirmInPage, showScreen } from "./dom.js";
import {
  addOption,
  addQuestion,
  deleteQuestion,
  focused,
  isDirty,
  moveOption,
  moveQuestion,
  newSetState,
  removeOption,
  savedState,
  setImage,
  setName,
  setOption,
  setOptionImage,
  setQuestionField,
  setType,
  stateFromContent,
  toggleCorrect,
  uploadDocument,
  withProblems,
  withUploadProblems,
} from "./editor_state.js";
import {
  applyFocus,
  clearShownProblems,
  renderEditor,
  renderEditorProblems,
  renderImageUploading,
  renderSaveState,
  showPreview,
} from "./editor_render.js";

/** The set being edited (editor_state.js); null while the editor is closed. */
let state = null;
let saving = false;
/** {apiError(error, region), close(savedSetId)}: see wireEditor. */
let page = null;

function setPath(setId, tail = "") {
  return `/api/question-sets/${encodeURIComponent(setId)}${tail}`;
}

function indexOf(key) {
  return state.questions.findIndex((question) => question.key === key);
}

function status() {
  return byId("editor-status");
}

/** Takes an edit that changes what is on screen: draws it all and moves the focus where it says. */
function commit(next) {
  state = next;
  renderEditor(state, handlers);
  state = focused(state);
}

/** Takes an edit typed into a field: the field is on screen already; the problem summary may change. */
function typed(next) {
  const before = state;
  state = next;
  if (state.problems !== before.problems) renderEditorProblems(state, handlers);
  renderSaveState(state);
}

const handlers = {
  onField: (key, field, value) => typed(setQuestionField(state, indexOf(key), field, value)),
  onOption: (key, optionIndex, text) => typed(setOption(state, indexOf(key), optionIndex, text)),
  onType: (key, type) => commit(setType(state, indexOf(key), type)),
  onToggleCorrect: (key, optionIndex) => commit(toggleCorrect(state, indexOf(key), optionIndex)),
  onMoveOption: (key, optionIndex, delta) => commit(moveOption(state, indexOf(key), optionIndex, delta)),
  onAddOption: (key) => commit(addOption(state, indexOf(key))),
  onRemoveOption: (key, optionIndex) => commit(removeOption(state, indexOf(key), optionIndex)),
  onMove: (key, delta) => commit(moveQuestion(state, indexOf(key), delta)),
  onDeleteQuestion: (key) => commit(deleteQuestion(state, indexOf(key))),
  onImage: (key, slot, image) => commit(withImage(state, key, slot, image)),
  onImageFile: (key, slot, file) => uploadImage(key, slot, file),
  onPreview: (key) => showPreview(state, indexOf(key), document.activeElement),
  onJump: (focus) => applyFocus(focus),
};

/** `slot` "image" is the question's own image, "option:<i>" option i's. */
function withImage(current, key, slot, image) {
  const index = current.questions.findIndex((question) => question.key === key);
  if (index < 0) return current; // deleted while its image was uploading
  if (slot === "image") return setImage(current, index, image);
  return setOptionImage(current, index, Number(slot.slice("option:".length)), image);
}

/** `POST /api/images`: the stored image's key goes into the question; a refusal's reasons under its field. */
async function uploadImage(key, slot, file) {
  const form = new FormData();
  form.append("file", file, file.name || "image");
  renderImageUploading(key, true);
  try {
    const stored = await apiJson("/api/images", { method: "POST", form, token: currentIdToken() });
    if (state) commit(withImage(state, key, slot, stored.image));
  } catch (error) {
    renderImageUploading(key, false);
    if (!state) return;
    if (error instanceof ApiError && (error.status === 400 || error.status === 413)) {
      commit(withUploadProblems(state, indexOf(key), slot, error));
    } else page.apiError(error, status());
  }
}

/** Saves the set: `POST` a new one, `PUT` the next version of a stored one (the JSON document as a file). */
async function save() {
  if (saving) return;
  const sent = state;
  const form = new FormData();
  form.append("file", new Blob([JSON.stringify(uploadDocument(sent))], { type: "application/json" }), "set.json");
  const button = byId("editor-save");
  saving = true;
  button.disabled = true;
  announce(status(), "Saving…");
  try {
    const method = sent.setId ? "PUT" : "POST";
    const path = sent.setId ? setPath(sent.setId) : "/api/question-sets";
    const metadata = await apiJson(path, { method, form, token: currentIdToken() });
    commit(savedState(state, metadata, sent));
    announce(status(), `Saved "${metadata.name}": ${metadata.question_count} questions, version ${metadata.version ?? 1}.`, "ok");
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) {
      announce(status(), "");
      commit(withProblems(state, error, sent));
    } else if (error instanceof ApiError && error.status === 409) {
      byId("editor-reload").hidden = false;
      announce(status(), "This set was changed elsewhere while you were saving. Reload it to see the latest version.", "error");
    } else if (error instanceof ApiError && error.status === 413) {
      announce(status(), "The set is too large to save (4 MiB at most).", "error");
    } else {
      page.apiError(error, status());
    }
  } finally {
    saving = false;
    button.disabled = false;
  }
}

function open(next) {
  state = next;
  announce(status(), "");
  byId("editor-reload").hidden = true;
  showScreen("screen-editor");
  commit(state);
}

/** Opens the editor on a new, blank set. */
export function openNewSet() {
  open(newSetState());
}

/** Opens the editor on stored set `setId` (its content: owner only). */
export async function openSet(setId) {
  const content = await apiJson(setPath(setId, "/content"), { token: currentIdToken() });
  open(stateFromContent(content));
}

async function reload() {
  try {
    await openSet(state.setId);
  } catch (error) {
    page.apiError(error, status());
  }
}

/** Back to the dashboard, after asking when there are unsaved edits. */
async function close() {
  if (state && isDirty(state)) {
    const discard = await confirmInPage({
      title: "Leave the editor?",
      message: "Your changes to this question set are not saved.",
      confirm: "Discard changes",
    });
    if (!discard) return;
  }
  const savedSetId = state && state.setId;
  state = null;
  page.close(savedSetId);
}

/**
 * Wires the editor's own buttons. `hostPage`: {apiError(error, region) (reports an API error, or signs
 * out on 401), close(savedSetId) (back to the dashboard; the id of the set saved, if any)}.
 */
export function wireEditor(hostPage) {
  page = hostPage;
  byId("editor-name").addEventListener("input", (event) => {
    clearShownProblems(event.target);
    typed(setName(state, event.target.value));
  });
  byId("editor-save").addEventListener("click", save);
  byId("editor-close").addEventListener("click", close);
  byId("editor-reload").addEventListener("click", reload);
  byId("editor-add-question").addEventListener("click", () => commit(addQuestion(state)));
  byId("editor-preview-close").addEventListener("click", () => byId("editor-preview").close());
  window.addEventListener("beforeunload", (event) => {
    if (state && isDirty(state)) event.preventDefault(); // the browser asks before unsaved edits are lost
  });
}
