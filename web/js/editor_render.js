// Draws the question-set editor: the set's name, the summary of the problems a save got back, one
// card per question (type, category, text, image drop zone, what its type asks for: options with
// their correct ticks and images, a true/false pick, a poll's options, a numeric answer and
// tolerance, or items in the correct order; explanation), and the preview of a question as a
// participant sees it (question_view.js, the participant page's own drawing). DOM only: the document
// and its edits are editor_state.js, the I/O editor.js. Every control is labelled with the question
// (and option) it belongs to.
import { byId, el } from "./dom.js";
import {
  imageUrl,
  isDirty,
  LIMITS,
  nameProblems,
  optionLimits,
  previewQuestion,
  problemSummary,
  questionProblems,
} from "./editor_state.js";
import { questionProgress } from "./play_question.js";
import { QUESTION_TYPE_NAMES, QUESTION_TYPES } from "./question_types.js";
import { drawQuestion, questionViewParts } from "./question_view.js";

/** What the image inputs offer (the server checks the content: http-api.md, `POST /api/images`). */
const IMAGE_TYPES = "image/png,image/jpeg,image/webp,image/gif";

function focusName(key, control) {
  return `${key ?? ""}:${control}`;
}

function problemList(id, reasons) {
  if (!reasons.length) return null;
  return el("ul", { id, class: "field-problems" }, ...reasons.map((reason) => el("li", { text: reason })));
}

/** The ids an input is described by: its counter and its problems, those it has. */
function describedBy(...ids) {
  return ids.filter(Boolean).join(" ") || null;
}

function counterText(value, max) {
  return `${value.length} / ${max}`;
}

/**
 * A labelled text field (input or textarea) with a character counter and its problems; typing calls
 * `onInput(value)` without a redraw (the counter follows, shown problems go).
 */
function textField({ id, label, value, max, multiline, reasons, focus, list, onInput, optional }) {
  const counterId = `${id}-count`;
  const problemsId = reasons.length ? `${id}-problems` : null;
  const counter = el("small", { id: counterId, class: "counter muted", text: counterText(value, max) });
  const input = el(multiline ? "textarea" : "input", {
    id,
    value,
    maxlength: max,
    rows: multiline ? 2 : null,
    list,
    autocomplete: "off",
    "aria-invalid": reasons.length ? "true" : null,
    "aria-describedby": describedBy(counterId, problemsId),
    dataset: { focus },
    oninput: (event) => {
      counter.textContent = counterText(event.target.value, max);
      clearShownProblems(event.target);
      onInput(event.target.value);
    },
  });
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label, optional ? el("span", { class: "muted", text: " (optional)" }) : null),
    input,
    counter,
    problemList(problemsId, reasons),
  );
}

/** An input's own problems leave the screen once it is edited (the next save says what remains). */
export function clearShownProblems(input) {
  if (input.getAttribute("aria-invalid") !== "true") return;
  input.removeAttribute("aria-invalid");
  const problems = document.getElementById(`${input.id}-problems`);
  if (problems) {
    problems.replaceChildren();
    problems.hidden = true;
  }
}

