// Participant page: join with a code and a nickname, then answer one question at a time over the
// WebSocket. The token lives in sessionStorage, so a reload or a network drop reconnects and `sync`s.
// What each server message means is decided by play_state.js (pure); this module draws the result
// and does the I/O.
import { ApiError, apiJson } from "./api.js";
import { serverReachable } from "./config.js";
import { serverClock, toEpochMs } from "./clock.js";
import { announce, byId, el, formatElapsed, formatPoints, showScreen } from "./dom.js";
import { LiveSocket } from "./live.js";
import { afterFeedback, applyPlayMessage, initialPlayState, takeOutbox } from "./play_state.js";
import { appendChat, renderConnection, renderLeaderboard, renderRecentNames, wireChat } from "./views.js";

const SESSION_KEY = "speedrun.play.session";
const RESULTS_KEY = "speedrun.play.results";
const REFUSED_AFTER_FAILURES = 3; // failed connects in a row, with the site reachable: the token is refused
const SPOKEN_MARKS_S = [10, 5];
const GIVE_UP_AFTER_FAILURES = 6; // failed connects in a row before we say the run cannot be reached

let session = readJson(SESSION_KEY);
let live = null;
/** The run as this participant knows it (play_state.js). */
let play = initialPlayState();
/** The on-screen question's controls: {index, selected: Set, sent, timeoutSent, spokenMark}. */
let current = null;
let countdownTimer = null;

const notice = byId("notice");

function readJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

// ---------- joining ----------

const JOIN_ERRORS = {
  404: "No speed-run has that code. Check the code with the host.",
  409: "That nickname is taken in this run (or the run is no longer open). Try another nickname.",
  403: "This speed-run is full.",
  400: "Please check the code and the nickname.",
};

function showJoin(message) {
  const params = new URLSearchParams(window.location.search);
  const code = byId("join-code");
  if (!code.value && params.get("code")) code.value = params.get("code").toUpperCase();
  announce(byId("join-error"), message || "", "error");
  byId("leave").hidden = true;
  byId("connection").hidden = true;
  byId("score-chip").hidden = true;
  byId("leaderboard-panel").hidden = true;
  byId("chat-panel").hidden = true;
  showScreen("screen-join");
  (code.value ? byId("join-name") : code).focus();
}

async function join(event) {
  event.preventDefault();
  const code = byId("join-code").value.trim().toUpperCase();
  const name = byId("join-name").value.trim();
  const error = byId("join-error");
  if (!/^[A-Z0-9]{6}$/.test(code)) {
    announce(error, "The join code has 6 letters or digits.", "error");
    byId("join-code").focus();
    return;
  }
  if (!name || name.length > 24) {
    announce(error, "Pick a nickname of 1 to 24 characters.", "error");
    byId("join-name").focus();
    return;
  }
  const button = byId("join-submit");
  button.disabled = true;
  announce(error, "");
  try {
    const reply = await apiJson("/api/signon/join", { method: "POST", json: { join_code: code, name } });
    session = { ...reply, name, join_code: code };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    sessionStorage.removeItem(RESULTS_KEY);
    startLive();
  } catch (err) {
    const message = err instanceof ApiError ? JOIN_ERRORS[err.status] || err.message : err.message || String(err);
    announce(error, message, "error");
  } finally {
    button.disabled = false;
  }
}

function leave(message) {
  if (live) live.close();
  live = null;
  stopCountdown();
  current = null;
  play = initialPlayState();
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  showJoin(message);
}

// ---------- live connection ----------

function startLive() {
  byId("leave").hidden = false;
  byId("connection").hidden = false;
  byId("score-chip").hidden = false;
  byId("chat-panel").hidden = false;
  byId("lobby-name").textContent = session.name;
  play = initialPlayState({ participantId: session.participant_id || null, name: "" });
  current = null;
  showScreen("screen-loading");
  live = new LiveSocket(session.ws_url, session.participant_token, onMessage, onStatus);
  live.connect();
}

