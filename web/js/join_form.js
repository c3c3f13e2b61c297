// The participant's join form: what it accepts, what sign-on's refusals mean, and which stored place a
// page link keeps. Pure: play.js reads the inputs and sends the request.

const JOIN_CODE = /^[A-Z0-9]{6}$/;
const NICKNAME_MAX = 24;
const JOIN_ERRORS = {
  404: "No speed-run has that code. Check the code with the host.",
  409: "That nickname is taken in this run (or the run is no longer open). Try another nickname.",
  403: "This speed-run is full.",
  400: "Please check the code and the nickname.",
};

/**
 * The form's values cleaned (`code` upper-cased, both trimmed), with the first `problem` and the
 * `field` ("code" | "name") to fix, or problem null.
 */
export function checkJoin(codeInput, nameInput) {
  const code = codeInput.trim().toUpperCase();
  const name = nameInput.trim();
  if (!JOIN_CODE.test(code)) return { code, name, problem: "The join code has 6 letters or digits.", field: "code" };
  if (!name || name.length > NICKNAME_MAX) {
    return { code, name, problem: `Pick a nickname of 1 to ${NICKNAME_MAX} characters.`, field: "name" };
  }
  return { code, name, problem: null, field: null };
}

/** A failed join in words: sign-on's refusals by status, anything else by its own message. */
export function joinErrorText(error) {
  return JOIN_ERRORS[error.status] || error.message || String(error);
}

/** The stored place (`session`), unless the page's `?code=` link is to another run; then null. */
export function sessionForLink(session, codeParam) {
  return session && codeParam && session.join_code !== codeParam ? null : session;
}
