// The question-set editor's document and every edit to it. Pure: each edit takes the state and returns
// a new one (never the DOM, the network or storage); editor.js does the I/O and editor_render.js draws.
//
// The server decides what a valid set is: the problems shown are the ones a save got back
// (`withProblems`), each kept with the question it names (by a key that survives reordering) until its
// field is edited. The only limits here are the ones the controls need (maxlength, counters, whether
// an option can be added or removed), defined once in LIMITS.
//
// A state: {setId, version, name, questions: [question], nextKey, revision (one more per edit),
// savedRevision, problems, focus}. A question:
// {key, type, category, text, options: [str], correct: [index], explanation, image: key|null,
// option_images: [key|null] (parallel to options), answer, tolerance (numeric: as typed, strings)}.
// An order question's options are kept in the correct order (its `correct` stays []: the order is
// the options'); a poll's `correct` is []; a numeric question keeps the options it had (hidden, not
// saved) so switching its type back loses nothing. `focus` ({key, control} or null) names the control
// that should have the focus after the edit (a question's key and "text", "heading", "option:<i>", ...).
import { QUESTION_TYPES, questionTypeOf } from "./question_types.js";

/** question-set.md's limits, as the editor's controls need them (docs/question-sets.md). */
export const LIMITS = Object.freeze({
  name: 100,
  category: 40,
  text: 500,
  option: 200,
  explanation: 500,
  minOptions: 2,
  maxOptions: 8,
  minOrderItems: 3,
  maxOrderItems: 6,
  questions: 500,
});

/** A true/false question's two options as the editor writes them: `correct` [0] is true. */
export const TRUE_FALSE_OPTIONS = Object.freeze(["True", "False"]);

/** How many options a question of `type` has: {min, max}. */
export function optionLimits(type) {
  if (type === "numeric") return { min: 0, max: 0 };
  if (type === "true_false") return { min: TRUE_FALSE_OPTIONS.length, max: TRUE_FALSE_OPTIONS.length };
  if (type === "order") return { min: LIMITS.minOrderItems, max: LIMITS.maxOrderItems };
  return { min: LIMITS.minOptions, max: LIMITS.maxOptions };
}

/** What a new set is called until the host names it (an unnamed upload would be named after its file). */
const NEW_SET_NAME = "Untitled question set";
const IMAGE_PATH = "/images/";

/** Where the site serves the image with key `key` (http-api.md: same origin, `/images/<key>`). */
export function imageUrl(key) {
  return key ? IMAGE_PATH + encodeURIComponent(key) : null;
}

function blankQuestion(key, category = "") {
  const options = Array(LIMITS.minOptions).fill("");
  const question = { key, type: "choice", category, text: "", options, correct: [], explanation: "", image: null };
  return { ...question, option_images: [], answer: "", tolerance: "" };
}

/** A stored number as the editor's text field shows it ("" for none). */
function numberText(value) {
  return value === null || value === undefined ? "" : String(value);
}

/** A stored order question's options (and their images) put in the correct order its `correct` gives. */
function inCorrectOrder(question) {
  const options = question.options || [];
  const images = question.option_images || [];
  const order = question.correct || [];
  const everyOnce = order.length === options.length && order.every((at) => Number.isInteger(at) && at >= 0 && at < options.length);
  const indexes = everyOnce && new Set(order).size === options.length ? order : options.map((_, at) => at);
  return { options: indexes.map((at) => options[at]), option_images: indexes.map((at) => images[at] || null) };
}

/** `set`: [{question (a number no question on screen has) | null, field, reason}]; `questions`: key -> slot -> [reason]. */
const NO_PROBLEMS = Object.freeze({ set: [], questions: {} });

function editorState(fields) {
  const empty = { setId: null, version: null, name: "", questions: [], nextKey: 0, revision: 0, savedRevision: 0 };
  return { ...empty, problems: NO_PROBLEMS, focus: null, ...fields };
}

/** A set being written from scratch: one blank question. */
export function newSetState() {
  const focus = { key: null, control: "name" };
  return editorState({ name: NEW_SET_NAME, questions: [blankQuestion(0)], nextKey: 1, focus });
}

