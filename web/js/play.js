// Participant page: join with a code and a nickname, then answer one question at a time over the
// WebSocket. The token lives in sessionStorage, so a reload or a network drop reconnects and `sync`s.
// What each server message means is decided by play_state.js (pure), how a question behaves by
// play_question.js (pure), and play_render.js draws; this module holds the page's state, runs the
// countdown and the run's clock (server time only: clock.js) and does the I/O (including fetching
// the run's images ahead, during the lobby).
import { apiJson } from "./api.js";
import { serverClock } from "./clock.js";
import { serverReachable } from "./config.js";
import { connectionNotice, mayBeRefused } from "./connection.js";
import { announce, byId, showScreen } from "./dom.js";
import { checkJoin, joinErrorText, sessionForLink } from "./join_form.js";
import { LiveSocket } from "./live.js";
import {
  answerFor,
  chooseOption,
  countdownTick,
  hasOptionButtons,
  moveItem,
  optionForKey,
  questionControls,
  runTimeText,
} from "./play_question.js";
import {
  renderConnecting,
  renderCountdown,
  renderFeedback,
  renderJoin,
  renderNumberProblem,
  renderOrder,
  renderQuestion,
  renderResults,
  renderRunClock,
  renderSelection,
  renderSent,
  renderStatus,
} from "./play_render.js";
import {
  afterFeedback,
  applyPlayMessage,
  canAnswer,
  currentTiming,
  finishedRecord,
  finishedState,
  initialPlayState,
  playErrorReaction,
  runImages,
  screenChange,
  takeOutbox,
} from "./play_state.js";
import { appendChat, renderConnection, wireChat } from "./views.js";

const SESSION_KEY = "speedrun.play.session";
const RESULTS_KEY = "speedrun.play.results";
const COUNTDOWN_TICK_MS = 100;
const RUN_CLOCK_TICK_MS = 500;

let session = readJson(SESSION_KEY);
let live = null;
/** The run as this participant knows it (play_state.js). */
let play = initialPlayState();
/** The on-screen question's controls (play_question.questionControls). */
let current = null;
let countdownTimer = null;
let runClockTimer = null;

const notice = byId("notice");

function readJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

function codeParam() {
  return (new URLSearchParams(window.location.search).get("code") || "").toUpperCase();
}

/** Whose row the leaderboard highlights. */
function ownId() {
  return play.participantId || (session && session.participant_id);
}

// ---------- joining ----------

async function join(event) {
  event.preventDefault();
  const form = checkJoin(byId("join-code").value, byId("join-name").value);
  const error = byId("join-error");
  if (form.problem) {
    announce(error, form.problem, "error");
    byId(form.field === "code" ? "join-code" : "join-name").focus();
    return;
  }
  const button = byId("join-submit");
  button.disabled = true;
  announce(error, "");
  try {
    const reply = await apiJson("/api/signon/join", { method: "POST", json: { join_code: form.code, name: form.name } });
    session = { ...reply, name: form.name, join_code: form.code };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    sessionStorage.removeItem(RESULTS_KEY);
    startLive();
  } catch (err) {
    announce(error, joinErrorText(err), "error");
  } finally {
    button.disabled = false;
  }
}

function leave(message) {
  if (live) live.close();
  live = null;
  stopCountdown();
  stopRunClock();
  current = null;
  play = initialPlayState();
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  renderJoin(message, codeParam());
}

// ---------- live connection ----------

function startLive() {
  renderConnecting(session.name);
  play = initialPlayState({ participantId: session.participant_id || null, name: "" });
  current = null;
  live = new LiveSocket(session.ws_url, session.participant_token, onMessage, onStatus);
  live.connect();
}

function onStatus(status) {
  renderConnection(byId("connection"), status);
  const said = connectionNotice(
    status,
    "The run cannot be reached. It may have ended, or you were removed. Still trying — or press Leave.",
  );
  if (said) announce(notice, said.text, said.tone);
  if (mayBeRefused(status)) checkRefused();
}

async function checkRefused() {
  const socket = live;
  if (!(await serverReachable()) || socket !== live || !live || live.isOpen) return;
  leave("You cannot rejoin this run: the host removed you, or the run is over.");
}

/** The run's images, fetched once each while the lobby waits: a slow connection downloads them before any clock runs. */
const prefetched = new Map();

function prefetchImages(urls) {
  for (const url of urls) {
    if (prefetched.has(url)) continue;
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    prefetched.set(url, image); // held: not collected before it has loaded
  }
}

function onMessage(message, action) {
  serverClock.observeMessage(message);
  prefetchImages(runImages(message));
  if (message.type === "message") return appendChat(message, play.participantId || session.participant_id);
  if (message.type === "error") return onError(message, action);
  commit(applyPlayMessage(play, message));
  if (message.type === "results" && play.results === message && session) {
    sessionStorage.setItem(RESULTS_KEY, JSON.stringify(finishedRecord(play, session)));
    if (live) live.close(); // the run is over; its live state (and our token) will go away
  }
  return undefined;
}

/** Takes the new state: sends what it asks for, then draws what changed. */
function commit(next) {
  const before = play;
  const { frames, state } = takeOutbox(next);
  play = state;
  if (play.removed) {
    leave("The host removed you from this speed-run.");
    return;
  }
  if (session && play.participantId) session.participant_id = play.participantId;
  for (const frame of frames) if (live) live.send(frame);
  if (play.status === "completed") stopCountdown();
  followRunClock();
  renderStatus(play, ownId());
  const change = screenChange(before, play);
  if (change === "screen") showScreenOf(play);
  else if (change === "result") showResult(play.result);
}