/** A file input that also takes a dropped file: `onFile(file)` either way. */
function dropZone({ id, label, hint, reasons, focus, onFile }) {
  const problemsId = reasons.length ? `${id}-problems` : null;
  const zone = el(
    "div",
    {
      class: "drop-zone",
      ondragover: (event) => {
        event.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (event) => {
        event.preventDefault();
        zone.classList.remove("over");
        const file = event.dataTransfer && event.dataTransfer.files[0];
        if (file) onFile(file);
      },
    },
    el("label", { for: id, text: label }),
    el("p", { id: `${id}-hint`, class: "muted small-text", text: hint }),
    el("input", {
      id,
      type: "file",
      accept: IMAGE_TYPES,
      "aria-describedby": describedBy(`${id}-hint`, problemsId),
      "aria-invalid": reasons.length ? "true" : null,
      dataset: { focus },
      onchange: (event) => event.target.files[0] && onFile(event.target.files[0]),
    }),
    problemList(problemsId, reasons),
  );
  return zone;
}

function questionImage(question, number, reasons, handlers) {
  const id = `q${question.key}-image`;
  if (question.image) {
    return el(
      "div",
      { class: "field image-field" },
      el("p", { class: "field-label", text: "Image" }),
      el("img", { class: "image-preview", src: imageUrl(question.image), alt: `Image of question ${number}` }),
      el("button", {
        type: "button",
        class: "ghost small",
        text: "Remove image",
        "aria-label": `Remove the image of question ${number}`,
        dataset: { focus: focusName(question.key, "image-remove") },
        onclick: () => handlers.onImage(question.key, "image", null),
      }),
      problemList(`${id}-problems`, reasons),
    );
  }
  return el(
    "div",
    { class: "field image-field" },
    dropZone({
      id,
      label: `Image of question ${number} (optional)`,
      hint: "Drop an image here or choose a file: PNG, JPEG, WebP or GIF.",
      reasons,
      focus: focusName(question.key, "image"),
      onFile: (file) => handlers.onImageFile(question.key, "image", file),
    }),
  );
}

/** A choice question's *Correct* tick of option `optionIndex`. */
function correctTick(question, optionIndex, name, handlers) {
  const correctId = `q${question.key}-correct-${optionIndex}`;
  return el(
    "label",
    { class: "check correct-check", for: correctId },
    el("input", {
      id: correctId,
      type: "checkbox",
      checked: question.correct.includes(optionIndex),
      "aria-label": `${name} is correct`,
      dataset: { focus: focusName(question.key, `correct:${optionIndex}`) },
      onchange: () => handlers.onToggleCorrect(question.key, optionIndex),
    }),
    " Correct",
  );
}

/** An order question's *Move up* / *Move down* of item `optionIndex` (the items are the correct order). */
function itemMoves(question, optionIndex, name, handlers) {
  const move = (way, arrow, delta, disabled) =>
    el("button", {
      type: "button",
      class: "ghost small",
      text: arrow,
      "aria-label": `Move ${name.toLowerCase()} ${way}`,
      disabled,
      dataset: { focus: focusName(question.key, `item-${way}:${optionIndex}`) },
      onclick: () => handlers.onMoveOption(question.key, optionIndex, delta),
    });
  return el(
    "div",
    { class: "order-tools" },
    move("up", "↑", -1, optionIndex === 0),
    move("down", "↓", 1, optionIndex === question.options.length - 1),
  );
}

/** What an option of a question of its type is called: an order question's are items. */
function optionNoun(question) {
  return question.type === "order" ? "item" : "option";
}

function optionRow(question, number, optionIndex, problems, handlers, canRemove) {
  const slot = `option:${optionIndex}`;
  const reasons = problems[slot] || [];
  const id = `q${question.key}-option-${optionIndex}`;
  const name = `Question ${number}, ${optionNoun(question)} ${optionIndex + 1}`;
  const image = question.option_images[optionIndex];
  const problemsId = reasons.length ? `${id}-problems` : null;
  const counterId = `${id}-count`;
  const value = question.options[optionIndex];
  const counter = el("small", { id: counterId, class: "counter muted", text: counterText(value, LIMITS.option) });
  let lead = null;
  if (question.type === "choice") lead = correctTick(question, optionIndex, name, handlers);
  else if (question.type === "order") lead = itemMoves(question, optionIndex, name, handlers);
  return el(
    "li",
    { class: "editor-option" },
    lead,
    el("input", {
      id,
      value,
      maxlength: LIMITS.option,
      autocomplete: "off",
      "aria-label": name,
      "aria-invalid": reasons.length ? "true" : null,
      "aria-describedby": describedBy(counterId, problemsId),
      dataset: { focus: focusName(question.key, slot) },
      oninput: (event) => {
        counter.textContent = counterText(event.target.value, LIMITS.option);
        clearShownProblems(event.target);
        handlers.onOption(question.key, optionIndex, event.target.value);
      },
    }),
    el(
      "div",
      { class: "option-tools" },
      image
        ? [
            el("img", { class: "option-thumb", src: imageUrl(image), alt: `Image of ${name.toLowerCase()}` }),
            el("button", {
              type: "button",
              class: "ghost small",
              text: "Remove image",
              "aria-label": `Remove the image of ${name.toLowerCase()}`,
              dataset: { focus: focusName(question.key, `option-image-remove:${optionIndex}`) },
              onclick: () => handlers.onImage(question.key, slot, null),
            }),
          ]
        : el(
            "label",
            { class: "file-button small" },
            "Image",
            el("input", {
              type: "file",
              class: "visually-hidden",
              accept: IMAGE_TYPES,
              "aria-label": `Image of ${name.toLowerCase()} (optional)`,
              dataset: { focus: focusName(question.key, `option-image:${optionIndex}`) },
              onchange: (event) => event.target.files[0] && handlers.onImageFile(question.key, slot, event.target.files[0]),
            }),
          ),
      el("button", {
        type: "button",
        class: "ghost small",
        text: "Remove",
        "aria-label": `Remove ${name.toLowerCase()}`,
        disabled: !canRemove,
        onclick: () => handlers.onRemoveOption(question.key, optionIndex),
      }),
    ),
    counter,
    problemList(problemsId, reasons),
  );
}

function picksText(question) {
  if (question.type === "poll") return "A poll: participants pick one option; none is right or wrong.";
  if (question.type === "order") return "Participants get the items shuffled and put them in this order.";
  const picks = question.correct.length;
  if (picks === 0) return "No correct answer ticked yet.";
  return picks === 1 ? "Participants pick one answer." : `Participants pick ${picks} answers.`;
}

const OPTIONS_LEGENDS = {
  choice: (number) => `Options of question ${number}: tick the correct ones`,
  poll: (number) => `Options of question ${number}`,
  order: (number) => `Items of question ${number}, in the correct order`,
};

/** The option list of a choice, poll or order question (each with its tools), and *Add option*. */
function optionsFieldset(question, number, problems, handlers) {
  const listProblems = [...(problems.options || []), ...(problems.correct || [])];
  const problemsId = listProblems.length ? `q${question.key}-options-problems` : null;
  const limits = optionLimits(question.type);
  const noun = optionNoun(question);
  return el(
    "fieldset",
    { class: "editor-options", "aria-describedby": describedBy(`q${question.key}-picks`, problemsId) },
    el("legend", { text: OPTIONS_LEGENDS[question.type](number) }),
    problemList(problemsId, listProblems),
    el(
      "ol",
      { class: "editor-option-list" },
      ...question.options.map((_, optionIndex) =>
        optionRow(question, number, optionIndex, problems, handlers, question.options.length > limits.min),
      ),
    ),
    el("p", { id: `q${question.key}-picks`, class: "muted small-text", text: picksText(question) }),
    el("button", {
      type: "button",
      class: "secondary small",
      text: `Add ${noun}`,
      "aria-label": `Add an ${noun} to question ${number}`,
      disabled: question.options.length >= limits.max,
      dataset: { focus: focusName(question.key, "add-option") },
      onclick: () => handlers.onAddOption(question.key),
    }),
  );
}

/** A true/false question: its two fixed options, one of them picked as the right one. */
function trueFalseFieldset(question, number, problems, handlers) {
  const listProblems = [...(problems.options || []), ...(problems.correct || [])];
  const problemsId = listProblems.length ? `q${question.key}-options-problems` : null;
  return el(
    "fieldset",
    { class: "editor-options true-false", "aria-describedby": problemsId },
    el("legend", { text: `Which is right in question ${number}?` }),
    problemList(problemsId, listProblems),
    ...question.options.map((option, optionIndex) =>
      el(
        "label",
        { class: "check" },
        el("input", {
          type: "radio",
          name: `q${question.key}-true-false`,
          value: String(optionIndex),
          checked: question.correct.includes(optionIndex),
          "aria-label": `Question ${number}: ${option} is correct`,
          dataset: { focus: focusName(question.key, `correct:${optionIndex}`) },
          onchange: () => handlers.onToggleCorrect(question.key, optionIndex),
        }),
        ` ${option}`,
      ),
    ),
  );
}

/** A numeric field (the answer or the tolerance) as typed: the server says whether it is a number. */
function numberField({ question, field, label, hint, reasons, handlers, optional }) {
  const id = `q${question.key}-${field}`;
  const problemsId = reasons.length ? `${id}-problems` : null;
  const hintId = hint ? `${id}-hint` : null;
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label, optional ? el("span", { class: "muted", text: " (optional)" }) : null),
    el("input", {
      id,
      value: question[field],
      inputmode: "decimal",
      autocomplete: "off",
      "aria-invalid": reasons.length ? "true" : null,
      "aria-describedby": describedBy(hintId, problemsId),
      dataset: { focus: focusName(question.key, field) },
      oninput: (event) => {
        clearShownProblems(event.target);
        handlers.onField(question.key, field, event.target.value);
      },
    }),
    hint ? el("small", { id: hintId, class: "muted", text: hint }) : null,
    problemList(problemsId, reasons),
  );
}