function onStatus(status) {
  renderConnection(byId("connection"), status);
  if (status.state === "open") {
    announce(notice, "");
  } else if (status.state === "reconnecting" && status.failures >= GIVE_UP_AFTER_FAILURES) {
    announce(
      notice,
      "The run cannot be reached. It may have ended, or you were removed. Still trying — or press Leave.",
      "error",
    );
  } else if (status.state === "reconnecting") {
    announce(notice, "Connection lost — reconnecting…", "warn");
  }
  if (status.state === "reconnecting" && status.failures === REFUSED_AFTER_FAILURES) checkRefused();
}

async function checkRefused() {
  const socket = live;
  if (!(await serverReachable()) || socket !== live || !live || live.isOpen) return;
  leave("You cannot rejoin this run: the host removed you, or the run is over.");
}

function onMessage(message, action) {
  switch (message.type) {
    case "message":
      serverClock.observe(message.sent_at);
      return appendChat(message, play.participantId || session.participant_id);
    case "error":
      return onError(message, action);
    case "started":
      serverClock.observe(message.started_at);
      break;
    case "question":
      serverClock.observe(message.served_at);
      break;
    case "completed":
      serverClock.observe(message.completed_at);
      break;
    default:
      break;
  }
  commit(applyPlayMessage(play, message));
  if (message.type === "results" && play.results === message && session) {
    sessionStorage.setItem(
      RESULTS_KEY,
      JSON.stringify({ results: message, leaderboard: play.leaderboard, questionCount: play.questionCount, session }),
    );
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
  renderStatus();
  renderScreen(before);
}

/** The parts that follow the state whatever the screen: score, lobby, leaderboard, chat. */
function renderStatus() {
  byId("lobby-run-name").textContent = play.name || "the speed-run";
  byId("lobby-count").textContent = play.count || 0;
  renderRecentNames(byId("lobby-recent"), play.recent);
  byId("lobby-recent-block").hidden = !play.recent.length;
  // The host may allow chat; without it a participant can only read what the host sends.
  if (play.chat !== undefined) byId("chat-form").hidden = !play.chat;
  updateScore();
  renderBoard();
  if (play.status === "completed") {
    // Over: nothing more can be answered; the results replace this screen as soon as they come.
    stopCountdown();
    for (const button of byId("options").children) button.disabled = true;
    byId("submit-answer").disabled = true;
    byId("next-question").hidden = true;
  }
}

function renderScreen(before) {
  const moved = play.screen !== before.screen || play.question !== before.question;
  if (moved || (play.screen === "results" && play.results !== before.results)) {
    if (play.screen === "lobby") showScreen("screen-lobby");
    else if (play.screen === "question") {
      showQuestion(play.question);
      if (play.result) showResult(play.result);
    } else if (play.screen === "waiting") showWaiting();
    else if (play.screen === "results") showResults(play.results);
  } else if (play.screen === "question" && play.result && play.result !== before.result) {
    showResult(play.result);
  }
}

function onError(error, action) {
  if (["out_of_order", "conflict", "not_running"].includes(error.code) && ["question", "answer", "timeout"].includes(action)) {
    live.send({ action: "sync" }); // our view is behind the server's: catch up
    return;
  }
  if (action === "message") {
    const text = error.code === "forbidden" ? "Chat is turned off for this run." : error.message;
    announce(document.querySelector("#chat-panel .form-error"), text, "error");
    return;
  }
  if (error.code === "unauthorized") {
    leave("Your place in this run is no longer valid. Join again with the code.");
    return;
  }
  announce(notice, error.message || `Error: ${error.code}`, "error");
}

// ---------- questions ----------

function showQuestion(question) {
  if (current && current.index === question.index && !play.result) {
    // Served again (after a reconnect), so the server has no answer for it: keep the selection and
    // let an answer that was lost with the old socket be sent again.
    current.sent = false;
    current.timeoutSent = false;
  } else {
    current = { index: question.index, selected: new Set(), timeoutSent: false, sent: false };
  }
  const many = (question.select_count || 1) > 1;
  byId("question-progress").textContent = `Question ${question.index + 1} of ${play.questionCount || "?"}`;
  byId("question-category").textContent = question.category || "";
  byId("question-category").hidden = !question.category;
  byId("question-text").textContent = question.text;
  byId("question-hint").textContent = many
    ? `Pick ${question.select_count} answers, then submit. Keys 1–${question.options.length} select.`
    : `Pick one answer. Keys 1–${question.options.length} answer.`;
  const options = byId("options");
  options.classList.toggle("multi", many);
  options.replaceChildren(
    ...question.options.map((text, optionIndex) =>
      el(
        "button",
        {
          type: "button",
          class: "option",
          dataset: { index: optionIndex },
          "aria-pressed": many ? String(current.selected.has(optionIndex)) : null,
          onclick: () => choose(optionIndex),
        },
        el("span", { class: "option-key", "aria-hidden": "true", text: optionIndex + 1 }),
        el("span", { class: "option-text", text }),
      ),
    ),
  );
  const submit = byId("submit-answer");
  submit.hidden = !many;
  submit.disabled = current.selected.size !== question.select_count;
  byId("feedback").hidden = true;
  byId("next-question").hidden = true;
  byId("countdown-alert").textContent = "";
  showScreen("screen-question");
  options.querySelector("button").focus();
  startCountdown();
}

/** Whether the question on screen can still be answered from this page. */
function answerable() {
  return Boolean(current && play.question && play.question.index === current.index && !play.result && play.status !== "completed");
}

function choose(optionIndex) {
  if (!answerable() || current.sent) return;
  const question = play.question;
  const { selected } = current;
  if ((question.select_count || 1) === 1) {
    selected.clear();
    selected.add(optionIndex);
    submitAnswer();
    return;
  }
  if (selected.has(optionIndex)) selected.delete(optionIndex);
  else if (selected.size < question.select_count) selected.add(optionIndex);
  for (const button of byId("options").children) {
    button.setAttribute("aria-pressed", String(selected.has(Number(button.dataset.index))));
  }
  byId("submit-answer").disabled = selected.size !== question.select_count;
}

function submitAnswer() {
  if (!answerable() || current.sent) return;
  const selected = [...current.selected].sort((a, b) => a - b);
  if (live && live.send({ action: "answer", index: current.index, selected })) {
    current.sent = true;
    for (const button of byId("options").children) {
      button.disabled = true;
      button.classList.toggle("chosen", current.selected.has(Number(button.dataset.index)));
    }
    byId("submit-answer").disabled = true;
  } else {
    announce(notice, "Not sent — reconnecting. Your answer is kept; submit again when live.", "warn");
  }
}

function startCountdown() {
  stopCountdown();
  const tick = () => {
    if (!answerable()) return stopCountdown();
    const question = play.question;
    const totalMs = toEpochMs(question.deadline) - toEpochMs(question.served_at) || play.questionDurationS * 1000;
    const leftMs = serverClock.remainingMs(question.deadline) ?? 0;
    byId("countdown-fill").style.transform = `scaleX(${Math.min(1, leftMs / totalMs)})`;
    byId("countdown-fill").dataset.urgent = String(leftMs < 5000);
    const secondsLeft = Math.ceil(leftMs / 1000);
    byId("countdown-seconds").textContent = secondsLeft;
    // Screen readers hear the time only at a few marks, not every tick.
    if (SPOKEN_MARKS_S.includes(secondsLeft) && current.spokenMark !== secondsLeft) {
      current.spokenMark = secondsLeft;
      byId("countdown-alert").textContent = `${secondsLeft} seconds left`;
    }
    if (leftMs <= 0 && !current.timeoutSent && !current.sent) {
      // Out of time: give the question up, the server answers with outcome "timeout".
      current.timeoutSent = Boolean(live) && live.send({ action: "timeout", index: question.index });
    }
  };
  tick();
  countdownTimer = setInterval(tick, 100);
}

function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = null;
}