/** A stored set (`GET /api/question-sets/{id}/content`) ready to edit. */
export function stateFromContent(content) {
  const questions = (content.questions || []).map((question, key) => {
    const type = questionTypeOf(question);
    const ordered = type === "order" ? inCorrectOrder(question) : null;
    return {
      key,
      type,
      category: question.category || "",
      text: question.text || "",
      options: ordered ? ordered.options : [...(question.options || [])],
      correct: type === "order" || type === "poll" ? [] : [...(question.correct || [])],
      explanation: question.explanation || "",
      image: question.image || null,
      option_images: ordered ? ordered.option_images : (question.option_images || []).map((image) => image || null),
      answer: numberText(question.answer),
      tolerance: numberText(question.tolerance),
    };
  });
  const version = content.version ?? null;
  return editorState({ setId: content.id, version, name: content.name || "", questions, nextKey: questions.length });
}

// ---------- the problems a save got back ----------

const QUESTION_SLOTS = ["text", "category", "explanation", "image", "options", "correct", "type", "answer", "tolerance"];

/**
 * Where a problem's `field` is shown: "text", "category", "explanation", "image", "type", "answer",
 * "tolerance", "options" (the option list as a whole), "correct", "option:<i>" (one option: its text
 * or its image), or "question" (the question as a whole: a field the editor has no control for).
 */
export function slotOf(field) {
  const option = /^option(?:s|_images)\[(\d+)\]$/.exec(field || "");
  if (option) return `option:${option[1]}`;
  if (field === "option_images") return "options";
  return QUESTION_SLOTS.includes(field) ? field : "question";
}

/**
 * The state with the problems of a refused save (an ApiError's `details`, http-api.md).
 * `{question: n (1-based), field, reason}` goes with the n-th question of `sent` (the state that was
 * saved: the host may have reordered since), a detail with only `field` is about the set (its name, the
 * question list). The focus goes to the summary of them all.
 */
export function withProblems(state, error, sent = state) {
  const details = Array.isArray(error.details) ? error.details : error.details ? [error.details] : [];
  const set = [];
  const questions = {};
  for (const detail of details) {
    const reason = typeof detail === "string" ? detail : detail.reason || detail.message || JSON.stringify(detail);
    const number = typeof detail === "object" ? detail.question : undefined;
    const question = Number.isInteger(number) ? sent.questions[number - 1] : undefined;
    if (question && indexOfKey(state, question.key) >= 0) {
      const mine = (questions[question.key] ||= {});
      (mine[slotOf(detail.field)] ||= []).push(reason);
    } else {
      const field = (typeof detail === "object" && detail.field) || null;
      set.push({ question: Number.isInteger(number) ? number : null, field, reason });
    }
  }
  return { ...state, problems: { set, questions }, focus: { key: null, control: "problems" } };
}

/**
 * The state with the reasons an image upload for `slot` ("image" or "option:<i>") of question `index`
 * was refused (`POST /api/images`: 400 or 413 with `{field: "image", reason}` details).
 */
export function withUploadProblems(state, index, slot, error) {
  const question = state.questions[index];
  if (!question) return state;
  const details = Array.isArray(error.details) ? error.details : [];
  const reasons = details.map((detail) => (typeof detail === "string" ? detail : detail.reason)).filter(Boolean);
  if (!reasons.length) reasons.push(error.status === 413 ? "the image is too large" : error.message || "the image was refused");
  const mine = { ...questionProblems(state, question.key), [slot]: reasons };
  const questions = { ...state.problems.questions, [question.key]: mine };
  const control = slot === "image" ? "image" : `option-image:${slot.slice("option:".length)}`;
  const focus = { key: question.key, control };
  return { ...state, problems: { ...state.problems, questions }, focus };
}

/** The problems of question `key`, by slot ({text: [reason], "option:1": [...], ...}). */
export function questionProblems(state, key) {
  return state.problems.questions[key] || {};
}

/** The problems of the set's name (the others about the set are only in the summary). */
export function nameProblems(state) {
  return state.problems.set.filter((problem) => problem.field === "name").map((problem) => problem.reason);
}

const SLOT_WORDS = {
  text: "question text",
  category: "category",
  explanation: "explanation",
  image: "image",
  options: "options",
  correct: "correct answers",
  type: "type",
  answer: "answer",
  tolerance: "tolerance",
};

function slotWords(slot) {
  if (slot.startsWith("option:")) return `option ${Number(slot.slice(7)) + 1}`;
  return SLOT_WORDS[slot] || "";
}