/** A numeric question's answer and tolerance. */
function numericFields(question, number, problems, handlers) {
  return el(
    "div",
    { class: "row numeric-answer" },
    numberField({
      question,
      field: "answer",
      label: `Answer of question ${number}`,
      hint: "The correct number, e.g. 42 or 3.5.",
      reasons: problems.answer || [],
      handlers,
    }),
    numberField({
      question,
      field: "tolerance",
      label: `Tolerance of question ${number}`,
      optional: true,
      hint: "A number within answer ± tolerance is right (the closer, the more points); empty or 0: only the answer.",
      reasons: problems.tolerance || [],
      handlers,
    }),
  );
}

/** What the question's type asks for under its text. */
function answerFields(question, number, problems, handlers) {
  if (question.type === "true_false") return trueFalseFieldset(question, number, problems, handlers);
  if (question.type === "numeric") return numericFields(question, number, problems, handlers);
  return optionsFieldset(question, number, problems, handlers);
}

function typeField(question, number, reasons, handlers) {
  const id = `q${question.key}-type`;
  const problemsId = reasons.length ? `${id}-problems` : null;
  return el(
    "div",
    { class: "field" },
    el("label", { for: id, text: `Type of question ${number}` }),
    el(
      "select",
      {
        id,
        "aria-invalid": reasons.length ? "true" : null,
        "aria-describedby": problemsId,
        dataset: { focus: focusName(question.key, "type") },
        onchange: (event) => handlers.onType(question.key, event.target.value),
      },
      ...QUESTION_TYPES.map((type) =>
        el("option", { value: type, text: QUESTION_TYPE_NAMES[type], selected: type === question.type }),
      ),
    ),
    problemList(problemsId, reasons),
  );
}

