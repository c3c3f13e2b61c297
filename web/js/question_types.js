// The question types (question-set.md; layers/shared/python/speedrun/question_sets/models.py holds the
// server's list) and what the host's pages call them. Pure.

/** Every type; `choice` is what a question without one is (sets, results and frames from before types). */
export const QUESTION_TYPES = Object.freeze(["choice", "true_false", "poll", "numeric", "order"]);

/** Each type in words, for the editor's type selector and the results. */
export const QUESTION_TYPE_NAMES = Object.freeze({
  choice: "Multiple choice",
  true_false: "True or false",
  poll: "Poll",
  numeric: "Number",
  order: "Put in order",
});

/** A question's type: a results question's `type` (a frame's `question_type` is the participant page's), choice when absent. */
export function questionTypeOf(question) {
  return QUESTION_TYPES.includes(question.type) ? question.type : "choice";
}
