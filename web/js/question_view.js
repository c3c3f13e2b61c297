// A question as a participant sees it: category, image, text, hint and option buttons (with their
// images). DOM only. The participant page draws its questions with it (play_render.js) and the host's
// editor its preview (editor_render.js), so the preview is the participant's screen.
import { el } from "./dom.js";
import { picksMany, questionHint } from "./play_question.js";

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

/**
 * Draws `question` (a `question` push: text, options, select_count, category, image and option_images
 * URLs) into `parts` ({category, image, text, hint, options}). `selected` (a Set) marks toggled
 * options of a select-many question; each option button calls `onChoose(optionIndex)` when given.
 */
export function drawQuestion(parts, question, { selected = new Set(), onChoose = null } = {}) {
  const many = picksMany(question);
  parts.category.textContent = question.category || "";
  parts.category.hidden = !question.category;
  drawImage(parts.image, question.image, "Question image");
  parts.text.textContent = question.text;
  parts.hint.textContent = questionHint(question);
  const optionImages = question.option_images || [];
  parts.options.classList.toggle("multi", many);
  const optionImage = (optionIndex) =>
    optionImages[optionIndex]
      ? el("img", { class: "option-image", src: optionImages[optionIndex], alt: `Image of option ${optionIndex + 1}`, decoding: "async" })
      : null;
  parts.options.replaceChildren(
    ...question.options.map((text, optionIndex) =>
      el(
        "button",
        {
          type: "button",
          class: optionImages[optionIndex] ? "option with-image" : "option",
          dataset: { index: optionIndex },
          "aria-pressed": many ? String(selected.has(optionIndex)) : null,
          onclick: onChoose ? () => onChoose(optionIndex) : null,
        },
        el("span", { class: "option-key", "aria-hidden": "true", text: optionIndex + 1 }),
        optionImage(optionIndex),
        el("span", { class: "option-text", text }),
      ),
    ),
  );
}