function showScreenOf(state) {
  if (state.screen === "lobby") showScreen("screen-lobby");
  else if (state.screen === "question") {
    showQuestion(state.question);
    if (state.result) showResult(state.result);
  } else if (state.screen === "waiting") showWaiting();
  else if (state.screen === "results") showResults(state.results);
}

function onError(error, action) {
  const reaction = playErrorReaction(error, action);
  if (reaction.do === "sync") live.send({ action: "sync" });
  else if (reaction.do === "chat") announce(document.querySelector("#chat-panel .form-error"), reaction.text, "error");
  else if (reaction.do === "leave") leave(reaction.text);
  else announce(notice, reaction.text, "error");
}

// ---------- questions ----------

function showQuestion(question) {
  current = questionControls(question, current, Boolean(play.result));
  const handlers = { onChoose: choose, onMove: move, onInput: typed, onSubmit: submitAnswer };
  renderQuestion(question, current, play.questionCount, handlers);
  startCountdown();
}

/** Whether the question on screen can still be answered from this page. */
function answerable() {
  return Boolean(current) && canAnswer(play, current.index);
}

function choose(optionIndex) {
  if (!answerable() || current.sent) return;
  const question = play.question;
  const chosen = chooseOption(question, current.selected, optionIndex);
  current = { ...current, selected: chosen.selected };
  if (chosen.submit) submitAnswer();
  else renderSelection(question, current);
}

/** An order question's item at `position` moved up (-1) or down (+1). */
function move(position, delta) {
  if (!answerable() || current.sent) return;
  const moved = moveItem(current.order, position, delta);
  if (moved.position === position) return;
  current = { ...current, order: moved.order };
  renderOrder(play.question, current, { position: moved.position, delta }, move);
}

/** A numeric question's field as typed (checked when submitted). */
function typed(text) {
  if (!answerable() || current.sent) return;
  current = { ...current, value: text };
  renderSelection(play.question, current);
  renderNumberProblem("");
}

function submitAnswer() {
  if (!answerable() || current.sent) return;
  const question = play.question;
  const answer = answerFor(question, current);
  if (answer.problem) {
    renderNumberProblem(answer.problem);
    return;
  }
  if (live && live.send(answer.frame)) {
    current.sent = true;
    renderSent(question, current);
  } else {
    announce(notice, "Not sent — reconnecting. Your answer is kept; submit again when live.", "warn");
  }
}

function startCountdown() {
  stopCountdown();
  const tick = () => {
    if (!answerable()) return stopCountdown();
    const question = play.question;
    // The deadline as the server last said it (extra time may have moved it), on the server's clock.
    const timing = currentTiming(play);
    const step = countdownTick(timing, serverClock.remainingMs(timing.deadline) ?? 0, play.questionDurationS, current);
    renderCountdown(step);
    if (step.speak !== null) current.spokenMark = step.speak;
    if (step.timeout) {
      // Out of time: give the question up, the server answers with outcome "timeout".
      current.timeoutSent = Boolean(live) && live.send({ action: "timeout", index: question.index });
    }
    return undefined;
  };
  tick();
  countdownTimer = setInterval(tick, COUNTDOWN_TICK_MS);
}

function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = null;
}

/** The run's time left (the question screen shows it, untimed or not) ticks while the run runs. */
function followRunClock() {
  if (play.status !== "running" || !play.endsAt) {
    stopRunClock();
    return;
  }
  if (runClockTimer) return;
  const tick = () => renderRunClock(runTimeText(serverClock.remainingMs(play.endsAt)));
  tick();
  runClockTimer = setInterval(tick, RUN_CLOCK_TICK_MS);
}

function stopRunClock() {
  clearInterval(runClockTimer);
  runClockTimer = null;
  renderRunClock("");
}

/** The feedback of the question on screen (play_state.js matched the result to it by index). */
function showResult(result) {
  stopCountdown();
  if (!current || current.index !== result.index) return;
  renderFeedback(result, play.question, current);
}

function nextQuestion() {
  commit(afterFeedback(play));
}

function showWaiting() {
  stopCountdown();
  showScreen("screen-waiting");
}

function showResults(results) {
  stopCountdown();
  renderResults(play, results, ownId());
}

// ---------- keyboard ----------

function onKey(event) {
  if (document.body.dataset.screen !== "screen-question" || !answerable()) return;
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
  if (!hasOptionButtons(play.question)) return; // numbers are typed, order items moved: no option keys
  const option = optionForKey(event.key, play.question.options.length);
  if (option !== null) {
    event.preventDefault();
    choose(option);
  }
}

// ---------- start ----------

async function main() {
  byId("join-form").addEventListener("submit", join);
  byId("leave").addEventListener("click", () => {
    if (window.confirm("Leave this speed-run? You cannot come back with the same nickname.")) leave("");
  });
  byId("submit-answer").addEventListener("click", submitAnswer);
  byId("next-question").addEventListener("click", nextQuestion);
  byId("play-again").addEventListener("click", () => {
    sessionStorage.removeItem(RESULTS_KEY);
    leave("");
  });
  document.addEventListener("keydown", onKey);
  wireChat((to, content) => Boolean(live) && live.send({ action: "message", to, content }));

  const finished = readJson(RESULTS_KEY);
  const kept = sessionForLink(session, codeParam());
  if (kept !== session) {
    session = kept; // a link to another run: the old place is left behind
    sessionStorage.removeItem(SESSION_KEY);
  }
  if (finished && (!session || finished.session.speedrun_id === session.speedrun_id)) {
    session = finished.session;
    play = finishedState(finished);
    byId("score-chip").hidden = false;
    showResults(finished.results);
    return;
  }
  if (session) {
    startLive();
  } else {
    renderJoin("", codeParam());
  }
}

main().catch((error) => announce(notice, `The page failed to start: ${error.message}`, "error"));