/**
 * Every problem as a line of the summary above the questions, in the order of the questions on
 * screen: {text, focus: {key, control}} (the control to jump to).
 */
export function problemSummary(state) {
  const lines = state.problems.set.map((problem) => {
    const field = problem.field === "name" ? "Set name" : problem.field;
    const named = [problem.question ? `Question ${problem.question}` : null, field].filter(Boolean).join(", ");
    return {
      text: named ? `${named}: ${problem.reason}` : problem.reason,
      focus: { key: null, control: problem.field === "name" ? "name" : "problems" },
    };
  });
  state.questions.forEach((question, index) => {
    for (const [slot, reasons] of Object.entries(questionProblems(state, question.key))) {
      const words = slotWords(slot);
      for (const reason of reasons) {
        lines.push({
          text: `Question ${index + 1}${words ? `, ${words}` : ""}: ${reason}`,
          focus: { key: question.key, control: SLOT_FOCUS[slot] || slot },
        });
      }
    }
  });
  return lines;
}

/** The control a summary line jumps to, for the slots that are not one control. */
const SLOT_FOCUS = { question: "heading", options: "option:0", correct: "correct:0" };

function withoutSlots(state, key, slots) {
  const mine = state.problems.questions[key];
  if (!mine || !slots.some((slot) => slot in mine)) return state.problems;
  const kept = Object.fromEntries(Object.entries(mine).filter(([slot]) => !slots.includes(slot)));
  const questions = { ...state.problems.questions };
  if (Object.keys(kept).length) questions[key] = kept;
  else delete questions[key];
  return { ...state.problems, questions };
}

function optionSlots(question) {
  return ["options", "correct", ...question.options.map((_, index) => `option:${index}`)];
}

// ---------- edits ----------

function indexOfKey(state, key) {
  return state.questions.findIndex((question) => question.key === key);
}

/** The state after question `index` became `question`; `slots` are the problem slots the edit answers. */
function withQuestion(state, index, question, slots, focus = state.focus) {
  const questions = state.questions.map((item, at) => (at === index ? question : item));
  return { ...state, questions, revision: state.revision + 1, problems: withoutSlots(state, question.key, slots), focus };
}

export function setName(state, name) {
  const problems = state.problems.set.some((problem) => problem.field === "name")
    ? { ...state.problems, set: state.problems.set.filter((problem) => problem.field !== "name") }
    : state.problems;
  return { ...state, name, revision: state.revision + 1, problems, focus: null };
}

/** Sets "category", "text", "explanation", or a numeric question's "answer" or "tolerance" (as typed) of question `index`. */
export function setQuestionField(state, index, field, value) {
  const question = state.questions[index];
  return withQuestion(state, index, { ...question, [field]: value }, [field], null);
}

/** A blank question after question `index` (at the end without one); its category is the one before it. */
export function addQuestion(state, index = state.questions.length - 1) {
  if (state.questions.length >= LIMITS.questions) return state;
  const before = state.questions[index];
  const question = blankQuestion(state.nextKey, before ? before.category : "");
  const questions = [...state.questions];
  questions.splice(index + 1, 0, question);
  const focus = { key: question.key, control: question.category ? "text" : "category" };
  return { ...state, questions, nextKey: state.nextKey + 1, revision: state.revision + 1, focus };
}

/**
 * Question `index` moved one place up (`delta` -1) or down (+1). The focus stays on the button
 * pressed while it can be pressed again, else on the other one.
 */
export function moveQuestion(state, index, delta) {
  const target = index + delta;
  if (target < 0 || target >= state.questions.length || !Number.isInteger(delta) || Math.abs(delta) !== 1) return state;
  const questions = [...state.questions];
  [questions[index], questions[target]] = [questions[target], questions[index]];
  const atEnd = target === 0 || target === questions.length - 1;
  const pressed = delta < 0 ? "move-up" : "move-down";
  const other = delta < 0 ? "move-down" : "move-up";
  const focus = { key: questions[target].key, control: atEnd ? other : pressed };
  return { ...state, questions, revision: state.revision + 1, focus };
}