function questionCard(question, index, count, state, handlers) {
  const number = index + 1;
  const problems = questionProblems(state, question.key);
  const headingId = `q${question.key}-title`;
  const tool = (control, text, label, onclick, disabled = false) => {
    const dataset = { focus: focusName(question.key, control) };
    return el("button", { type: "button", class: "ghost small", text, "aria-label": label, disabled, dataset, onclick });
  };
  const heading = { focus: focusName(question.key, "heading") };
  return el(
    "li",
    { class: "card editor-question", dataset: { key: question.key } },
    el(
      "div",
      { class: "editor-question-head" },
      el("h2", { id: headingId, tabindex: "-1", text: `Question ${number}`, dataset: heading }),
      el(
        "div",
        { class: "actions" },
        tool("move-up", "Move up", `Move question ${number} up`, () => handlers.onMove(question.key, -1), index === 0),
        tool("move-down", "Move down", `Move question ${number} down`, () => handlers.onMove(question.key, 1), index + 1 === count),
        tool("preview", "Preview", `Preview question ${number}`, () => handlers.onPreview(question.key)),
        el("button", {
          type: "button",
          class: "ghost small danger-text",
          text: "Delete",
          "aria-label": `Delete question ${number}`,
          onclick: () => handlers.onDeleteQuestion(question.key),
        }),
      ),
    ),
    problemList(`q${question.key}-problems`, problems.question || []),
    typeField(question, number, problems.type || [], handlers),
    textField({
      id: `q${question.key}-category`,
      label: `Category of question ${number}`,
      value: question.category,
      max: LIMITS.category,
      reasons: problems.category || [],
      focus: focusName(question.key, "category"),
      list: "editor-categories",
      onInput: (value) => handlers.onField(question.key, "category", value),
    }),
    textField({
      id: `q${question.key}-text`,
      label: `Text of question ${number}`,
      value: question.text,
      max: LIMITS.text,
      multiline: true,
      reasons: problems.text || [],
      focus: focusName(question.key, "text"),
      onInput: (value) => handlers.onField(question.key, "text", value),
    }),
    questionImage(question, number, problems.image || [], handlers),
    el("p", { id: `q${question.key}-status`, class: "muted small-text", role: "status" }),
    answerFields(question, number, problems, handlers),
    textField({
      id: `q${question.key}-explanation`,
      label: `Explanation of question ${number}`,
      optional: true,
      value: question.explanation,
      max: LIMITS.explanation,
      multiline: true,
      reasons: problems.explanation || [],
      focus: focusName(question.key, "explanation"),
      onInput: (value) => handlers.onField(question.key, "explanation", value),
    }),
  );
}

