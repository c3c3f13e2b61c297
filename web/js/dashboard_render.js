// Draws the host dashboard: the run list, the question sets (table with their actions, and picker), the
// categories of the picked set with the question-count field, the scoring controls, and an upload's problems. DOM only: what the rows
// say comes from runs.js, format.js and host_forms.js; host_dashboard.js loads and sends.
import { byId, el } from "./dom.js";
import { formatCategories, formatTimestamp } from "./format.js";
import { questionCountField, scoringControls } from "./host_forms.js";
import { runAction, runStatusText } from "./runs.js";

function runActionCell(item, hasToken, { onReopen, onResults }) {
  const action = runAction(item, hasToken);
  if (action.kind === "reopen" || action.kind === "results") {
    return el("button", {
      type: "button",
      class: action.kind === "reopen" ? "primary small" : "secondary small",
      text: action.label,
      "aria-label": action.ariaLabel,
      onclick: () => (action.kind === "reopen" ? onReopen(item) : onResults(item)),
    });
  }
  return el("span", { class: "muted small-text", text: action.label });
}

/** The host's runs; `hasToken(runId)` tells which ones this tab can reopen. */
export function renderRuns(runs, hasMore, { hasToken, onReopen, onResults }) {
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
        el("td", { text: formatTimestamp(item.created_at) }),
        el("td", {}, runActionCell(item, hasToken(item.run_id), { onReopen, onResults })),
      ),
    ),
  );
  if (!runs.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "empty", text: "No speed-runs yet: create one above." })));
  byId("runs-more").hidden = !hasMore;
}

function setActions(set, { onPick, onEdit, onDuplicate, onDelete }) {
  const action = (text, label, onclick, extra = "") => {
    const classes = `secondary small ${extra}`.trim();
    return el("button", { type: "button", class: classes, text, "aria-label": label, onclick: () => onclick(set) });
  };
  return el(
    "div",
    { class: "row-actions" },
    action("Use", `Create a speed-run from ${set.name}`, (chosen) => onPick(chosen.id)),
    action("Edit", `Edit ${set.name}`, onEdit),
    action("Duplicate", `Duplicate ${set.name}`, onDuplicate),
    action("Delete", `Delete ${set.name}`, onDelete, "danger-text"),
  );
}

/**
 * The question sets: the table (each row's *Use* calls `onPick(set.id)`, *Edit*, *Duplicate* and
 * *Delete* `onEdit(set)`, `onDuplicate(set)`, `onDelete(set)`) and the create form's picker.
 */
export function renderSets(sets, hasMore, actions) {
  const body = byId("sets-body");
  body.replaceChildren(
    ...sets.map((set) =>
      el(
        "tr",
        { dataset: { setId: set.id } },
        el("td", { text: set.name }),
        el("td", { class: "num", text: set.question_count }),
        el("td", { text: formatCategories(set.categories) }),
        el("td", { class: "num", text: set.version ?? 1 }),
        el("td", { text: formatTimestamp(set.updated_at || set.created_at) }),
        el("td", {}, setActions(set, actions)),
      ),
    ),
  );
  if (!sets.length) {
    body.append(el("tr", {}, el("td", { colspan: 6, class: "empty", text: "No question sets yet: upload one or write one." })));
  }
  byId("sets-more").hidden = !hasMore;

  const select = byId("create-set");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "", text: "Upload or pick a set…" }),
    ...sets.map((set) => el("option", { value: set.id, text: `${set.name} (${set.question_count} questions)` })),
  );
  if (sets.some((set) => set.id === chosen)) select.value = chosen;
}

/** The ticked category boxes of the create form. */
export function chosenCategoryBoxes() {
  return [...byId("create-categories").querySelectorAll("input:checked")];
}

/** The question-count field for the questions the ticked categories hold. */
function updateQuestionCount() {
  const available = chosenCategoryBoxes().reduce((sum, box) => sum + Number(box.dataset.count || 0), 0);
  const count = byId("create-count");
  const field = questionCountField(available, count.value);
  count.max = field.max;
  if (count.value !== field.value) count.value = field.value;
  byId("create-count-help").textContent = field.help;
}

/** The picked set's categories as ticked boxes (or a hint while no set is picked). */
export function renderCategories(set) {
  const fieldset = byId("create-categories");
  const legend = el("legend", { text: "Categories" });
  if (!set) {
    fieldset.disabled = true;
    fieldset.replaceChildren(legend, el("p", { class: "muted", text: "Pick a question set first." }));
    updateQuestionCount();
    return;
  }
  fieldset.disabled = false;
  fieldset.replaceChildren(
    legend,
    ...Object.entries(set.categories || {}).map(([name, count]) =>
      el(
        "label",
        { class: "check" },
        el("input", { type: "checkbox", value: name, checked: true, dataset: { count }, onchange: updateQuestionCount }),
        ` ${name} `,
        el("span", { class: "muted", text: `(${count})` }),
      ),
    ),
  );
  updateQuestionCount();
}

/** The create form's scoring choice ("speed" or "accuracy"). */
export function chosenScoring() {
  return byId("create-scoring-accuracy").checked ? "accuracy" : "speed";
}

/** The scoring controls as *Untimed questions* allows them (host_forms.scoringControls). */
export function renderScoringControls() {
  const untimed = byId("create-untimed").checked;
  const controls = scoringControls({ scoring: chosenScoring(), untimed });
  byId("create-scoring-speed").disabled = controls.speedDisabled;
  byId(controls.scoring === "accuracy" ? "create-scoring-accuracy" : "create-scoring-speed").checked = true;
  byId("create-tiebreak").hidden = !controls.tiebreakShown;
  byId("create-question-duration").disabled = controls.durationDisabled;
}

/** An upload's problems under the file input: a title and one line each. */
export function showUploadProblems(message, problems) {
  const region = byId("upload-problems");
  region.replaceChildren(
    el("p", { class: "form-error-title", text: message }),
    problems.length ? el("ul", {}, ...problems.map((text) => el("li", { text }))) : null,
  );
  region.hidden = false;
  byId("upload-file").setAttribute("aria-invalid", "true");
}

export function clearUploadProblems() {
  byId("upload-problems").hidden = true;
  byId("upload-file").removeAttribute("aria-invalid");
}