/** Question `index` removed; the focus goes to the question that takes its place (or the one before). */
export function deleteQuestion(state, index) {
  const gone = state.questions[index];
  if (!gone) return state;
  const questions = state.questions.filter((_, at) => at !== index);
  const next = questions[index] || questions[index - 1];
  const problems = { ...state.problems, questions: { ...state.problems.questions } };
  delete problems.questions[gone.key];
  const focus = next ? { key: next.key, control: "heading" } : { key: null, control: "add-question" };
  return { ...state, questions, revision: state.revision + 1, problems, focus };
}

export function setOption(state, index, optionIndex, text) {
  const question = state.questions[index];
  const options = question.options.map((option, at) => (at === optionIndex ? text : option));
  return withQuestion(state, index, { ...question, options }, ["options", `option:${optionIndex}`], null);
}

/**
 * Question `index` turned into a question of `type`: a true/false question gets the two fixed options
 * (its tick kept when it was one of them), a poll or an order question loses its ticks, and each gets
 * the options its type needs at least. What a numeric question does not use stays for a way back.
 */
export function setType(state, index, type) {
  const question = state.questions[index];
  if (!QUESTION_TYPES.includes(type) || question.type === type) return state;
  let { options, correct, option_images: optionImages } = question;
  if (type === "true_false") {
    options = [...TRUE_FALSE_OPTIONS];
    correct = correct.length === 1 && correct[0] < options.length ? correct : [];
    optionImages = [];
  } else if (type === "poll" || type === "order") {
    correct = [];
  }
  const { min } = optionLimits(type);
  if (options.length < min) options = [...options, ...Array(min - options.length).fill("")];
  const changed = { ...question, type, options, correct, option_images: optionImages };
  const slots = ["type", "answer", "tolerance", ...optionSlots(question)];
  return withQuestion(state, index, changed, slots, { key: question.key, control: "type" });
}

export function addOption(state, index) {
  const question = state.questions[index];
  if (question.options.length >= optionLimits(question.type).max) return state;
  const options = [...question.options, ""];
  const focus = { key: question.key, control: `option:${options.length - 1}` };
  return withQuestion(state, index, { ...question, options }, optionSlots(question), focus);
}

/** Option `optionIndex` removed: the correct answers (and option images) after it move up with it. */
export function removeOption(state, index, optionIndex) {
  const question = state.questions[index];
  if (question.options.length <= optionLimits(question.type).min) return state;
  const options = question.options.filter((_, at) => at !== optionIndex);
  const correct = question.correct.filter((at) => at !== optionIndex).map((at) => (at > optionIndex ? at - 1 : at));
  const optionImages = question.option_images.filter((_, at) => at !== optionIndex);
  const focus = { key: question.key, control: `option:${Math.min(optionIndex, options.length - 1)}` };
  const changed = { ...question, options, correct, option_images: optionImages };
  return withQuestion(state, index, changed, optionSlots(question), focus);
}

/**
 * Option `optionIndex` moved one place up (`delta` -1) or down (+1) with its image and tick: an order
 * question's items are written in the correct order. The focus follows as `moveQuestion`'s does.
 */
export function moveOption(state, index, optionIndex, delta) {
  const question = state.questions[index];
  const target = optionIndex + delta;
  if (!Number.isInteger(delta) || Math.abs(delta) !== 1 || target < 0 || target >= question.options.length) return state;
  const swap = (at) => (at === optionIndex ? target : at === target ? optionIndex : at);
  const options = question.options.map((_, at) => question.options[swap(at)]);
  const optionImages = question.options.map((_, at) => question.option_images[swap(at)] || null);
  const correct = question.correct.map(swap).sort((a, b) => a - b);
  const atEnd = target === 0 || target === options.length - 1;
  const pressed = delta < 0 ? "item-up" : "item-down";
  const other = delta < 0 ? "item-down" : "item-up";
  const focus = { key: question.key, control: `${atEnd ? other : pressed}:${target}` };
  const changed = { ...question, options, correct, option_images: optionImages };
  return withQuestion(state, index, changed, optionSlots(question), focus);
}

/** Option `optionIndex` marked correct, or no longer; a true/false question's tick moves to it. */
export function toggleCorrect(state, index, optionIndex) {
  const question = state.questions[index];
  if (question.type === "poll" || question.type === "order" || question.type === "numeric") return state; // nothing to tick
  const single = question.type === "true_false";
  let correct;
  if (single) correct = [optionIndex];
  else if (question.correct.includes(optionIndex)) correct = question.correct.filter((at) => at !== optionIndex);
  else correct = [...question.correct, optionIndex].sort((a, b) => a - b);
  const focus = { key: question.key, control: `correct:${optionIndex}` };
  return withQuestion(state, index, { ...question, correct }, ["correct"], focus);
}