const OUTCOME_TEXT = { correct: "Correct!", incorrect: "Not quite.", timeout: "Time's up." };

/** The feedback of the question on screen (play_state.js matched the result to it by index). */
function showResult(result) {
  stopCountdown();
  if (!current || current.index !== result.index) return;
  const correct = new Set(result.correct_options || []);
  for (const button of byId("options").children) {
    const index = Number(button.dataset.index);
    button.disabled = true;
    button.classList.toggle("correct", correct.has(index));
    button.classList.toggle("wrong", current.selected.has(index) && !correct.has(index));
    button.classList.toggle("chosen", current.selected.has(index));
  }
  byId("submit-answer").hidden = true;
  const feedback = byId("feedback");
  feedback.dataset.outcome = result.outcome;
  feedback.replaceChildren(
    el("strong", { class: "outcome", text: OUTCOME_TEXT[result.outcome] || result.outcome }),
    el("span", { text: ` +${formatPoints(result.points)} points · score ${formatPoints(result.score)} · rank ${result.rank ?? "–"}` }),
  );
  feedback.hidden = false;
  const next = byId("next-question");
  next.textContent = result.finished ? "See the leaderboard" : "Next question";
  next.hidden = false;
  next.focus();
}

function nextQuestion() {
  commit(afterFeedback(play));
}