/** The summary of every problem; each line jumps to its control. */
export function renderEditorProblems(state, handlers) {
  const region = byId("editor-problems");
  const lines = problemSummary(state);
  region.hidden = !lines.length;
  if (!lines.length) {
    region.replaceChildren();
    return;
  }
  const what = lines.length === 1 ? "this problem" : `these ${lines.length} problems`;
  region.replaceChildren(
    el("p", { class: "form-error-title", text: `The set was not saved. Fix ${what} and save again:` }),
    el(
      "ul",
      {},
      ...lines.map((line) =>
        el("li", {}, el("button", { type: "button", class: "link-button", text: line.text, onclick: () => handlers.onJump(line.focus) })),
      ),
    ),
  );
}

/** The heading's words and the line under it: new or which version, saved or not. */
export function renderSaveState(state) {
  byId("editor-title").textContent = state.setId ? "Edit question set" : "New question set";
  const saved = state.setId ? `Version ${state.version ?? 1}` : "Not saved yet";
  byId("editor-version").textContent = isDirty(state) ? `${saved} · unsaved changes` : saved;
}

/** Moves the focus to the control `focus` ({key, control}) names, or its question's heading. */
export function applyFocus(focus) {
  if (!focus) return;
  const screen = byId("screen-editor");
  const target =
    screen.querySelector(`[data-focus="${focusName(focus.key, focus.control)}"]:not(:disabled)`) ||
    screen.querySelector(`[data-focus="${focusName(focus.key, "heading")}"]`);
  if (target) target.focus();
}

/** The whole editor for `state`; `handlers` are editor.js's (each names its question by key). */
export function renderEditor(state, handlers) {
  renderSaveState(state);
  const name = byId("editor-name");
  if (name.value !== state.name) name.value = state.name;
  name.maxLength = LIMITS.name;
  const nameReasons = nameProblems(state);
  if (nameReasons.length) name.setAttribute("aria-invalid", "true");
  else name.removeAttribute("aria-invalid");
  const nameList = byId("editor-name-problems");
  nameList.replaceChildren(...nameReasons.map((reason) => el("li", { text: reason })));
  nameList.hidden = !nameReasons.length;
  renderEditorProblems(state, handlers);
  const count = state.questions.length;
  const cards = state.questions.map((question, index) => questionCard(question, index, count, state, handlers));
  byId("editor-questions").replaceChildren(...cards);
  byId("editor-count").textContent = `${count} of at most ${LIMITS.questions} questions`;
  byId("editor-add-question").disabled = count >= LIMITS.questions;
  const categories = [...new Set(state.questions.map((question) => question.category.trim()).filter(Boolean))];
  byId("editor-categories").replaceChildren(...categories.map((category) => el("option", { value: category })));
  applyFocus(state.focus);
}

/** Says in question `key`'s status line that one of its images is being uploaded (or no longer). */
export function renderImageUploading(key, uploading) {
  const status = document.getElementById(`q${key}-status`);
  if (status) status.textContent = uploading ? "Uploading the image…" : "";
}

/** Question `index` drawn as a participant's page draws it, in the preview dialog. */
export function showPreview(state, index, opener) {
  const dialog = byId("editor-preview");
  const parts = questionViewParts();
  parts.progress.textContent = questionProgress({ index }, state.questions.length);
  drawQuestion(parts, previewQuestion(state, index));
  // A preview answers nothing, whatever controls the question's type draws.
  for (const control of parts.root.querySelectorAll("button, input, select, textarea")) control.disabled = true;
  byId("editor-preview-body").replaceChildren(parts.root);
  byId("editor-preview-title").textContent = `Preview of question ${index + 1}`;
  dialog.addEventListener("close", () => opener && opener.focus(), { once: true });
  dialog.showModal();
}