/** The question's image (a key `POST /api/images` returned), or none with null. */
export function setImage(state, index, key) {
  const question = state.questions[index];
  const focus = { key: question.key, control: key ? "image-remove" : "image" };
  return withQuestion(state, index, { ...question, image: key }, ["image"], focus);
}

/** Option `optionIndex`'s image (a key), or none with null. */
export function setOptionImage(state, index, optionIndex, key) {
  const question = state.questions[index];
  const optionImages = question.options.map((_, at) => (at === optionIndex ? key : question.option_images[at] || null));
  return withQuestion(state, index, { ...question, option_images: optionImages }, [`option:${optionIndex}`], {
    key: question.key,
    control: key ? `option-image-remove:${optionIndex}` : `option-image:${optionIndex}`,
  });
}

/** The state once its `focus` was applied. */
export function focused(state) {
  return state.focus ? { ...state, focus: null } : state;
}

// ---------- saving ----------

/**
 * A numeric field's text as the document gives it: a number when it reads as one, else the text as
 * typed (the server says what is wrong with it); null when empty (the field is left out).
 */
function numberOrText(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

/** One question in the upload document: the fields of its type only (`type` left out for choice, the default). */
function documentQuestion(question) {
  const { type, category, text } = question;
  const item = type === "choice" ? { category, text } : { type, category, text };
  if (type === "numeric") {
    const answer = numberOrText(question.answer);
    const tolerance = numberOrText(question.tolerance);
    if (answer !== null) item.answer = answer;
    if (tolerance !== null) item.tolerance = tolerance;
  } else {
    item.options = [...question.options];
    // An order question's correct order is its options' (the document's default); a poll has none.
    if (type === "choice" || type === "true_false") item.correct = [...question.correct];
  }
  if (question.explanation.trim()) item.explanation = question.explanation;
  if (question.image) item.image = question.image;
  const optionImages = type === "numeric" ? [] : question.options.map((_, at) => question.option_images[at] || null);
  if (optionImages.some(Boolean)) item.option_images = optionImages;
  return item;
}

/** The JSON document a save uploads (question-set.md's JSON format, image keys as references). */
export function uploadDocument(state) {
  return { name: state.name.trim(), questions: state.questions.map(documentQuestion) };
}

/**
 * The state once the save of `sent` (an earlier or the same state) was accepted; `metadata` is the
 * set's id, name and new version. Edits made while it was saving stay unsaved.
 */
export function savedState(state, metadata, sent = state) {
  const unchanged = state.revision === sent.revision;
  return {
    ...state,
    setId: metadata.id,
    version: metadata.version ?? state.version,
    name: unchanged && metadata.name ? metadata.name : state.name,
    savedRevision: sent.revision,
    problems: NO_PROBLEMS,
  };
}

/** Whether the state holds edits no save has taken. */
export function isDirty(state) {
  return state.revision !== state.savedRevision;
}

// ---------- the participant's view of a question ----------

/** How many options a participant gives (the `question` frame's `select_count`; question_sets.models.select_count). */
function selectCount(question) {
  if (question.type === "order") return question.options.length;
  if (question.type === "numeric") return 0;
  if (question.type === "poll" || question.type === "true_false") return 1;
  return Math.max(1, question.correct.length);
}

/**
 * Question `index` as a `question` push would bring it (protocol.md), for the preview. An order
 * question's items are shown moved one place round: the run shuffles them, never into the correct order.
 */
export function previewQuestion(state, index) {
  const question = state.questions[index];
  const count = question.type === "numeric" ? 0 : question.options.length;
  const shown = Array.from({ length: count }, (_, at) => (question.type === "order" ? (at + 1) % count : at));
  const optionImages = shown.map((at) => imageUrl(question.option_images[at]));
  return {
    type: "question",
    question_type: question.type,
    index,
    category: question.category,
    text: question.text,
    options: shown.map((at) => question.options[at]),
    select_count: selectCount(question),
    image: imageUrl(question.image),
    option_images: optionImages.some(Boolean) ? optionImages : null,
  };
}