function showWaiting() {
  stopCountdown();
  showScreen("screen-waiting");
}

// ---------- scores and results ----------

function updateScore() {
  byId("score-value").textContent = formatPoints(play.score);
  byId("waiting-score").textContent = formatPoints(play.score);
  byId("waiting-rank").textContent = play.rank ?? "–";
}

function renderBoard() {
  const panel = byId("leaderboard-panel");
  panel.hidden = !play.leaderboard.length && play.status !== "completed";
  renderLeaderboard(byId("leaderboard-body"), play.leaderboard, {
    highlightId: play.participantId || (session && session.participant_id),
    questionCount: play.questionCount,
  });
}

function showResults(results) {
  stopCountdown();
  updateScore();
  byId("results-summary").textContent =
    `You scored ${formatPoints(play.score)} points, rank ${play.rank ?? "–"}, in ${formatElapsed(results.elapsed_ms)}.`;
  const review = byId("results-review");
  review.replaceChildren(
    ...(results.questions || []).map((question) => {
      const correct = new Set(question.correct_options || []);
      const selected = new Set(question.selected || []);
      return el(
        "li",
        { class: `review-item ${question.outcome || "unanswered"}` },
        el(
          "p",
          { class: "review-head" },
          el("span", { class: `badge ${question.outcome || "unanswered"}`, text: OUTCOME_TEXT[question.outcome] || "Not reached" }),
          el("span", { class: "muted", text: ` +${formatPoints(question.points)} points` }),
        ),
        el("p", { class: "review-text", text: question.text }),
        el(
          "ul",
          { class: "review-options" },
          ...(question.options || []).map((option, index) => {
            const marks = [];
            if (correct.has(index)) marks.push("correct answer");
            if (selected.has(index)) marks.push("your choice");
            return el(
              "li",
              { class: [correct.has(index) ? "correct" : "", selected.has(index) ? "chosen" : ""].join(" ").trim() || null },
              option,
              marks.length ? el("span", { class: "muted", text: ` — ${marks.join(", ")}` }) : null,
            );
          }),
        ),
      );
    }),
  );
  byId("leave").hidden = true;
  byId("connection").hidden = true;
  byId("chat-panel").hidden = true;
  renderBoard();
  showScreen("screen-results");
}

// ---------- keyboard ----------

function onKey(event) {
  if (document.body.dataset.screen !== "screen-question" || !answerable()) return;
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
  const number = Number(event.key);
  if (Number.isInteger(number) && number >= 1 && number <= play.question.options.length) {
    event.preventDefault();
    choose(number - 1);
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

  const codeParam = (new URLSearchParams(window.location.search).get("code") || "").toUpperCase();
  const finished = readJson(RESULTS_KEY);
  if (session && codeParam && session.join_code !== codeParam) {
    session = null; // a link to another run: the old place is left behind
    sessionStorage.removeItem(SESSION_KEY);
  }
  if (finished && (!session || finished.session.speedrun_id === session.speedrun_id)) {
    session = finished.session;
    play = initialPlayState({
      participantId: session.participant_id || null,
      status: "completed",
      questionCount: finished.questionCount || 0,
      leaderboard: finished.leaderboard || [],
      results: finished.results,
      score: finished.results.score ?? 0,
      rank: finished.results.rank ?? null,
      screen: "results",
    });
    byId("score-chip").hidden = false;
    showResults(finished.results);
    return;
  }
  if (session) {
    startLive();
  } else {
    showJoin("");
  }
}

main().catch((error) => announce(notice, `The page failed to start: ${error.message}`, "error"));
