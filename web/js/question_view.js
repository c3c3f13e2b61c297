// A question as a participant sees it: category, image, text, hint and the controls of its type —
// option buttons (with their images) for choice, true/false and poll, a number field for numeric, a
// list with *Move up* / *Move down* per item for order. DOM only. The participant page draws its
// questions with it (play_render.js) and the host's editor its preview (editor_render.js), so the
// preview is the participant's screen.
import { el } from "./dom.js";
import { frameType, orderMoveForKey, picksMany, questionHint } from "./play_question.js";

/** The number field's id and its problem line's (one question is on a page at a time). */
export const ANSWER_VALUE_ID = "answer-value";
const ANSWER_PROBLEM_ID = "answer-value-problem";

/**
 * Fresh, unattached parts of a question view (for the editor's preview; the participant page has
 * its own in play.html): {root, progress, category, image, text, hint, options}.
 */
export function questionViewParts() {
  const progress = el("p", { class: "eyebrow" });
  const category = el("span", { class: "tag" });
  const image = el("div", { class: "question-image", hidden: true });
  const text = el("p", { class: "question-text" });
  const hint = el("p", { class: "muted" });
  const options = el("div", { class: "options", role: "group" });
  const meta = el("div", { class: "question-meta" }, progress, category);
  const root = el("div", { class: "question-view" }, meta, image, text, hint, options);
  return { root, progress, category, image, text, hint, options };
}

/** The question's image in `container` (hidden without one); `alt` says what it is. */
function drawImage(container, url, alt) {
  container.replaceChildren(...(url ? [el("img", { src: url, alt, decoding: "async" })] : []));
  container.hidden = !url;
}

function optionImageOf(question, optionIndex, className) {
  const url = (question.option_images || [])[optionIndex];
  return url ? el("img", { class: className, src: url, alt: `Image of option ${optionIndex + 1}`, decoding: "async" }) : null;
}

function optionButtons(question, selected, onChoose) {
  const many = picksMany(question);
  return question.options.map((text, optionIndex) =>
    el(
      "button",
      {
        type: "button",
        class: (question.option_images || [])[optionIndex] ? "option with-image" : "option",
        dataset: { index: optionIndex },
        "aria-pressed": many ? String(selected.has(optionIndex)) : null,
        onclick: onChoose ? () => onChoose(optionIndex) : null,
      },
      el("span", { class: "option-key", "aria-hidden": "true", text: optionIndex + 1 }),
      optionImageOf(question, optionIndex, "option-image"),
      el("span", { class: "option-text", text }),
    ),
  );
}

/** A numeric question's field: typed text goes to `onInput(text)`, Enter to `onSubmit()`. */
function numberField(value, onInput, onSubmit) {
  const input = el("input", {
    id: ANSWER_VALUE_ID,
    class: "answer-value",
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 32,
    value,
    "aria-describedby": ANSWER_PROBLEM_ID,
    oninput: onInput ? (event) => onInput(event.target.value) : null,
    onkeydown: onSubmit
      ? (event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            onSubmit();
          }
        }
      : null,
  });
  return el(
    "div",
    { class: "numeric-answer field" },
    el("label", { for: ANSWER_VALUE_ID, text: "Your answer (a number)" }),
    input,
    el("p", { id: ANSWER_PROBLEM_ID, class: "form-error", role: "alert", hidden: true }),
  );
}

/** Says `problem` under the number field (or clears it) and marks the field invalid. */
export function showNumberProblem(container, problem) {
  const input = container.querySelector(`#${ANSWER_VALUE_ID}`);
  const line = container.querySelector(`#${ANSWER_PROBLEM_ID}`);
  if (!input || !line) return;
  line.textContent = problem || "";
  line.hidden = !problem;
  if (problem) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/**
 * An order question's items in `order` (option indexes, first at the top) into `list`, each with
 * *Move up <item>* / *Move down <item>* (disabled at the ends) calling `onMove(position, delta)`;
 * Alt+↑ / Alt+↓ on an item's buttons do the same. `focus` {position, delta} puts the focus on that
 * item's button of that direction (the other one when it reached an end).
 */
export function drawOrderItems(list, question, order, { onMove = null, focus = null } = {}) {
  const last = order.length - 1;
  list.replaceChildren(
    ...order.map((optionIndex, position) => {
      const text = question.options[optionIndex];
      const move = (delta) => (onMove ? () => onMove(position, delta) : null);
      const button = (delta, symbol, words) =>
        el("button", {
          type: "button",
          class: "ghost small order-move",
          dataset: { move: delta },
          "aria-label": `${words} ${text}`,
          disabled: delta < 0 ? position === 0 : position === last,
          onclick: move(delta),
          text: symbol,
        });
      return el(
        "li",
        {
          class: "order-item",
          dataset: { index: optionIndex, position },
          onkeydown: onMove
            ? (event) => {
                const delta = orderMoveForKey(event.key, event.altKey);
                if (delta === null) return;
                event.preventDefault();
                onMove(position, delta);
              }
            : null,
        },
        el("span", { class: "order-position", "aria-hidden": "true", text: position + 1 }),
        optionImageOf(question, optionIndex, "option-image"),
        el("span", { class: "order-text", text }),
        el("span", { class: "order-tools" }, button(-1, "↑", "Move up"), button(1, "↓", "Move down")),
      );
    }),
  );
  if (focus) {
    const item = list.children[focus.position];
    if (!item) return;
    const wanted = item.querySelector(`[data-move="${focus.delta}"]`);
    const target = wanted && !wanted.disabled ? wanted : item.querySelector(".order-move:not(:disabled)");
    if (target) target.focus();
  }
}

function orderControls(question, order, onMove) {
  const list = el("ol", { class: "order-list", "aria-label": "Your order, first at the top" });
  drawOrderItems(list, question, order, { onMove });
  return [list, el("p", { class: "visually-hidden order-status", "aria-live": "polite" })];
}

/**
 * Draws `question` (a `question` push: question_type, text, options, select_count, category, image
 * and option_images URLs) into `parts` ({category, image, text, hint, options}). Choice, true/false
 * and poll: option buttons; `selected` (a Set) marks toggled options of a select-many question, and
 * each button calls `onChoose(optionIndex)` when given. Numeric: a number field showing `value`
 * (`onInput(text)`, `onSubmit()` on Enter). Order: the items in `order` (option indexes; as served
 * when absent) with their move buttons (`onMove(position, delta)`).
 */
export function drawQuestion(
  parts,
  question,
  { selected = new Set(), onChoose = null, order = null, onMove = null, value = "", onInput = null, onSubmit = null } = {},
) {
  const type = frameType(question);
  parts.category.textContent = question.category || "";
  parts.category.hidden = !question.category;
  drawImage(parts.image, question.image, "Question image");
  parts.text.textContent = question.text;
  parts.hint.textContent = questionHint(question);
  parts.options.classList.toggle("multi", picksMany(question));
  parts.options.dataset.type = type;
  if (type === "numeric") parts.options.replaceChildren(numberField(value, onInput, onSubmit));
  else if (type === "order") {
    parts.options.replaceChildren(...orderControls(question, order || question.options.map((_, at) => at), onMove));
  } else parts.options.replaceChildren(...optionButtons(question, selected, onChoose));
}
