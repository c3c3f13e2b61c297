// The host dashboard's forms: what the upload and create-run forms accept (and which run options go
// together), what they send, and how a refused upload reads. Pure: values in, problems and request
// bodies out; host_dashboard.js does the I/O.

export const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;
const DEFAULT_QUESTION_COUNT = 10;
const QUESTION_SECONDS = { min: 5, max: 300 };
const RUN_SECONDS = { min: 30, max: 7200 }; // the optional time limit, entered in minutes

/** Why `file` cannot be uploaded, checked before sending it; null when it can. */
export function uploadProblem(file) {
  if (!file) return "Choose a question set file (JSON, CSV or .xlsx).";
  if (file.size > MAX_UPLOAD_BYTES) return "The file is larger than 4 MiB.";
  return null;
}

/** One entry of a 400's `error.details` ({question | line | sheet and row, field, reason}) as a line of text. */
function describeProblem(problem) {
  if (typeof problem === "string") return problem;
  const where = [];
  if (problem.line != null) where.push(`line ${problem.line}`);
  if (problem.question != null) where.push(`question ${problem.question}`);
  if (problem.sheet != null) where.push(`sheet ${problem.sheet}`);
  if (problem.row != null) where.push(`row ${problem.row}`);
  if (problem.field) where.push(problem.field);
  const reason = problem.reason || problem.message || problem.msg || JSON.stringify(problem);
  return where.length ? `${where.join(", ")}: ${reason}` : reason;
}

/**
 * A refused upload ({status, message, details}, as ApiError has them) as {message, problems: [text]}
 * for the list under the file input; null when the error is not about the file.
 */
export function refusedUpload(error) {
  if (error.status === 413) return { message: "The file is too large (4 MiB at most).", problems: [] };
  if (error.status !== 400) return null;
  const details = Array.isArray(error.details) ? error.details : error.details ? [error.details] : [];
  return { message: error.message, problems: details.map(describeProblem) };
}

/**
 * The question-count field once the chosen categories hold `available` questions: its `max`, its
 * `value` (the entered one while it fits, else up to 10) and its help text.
 */
export function questionCountField(available, value) {
  const refill = !value || Number(value) > available;
  return {
    max: String(Math.max(1, available)),
    value: !refill ? value : available ? String(Math.min(available, DEFAULT_QUESTION_COUNT)) : "",
    help: available ? `${available} available in the chosen categories` : "",
  };
}

/**
 * What the create form's scoring controls allow once `untimed` is ticked or not: untimed questions
 * need accuracy scoring (the server refuses speed: speed points are relative to a question's time),
 * so ticking it picks accuracy and locks speed out; "break ties by speed" only means something with
 * accuracy scoring (speed scoring always does). Returns {scoring, speedDisabled, tiebreakShown,
 * durationDisabled}.
 */
export function scoringControls({ scoring, untimed }) {
  const chosen = untimed ? "accuracy" : scoring;
  return { scoring: chosen, speedDisabled: untimed, tiebreakShown: chosen === "accuracy", durationDisabled: untimed };
}

/**
 * The create-run form checked and turned into the sign-on request. `form`: {set (the picked set, or
 * undefined), setId, name, questionCount, maxQuestions, questionDuration, minutes, maxParticipants,
 * categories (the ticked ones), shuffle, chat, scoring ("speed" | "accuracy"), speedTiebreak, untimed,
 * showExplanations}, numbers as the inputs give them (strings).
 * Returns {problem} (one sentence listing what to fix) or {body, runName}.
 */
export function createRunRequest(form) {
  const { set, setId, categories, untimed } = form;
  const scoring = form.scoring || "speed";
  const questionCount = Number(form.questionCount);
  const questionDuration = Number(form.questionDuration);
  const minutes = form.minutes;
  const problems = [];
  if (!setId) problems.push("pick a question set");
  if (set && categories.length === 0) problems.push("pick at least one category");
  if (!Number.isInteger(questionCount) || questionCount < 1 || questionCount > Number(form.maxQuestions)) {
    problems.push(`number of questions must be 1..${form.maxQuestions}`);
  }
  if (untimed && scoring === "speed") problems.push("untimed questions need accuracy scoring");
  if (
    !untimed &&
    (!Number.isInteger(questionDuration) || questionDuration < QUESTION_SECONDS.min || questionDuration > QUESTION_SECONDS.max)
  ) {
    problems.push(`seconds per question must be ${QUESTION_SECONDS.min}..${QUESTION_SECONDS.max}`);
  }
  if (minutes && (Number(minutes) * 60 < RUN_SECONDS.min || Number(minutes) * 60 > RUN_SECONDS.max)) {
    problems.push(`time limit must be ${RUN_SECONDS.min / 60}..${RUN_SECONDS.max / 60} minutes`);
  }
  if (problems.length) return { problem: `Please fix: ${problems.join("; ")}.` };
  const body = { question_set_id: setId, question_count: questionCount, question_duration_s: untimed ? null : questionDuration };
  const name = form.name.trim();
  if (name) body.name = name;
  if (set && categories.length < Object.keys(set.categories || {}).length) body.categories = categories;
  if (minutes) body.duration_s = Math.round(Number(minutes) * 60);
  if (form.maxParticipants) body.max_participants = Number(form.maxParticipants);
  body.shuffle = form.shuffle;
  body.chat = form.chat;
  body.scoring = scoring;
  if (scoring === "accuracy") body.speed_tiebreak = Boolean(form.speedTiebreak); // speed scoring always breaks ties by time
  body.show_explanations = Boolean(form.showExplanations);
  return { body, runName: name || (set && set.name) || "Speed-run" };
}
