"""The web client's pure helpers (web/js/clock.js, config.js, dom.js, format.js, connection.js, runs.js,
views.js), the pages' message handling (host_state.js, play_state.js: protocol revisions 1 and 2) and
what they decide before drawing (host_forms.js, play_question.js, join_form.js), run in the system Chromium.

No backend: web/ is served by a throw-away static server and the ES modules are imported into a
page of that origin, so these checks are quick and independent of the local stack.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.test_browser_run import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e

WEB = Path(__file__).resolve().parents[2] / "web"
EN_DASH = "\u2013"
"""The pages' "none yet" (a rank, a time left) and key ranges ("1\u20133")."""
TIMES = "\u00d7"
"""The multiplication sign of an extra-time multiplier ("1.5\u00d7 time")."""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def web_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(WEB)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(web_origin: str) -> Iterator[Page]:
    assert CHROMIUM.exists(), "Chromium is missing: run `bash scripts/ensure-browser.sh`"
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        # Any page of the origin will do: the modules are imported, not the app pages run.
        page.goto(f"{web_origin}/css/app.css")
        yield page
        browser.close()


def run_module(page: Page, module: str, body: str) -> Any:
    """Evaluates `body` (an async function body with the module bound to `m`) in the page."""
    return page.evaluate(f"async () => {{ const m = await import('/js/{module}'); {body} }}")


def test_protocol_times_parse_from_epoch_ms_and_iso(page: Page) -> None:
    parsed = run_module(
        page,
        "clock.js",
        """return [
            m.toEpochMs(1700000000123),
            m.toEpochMs("2023-11-14T22:13:20.123Z"),
            m.toEpochMs("2023-11-14T22:13:20.123+00:00"),
            m.toEpochMs("1700000000123"),
            m.toEpochMs(null),
            m.toEpochMs(""),
            m.toEpochMs("not a time"),
        ];""",
    )
    assert parsed == [1700000000123, 1700000000123, 1700000000123, 1700000000123, None, None, None]


def test_server_clock_keeps_the_largest_lower_bound_of_the_offset(page: Page) -> None:
    offsets = run_module(
        page,
        "clock.js",
        """sessionStorage.clear();
        const clock = new m.ServerClock();
        const seen = [clock.offsetMs];
        clock.observe(10_000, 9_500);      // server 500 ms ahead, at least
        seen.push(clock.offsetMs);
        clock.observe(10_200, 9_900);      // a slower message: a looser bound, ignored
        seen.push(clock.offsetMs);
        clock.observe("1970-01-01T00:00:12.000Z", 11_000);   // ISO-8601 works too; tighter
        seen.push(clock.offsetMs);
        clock.observe(null, 1);            // nothing to learn
        seen.push(clock.offsetMs);
        seen.push(new m.ServerClock().offsetMs);   // kept for the tab (survives a reload)
        seen.push(clock.remainingMs(0), clock.remainingMs(null));
        return seen;""",
    )
    assert offsets == [None, 500, 500, 1000, 1000, 1000, 0, None]


def test_http_date_header_is_a_lower_bound_too(page: Page) -> None:
    offset = run_module(
        page,
        "clock.js",
        """sessionStorage.clear();
        const clock = new m.ServerClock();
        clock.observeHttpDate(new Date(Date.now() + 3_600_000).toUTCString());
        clock.observeHttpDate(null);
        return clock.offsetMs;""",
    )
    # toUTCString drops the milliseconds, so the bound is within one second below an hour.
    assert 3_599_000 - 1000 <= offset <= 3_600_000


def test_durations_format_as_minutes_and_seconds(page: Page) -> None:
    assert run_module(
        page, "format.js", "return [0, 1, 999, 1000, 59_001, 61_000, 3_600_000].map(m.formatDuration);"
    ) == ["0:00", "0:01", "0:01", "0:01", "1:00", "1:01", "60:00"]


def test_api_urls_accept_api_url_with_or_without_the_api_suffix(page: Page, web_origin: str) -> None:
    urls = run_module(
        page,
        "config.js",
        """return [
            m.apiUrl({api_url: "http://127.0.0.1:9000/api"}, "/api/question-sets"),
            m.apiUrl({api_url: "http://127.0.0.1:9000/api/"}, "/api/signon/join"),
            m.apiUrl({api_url: "https://quiz.example.com"}, "/api/speedruns/r1/results?format=csv"),
            m.apiUrl({}, "/api/question-sets"),
        ];""",
    )
    assert urls == [
        "http://127.0.0.1:9000/api/question-sets",
        "http://127.0.0.1:9000/api/signon/join",
        "https://quiz.example.com/api/speedruns/r1/results?format=csv",
        f"{web_origin}/api/question-sets",
    ]


def test_socket_urls_carry_the_token_and_the_right_scheme(page: Page, web_origin: str) -> None:
    urls = run_module(
        page,
        "config.js",
        """return [
            m.socketUrl("wss://quiz.example.com/ws", "abc.def-ghi_jkl"),
            m.socketUrl("ws://127.0.0.1:9000/ws", "t"),
            m.socketUrl("/ws", "t"),
            m.socketUrl("https://quiz.example.com/ws?stage=1", "t"),
        ];""",
    )
    host = web_origin.removeprefix("http://")
    assert urls == [
        "wss://quiz.example.com/ws?token=abc.def-ghi_jkl",
        "ws://127.0.0.1:9000/ws?token=t",
        f"ws://{host}/ws?token=t",
        "wss://quiz.example.com/ws?stage=1&token=t",
    ]


def test_elements_never_parse_server_text_as_html(page: Page) -> None:
    built = run_module(
        page,
        "dom.js",
        """let clicks = 0;
        const node = m.el("button", {class: "x", text: "<img src=x onerror=alert(1)>", disabled: true,
                                      onclick: () => { clicks += 1; }, dataset: {index: 3}, style: "width: 40%"},
                          " tail");
        node.disabled = false;
        node.click();
        return {html: node.innerHTML, images: node.querySelectorAll("img").length, clicks,
                index: node.dataset.index, width: node.style.width, cls: node.className};""",
    )
    assert built == {
        "html": "&lt;img src=x onerror=alert(1)&gt; tail",
        "images": 0,
        "clicks": 1,
        "index": "3",
        "width": "40%",
        "cls": "x",
    }


def test_the_tab_keeps_host_tokens_per_run_until_they_expire(page: Page) -> None:
    kept = run_module(
        page,
        "runs.js",
        """sessionStorage.clear();
        const created = (id, expires) => ({speedrun_id: id, host_token: `tok-${id}`, ws_url: "/ws",
                                           join_code: "ABC234", expires_at: expires});
        m.rememberHostToken(sessionStorage, created("r1", "2999-01-01T00:00:00.000Z"), "Quiz night");
        m.rememberHostToken(sessionStorage, created("r2", "2000-01-01T00:00:00.000Z"), "Old one");
        m.rememberHostToken(sessionStorage, created("r3", "2999-01-01T00:00:00.000Z"), "Third");
        const first = m.hostTokenFor(sessionStorage, "r1");
        const expired = m.hostTokenFor(sessionStorage, "r2");
        const stored = Object.keys(JSON.parse(sessionStorage.getItem(m.HOST_TOKENS_KEY))).sort();
        m.forgetHostToken(sessionStorage, "r3");
        const afterForget = Object.keys(m.hostTokens(sessionStorage)).sort();
        sessionStorage.setItem(m.HOST_TOKENS_KEY, "not json");
        const broken = m.hostTokens(sessionStorage);
        m.rememberHostToken(sessionStorage, created("r4", "2999-01-01T00:00:00.000Z"), "Fourth");
        m.forgetAllHostTokens(sessionStorage);
        return {first, expired, stored, afterForget, broken, cleared: sessionStorage.getItem(m.HOST_TOKENS_KEY)};""",
    )
    assert kept == {
        "first": {
            "speedrun_id": "r1",
            "host_token": "tok-r1",
            "ws_url": "/ws",
            "join_code": "ABC234",
            "expires_at": "2999-01-01T00:00:00.000Z",
            "name": "Quiz night",
        },
        "expired": None,
        "stored": ["r1", "r3"],
        "afterForget": ["r1"],
        "broken": {},
        "cleared": None,
    }


def test_each_run_row_offers_what_the_run_allows(page: Page) -> None:
    offered = run_module(
        page,
        "runs.js",
        """const row = (status, persisted, token) => {
            const item = {run_id: "r", name: "Quiz", status, persisted};
            return [m.runStatusText(item), m.runAction(item, token).kind];
        };
        return [
            row("lobby", false, true), row("lobby", false, false), row("running", false, true),
            row("running", false, false), row("completed", false, true), row("completed", false, false),
            row("completed", true, true), row("completed", true, false),
        ];""",
    )
    assert offered == [
        ["In the lobby", "reopen"],
        ["In the lobby", "elsewhere"],
        ["Running", "reopen"],
        ["Running", "elsewhere"],
        ["Finished — saving results…", "reopen"],
        ["Finished — saving results…", "wait"],
        ["Finished", "results"],
        ["Finished", "results"],
    ]


# ---------- protocol revision 2: the pages' message handling (host_state.js, play_state.js) ----------

HOST_RUN = """const run0 = m.newHostRun({speedrun_id: "r1", name: "Quiz", join_code: "ABC234", question_count: 3});
const apply = (run, messages) => messages.reduce((state, message) => m.applyHostMessage(state, message), run);
const names = (run) => Object.values(run.participants).map((who) => who.name);"""


def test_host_lobby_adds_every_participant_of_a_coalesced_join(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const run = apply(run0, [
            {type: "state", status: "lobby", name: "Quiz", question_count: 3, participant_count: 1,
             participants: [{participant_id: "p1", name: "Ada", connected: true, finished: false}], leaderboard: []},
            // revision 2: one message for three joins; the top-level fields are the latest of them
            {type: "participant_joined", participant_id: "p4", name: "Di", participant_count: 4,
             joined: [{participant_id: "p2", name: "Bo"}, {participant_id: "p3", name: "Cy"},
                      {participant_id: "p4", name: "Di"}]},
            // a join without the list is one join, as in revision 1
            {type: "participant_joined", participant_id: "p5", name: "Ed", participant_count: 5},
        ]);
        return {names: names(run), count: m.participantCount(run), status: run.status};""",
    )
    assert seen == {"names": ["Ada", "Bo", "Cy", "Di", "Ed"], "count": 5, "status": "lobby"}


def test_host_applies_every_entry_of_coalesced_answers_and_finishes_in_order(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        let run = apply(run0, [
            {type: "participant_joined", participant_id: "p1", name: "Ada", participant_count: 2,
             joined: [{participant_id: "p1", name: "Ada"}, {participant_id: "p2", name: "Bo"}]},
            {type: "started", started_at: "2026-12-01T10:00:00.000Z", ends_at: "2026-12-01T10:10:00.000Z",
                question_count: 2},
            {type: "participant_answered", participant_id: "p1", name: "Ada", index: 1, outcome: "incorrect",
                points: 0, score: 950,
             answered: [
                {participant_id: "p1", name: "Ada", index: 0, outcome: "correct", points: 950, score: 950},
                {participant_id: "p2", name: "Bo", index: 0, outcome: "timeout", points: 0, score: 0},
                {participant_id: "p1", name: "Ada", index: 1, outcome: "incorrect", points: 0, score: 950},
             ]},
            {type: "participant_finished", participant_id: "p1", name: "Ada", score: 950, elapsed_ms: 7000,
             finished: [{participant_id: "p1", name: "Ada", score: 950, elapsed_ms: 7000}]},
            // the same list shape with one participant ending up with a different score later in the list
            {type: "participant_answered", participant_id: "p2", name: "Bo", index: 1, outcome: "correct",
                points: 800, score: 800,
             answered: [{participant_id: "p2", name: "Bo", index: 1, outcome: "correct", points: 800, score: 800}]},
            {type: "participant_finished", participant_id: "p2", name: "Bo", score: 800, elapsed_ms: 21000},
        ]);
        const view = (id) => { const who = run.participants[id];
            return {answers: who.answers, score: who.score, answered: who.answered, finished: who.finished,
                elapsed_ms: who.elapsed_ms}; };
        return {status: run.status, ada: view("p1"), bo: view("p2")};""",
    )
    assert seen == {
        "status": "running",
        "ada": {
            "answers": {"0": "correct", "1": "incorrect"},
            "score": 950,
            "answered": 2,
            "finished": True,
            "elapsed_ms": 7000,
        },
        "bo": {
            "answers": {"0": "timeout", "1": "correct"},
            "score": 800,
            "answered": 2,
            "finished": True,
            "elapsed_ms": 21000,
        },
    }


def test_host_keeps_the_final_board_once_completed(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const entry = (rank, id, name, score) => ({rank, participant_id: id, name, score, answered: 3,
            elapsed_ms: 1000 * rank});
        const final = [entry(1, "p2", "Bo", 2000), entry(2, "p1", "Ada", 1500)];
        const completed = apply(run0, [
            {type: "started", started_at: 1, ends_at: 2, question_count: 3},
            {type: "completed", reason: "all_finished", completed_at: "2026-12-01T10:00:00.000Z",
                leaderboard: final, participant_count: 2},
        ]);
        const late = [
            {type: "leaderboard", entries: [entry(1, "p1", "Ada", 1500), entry(2, "p2", "Bo", 900)],
                participant_count: 2},
            {type: "started", started_at: 1, ends_at: 2, question_count: 3},
            // a `sync` reply taken before the run completed
            {type: "state", status: "running", name: "Quiz", question_count: 3, participant_count: 2,
             participants: [{participant_id: "p1", name: "Ada"}], leaderboard: [entry(1, "p1", "Ada", 100)]},
        ];
        const unchanged = late.map((message) => m.applyHostMessage(completed, message) === completed);
        const after = apply(completed, late);
        return {unchanged, status: after.status, reason: after.reason, board: after.leaderboard.map((e) => e.name),
                ranks: [after.participants.p1.rank, after.participants.p2.rank]};""",
    )
    assert seen == {
        "unchanged": [True, True, True],
        "status": "completed",
        "reason": "all_finished",
        "board": ["Bo", "Ada"],
        "ranks": [2, 1],
    }


def test_host_state_lists_cut_to_fit_and_kicks_are_not_undone_by_late_pushes(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        let run = apply(run0, [
            {type: "participant_joined", participant_id: "p3", name: "Cy", participant_count: 3,
             joined: [{participant_id: "p1", name: "Ada"}, {participant_id: "p2", name: "Bo"},
                 {participant_id: "p3", name: "Cy"}]},
            // a big run's snapshot lists only what fits: nobody it does not list has left
            {type: "state", status: "lobby", name: "Quiz", question_count: 3, participant_count: 3,
             participants: [{participant_id: "p1", name: "Ada", connected: false}], leaderboard: []},
        ]);
        const afterCut = {names: names(run), count: m.participantCount(run), adaOnline: run.participants.p1.connected};
        run = apply(run, [
            {type: "participant_left", participant_id: "p2", reason: "kicked"},
            // pushes sent before the kick, delivered after it
            {type: "participant_joined", participant_id: "p2", name: "Bo", participant_count: 3},
            {type: "participant_answered", participant_id: "p2", name: "Bo", index: 0, outcome: "correct",
                points: 900, score: 900},
        ]);
        const afterKick = {names: names(run), left: Object.keys(run.left)};
        // a whole list does tell who is gone
        run = m.applyHostMessage(run, {type: "state", status: "lobby", name: "Quiz", question_count: 3,
            participant_count: 1,
                                       participants: [{participant_id: "p3", name: "Cy"}], leaderboard: []});
        return {afterCut, afterKick, whole: {names: names(run), count: m.participantCount(run)}};""",
    )
    assert seen == {
        "afterCut": {"names": ["Ada", "Bo", "Cy"], "count": 3, "adaOnline": False},
        "afterKick": {"names": ["Ada", "Cy"], "left": ["p2"]},
        "whole": {"names": ["Cy"], "count": 1},
    }


def test_host_handles_a_revision_1_message_sequence(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const board = [{rank: 1, participant_id: "p1", name: "Ada", score: 980, answered: 1, elapsed_ms: 1200},
                       {rank: 2, participant_id: "p2", name: "Bo", score: 0, answered: 1, elapsed_ms: 5000}];
        const steps = [
            {type: "state", role: "host", status: "lobby", name: "Quiz", question_count: 1, participants: [],
                leaderboard: []},
            {type: "participant_joined", participant_id: "p1", name: "Ada", participant_count: 1},
            {type: "participant_joined", participant_id: "p2", name: "Bo", participant_count: 2},
            {type: "participant_joined", participant_id: "p3", name: "Cy", participant_count: 3},
            {type: "participant_left", participant_id: "p3", reason: "kicked"},
            {type: "started", started_at: "2026-12-01T10:00:00.000Z", ends_at: "2026-12-01T10:05:00.000Z",
                question_count: 1},
            {type: "participant_answered", participant_id: "p1", name: "Ada", index: 0, outcome: "correct",
                points: 980, score: 980},
            {type: "participant_finished", participant_id: "p1", name: "Ada", score: 980, elapsed_ms: 1200},
            {type: "participant_answered", participant_id: "p2", name: "Bo", index: 0, outcome: "incorrect",
                points: 0, score: 0},
            {type: "participant_finished", participant_id: "p2", name: "Bo", score: 0, elapsed_ms: 5000},
            {type: "leaderboard", entries: board},
            {type: "completed", reason: "all_finished", completed_at: "2026-12-01T10:00:06.000Z", leaderboard: board},
            {type: "results", speedrun_id: "r1", questions: [{index: 0, text: "Q",
                correct_answerers: [{participant_id: "p1", name: "Ada"}]}]},
            {type: "pong"},
            {type: "something_newer", x: 1},
        ];
        const statuses = [];
        let run = run0;
        for (const message of steps) { run = m.applyHostMessage(run, message); statuses.push(run.status); }
        const ada = run.participants.p1;
        return {statuses, names: names(run), count: m.participantCount(run), ada: [ada.answers, ada.finished,
            ada.score, ada.rank],
                board: run.leaderboard.map((e) => e.name), reason: run.reason, results: run.results.questions.length,
                untouched: m.applyHostMessage(run, {type: "pong"}) === run};""",
    )
    assert seen == {
        "statuses": ["lobby"] * 5 + ["running"] * 6 + ["completed"] * 4,
        "names": ["Ada", "Bo"],
        "count": 2,
        "ada": [{"0": "correct"}, True, 980, 1],
        "board": ["Ada", "Bo"],
        "reason": "all_finished",
        "results": 1,
        "untouched": True,
    }


PLAY = """const entry = (rank, id, name, score) => ({rank, participant_id: id, name, score, answered: 1,
    elapsed_ms: 1000 * rank});
const sent = [];
const step = (state, message) => {
    const {frames, state: next} = m.takeOutbox(m.applyPlayMessage(state, message));
    sent.push(...frames);
    return next;
};
const play = (state, messages) => messages.reduce(step, state);
const question = (index) => ({type: "question", index, category: "c", text: `Q${index}`, options: ["a", "b"],
                              select_count: 1, served_at: "2026-12-01T10:00:00.000Z", deadline: 1796119220000});
const running = (next_index, extra = {}) => ({type: "state", role: "participant", status: "running", name: "Quiz",
    question_count: 2, question_duration_s: 20, participant_id: "me", participants: 3, next_index, score: 0, rank: null,
    leaderboard: [], ...extra});
const s0 = m.initialPlayState({participantId: "me"});"""


def test_participant_lobby_shows_the_count_and_latest_names(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        let s = play(s0, [{type: "state", role: "participant", status: "lobby", name: "Quiz", question_count: 2,
                           participant_id: "me", participants: 2, next_index: 0, score: 0, leaderboard: []}]);
        const first = [s.screen, s.count, s.recent];
        const names = Array.from({length: 10}, (_, i) => `n${i + 3}`);
        s = step(s, {type: "lobby", participant_count: 12, recent: names});
        const lobby = [s.count, s.recent];
        // a revision-1 server: one participant_joined per join, to everyone
        s = play(s, [{type: "participant_joined", participant_id: "x", name: "Zed", participant_count: 13},
                     {type: "participant_joined", participant_id: "y", name: "Yo"}]);
        return {first, lobby, rev1: [s.count, s.recent.length, s.recent.slice(-2), s.recent[0]], screen: s.screen,
            sent};""",
    )
    names = [f"n{i}" for i in range(3, 13)]
    assert seen == {
        "first": ["lobby", 2, []],
        "lobby": [12, names],
        "rev1": [14, 10, ["Zed", "Yo"], "n5"],
        "screen": "lobby",
        "sent": [],
    }


def test_participant_board_follows_top_of_every_answer_result(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        let s = play(s0, [running(0), question(0)]);
        s = step(s, {type: "answer_result", index: 0, outcome: "correct", points: 900, score: 900, correct_options: [0],
                     finished: false, rank: 2, participant_count: 40,
                     top: [entry(1, "p1", "Ada", 990), entry(2, "me", "Me", 900)]});
        const first = {board: s.leaderboard.map((e) => e.name), rank: s.rank, count: s.count, score: s.score,
                       screen: s.screen, result: s.result.outcome};
        const next = m.takeOutbox(m.afterFeedback(s));
        sent.push(...next.frames);
        s = play(next.state, [question(1)]);
        s = step(s, {type: "answer_result", index: 1, outcome: "correct", points: 950, score: 1850,
            correct_options: [1],
                     finished: true, rank: 1, participant_count: 41,
                     top: [entry(1, "me", "Me", 1850), entry(2, "p1", "Ada", 990)]});
        const second = {board: s.leaderboard.map((e) => e.name), rank: s.rank, count: s.count, finished: s.finished};
        s = m.afterFeedback(s);
        // finished: pushed boards come again
        s = step(s, {type: "leaderboard", entries: [entry(1, "p1", "Ada", 1990), entry(2, "me", "Me", 1850)],
            participant_count: 41});
        return {first, second, waiting: [s.screen, s.rank, s.leaderboard[0].score], sent};""",
    )
    assert seen == {
        "first": {
            "board": ["Ada", "Me"],
            "rank": 2,
            "count": 40,
            "score": 900,
            "screen": "question",
            "result": "correct",
        },
        "second": {"board": ["Me", "Ada"], "rank": 1, "count": 41, "finished": True},
        "waiting": ["waiting", 2, 1990],
        "sent": [{"action": "question", "index": 0}, {"action": "question", "index": 1}],
    }


def test_participant_completed_before_its_last_answer_result(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const final = [entry(1, "me", "Me", 1900), entry(2, "p1", "Ada", 990)];
        let s = play(s0, [running(1, {score: 950}), question(1)]);
        // this answer completes the run, and `completed` overtakes its answer_result
        s = step(s, {type: "completed", reason: "all_finished", completed_at: "2026-12-01T10:00:09.000Z",
            leaderboard: final});
        const atCompleted = {status: s.status, screen: s.screen, board: s.leaderboard.map((e) => e.name), rank: s.rank};
        s = step(s, {type: "answer_result", index: 1, outcome: "correct", points: 950, score: 1900,
            correct_options: [0],
                     finished: true, rank: 1, participant_count: 2, top: [entry(1, "p1", "Ada", 990)]});
        const afterResult = {status: s.status, screen: s.screen, result: s.result, answer: s.answers[1], score: s.score,
                             board: s.leaderboard.map((e) => e.name)};
        s = step(s, {type: "results", speedrun_id: "r1", questions: [], score: 1900, rank: 1, elapsed_ms: 9000});
        const shown = s.screen;
        // one more late reply: still the results
        s = step(s, {type: "answer_result", index: 1, outcome: "correct", points: 950, score: 1900, finished: true,
            rank: 1});
        s = step(s, {type: "completed", reason: "all_finished", completed_at: "2026-12-01T10:00:09.000Z",
            leaderboard: final});
        return {atCompleted, afterResult, shown, end: [s.screen, s.status, s.score], sent};""",
    )
    assert seen == {
        "atCompleted": {"status": "completed", "screen": "question", "board": ["Me", "Ada"], "rank": 1},
        "afterResult": {
            "status": "completed",
            "screen": "question",
            "result": None,
            "answer": {"outcome": "correct", "points": 950, "score": 1900},
            "score": 1900,
            "board": ["Me", "Ada"],
        },
        "shown": "results",
        "end": ["results", "completed", 1900],
        # asked once for results: neither the late answer_result nor a second `completed` asks again
        "sent": [{"action": "question", "index": 1}, {"action": "results"}],
    }


def test_participant_ignores_boards_and_snapshots_older_than_completed(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const final = [entry(1, "p1", "Ada", 1990), entry(2, "me", "Me", 1850)];
        let s = play(s0, [running(2, {finished: true}),
                          {type: "completed", reason: "deadline", completed_at: "2026-12-01T10:00:09.000Z",
                              leaderboard: final}]);
        const stale = [
            {type: "leaderboard", entries: [entry(1, "me", "Me", 1850)], participant_count: 2},
            running(1),
            {type: "started", started_at: 1, ends_at: 2, question_count: 2},
            question(1),
        ];
        const unchanged = stale.map((message) => m.applyPlayMessage(s, message) === s);
        s = play(s, stale);
        return {unchanged, board: s.leaderboard.map((e) => e.name), rank: s.rank, status: s.status,
            screen: s.screen, sent};""",
    )
    assert seen == {
        "unchanged": [True, True, True, True],
        "board": ["Ada", "Me"],
        "rank": 2,
        "status": "completed",
        "screen": "waiting",
        "sent": [{"action": "results"}],
    }


def test_participant_shows_only_the_question_it_asked_for(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        let s = play(s0, [running(0)]);
        // `started` after the sync reply already asked for question 0: not asked twice
        s = step(s, {type: "started", started_at: "2026-12-01T10:00:00.000Z", ends_at: 2, question_count: 2});
        const ignored = m.applyPlayMessage(s, question(1)) === s;
        s = play(s, [question(0)]);
        const shown = [s.screen, s.question.index];
        const again = {...question(0), deadline: 1796119220000};
        const reserved = m.applyPlayMessage(s, again);
        s = step(s, {type: "answer_result", index: 0, outcome: "incorrect", points: 0, score: 0, correct_options: [1],
                     finished: false, rank: 3});
        // a question served again after it was answered does not hide the feedback
        const afterAnswer = m.applyPlayMessage(s, question(0)) === s;
        // a sync reply while the feedback is on screen keeps it there (the page asks on "Next")
        const synced = step(s, running(1));
        return {ignored, shown, reserved: [reserved.question === again, reserved.screen], afterAnswer,
                synced: [synced.screen, synced.question.index, synced.result.outcome], sent};""",
    )
    assert seen == {
        "ignored": True,
        "shown": ["question", 0],
        "reserved": [True, "question"],
        "afterAnswer": True,
        "synced": ["question", 0, "incorrect"],
        "sent": [{"action": "question", "index": 0}],
    }


def test_participant_handles_a_revision_1_message_sequence(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const screens = [];
        let s = s0;
        const steps = [
            {type: "state", role: "participant", status: "lobby", name: "Quiz", question_count: 2,
                question_duration_s: 20,
             participant_id: "me", participants: 1, next_index: 0, score: 0, rank: null, leaderboard: []},
            {type: "participant_joined", participant_id: "p1", name: "Ada", participant_count: 2},
            {type: "started", started_at: "2026-12-01T10:00:00.000Z", ends_at: "2026-12-01T10:05:00.000Z",
             question_count: 2, question_duration_s: 20},
            question(0),
            {type: "answer_result", index: 0, outcome: "correct", points: 990, score: 990, correct_options: [0],
             finished: false, rank: 1},
            "next",
            question(1),
            {type: "leaderboard", entries: [entry(1, "me", "Me", 990), entry(2, "p1", "Ada", 500)]},
            {type: "timeout"},
            {type: "answer_result", index: 1, outcome: "timeout", points: 0, score: 990, correct_options: [1],
             finished: true, rank: 1},
            "next",
            {type: "participant_left", participant_id: "p1", reason: "kicked"},
            {type: "completed", reason: "all_finished", completed_at: "2026-12-01T10:00:30.000Z",
             leaderboard: [entry(1, "me", "Me", 990)]},
            {type: "results", speedrun_id: "r1", questions: [{index: 0}, {index: 1}], score: 990, rank: 1,
                elapsed_ms: 21000},
        ];
        for (const message of steps) {
            s = message === "next" ? (() => { const {frames,
                state} = m.takeOutbox(m.afterFeedback(s)); sent.push(...frames); return state; })()
                                   : step(s, message);
            screens.push(s.screen);
        }
        const removed = m.applyPlayMessage(s, {type: "participant_left", participant_id: "me",
            reason: "kicked"}).removed;
        return {screens, count: s.count, score: s.score, rank: s.rank, board: s.leaderboard.length, answers: s.answers,
                sent, removed, results: s.results.questions.length};""",
    )
    assert seen == {
        "screens": ["lobby"] * 3 + ["question"] * 7 + ["waiting"] * 3 + ["results"],
        "count": 2,
        "score": 990,
        "rank": 1,
        "board": 1,
        "answers": {
            "0": {"outcome": "correct", "points": 990, "score": 990},
            "1": {"outcome": "timeout", "points": 0, "score": 990},
        },
        "sent": [{"action": "question", "index": 0}, {"action": "question", "index": 1}, {"action": "results"}],
        "removed": True,
        "results": 2,
    }


def test_latest_joiners_render_as_text(page: Page) -> None:
    seen = run_module(
        page,
        "views.js",
        """const list = document.createElement("ul");
        m.renderRecentNames(list, ["Ada", "<b>Bo</b>"]);
        const first = [...list.children].map((li) => [li.className, li.textContent]);
        m.renderRecentNames(list, []);
        return {first, html: list.innerHTML, bold: list.querySelectorAll("b").length};""",
    )
    assert seen == {"first": [["tag", "Ada"], ["tag", "<b>Bo</b>"]], "html": "", "bold": 0}


# ---------- what the pages decide before they draw (format.js, connection.js, host_forms.js, ...) ----------


def test_points_times_ranks_and_lists_format_for_the_screen(page: Page) -> None:
    seen = run_module(
        page,
        "format.js",
        """return {
            points: [m.formatPoints(null), m.formatPoints(950), m.formatPoints("12")],
            elapsed: [m.formatElapsed(null), m.formatElapsed(undefined), m.formatElapsed(1234), m.formatElapsed(0)],
            ranks: [m.formatRank(null), m.formatRank(undefined), m.formatRank(3)],
            categories: [m.formatCategories({geography: 2, science: 1}), m.formatCategories(null)],
            timestamps: [m.formatTimestamp(""), m.formatTimestamp(null),
                         m.formatTimestamp("2026-12-01T10:00:00.000Z") === new Date("2026-12-01T10:00:00.000Z")
                             .toLocaleString()],
            marks: ["correct", "incorrect", "timeout", undefined, "new"].map(m.outcomeMark),
        };""",
    )
    assert seen == {
        "points": ["0", "950", "12"],
        "elapsed": ["—", "—", "1.2 s", "0.0 s"],
        "ranks": [EN_DASH, EN_DASH, 3],
        "categories": ["geography (2), science (1)", ""],
        "timestamps": ["", "", True],
        "marks": ["✓", "✗", "⏱", "", ""],
    }


def test_server_clock_reads_the_time_each_message_type_carries(page: Page) -> None:
    offsets = run_module(
        page,
        "clock.js",
        """sessionStorage.clear();
        const clock = new m.ServerClock();
        const seen = [];
        clock.observeMessage({type: "state", served_at: 99_000}, 1_000);     // a snapshot carries none
        seen.push(clock.offsetMs);
        clock.observeMessage({type: "question", served_at: 1_500}, 1_000);
        seen.push(clock.offsetMs);
        clock.observeMessage({type: "message", sent_at: 3_000}, 1_000);
        seen.push(clock.offsetMs);
        clock.observeMessage({type: "started", started_at: 5_000}, 1_000);
        seen.push(clock.offsetMs);
        clock.observeMessage({type: "completed", completed_at: 8_000}, 1_000);
        seen.push(clock.offsetMs);
        clock.observeMessage({type: "error", completed_at: 99_000}, 1_000);
        seen.push(clock.offsetMs);
        return seen;""",
    )
    assert offsets == [None, 500, 2000, 4000, 7000, 7000]


def test_connection_badge_and_notice_follow_the_socket_status(page: Page) -> None:
    seen = run_module(
        page,
        "connection.js",
        """const status = (state, failures) => ({state, failures});
        const statuses = [status("connecting", 0), status("open", 0), status("reconnecting", 1),
                          status("reconnecting", 3), status("reconnecting", 6), status("closed", 6),
                          status("weird", 0)];
        return {
            labels: statuses.map(m.connectionLabel),
            notices: statuses.map((s) => m.connectionNotice(s, "gone")),
            refused: [1, 2, 3, 4, 6].map((failures) => m.mayBeRefused(status("reconnecting", failures)))
                .concat(m.mayBeRefused(status("connecting", 3))),
        };""",
    )
    lost = {"text": "Connection lost — reconnecting…", "tone": "warn", "unreachable": False}
    assert seen == {
        "labels": [
            "Connecting…",
            "Live",
            "Reconnecting…",
            "Reconnecting (attempt 4)…",
            "Reconnecting (attempt 7)…",
            "Offline",
            "weird",
        ],
        "notices": [
            None,
            {"text": "", "tone": "info", "unreachable": False},
            lost,
            lost,
            {"text": "gone", "tone": "error", "unreachable": True},
            None,
            None,
        ],
        "refused": [False, False, True, False, False, False],
    }


def test_upload_is_checked_before_sending_and_refusals_list_every_problem(page: Page) -> None:
    seen = run_module(
        page,
        "host_forms.js",
        """return {
            before: [m.uploadProblem(undefined), m.uploadProblem({size: m.MAX_UPLOAD_BYTES + 1}),
                     m.uploadProblem({size: m.MAX_UPLOAD_BYTES})],
            tooLarge: m.refusedUpload({status: 413, message: "Payload Too Large"}),
            listed: m.refusedUpload({status: 400, message: "The question set is invalid.", details: [
                {question: 1, field: "options", reason: "needs at least 2"},
                {line: 4, reason: "bad CSV"},
                {sheet: "Geo", row: 3, field: "question", reason: "must not be empty"},
                {field: "name", message: "too long"},
                "plain text",
                {code: "x"},
            ]}),
            single: m.refusedUpload({status: 400, message: "Bad", details: {line: 2, msg: "empty"}}),
            none: m.refusedUpload({status: 400, message: "Bad"}),
            other: [m.refusedUpload({status: 500, message: "boom"}), m.refusedUpload(new TypeError("x"))],
        };""",
    )
    assert seen == {
        "before": ["Choose a question set file (JSON, CSV or .xlsx).", "The file is larger than 4 MiB.", None],
        "tooLarge": {"message": "The file is too large (4 MiB at most).", "problems": []},
        "listed": {
            "message": "The question set is invalid.",
            "problems": [
                "question 1, options: needs at least 2",
                "line 4: bad CSV",
                "sheet Geo, row 3, question: must not be empty",
                "name: too long",
                "plain text",
                '{"code":"x"}',
            ],
        },
        "single": {"message": "Bad", "problems": ["line 2: empty"]},
        "none": {"message": "Bad", "problems": []},
        "other": [None, None],
    }


def test_create_run_form_is_checked_and_becomes_the_sign_on_request(page: Page) -> None:
    seen = run_module(
        page,
        "host_forms.js",
        """const set = {id: "s1", name: "Geo", categories: {geography: 8, science: 4}};
        const form = (changes) => ({set, setId: "s1", name: "", questionCount: "10", maxQuestions: "12",
            questionDuration: "20", minutes: "", maxParticipants: "", categories: ["geography", "science"],
            shuffle: false, chat: true, ...changes});
        return {
            fine: m.createRunRequest(form({})),
            full: m.createRunRequest(form({name: "  Friday quiz ", minutes: "1.5", maxParticipants: "50",
                                           categories: ["science"], questionCount: "4", shuffle: true})),
            noSet: m.createRunRequest(form({set: undefined, setId: "", categories: []})),
            bad: m.createRunRequest(form({categories: [], questionCount: "13", questionDuration: "4",
                                          minutes: "121"})),
            edges: [m.createRunRequest(form({questionCount: "2.5"})).problem,
                    m.createRunRequest(form({questionDuration: "301"})).problem,
                    m.createRunRequest(form({minutes: "0.4"})).problem,
                    m.createRunRequest(form({questionCount: "12", questionDuration: "300", minutes: "120"})).problem],
            // accuracy scoring says whether ties go by speed; untimed questions send null and need accuracy
            accuracy: m.createRunRequest(form({scoring: "accuracy", speedTiebreak: false,
                                               showExplanations: true})).body,
            untimed: m.createRunRequest(form({scoring: "accuracy", speedTiebreak: true, untimed: true,
                                              questionDuration: "4"})).body,
            untimedSpeed: m.createRunRequest(form({scoring: "speed", untimed: true})).problem,
            controls: [m.scoringControls({scoring: "speed", untimed: false}),
                       m.scoringControls({scoring: "speed", untimed: true}),
                       m.scoringControls({scoring: "accuracy", untimed: false})],
            countField: [m.questionCountField(12, ""), m.questionCountField(12, "5"), m.questionCountField(4, "5"),
                         m.questionCountField(0, "5")],
        };""",
    )
    assert seen == {
        "fine": {
            "body": {
                "question_set_id": "s1",
                "question_count": 10,
                "question_duration_s": 20,
                "shuffle": False,
                "chat": True,
                "scoring": "speed",
                "show_explanations": False,
            },
            "runName": "Geo",
        },
        "full": {
            "body": {
                "question_set_id": "s1",
                "question_count": 4,
                "question_duration_s": 20,
                "name": "Friday quiz",
                "categories": ["science"],
                "duration_s": 90,
                "max_participants": 50,
                "shuffle": True,
                "chat": True,
                "scoring": "speed",
                "show_explanations": False,
            },
            "runName": "Friday quiz",
        },
        "noSet": {"problem": "Please fix: pick a question set."},
        "bad": {
            "problem": "Please fix: pick at least one category; number of questions must be 1..12; seconds per "
            "question must be 5..300; time limit must be 0.5..120 minutes."
        },
        "edges": [
            "Please fix: number of questions must be 1..12.",
            "Please fix: seconds per question must be 5..300.",
            "Please fix: time limit must be 0.5..120 minutes.",
            None,
        ],
        "countField": [
            {"max": "12", "value": "10", "help": "12 available in the chosen categories"},
            {"max": "12", "value": "5", "help": "12 available in the chosen categories"},
            {"max": "4", "value": "4", "help": "4 available in the chosen categories"},
            {"max": "1", "value": "", "help": ""},
        ],
        "accuracy": {
            "question_set_id": "s1",
            "question_count": 10,
            "question_duration_s": 20,
            "shuffle": False,
            "chat": True,
            "scoring": "accuracy",
            "speed_tiebreak": False,
            "show_explanations": True,
        },
        "untimed": {
            "question_set_id": "s1",
            "question_count": 10,
            "question_duration_s": None,
            "shuffle": False,
            "chat": True,
            "scoring": "accuracy",
            "speed_tiebreak": True,
            "show_explanations": False,
        },
        "untimedSpeed": "Please fix: untimed questions need accuracy scoring.",
        "controls": [
            {"scoring": "speed", "speedDisabled": False, "tiebreakShown": False, "durationDisabled": False},
            {"scoring": "accuracy", "speedDisabled": True, "tiebreakShown": True, "durationDisabled": True},
            {"scoring": "accuracy", "speedDisabled": False, "tiebreakShown": True, "durationDisabled": False},
        ],
    }


def test_each_run_row_says_what_it_offers_and_names_the_run(page: Page) -> None:
    offered = run_module(
        page,
        "runs.js",
        """const item = (status, persisted) => ({run_id: "r", name: "Quiz", status, persisted});
        return [m.runAction(item("running", false), true), m.runAction(item("completed", false), true),
                m.runAction(item("completed", true), false), m.runAction(item("completed", false), false),
                m.runAction(item("lobby", false), false)];""",
    )
    assert offered == [
        {"kind": "reopen", "label": "Reopen", "ariaLabel": "Reopen Quiz"},
        {"kind": "reopen", "label": "Open", "ariaLabel": "Open Quiz"},
        {"kind": "results", "label": "Results", "ariaLabel": "Results of Quiz"},
        {"kind": "wait", "label": "Results soon"},
        {"kind": "elsewhere", "label": "Opened in another tab"},
    ]


def test_host_runs_from_sign_on_the_run_list_and_durable_results(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        """const created = m.createdRun({speedrun_id: "r1", host_token: "t", ws_url: "/ws", join_code: "ABC234",
                                         expires_at: "2999-01-01T00:00:00Z"}, "Quiz", 5);
        const held = {speedrun_id: "r2", host_token: "t2", ws_url: "/ws", join_code: "XYZ789", name: "Old name"};
        const reopened = m.reopenedRun({run_id: "r2", name: "", question_count: 3, participant_count: 7,
                                        status: "running"}, held);
        const board = [{rank: 1, participant_id: "p1", name: "Ada", score: 900, answered: 2, elapsed_ms: 3000}];
        const persisted = m.persistedRun({run_id: "r3", name: "Done", join_code: "QQQ222", question_count: 9,
                                          completion_reason: "deadline"},
                                         {questions: [{index: 0}, {index: 1}], leaderboard: board});
        const pick = (run, keys) => Object.fromEntries(keys.map((key) => [key, run[key]]));
        return {
            created: pick(created, ["speedrun_id", "host_token", "name", "question_count", "status", "participants"]),
            reopened: pick(reopened, ["speedrun_id", "host_token", "name", "question_count", "participant_count",
                                      "status"]),
            persisted: {...pick(persisted, ["speedrun_id", "name", "join_code", "question_count", "status", "reason"]),
                        board: persisted.leaderboard.map((e) => e.name), adaRank: persisted.participants.p1.rank,
                        questions: persisted.results.questions.length},
            noQuestions: m.persistedRun({run_id: "r4", question_count: 9}, {}).question_count,
        };""",
    )
    assert seen == {
        "created": {
            "speedrun_id": "r1",
            "host_token": "t",
            "name": "Quiz",
            "question_count": 5,
            "status": "lobby",
            "participants": {},
        },
        "reopened": {
            "speedrun_id": "r2",
            "host_token": "t2",
            "name": "Old name",
            "question_count": 3,
            "participant_count": 7,
            "status": "running",
        },
        "persisted": {
            "speedrun_id": "r3",
            "name": "Done",
            "join_code": "QQQ222",
            "question_count": 2,
            "status": "completed",
            "reason": "deadline",
            "board": ["Ada"],
            "adaRank": 1,
            "questions": 2,
        },
        "noQuestions": 9,
    }


def test_host_page_redraws_asks_for_results_and_stops_when_the_run_says_so(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const after = (run, message) => {
            const next = m.applyHostMessage(run, message);
            return [next, m.afterHostMessage(run, next, message)];
        };
        const lobby = {type: "state", status: "lobby", name: "Quiz", question_count: 3, participants: [],
                       leaderboard: []};
        const [inLobby, first] = after(run0, lobby);
        const [, again] = after(inLobby, lobby);   // a `state` reply always redraws
        const [, pong] = after(inLobby, {type: "pong"});
        const [done, completed] = after(inLobby, {type: "completed", reason: "host_ended", leaderboard: []});
        const [, lateBoard] = after(done, {type: "leaderboard", entries: []});
        const [, completedSync] = after(done, {...lobby, status: "completed"});
        const [withResults, results] = after(done, {type: "results", questions: []});
        const [, syncAfterResults] = after(withResults, {...lobby, status: "completed"});
        return {first, again, pong, completed, lateBoard, completedSync, results, syncAfterResults,
                errors: [m.hostErrorReaction({code: "forbidden", message: "No chat"}, "message"),
                         m.hostErrorReaction({code: "forbidden"}, "message"),
                         m.hostErrorReaction({code: "not_running", message: "Not yet"}, "results"),
                         m.hostErrorReaction({code: "not_running", message: "Not yet"}, "start"),
                         m.hostErrorReaction({code: "bad_request"}, undefined)]};""",
    )
    quiet = {"redraw": False, "askResults": False, "done": False}
    assert seen == {
        "first": {"redraw": True, "askResults": False, "done": False},
        "again": {"redraw": True, "askResults": False, "done": False},
        "pong": quiet,
        "completed": {"redraw": True, "askResults": True, "done": False},
        "lateBoard": quiet,
        "completedSync": {"redraw": True, "askResults": True, "done": False},
        "results": {"redraw": True, "askResults": False, "done": True},
        "syncAfterResults": {"redraw": True, "askResults": False, "done": False},
        "errors": [
            {"to": "chat", "text": "No chat"},
            {"to": "chat", "text": "forbidden"},
            None,
            {"to": "notice", "text": "start: Not yet"},
            {"to": "notice", "text": "bad_request"},
        ],
    }


def test_host_screens_show_rows_by_rank_the_join_link_and_the_review(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const run = apply(run0, [
            {type: "participant_joined", participant_id: "p1", name: "Ada", participant_count: 3,
             joined: [{participant_id: "p1", name: "Ada"}, {participant_id: "p2", name: "Bo"},
                      {participant_id: "p3", name: "Cy"}]},
            {type: "started", started_at: 1, ends_at: 2, question_count: 3},
            {type: "participant_answered", participant_id: "p2", name: "Bo", index: 0, outcome: "correct",
             points: 900, score: 900},
            {type: "participant_answered", participant_id: "p2", name: "Bo", index: 2, outcome: "timeout",
             points: 0, score: 900},
            {type: "leaderboard", participant_count: 2, entries: [
                {rank: 1, participant_id: "p2", name: "Bo", score: 900, answered: 2, elapsed_ms: 1},
                {rank: 2, participant_id: "p3", name: "Cy", score: 0, answered: 3, elapsed_ms: 1}]},
        ]);
        return {
            rows: m.liveRows(run).map((row) => [row.who.name, row.answered, row.percent, row.outcomes]),
            empty: m.liveRows(m.newHostRun({question_count: 0, participants: {x: {name: "X", answers: {}}}}))
                .map((row) => row.percent),
            shown: [m.participantCount(run), m.shownCount(run)],
            link: m.joinLink({join_code: "AB C/1"}, "https://quiz.example.com/app/index.html?x=1"),
            reasons: ["all_finished", "deadline", "host_ended", undefined].map(m.completionText),
            review: m.resultsReview([
                {text: "Q1", options: ["a", "b", "c"], correct_options: [0, 2],
                 correct_answerers: [{name: "Ada"}, {name: "Bo"}]},
                {text: "Q2", options: ["a"], correct_options: [0], correct_answerers: []},
            ]),
        };""",
    )
    assert seen == {
        "rows": [
            ["Bo", 2, 67, ["correct", None, "timeout"]],
            ["Cy", 3, 100, [None, None, None]],
            ["Ada", 0, 0, [None, None, None]],
        ],
        "empty": [0],
        "shown": [2, 3],
        "link": "https://quiz.example.com/app/play.html?code=AB%20C%2F1",
        "reasons": [
            "Everyone finished.",
            "The time limit was reached.",
            "You ended the run.",
            "The speed-run is over.",
        ],
        "review": [
            {
                "number": 1,
                "text": "Q1",
                "type": "choice",
                "typeLabel": "Multiple choice",
                "answer": "Answer: a, c",
                "who": "Correct: Ada, Bo",
                "bars": None,
                "values": None,
            },
            {
                "number": 2,
                "text": "Q2",
                "type": "choice",
                "typeLabel": "Multiple choice",
                "answer": "Answer: a",
                "who": "Correct: nobody",
                "bars": None,
                "values": None,
            },
        ],
    }


def test_host_tracks_extra_time_and_the_run_options(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const lobbyState = {type: "state", status: "lobby", name: "Quiz", question_count: 3, participant_count: 2,
            scoring: "accuracy", speed_tiebreak: false, show_explanations: true, question_duration_s: null,
            participants: [{participant_id: "p1", name: "Ada", extra_time: 2}, {participant_id: "p2", name: "Bo"}],
            leaderboard: []};
        const run = m.applyHostMessage(run0, lobbyState);
        const granted = m.applyHostMessage(run, {type: "extra_time", participant_id: "p2", multiplier: 1.5});
        // a reply about someone this page does not list (cut from a big run's list) changes nothing
        const unknown = m.applyHostMessage(granted, {type: "extra_time", participant_id: "p9", multiplier: 2});
        const joined = m.applyHostMessage(granted, {type: "participant_joined", participant_id: "p3", name: "Cy",
            participant_count: 3});
        // a snapshot entry without extra_time keeps what the reply said; one with it sets it
        const resynced = m.applyHostMessage(granted, {...lobbyState, participants: [{participant_id: "p2", name: "Bo"},
            {participant_id: "p1", name: "Ada", extra_time: 1}]});
        const started = m.applyHostMessage(m.newHostRun({name: "Q"}), {type: "started", started_at: 1, ends_at: 2,
            question_count: 3, scoring: "speed", speed_tiebreak: true, show_explanations: false,
            question_duration_s: 20});
        return {
            lobby: [run.participants.p1.extra_time, run.participants.p2.extra_time, run.options,
                    m.runOptionsText(run.options)],
            granted: [granted.participants.p2.extra_time, granted.participants.p1.extra_time],
            unknown: [unknown === granted, Object.keys(unknown.participants)],
            newcomer: joined.participants.p3.extra_time,
            resynced: [resynced.participants.p2.extra_time, resynced.participants.p1.extra_time],
            started: [started.options, m.runOptionsText(started.options)],
            texts: [m.runOptionsText(undefined), m.runOptionsText({scoring: "accuracy", speed_tiebreak: true,
                question_duration_s: 30, show_explanations: false}), m.runOptionsText({scoring: "speed"})],
            badge: [1, 1.5, 2, 3, undefined].map(m.extraTimeText),
            choices: [m.extraTimeChoices(1.5), m.extraTimeChoices(2.5).map((choice) => choice.multiplier)],
            action: m.extraTimeAction("p2", 3),
        };""",
    )
    assert seen == {
        "lobby": [
            2,
            1,
            {"scoring": "accuracy", "speed_tiebreak": False, "show_explanations": True, "question_duration_s": None},
            "Accuracy scoring, ties by join order · untimed questions · explanations shown.",
        ],
        "granted": [1.5, 2],
        "unknown": [True, ["p1", "p2"]],
        "newcomer": 1,
        "resynced": [1.5, 1],
        "started": [
            {"scoring": "speed", "speed_tiebreak": True, "show_explanations": False, "question_duration_s": 20},
            "Speed scoring · 20 s per question.",
        ],
        "texts": ["", "Accuracy scoring, ties broken by speed · 30 s per question.", "Speed scoring."],
        "badge": ["", f"1.5{TIMES} time", f"2{TIMES} time", f"3{TIMES} time", ""],
        "choices": [
            [
                {"multiplier": 1, "label": f"1{TIMES} (no extra time)", "current": False},
                {"multiplier": 1.5, "label": f"1.5{TIMES}", "current": True},
                {"multiplier": 2, "label": f"2{TIMES}", "current": False},
                {"multiplier": 3, "label": f"3{TIMES}", "current": False},
            ],
            [1, 1.5, 2, 2.5, 3],
        ],
        "action": {"action": "extra_time", "participant_id": "p2", "multiplier": 3},
    }


def test_host_results_read_each_question_by_its_type(page: Page) -> None:
    seen = run_module(
        page,
        "host_state.js",
        HOST_RUN
        + """
        const [ada, bo, cy] = ["Ada", "Bo", "Cy"].map((name, at) => ({participant_id: `p${at + 1}`, name}));
        const none = {correct_answerers: [], incorrect_answerers: [], timeout_answerers: [], answered_answerers: [],
                      option_counts: null, values: null};
        const review = m.resultsReview([
            {...none, index: 0, type: "true_false", text: "Sky is blue", options: ["True", "False"],
             correct_options: [0], option_counts: [2, 1], correct_answerers: [ada, bo], incorrect_answerers: [cy]},
            {...none, index: 1, type: "poll", text: "Best pet?", options: ["Cat", "Dog", "Fish"], correct_options: [],
             option_counts: [1, 2, 0], answered_answerers: [ada, bo, cy]},
            {...none, index: 2, type: "numeric", text: "Pi to two places", options: [], correct_options: [],
             correct_value: 3.14, tolerance: 0.01, values: [3.13, 4, 3.15], correct_answerers: [ada, bo],
             incorrect_answerers: [cy]},
            {...none, index: 3, type: "order", text: "Smallest first", options: ["ten", "one", "five"],
             correct_options: [1, 2, 0], correct_answerers: [bo]},
            {...none, index: 4, type: "numeric", text: "Nobody", options: [], correct_options: [], correct_value: 7,
             tolerance: 0, values: []},
        ]);
        const rounded = (summary) => summary && {...summary, bins: summary.bins.map((bin) =>
            [Math.round(bin.from * 100) / 100, Math.round(bin.to * 100) / 100, bin.count, bin.correct])};
        // a poll's answers count as answered in the live table (never as wrong)
        const live = apply(run0, [
            {type: "participant_joined", participant_id: "p1", name: "Ada", participant_count: 1},
            {type: "started", started_at: 1, ends_at: 2, question_count: 3},
            {type: "participant_answered", participant_id: "p1", name: "Ada", index: 0, outcome: "answered",
             points: 0, score: 0},
        ]);
        const row = m.liveRows(live)[0];
        return {
            review: review.map((question) => ({...question, values: rounded(question.values)})),
            summaries: [rounded(m.valuesSummary([10, 1, 3, 2])), rounded(m.valuesSummary([5, 5], 5, 0)),
                        m.valuesSummary(null), m.valuesSummary([])],
            live: [row.answered, row.outcomes],
            number: [m.formatNumber(1234.5), m.formatNumber(0.1 + 0.2)],
        };""",
    )
    assert seen["review"] == [
        {
            "number": 1,
            "text": "Sky is blue",
            "type": "true_false",
            "typeLabel": "True or false",
            "answer": "Answer: True",
            "who": "Correct: Ada, Bo",
            "bars": [
                {"label": "True", "count": 2, "percent": 67, "correct": True},
                {"label": "False", "count": 1, "percent": 33, "correct": False},
            ],
            "values": None,
        },
        {
            "number": 2,
            "text": "Best pet?",
            "type": "poll",
            "typeLabel": "Poll",
            "answer": "A poll: no right or wrong answer.",
            "who": "Answered: Ada, Bo, Cy",
            "bars": [
                {"label": "Cat", "count": 1, "percent": 33, "correct": False},
                {"label": "Dog", "count": 2, "percent": 67, "correct": False},
                {"label": "Fish", "count": 0, "percent": 0, "correct": False},
            ],
            "values": None,
        },
        {
            "number": 3,
            "text": "Pi to two places",
            "type": "numeric",
            "typeLabel": "Number",
            "answer": "Answer: 3.14 ± 0.01",
            "who": "Correct: Ada, Bo",
            "bars": None,
            # three values: three equal bins from min to max; the first reaches 3.14 ± 0.01
            "values": {
                "count": 3,
                "min": 3.13,
                "median": 3.15,
                "max": 4,
                "bins": [[3.13, 3.42, 2, True], [3.42, 3.71, 0, False], [3.71, 4, 1, False]],
            },
        },
        {
            "number": 4,
            "text": "Smallest first",
            "type": "order",
            "typeLabel": "Put in order",
            "answer": "Correct order: one → five → ten",
            "who": "Correct: Bo",
            "bars": None,
            "values": None,
        },
        {
            "number": 5,
            "text": "Nobody",
            "type": "numeric",
            "typeLabel": "Number",
            "answer": "Answer: 7",
            "who": "Correct: nobody",
            "bars": None,
            "values": None,
        },
    ]
    assert seen["summaries"] == [
        {
            "count": 4,
            "min": 1,
            "median": 2.5,
            "max": 10,
            "bins": [[1, 4, 3, False], [4, 7, 0, False], [7, 10, 1, False]],
        },
        {"count": 2, "min": 5, "median": 5, "max": 5, "bins": [[5, 5, 2, True]]},
        None,
        None,
    ]
    assert seen["live"] == [1, ["answered", None, None]]
    assert seen["number"] == ["1,234.5", "0.3"]


def test_host_results_screen_draws_the_podium_and_each_question_by_type(page: Page, web_origin: str) -> None:
    browser = page.context.browser
    assert browser is not None
    host_page = browser.new_page()  # the host page's markup (its script finds no config.json here and stops)
    host_page.goto(f"{web_origin}/index.html")
    seen = host_page.evaluate(
        """async () => {
        const render = await import('/js/host_render.js');
        const state = await import('/js/host_state.js');
        const [ada, bo] = ["Ada", "Bo"].map((name, at) => ({participant_id: `p${at + 1}`, name}));
        const none = {correct_answerers: [], incorrect_answerers: [], timeout_answerers: [], answered_answerers: [],
                      option_counts: null, values: null};
        const board = [{rank: 1, participant_id: "p2", name: "Bo", score: 2000, answered: 2, elapsed_ms: 9000},
                       {rank: 2, participant_id: "p1", name: "Ada", score: 1000, answered: 2, elapsed_ms: 5000}];
        const run = state.withResults(state.newHostRun({name: "Quiz", join_code: "ABC234", question_count: 2}), {
            leaderboard: board, questions: [
                {...none, index: 0, type: "poll", text: "<b>Best pet?</b>", options: ["Cat", "Dog"],
                 correct_options: [], option_counts: [0, 2], answered_answerers: [ada, bo]},
                {...none, index: 1, type: "numeric", text: "Legs of a spider", options: [], correct_options: [],
                 correct_value: 8, tolerance: 0, values: [6, 8], correct_answerers: [bo],
                 incorrect_answerers: [ada]}]});
        render.renderResults(run);
        const items = [...document.querySelectorAll("#results-questions > li")];
        return {
            podium: [document.getElementById("results-podium").hidden,
                     [...document.querySelectorAll("#results-podium .podium-name")].map((node) => node.textContent)],
            screen: document.body.dataset.screen,
            items: items.map((item) => [item.dataset.type, item.querySelector(".question-type").textContent,
                item.querySelector(".review-text b"), item.querySelector(".review-text").textContent]),
            bars: [...items[0].querySelectorAll(".option-bars li")].map((li) => [li.className, li.textContent]),
            barsLabel: items[0].querySelector(".option-bars").getAttribute("aria-label"),
            histogram: [...items[1].querySelectorAll(".histogram li")].map((li) => [li.className,
                li.querySelector(".histogram-count").textContent, li.querySelector(".histogram-range").textContent]),
            numbers: items[1].querySelector(".values-summary p").textContent,
        };
    }"""
    )
    host_page.close()
    assert seen["podium"] == [False, ["Bo", "Ada"]]
    assert seen["screen"] == "screen-results"
    assert seen["items"] == [
        ["poll", "Poll", None, "Poll <b>Best pet?</b>"],
        ["numeric", "Number", None, "Number Legs of a spider"],
    ]
    assert seen["bars"] == [["", "Cat0 (0 %)"], ["", "Dog2 (100 %)"]]  # a poll marks no option right
    assert seen["barsLabel"] == "Answers to question 1"
    assert seen["histogram"] == [
        ["", "1", "6 \u2013 6.67"],
        ["", "0", "6.67 \u2013 7.33"],
        ["correct", "1", "\u2713 7.33 \u2013 8"],
    ]
    assert seen["numbers"] == "2 answered: min 6, median 7, max 8"


def test_results_chart_tells_a_polls_answers_from_right_and_wrong(page: Page) -> None:
    seen = run_module(
        page,
        "views.js",
        """const chart = document.createElement("div");
        const some = (count) => Array.from({length: count}, (_, at) => ({participant_id: `p${at}`, name: `P${at}`}));
        const draw = (questions) => {
            m.renderOutcomeChart(chart, questions);
            return {legend: [...chart.querySelectorAll(".chart-legend .legend")].map((node) => node.textContent),
                    rows: [...chart.querySelectorAll(".chart-bar")].map((bar) => [bar.getAttribute("aria-label"),
                        [...bar.children].map((segment) => `${segment.className}: ${segment.textContent}`)])};
        };
        return [
            draw([{index: 0, type: "poll", answered_answerers: some(2), timeout_answerers: some(1)},
                  {index: 1, correct_answerers: some(1), incorrect_answerers: [], timeout_answerers: []}]),
            draw([{index: 0, type: "numeric", correct_answerers: [], incorrect_answerers: some(1),
                   timeout_answerers: []}]),
        ];""",
    )
    assert seen == [
        {
            "legend": ["Correct", "Incorrect", "Answered", "Timed out"],
            "rows": [
                ["Question 1: 2 answered, 1 timed out", ["chart-segment answered: 2", "chart-segment timeout: 1"]],
                ["Question 2: 1 correct, 0 incorrect, 0 timed out", ["chart-segment correct: 1"]],
            ],
        },
        {
            "legend": ["Correct", "Incorrect", "Timed out"],
            "rows": [["Question 1: 0 correct, 1 incorrect, 0 timed out", ["chart-segment incorrect: 1"]]],
        },
    ]


def test_the_lobby_qr_code_is_the_join_link_drawn_as_a_labelled_svg(page: Page) -> None:
    seen = run_module(
        page,
        "join_qr.js",
        """const link = "https://quiz.example.com/play.html?code=K7MXQ4";
        const modules = m.qrModules(link);
        const n = modules.length;
        // the three finder patterns: a dark 7x7 ring around a light ring around a dark 3x3 centre
        const finder = (top, left) => [0, 1, 2, 3, 4, 5, 6].every((i) => modules[top][left + i]
            && modules[top + 6][left + i] && modules[top + i][left] && modules[top + i][left + 6])
            && !modules[top + 1][left + 1] && !modules[top + 5][left + 3] && modules[top + 3][left + 3];
        // the timing pattern alternates between the finders, in row 6 and column 6
        const timing = Array.from({length: n - 16}, (_, i) => 8 + i).every((at) =>
            modules[6][at] === (at % 2 === 0) && modules[at][6] === (at % 2 === 0));
        const box = document.createElement("div");
        m.drawQrCode(box, link, "QR code for the join link");
        const svg = box.querySelector("svg");
        m.drawQrCode(box, link, "QR code for the join link");
        const keptOnRedraw = box.querySelector("svg") === svg;
        const cells = (svg.querySelector("path").getAttribute("d").match(/M(\\d+) (\\d+)/g) || [])
            .map((move) => move.slice(1).split(" ").map(Number));
        const drawnAsModules = cells.length === modules.flat().filter(Boolean).length
            && cells.every(([x, y]) => modules[y - 4][x - 4]);
        m.drawQrCode(box, `${link}&again`, "QR code for the join link");
        return {
            n, finders: [finder(0, 0), finder(0, n - 7), finder(n - 7, 0)], timing,
            darkModule: modules[n - 8][8],
            svg: [svg.namespaceURI, svg.getAttribute("role"), svg.getAttribute("aria-label"),
                  svg.getAttribute("viewBox"), svg.querySelector("rect").getAttribute("fill")],
            keptOnRedraw, drawnAsModules, redrawnForNewText: box.querySelector("svg") !== svg,
            longer: m.qrModules(`${link}&x=${"y".repeat(100)}`).length,
        };""",
    )
    # 45 bytes at error correction M need version 4: 17 + 4 * 4 = 33 modules a side (and 4 of quiet zone);
    # 148 bytes need version 8 (49 a side)
    assert seen == {
        "n": 33,
        "finders": [True, True, True],
        "timing": True,
        "darkModule": True,
        "svg": ["http://www.w3.org/2000/svg", "img", "QR code for the join link", "0 0 41 41", "#ffffff"],
        "keptOnRedraw": True,
        "drawnAsModules": True,
        "redrawnForNewText": True,
        "longer": 49,
    }


def test_the_vendored_qr_library_is_the_release_its_readme_names() -> None:
    vendor = WEB / "vendor" / "qrcode-generator"
    readme = (vendor / "README.md").read_text()
    digest = hashlib.sha256((vendor / "qrcode.js").read_bytes()).hexdigest()
    assert f"sha256\n`{digest}`" in readme or f"sha256 `{digest}`" in readme
    assert "MIT license" in (vendor / "LICENSE").read_text()
    assert "export default qrcode;" in (vendor / "qrcode.js").read_text()


def test_participant_page_redraws_what_moved_and_reacts_to_errors(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const lobby = play(s0, [{...running(0), status: "lobby"}]);
        const asked = play(lobby, [{type: "started", question_count: 2}]);
        const shown = play(asked, [question(0)]);
        const again = m.applyPlayMessage(shown, {...question(0)});
        const answered = play(shown, [{type: "answer_result", index: 0, outcome: "correct", points: 1, score: 1,
                                       correct_options: [0], finished: false, rank: 1}]);
        const board = play(answered, [{type: "leaderboard", entries: [entry(1, "me", "Me", 1)]}]);
        const over = play(board, [{type: "completed", leaderboard: []}]);
        const results = play(over, [{type: "results", questions: [], score: 1, rank: 1}]);
        const moreResults = m.applyPlayMessage(results, {type: "results", questions: [], score: 1, rank: 1});
        return {
            changes: [m.screenChange(s0, lobby), m.screenChange(lobby, asked), m.screenChange(asked, shown),
                      m.screenChange(shown, again), m.screenChange(shown, answered), m.screenChange(answered, board),
                      m.screenChange(board, over), m.screenChange(over, results),
                      m.screenChange(results, moreResults)],
            answerable: [m.canAnswer(shown, 0), m.canAnswer(shown, 1), m.canAnswer(answered, 0),
                         m.canAnswer({...shown, status: "completed"}, 0), m.canAnswer(lobby, 0)],
            errors: [
                m.playErrorReaction({code: "out_of_order"}, "question"),
                m.playErrorReaction({code: "conflict"}, "answer"),
                m.playErrorReaction({code: "not_running"}, "timeout"),
                m.playErrorReaction({code: "not_running", message: "Not running"}, "message"),
                m.playErrorReaction({code: "forbidden", message: "x"}, "message"),
                m.playErrorReaction({code: "unauthorized", message: "x"}, "sync"),
                m.playErrorReaction({code: "conflict", message: "Conflict"}, "sync"),
                m.playErrorReaction({code: "odd"}, undefined),
            ],
        };""",
    )
    assert seen == {
        "changes": ["screen", None, "screen", "screen", "result", None, None, "screen", "screen"],
        "answerable": [True, False, False, False, False],
        "errors": [
            {"do": "sync"},
            {"do": "sync"},
            {"do": "sync"},
            {"do": "chat", "text": "Not running"},
            {"do": "chat", "text": "Chat is turned off for this run."},
            {"do": "leave", "text": "Your place in this run is no longer valid. Join again with the code."},
            {"do": "notice", "text": "Conflict"},
            {"do": "notice", "text": "Error: odd"},
        ],
    }


def test_participant_keeps_a_finished_run_for_the_tab(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const session = {speedrun_id: "r1", participant_id: "me", join_code: "ABC234", name: "Me"};
        let s = play(s0, [running(0), {type: "completed", leaderboard: [entry(1, "me", "Me", 700)]},
                          {type: "results", questions: [{index: 0}], score: 700, rank: 1, elapsed_ms: 5000}]);
        const record = JSON.parse(JSON.stringify(m.finishedRecord(s, session)));
        const back = m.finishedState(record);
        const bare = m.finishedState({session: {}, results: {questions: []}});
        return {record: Object.keys(record).sort(), count: record.questionCount,
                back: [back.participantId, back.status, back.questionCount, back.leaderboard.length,
                       back.results.elapsed_ms, back.score, back.rank, back.screen],
                bare: [bare.participantId, bare.questionCount, bare.leaderboard, bare.score, bare.rank]};""",
    )
    assert seen == {
        "record": ["leaderboard", "questionCount", "results", "session"],
        "count": 2,
        "back": ["me", "completed", 2, 1, 5000, 700, 1, "results"],
        "bare": [None, 0, [], 0, None],
    }


def test_question_options_toggle_up_to_select_count_and_keys_pick_them(page: Page) -> None:
    seen = run_module(
        page,
        "play_question.js",
        """const one = {index: 0, options: ["a", "b", "c"], select_count: 1};
        const two = {index: 1, options: ["a", "b", "c", "d"], select_count: 2};
        const list = (set) => [...set];
        let picked = m.chooseOption(one, new Set([2]), 1);
        const single = [list(picked.selected), picked.submit];
        let selected = new Set();
        const steps = [];
        for (const option of [3, 0, 1, 3, 1]) {
            picked = m.chooseOption(two, selected, option);
            selected = picked.selected;
            steps.push([list(selected).sort(), picked.submit, m.readyToSubmit(two, {selected})]);
        }
        const first = m.questionControls(two, null, false);
        const kept = m.questionControls(two, {...first, selected, sent: true, timeoutSent: true, spokenMark: 5},
                                        false);
        const fresh = [first.order, first.value];
        const answered = m.questionControls(two, {...first, selected, sent: true}, true);
        const other = m.questionControls(one, {...first, selected, sent: true}, false);
        return {
            single, steps, untouched: list(new Set([1])),
            frame: m.answerFrame(1, new Set([3, 0])),
            keys: ["1", "3", "4", "0", "x", " ", "2.5"].map((key) => m.optionForKey(key, 3)),
            fresh,
            controls: [[first.index, list(first.selected), first.sent, first.timeoutSent],
                       [kept.index, list(kept.selected).sort(), kept.sent, kept.timeoutSent, kept.spokenMark],
                       [answered.index, list(answered.selected), answered.sent],
                       [other.index, list(other.selected), other.sent]],
            texts: [m.questionProgress(two, 4), m.questionProgress(one, 0), m.questionHint(one), m.questionHint(two),
                    m.picksMany(one), m.picksMany({options: []}), m.picksMany(two)],
        };""",
    )
    assert seen == {
        "single": [[1], True],
        "steps": [
            [[3], False, False],
            [[0, 3], False, True],
            [[0, 3], False, True],  # full: a third option is not added
            [[0], False, False],
            [[0, 1], False, True],
        ],
        "untouched": [1],
        "frame": {"action": "answer", "index": 1, "selected": [0, 3]},
        "keys": [0, 2, None, None, None, None, None],
        "fresh": [[0, 1, 2, 3], ""],
        "controls": [
            [1, [], False, False],
            [1, [0, 1], False, False, 5],
            [1, [], False],
            [0, [], False],
        ],
        "texts": [
            "Question 2 of 4",
            "Question 1 of ?",
            f"Pick one answer. Keys 1{EN_DASH}3 answer.",
            f"Pick 2 answers, then submit. Keys 1{EN_DASH}4 select.",
            False,
            False,
            True,
        ],
    }


def test_countdown_ticks_speak_at_marks_and_give_up_once_at_zero(page: Page) -> None:
    seen = run_module(
        page,
        "play_question.js",
        """const question = {index: 0, served_at: "2026-12-01T10:00:00.000Z", deadline: "2026-12-01T10:00:20.000Z"};
        const fresh = {spokenMark: undefined, sent: false, timeoutSent: false};
        const tick = (leftMs, controls = fresh, q = question) => {
            const t = m.countdownTick(q, leftMs, 30, controls);
            return [Math.round(t.fraction * 1000) / 1000, t.urgent, t.seconds, t.speak, t.timeout];
        };
        return [
            tick(20_000), tick(25_000), tick(10_000), tick(9_950, {...fresh, spokenMark: 10}), tick(5_000),
            tick(4_999), tick(0), tick(0, {...fresh, timeoutSent: true}), tick(0, {...fresh, sent: true}),
            tick(15_000, fresh, {index: 0}),
        ];""",
    )
    assert seen == [
        [1, False, 20, None, False],
        [1, False, 25, None, False],
        [0.5, False, 10, 10, False],
        [0.498, False, 10, None, False],
        [0.25, False, 5, 5, False],
        [0.25, True, 5, 5, False],
        [0, True, 0, None, True],
        [0, True, 0, None, False],
        [0, True, 0, None, False],
        [0.5, False, 15, None, False],  # no times on the question: the run's question duration
    ]


def test_feedback_and_review_say_the_outcome_in_words(page: Page) -> None:
    seen = run_module(
        page,
        "play_question.js",
        """return {
            feedback: [
                m.feedbackText({outcome: "correct", points: 950, score: 1900, rank: 2, finished: false}),
                m.feedbackText({outcome: "timeout", points: 0, score: 0, finished: true}),
                m.feedbackText({outcome: "newer", points: 0, score: 0, rank: 1, finished: false}).outcome,
            ],
            review: [
                m.reviewQuestion({outcome: "incorrect", points: 0, options: ["a", "b", "c"], correct_options: [0, 2],
                                  selected: [1, 2]}),
                m.reviewQuestion({}),
            ],
        };""",
    )
    assert seen == {
        "feedback": [
            {
                "outcome": "Correct!",
                "points": " +950 points · score 1,900 · rank 2",
                "lines": [],
                "correctOrder": None,
                "explanation": None,
                "next": "Next question",
            },
            {
                "outcome": "Time's up.",
                "points": f" +0 points · score 0 · rank {EN_DASH}",
                "lines": [],
                "correctOrder": None,
                "explanation": None,
                "next": "See the leaderboard",
            },
            "newer",
        ],
        "review": [
            {
                "type": "choice",
                "outcome": "incorrect",
                "badge": "Not quite.",
                "points": " +0 points",
                "options": [
                    {"text": "a", "classes": "correct", "marks": ["correct answer"]},
                    {"text": "b", "classes": "chosen", "marks": ["your choice"]},
                    {"text": "c", "classes": "correct chosen", "marks": ["correct answer", "your choice"]},
                ],
                "lines": [],
                "lists": [],
            },
            {
                "type": "choice",
                "outcome": "unanswered",
                "badge": "Not reached",
                "points": " +0 points",
                "options": [],
                "lines": [],
                "lists": [],
            },
        ],
    }


def test_each_question_type_is_answered_by_its_own_controls(page: Page) -> None:
    seen = run_module(
        page,
        "play_question.js",
        """const q = (question_type, options, select_count) => ({index: 2, question_type, options, select_count});
        const questions = [q(undefined, ["a", "b"], 1), q("choice", ["a", "b", "c"], 2),
                           q("true_false", ["True", "False"], 1), q("poll", ["x", "y", "z"], 1), q("numeric", [], 0),
                           q("order", ["p", "q", "r", "s"], 4),
                           q("from_the_future", ["a", "b"], 1)];
        const order = questions[5];
        const controls = m.questionControls(order, null, false);
        const moves = [m.moveItem([0, 1, 2, 3], 1, -1), m.moveItem([0, 1, 2, 3], 1, 1), m.moveItem([0, 1, 2, 3], 0, -1),
                       m.moveItem([0, 1, 2, 3], 3, 1)];
        const numbers = ["42", "-3.5", " 0,25 ", ".5", "+7", "1.", "-0", "1000000000", "-1000000000", "1000000000.5",
                         "", "  ", "abc", "1e3", "--1", "1,000.5", "Infinity", "0x10"].map(m.parseNumber);
        const numeric = questions[4];
        return {
            kinds: questions.map((question) => [m.frameType(question), m.hasOptionButtons(question),
                                                m.picksMany(question), m.needsSubmit(question)]),
            hints: questions.slice(2, 6).map(m.questionHint),
            order: controls.order,
            moves,
            keys: [["ArrowUp", true], ["ArrowDown", true], ["ArrowUp", false], ["1", true]]
                .map(([key, alt]) => m.orderMoveForKey(key, alt)),
            moved: m.orderMoveText(order, [2, 0, 1, 3], 0),
            numbers,
            ready: [m.readyToSubmit(numeric, {value: ""}), m.readyToSubmit(numeric, {value: " x"}),
                    m.readyToSubmit(order, {order: [0, 1, 2, 3]})],
            frames: [m.answerFor(order, {...controls, order: [3, 1, 0, 2]}),
                     m.answerFor(numeric, {index: 2, value: "-12,5"}),
                     m.answerFor(numeric, {index: 2, value: "12 apples"}),
                     m.answerFor(questions[3], {index: 2, selected: new Set([1])}),
                     m.answerFor(questions[1], {index: 2, selected: new Set([2, 0])})],
        };""",
    )
    problem = {
        "empty": {"problem": "Type a number."},
        "format": {"problem": "Type a number, e.g. 42, -3.5 or 0.25."},
        "range": {"problem": "Type a number between -1,000,000,000 and 1,000,000,000."},
    }
    assert seen == {
        "kinds": [
            ["choice", True, False, False],
            ["choice", True, True, True],
            ["true_false", True, False, False],
            ["poll", True, False, False],
            ["numeric", False, False, True],
            ["order", False, False, True],
            ["choice", True, False, False],  # a type this client does not know reads as choice
        ],
        "hints": [
            f"True or false? Keys 1{EN_DASH}2 answer.",
            f"A poll: no right or wrong answer, no points. Pick one. Keys 1{EN_DASH}3 answer.",
            "Type a number (decimals and negative numbers are fine), then submit.",
            "Put the items in order, first at the top: Move up / Move down, or Alt+\u2191 / Alt+\u2193 on an item. "
            "Then submit.",
        ],
        "order": [0, 1, 2, 3],  # as served: the server shuffled it
        "moves": [
            {"order": [1, 0, 2, 3], "position": 0},
            {"order": [0, 2, 1, 3], "position": 2},
            {"order": [0, 1, 2, 3], "position": 0},  # the ends stay
            {"order": [0, 1, 2, 3], "position": 3},
        ],
        "keys": [-1, 1, None, None],
        "moved": "r: position 1 of 4.",
        "numbers": [
            {"value": 42},
            {"value": -3.5},
            {"value": 0.25},
            {"value": 0.5},
            {"value": 7},
            {"value": 1},
            {"value": 0},
            {"value": 1_000_000_000},
            {"value": -1_000_000_000},
            problem["range"],
            problem["empty"],
            problem["empty"],
            problem["format"],
            problem["format"],
            problem["format"],
            problem["format"],
            problem["format"],
            problem["format"],
        ],
        "ready": [False, True, True],
        "frames": [
            {"frame": {"action": "answer", "index": 2, "selected": [3, 1, 0, 2]}},  # the order as arranged, unsorted
            {"frame": {"action": "answer", "index": 2, "value": -12.5}},
            problem["format"],
            {"frame": {"action": "answer", "index": 2, "selected": [1]}},
            {"frame": {"action": "answer", "index": 2, "selected": [0, 2]}},
        ],
    }


def test_untimed_and_extended_countdowns_run_on_the_servers_deadline(page: Page) -> None:
    seen = run_module(
        page,
        "play_question.js",
        """const fresh = {spokenMark: undefined, sent: false, timeoutSent: false};
        const served = "2026-12-01T10:00:00.000Z";
        const tick = (timing, leftMs, durationS = 20) => {
            const t = m.countdownTick(timing, leftMs, durationS, fresh);
            return [t.timed, Math.round(t.fraction * 1000) / 1000, t.seconds, t.timeout];
        };
        return {
            ticks: [
                tick({served_at: served, deadline: Date.parse(served) + 20_000, duration_ms: 20_000}, 10_000),
                // extra time: the window is 1.5 x 20 s, the bar is a fraction of it
                tick({served_at: served, deadline: Date.parse(served) + 30_000, duration_ms: 30_000}, 15_000),
                // untimed: no bar; its deadline is the run's end, which still gives the question up at 0
                tick({served_at: served, deadline: Date.parse(served) + 600_000, duration_ms: null}, 300_000, null),
                tick({served_at: served, deadline: Date.parse(served) + 600_000, duration_ms: null}, 0, null),
                tick({}, 5_000, null),
            ],
            clock: [m.runTimeText(754_000), m.runTimeText(0), m.runTimeText(null)],
            notes: [m.extraTimeNote(1.5), m.extraTimeNote(2), m.extraTimeNote(1), m.extraTimeNote(undefined)],
        };""",
    )
    assert seen == {
        "ticks": [
            [True, 0.5, 10, False],
            [True, 0.5, 15, False],
            [False, 0.5, 300, False],
            [False, 0, 0, True],
            [True, 0, 5, False],  # nothing to measure by: an empty bar, never a division by zero
        ],
        "clock": ["Run ends in 12:34", "Run ends in 0:00", ""],
        "notes": ["You have extra time (1.5\u00d7)", "You have extra time (2\u00d7)", "", ""],
    }


def test_participant_follows_untimed_runs_and_extra_time(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const endsAt = "2026-12-01T11:00:00.000Z";
        const untimed = {...question(0), question_type: "numeric", options: [], select_count: 0, duration_ms: null,
                         deadline: Date.parse(endsAt)};
        let s = play(s0, [running(0, {question_duration_s: null, ends_at: endsAt, extra_time: 1.5,
                                      scoring: "accuracy", current_question: untimed})]);
        const first = [s.questionDurationS, s.endsAt, s.extraTime, s.screen, s.question.question_type,
                       m.currentTiming(s)];
        let timed = play(s0, [running(0), {...question(0), duration_ms: 20_000}]);
        const before = m.currentTiming(timed);
        const granted = play(timed, [{type: "extra_time", participant_id: "me", multiplier: 2, index: 0,
                                      deadline: 1796119240000, duration_ms: 40_000}]);
        const other = m.applyPlayMessage(granted, {type: "extra_time", participant_id: "you", multiplier: 3,
                                                   index: 0, deadline: 1, duration_ms: 1});
        const idle = play(granted, [{type: "extra_time", participant_id: "me", multiplier: 1, index: null,
                                     deadline: null, duration_ms: null}]);
        // the next question comes with its own deadline (the server set it from the new window)
        const answered = play(granted, [{type: "answer_result", index: 0, outcome: "correct", points: 900, score: 900,
                                         correct_options: [0], finished: false, rank: 1}]);
        const next = play(m.afterFeedback(answered), [{...question(1), duration_ms: 40_000}]);
        const reserved = play(granted, [{...question(0), deadline: 1796119240000, duration_ms: 40_000}]);
        const started = play({...s0, status: "lobby"}, [{type: "started", question_count: 2, question_duration_s: null,
                                                         ends_at: endsAt, scoring: "accuracy"}]);
        return {
            first, before, moved: m.currentTiming(granted), multiplier: granted.extraTime,
            change: m.screenChange(timed, granted),
            otherIgnored: other === granted,
            idle: [idle.extraTime, m.currentTiming(idle).deadline],
            next: [next.question.index, next.timing, m.currentTiming(next).duration_ms, next.extraTime],
            reserved: m.currentTiming(reserved).deadline,
            started: [started.questionDurationS, started.endsAt, sent.at(-1)],
            none: m.currentTiming(s0),
            legacy: [play(s0, [running(0), question(0)]),
                     play(s0, [running(0, {question_duration_s: null}), question(0)])]
                .map((state) => m.currentTiming(state).duration_ms).map((ms) => [ms === undefined, ms === null]),
        };""",
    )
    assert seen == {
        "first": [
            None,
            "2026-12-01T11:00:00.000Z",
            1.5,
            "question",
            "numeric",
            {"served_at": "2026-12-01T10:00:00.000Z", "deadline": 1796122800000, "duration_ms": None},
        ],
        "before": {"served_at": "2026-12-01T10:00:00.000Z", "deadline": 1796119220000, "duration_ms": 20000},
        "moved": {"served_at": "2026-12-01T10:00:00.000Z", "deadline": 1796119240000, "duration_ms": 40000},
        "multiplier": 2,
        "change": None,  # the countdown reads the new deadline: nothing is redrawn
        "otherIgnored": True,
        "idle": [1, 1796119240000],
        "next": [1, None, 40000, 2],
        "reserved": 1796119240000,
        "started": [None, "2026-12-01T11:00:00.000Z", {"action": "question", "index": 0}],
        "none": None,
        # frames from before duration_ms: timed by their deadline, untimed when the run says so
        "legacy": [[True, False], [False, True]],
    }


def test_feedback_and_review_read_each_question_type(page: Page) -> None:
    seen = run_module(
        page,
        "play_question.js",
        """const base = {points: 0, score: 1900, rank: 2, finished: false};
        const order = {question_type: "order", options: ["c", "a", "b"]};
        return {
            feedback: [
                m.feedbackText({...base, question_type: "numeric", outcome: "correct", points: 750, correct_value: 100,
                                tolerance: 10, value: 95}),
                m.feedbackText({...base, question_type: "numeric", outcome: "timeout", correct_value: -2.5,
                                tolerance: 0, value: null, explanation: "Below zero."}),
                m.feedbackText({...base, question_type: "order", outcome: "incorrect", correct_options: [1, 2, 0],
                                explanation: null}, order),
                m.feedbackText({...base, question_type: "poll", outcome: "answered", correct_options: [],
                                explanation: ""}),
                // a result without question_type (an older server) is read by the question on screen
                m.feedbackText({...base, outcome: "correct", points: 1000, correct_options: [2, 0, 1]}, order)
                    .correctOrder,
            ],
            review: [
                m.reviewQuestion({type: "numeric", outcome: "correct", points: 800, options: [], correct_options: [],
                                  selected: null, value: 1234.5, correct_value: 1234, tolerance: 1}),
                m.reviewQuestion({type: "numeric", outcome: null, points: 0, options: [], correct_options: [],
                                  selected: null, value: null, correct_value: 7, tolerance: 0}),
                m.reviewQuestion({type: "order", outcome: "incorrect", points: 0, options: ["c", "a", "b"],
                                  correct_options: [1, 2, 0], selected: [0, 1, 2]}),
                m.reviewQuestion({type: "order", outcome: "timeout", points: 0, options: ["c", "a", "b"],
                                  correct_options: [1, 2, 0], selected: []}),
                m.reviewQuestion({type: "poll", outcome: "answered", points: 0, options: ["x", "y"],
                                  correct_options: [], selected: [1]}),
                m.reviewQuestion({type: "true_false", outcome: "correct", points: 990, options: ["True", "False"],
                                  correct_options: [1], selected: [1]}).options,
            ],
        };""",
    )
    standing = " · score 1,900 · rank 2"
    assert seen["feedback"] == [
        {
            "outcome": "Correct!",
            "points": f" +750 points{standing}",
            "lines": ["The answer: 100 (\u00b1 10)", "Your answer: 95"],
            "correctOrder": None,
            "explanation": None,
            "next": "Next question",
        },
        {
            "outcome": "Time's up.",
            "points": f" +0 points{standing}",
            "lines": ["The answer: -2.5"],  # tolerance 0: the exact value; no value given
            "correctOrder": None,
            "explanation": "Below zero.",
            "next": "Next question",
        },
        {
            "outcome": "Not quite.",
            "points": f" +0 points{standing}",
            "lines": [],
            "correctOrder": ["a", "b", "c"],
            "explanation": None,
            "next": "Next question",
        },
        {
            "outcome": "Answer recorded.",
            "points": f" No points for a poll{standing}",
            "lines": [],
            "correctOrder": None,
            "explanation": None,
            "next": "Next question",
        },
        ["b", "c", "a"],
    ]
    assert seen["review"] == [
        {
            "type": "numeric",
            "outcome": "correct",
            "badge": "Correct!",
            "points": " +800 points",
            "options": [],
            "lines": ["Correct answer: 1,234 (\u00b1 1)", "Your answer: 1,234.5"],
            "lists": [],
        },
        {
            "type": "numeric",
            "outcome": "unanswered",
            "badge": "Not reached",
            "points": " +0 points",
            "options": [],
            "lines": ["Correct answer: 7", "Your answer: \u2014"],
            "lists": [],
        },
        {
            "type": "order",
            "outcome": "incorrect",
            "badge": "Not quite.",
            "points": " +0 points",
            "options": [],
            "lines": [],
            "lists": [
                {"title": "Correct order", "items": ["a", "b", "c"]},
                {"title": "Your order", "items": ["c", "a", "b"]},
            ],
        },
        {
            "type": "order",
            "outcome": "timeout",
            "badge": "Time's up.",
            "points": " +0 points",
            "options": [],
            "lines": [],
            "lists": [{"title": "Correct order", "items": ["a", "b", "c"]}],
        },
        {
            "type": "poll",
            "outcome": "answered",
            "badge": "Answer recorded.",
            "points": " \u00b7 a poll, no points",
            "options": [
                {"text": "x", "classes": None, "marks": []},
                {"text": "y", "classes": "chosen", "marks": ["your choice"]},  # never "correct answer"
            ],
            "lines": [],
            "lists": [],
        },
        [
            {"text": "True", "classes": None, "marks": []},
            {"text": "False", "classes": "correct chosen", "marks": ["correct answer", "your choice"]},
        ],
    ]


def test_question_view_draws_each_question_type_labelled(page: Page) -> None:
    seen = run_module(
        page,
        "question_view.js",
        """const calls = [];
        const parts = m.questionViewParts();
        document.body.append(parts.root);
        m.drawQuestion(parts, {index: 0, question_type: "true_false", text: "Sky is blue", options: ["True", "False"],
                               select_count: 1}, {onChoose: (i) => calls.push(["choose", i])});
        const tf = [parts.options.dataset.type,
                    [...parts.options.querySelectorAll(".option-text")].map((n) => n.textContent),
                    parts.options.querySelector(".option").getAttribute("aria-pressed")];
        parts.options.querySelectorAll(".option")[1].click();

        m.drawQuestion(parts, {index: 1, question_type: "numeric", text: "How far?", options: [], select_count: 0},
                       {value: "12", onInput: (text) => calls.push(["input", text]),
                        onSubmit: () => calls.push(["submit"])});
        const input = parts.options.querySelector("input");
        const numeric = [parts.options.dataset.type, input.id, input.value, input.labels[0].textContent,
                         input.getAttribute("inputmode"), parts.options.querySelectorAll(".option").length];
        input.value = "-3.5";
        input.dispatchEvent(new Event("input", {bubbles: true}));
        input.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
        m.showNumberProblem(parts.options, "Type a number.");
        const problem = [input.getAttribute("aria-invalid"), input.getAttribute("aria-describedby"),
                         document.getElementById(input.getAttribute("aria-describedby")).textContent];
        m.showNumberProblem(parts.options, "");
        const cleared = [input.hasAttribute("aria-invalid"),
                         document.getElementById("answer-value-problem").hidden];

        const orderQuestion = {index: 2, question_type: "order", text: "Oldest first",
                               options: ["<b>Rome</b>", "Athens", "Troy"], select_count: 3};
        m.drawQuestion(parts, orderQuestion,
                       {order: [2, 0, 1], onMove: (position, delta) => calls.push(["move", position, delta])});
        const list = parts.options.querySelector(".order-list");
        const rows = () => [...list.children].map((li) => [li.querySelector(".order-text").textContent,
            [...li.querySelectorAll("button")].map((b) => [b.getAttribute("aria-label"), b.disabled])]);
        const drawn = rows();
        const named = (label) => [...list.querySelectorAll("button")]
            .find((b) => b.getAttribute("aria-label") === label);
        const press = (label, init) =>
            named(label).dispatchEvent(new KeyboardEvent("keydown", {bubbles: true, ...init}));
        named("Move down Troy").click();
        press("Move up Athens", {key: "ArrowUp", altKey: true});
        press("Move up Athens", {key: "ArrowUp"});
        m.drawOrderItems(list, orderQuestion, [0, 2, 1], {focus: {position: 0, delta: -1}});
        const focused = document.activeElement.getAttribute("aria-label");  // up is disabled at the top: down
        m.drawQuestion(parts, orderQuestion);  // the editor's preview: as served
        const preview = [[...parts.options.querySelectorAll(".order-text")].map((n) => n.textContent),
            parts.options.querySelector(".order-list").getAttribute("aria-label"),
            parts.hint.textContent.startsWith("Put the items in order")];
        parts.root.remove();
        return {tf, numeric, problem, cleared, drawn, focused, preview, calls};""",
    )
    assert seen == {
        "tf": ["true_false", ["True", "False"], None],
        "numeric": ["numeric", "answer-value", "12", "Your answer (a number)", "decimal", 0],
        "problem": ["true", "answer-value-problem", "Type a number."],
        "cleared": [False, True],
        "drawn": [
            ["Troy", [["Move up Troy", True], ["Move down Troy", False]]],
            ["<b>Rome</b>", [["Move up <b>Rome</b>", False], ["Move down <b>Rome</b>", False]]],
            ["Athens", [["Move up Athens", False], ["Move down Athens", True]]],
        ],
        "focused": "Move down <b>Rome</b>",
        "preview": [["<b>Rome</b>", "Athens", "Troy"], "Your order, first at the top", True],
        "calls": [["choose", 1], ["input", "-3.5"], ["submit"], ["move", 0, 1], ["move", 2, -1]],
    }


def test_participant_screens_draw_each_type_and_the_podium(page: Page, web_origin: str) -> None:
    browser = page.context.browser
    assert browser is not None
    play_page = browser.new_page()  # the participant page's markup (no session: it shows the join form)
    play_page.emulate_media(reduced_motion="no-preference")
    play_page.goto(f"{web_origin}/play.html")
    draw = """async () => {
        const render = await import('/js/play_render.js');
        const podium = await import('/js/podium.js');
        const q = await import('/js/play_question.js');
        const byId = (id) => document.getElementById(id);
        const order = {type: "question", index: 0, question_type: "order", text: "Oldest first",
                       options: ["Rome", "Athens", "Troy"], select_count: 3, duration_ms: null};
        let controls = q.questionControls(order, null, false);
        const moves = [];
        render.renderQuestion(order, controls, 3, {onMove: (position, delta) => moves.push([position, delta])});
        render.renderCountdown(q.countdownTick({duration_ms: null, deadline: 2, served_at: 1}, 90_000, null, controls));
        render.renderRunClock(q.runTimeText(90_000));
        const question = {submit: [byId("submit-answer").textContent, byId("submit-answer").hidden,
                                   byId("submit-answer").disabled],
                          focused: document.activeElement.getAttribute("aria-label"),
                          countdown: [byId("countdown-bar").hidden, byId("countdown-text").hidden],
                          clock: [byId("run-time-left").hidden, byId("run-time-left").textContent]};
        controls = {...controls, order: [1, 0, 2]};
        render.renderOrder(order, controls, {position: 0, delta: -1}, () => {});
        const moved = [document.activeElement.getAttribute("aria-label"),
                       document.querySelector("#options .order-status").textContent];
        render.renderFeedback({index: 0, question_type: "order", outcome: "incorrect", points: 0, score: 0, rank: 3,
                               correct_options: [2, 1, 0], finished: true, explanation: "Troy is older."},
                              order, controls);
        const feedback = [byId("feedback").dataset.outcome,
            [...byId("feedback").querySelectorAll(".correct-order li")].map((li) => li.textContent),
            byId("feedback").querySelector(".explanation").textContent,
            [...byId("options").querySelectorAll("button")].every((b) => b.disabled),
            byId("next-question").textContent, byId("feedback").textContent];
        const poll = {type: "question", index: 1, question_type: "poll", text: "Favourite?", options: ["x", "y"],
                      select_count: 1};
        const pollControls = {...q.questionControls(poll, null, false), selected: new Set([1])};
        render.renderQuestion(poll, pollControls, 3, {onChoose: () => {}});
        render.renderFeedback({index: 1, question_type: "poll", outcome: "answered", points: 0, score: 0, rank: 3,
                               correct_options: [], finished: false}, poll, pollControls);
        const pollMarks = [...byId("options").querySelectorAll(".option")].map((b) => b.className);
        render.renderStatus({name: "Quiz", count: 3, recent: [], chat: true, score: 0, rank: 3, leaderboard: [],
                             status: "running", extraTime: 1.5, questionCount: 3}, "me");
        const note = [byId("extra-time-note").hidden, byId("extra-time-note").textContent];
        const board = [{rank: 1, participant_id: "a", name: "Ada", score: 2900},
                       {rank: 3, participant_id: "me", name: "<i>Me</i>", score: 900},
                       {rank: 2, participant_id: "b", name: "Bo", score: 1900},
                       {rank: 4, participant_id: "c", name: "Cy", score: 10}];
        render.renderResults({score: 900, rank: 3, status: "completed", leaderboard: board, questionCount: 3},
            {score: 900, rank: 3, elapsed_ms: 4200, questions: [
                {index: 0, type: "order", text: "Oldest first", options: ["Rome", "Athens", "Troy"],
                 correct_options: [2, 1, 0], selected: [1, 0, 2], outcome: "incorrect", points: 0},
                {index: 1, type: "poll", text: "Favourite?", options: ["x", "y"], correct_options: [], selected: [1],
                 outcome: "answered", points: 0},
                {index: 2, type: "numeric", text: "How far?", options: [], correct_options: [], selected: null,
                 value: 41, correct_value: 42, tolerance: 2, outcome: "correct", points: 700}]}, "me");
        const places = [...document.querySelectorAll("#results-podium .podium-place")];
        const style = (node) => getComputedStyle(node);
        const results = {
            podium: places.map((li) => [li.dataset.place, li.dataset.self || null,
                ...[".podium-name", ".podium-score", ".podium-rank"].map((part) => li.querySelector(part).textContent),
                style(li).gridColumnStart]),
            label: document.querySelector("#results-podium ol").getAttribute("aria-label"),
            animation: places.map((li) => style(li.querySelector(".podium-bar")).animationName),
            heights: places.map((li) => li.querySelector(".podium-bar").offsetHeight),
            above: byId("results-podium").compareDocumentPosition(byId("results-summary"))
                & Node.DOCUMENT_POSITION_FOLLOWING,
            review: [...byId("results-review").children].map((li) => [li.className, li.dataset.type,
                [...li.querySelectorAll(".review-line, .review-order li")].map((n) => n.textContent)]),
            note: byId("extra-time-note").hidden,
        };
        podium.renderPodium(byId("results-podium"), []);
        const empty = [byId("results-podium").hidden, byId("results-podium").children.length];
        podium.renderPodium(byId("results-podium"), board.slice(0, 1));
        const alone = [...document.querySelectorAll("#results-podium .podium-place")].length;
        return {question, moved, feedback, pollMarks, note, results, empty, alone};
    }"""
    seen = play_page.evaluate(draw)
    play_page.emulate_media(reduced_motion="reduce")
    still = play_page.evaluate(
        """async () => {
        const podium = await import('/js/podium.js');
        podium.renderPodium(document.getElementById("results-podium"),
                            [{rank: 1, participant_id: "a", name: "Ada", score: 1}]);
        return getComputedStyle(document.querySelector(".podium-bar")).animationName;
    }"""
    )
    play_page.close()
    assert seen["question"] == {
        "submit": ["Submit order", False, False],
        "focused": "Move down Rome",  # the first control of the first item that can move
        "countdown": [True, True],  # untimed: no bar, no seconds
        "clock": [False, "Run ends in 1:30"],
    }
    assert seen["moved"] == ["Move down Athens", "Athens: position 1 of 3."]
    assert seen["feedback"] == [
        "incorrect",
        ["Troy", "Athens", "Rome"],
        "Why: Troy is older.",
        True,
        "See the leaderboard",
        # every part as text, nothing else (no "null" for a part this type does not have)
        "Not quite. +0 points · score 0 · rank 3The correct order:TroyAthensRomeWhy: Troy is older.",
    ]
    assert seen["pollMarks"] == ["option", "option chosen"]  # a poll's choice is never marked wrong
    assert seen["note"] == [False, "You have extra time (1.5\u00d7)"]
    assert seen["results"] == {
        "podium": [
            ["1", None, "Ada", "2,900 points", "1st", "2"],
            ["2", None, "Bo", "1,900 points", "2nd", "1"],
            ["3", "true", "<i>Me</i> (you)", "900 points", "3rd", "3"],
        ],
        "label": "Podium: the top 3",
        "animation": ["podium-rise", "podium-rise", "podium-rise"],
        "heights": [144, 104, 72],  # 9, 6.5 and 4.5 rem: 1st highest
        "above": 4,
        "review": [
            ["review-item incorrect", "order", ["Troy", "Athens", "Rome", "Athens", "Rome", "Troy"]],
            ["review-item answered", "poll", []],
            ["review-item correct", "numeric", ["Correct answer: 42 (\u00b1 2)", "Your answer: 41"]],
        ],
        "note": True,
    }
    assert seen["empty"] == [True, 0]
    assert seen["alone"] == 1
    assert still == "none"


def test_join_form_checks_code_and_nickname_and_names_sign_on_refusals(page: Page) -> None:
    seen = run_module(
        page,
        "join_form.js",
        """const other = {join_code: "ABC234", speedrun_id: "r1"};
        return {
            checks: [m.checkJoin(" abc234 ", " Ada "), m.checkJoin("ABC23", "Ada"), m.checkJoin("ABC2345", "Ada"),
                     m.checkJoin("ABC-34", "Ada"), m.checkJoin("ABC234", "   "), m.checkJoin("ABC234", "x".repeat(25)),
                     m.checkJoin("ABC234", "x".repeat(24)).problem],
            errors: [404, 409, 403, 400, 500].map((status) => m.joinErrorText({status, message: `HTTP ${status}`}))
                .concat(m.joinErrorText(new Error("offline")), m.joinErrorText("odd")),
            links: [m.sessionForLink(other, "ABC234") === other, m.sessionForLink(other, "") === other,
                    m.sessionForLink(other, "ZZZ999"), m.sessionForLink(null, "ZZZ999")],
        };""",
    )
    code_problem = "The join code has 6 letters or digits."
    name_problem = "Pick a nickname of 1 to 24 characters."
    assert seen == {
        "checks": [
            {"code": "ABC234", "name": "Ada", "problem": None, "field": None},
            {"code": "ABC23", "name": "Ada", "problem": code_problem, "field": "code"},
            {"code": "ABC2345", "name": "Ada", "problem": code_problem, "field": "code"},
            {"code": "ABC-34", "name": "Ada", "problem": code_problem, "field": "code"},
            {"code": "ABC234", "name": "", "problem": name_problem, "field": "name"},
            {"code": "ABC234", "name": "x" * 25, "problem": name_problem, "field": "name"},
            None,
        ],
        "errors": [
            "No speed-run has that code. Check the code with the host.",
            "That nickname is taken in this run (or the run is no longer open). Try another nickname.",
            "This speed-run is full.",
            "Please check the code and the nickname.",
            "HTTP 500",
            "offline",
            "odd",
        ],
        "links": [True, True, None, None],
    }


# ---------- the question-set editor (editor_state.js) and images on the participant's screen ----------

EDITOR = """const q = (state, index) => state.questions[index];
const pick = (question) => ({category: question.category, text: question.text, options: question.options,
    correct: question.correct, image: question.image, option_images: question.option_images});"""


def test_editor_builds_a_set_from_scratch_into_the_upload_document(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        const fresh = m.newSetState();
        let s = m.setName(fresh, "  Flags  ");
        s = m.setQuestionField(s, 0, "category", "geography");
        s = m.setQuestionField(s, 0, "text", "Which flag is Japan's?");
        s = m.setOption(m.setOption(s, 0, 0, "Red disc"), 0, 1, "Blue cross");
        s = m.toggleCorrect(s, 0, 1);
        s = m.toggleCorrect(s, 0, 0);
        s = m.toggleCorrect(s, 0, 1);          // ticked, then unticked
        s = m.setImage(s, 0, "ab12.png");
        const added = m.addOption(s, 0);
        s = m.setOption(added, 0, 2, "Green stripe");
        s = m.setOptionImage(s, 0, 2, "cd34.webp");
        s = m.addQuestion(s);                  // takes the category of the one before it
        const second = {category: q(s, 1).category, focus: s.focus, keys: s.questions.map((x) => x.key)};
        s = m.setQuestionField(s, 1, "text", "Two of these are in Asia");
        s = m.setOption(m.setOption(s, 1, 0, "Nepal"), 1, 1, "Peru");
        s = m.addOption(s, 1);
        s = m.setOption(s, 1, 2, "Laos");
        s = m.toggleCorrect(m.toggleCorrect(s, 1, 2), 1, 0);
        s = m.setQuestionField(s, 1, "explanation", "Peru is in South America.");
        let full = s;
        for (let i = 0; i < 10; i += 1) full = m.addOption(full, 1);
        let bare = m.newSetState();
        bare = m.removeOption(bare, 0, 0);
        return {
            fresh: {name: fresh.name, questions: fresh.questions.map(pick), dirty: m.isDirty(fresh),
                    focus: fresh.focus},
            addedFocus: added.focus,
            second,
            dirty: m.isDirty(s),
            document: m.uploadDocument(s),
            limits: [full.questions[1].options.length, bare.questions[0].options.length, m.LIMITS.maxOptions],
            preview: m.previewQuestion(s, 0),
            previewTwo: [m.previewQuestion(s, 1).select_count, m.previewQuestion(s, 1).option_images,
                         m.previewQuestion(fresh, 0).select_count],
            url: [m.imageUrl("ab12.png"), m.imageUrl(null)],
        };""",
    )
    assert seen == {
        "fresh": {
            "name": "Untitled question set",
            "questions": [
                {"category": "", "text": "", "options": ["", ""], "correct": [], "image": None, "option_images": []}
            ],
            "dirty": False,
            "focus": {"key": None, "control": "name"},
        },
        "addedFocus": {"key": 0, "control": "option:2"},
        "second": {"category": "geography", "focus": {"key": 1, "control": "text"}, "keys": [0, 1]},
        "dirty": True,
        "document": {
            "name": "Flags",
            "questions": [
                {
                    "category": "geography",
                    "text": "Which flag is Japan's?",
                    "options": ["Red disc", "Blue cross", "Green stripe"],
                    "correct": [0],
                    "image": "ab12.png",
                    "option_images": [None, None, "cd34.webp"],
                },
                {
                    "category": "geography",
                    "text": "Two of these are in Asia",
                    "options": ["Nepal", "Peru", "Laos"],
                    "correct": [0, 2],
                    "explanation": "Peru is in South America.",
                },
            ],
        },
        "limits": [8, 2, 8],
        "preview": {
            "type": "question",
            "question_type": "choice",
            "index": 0,
            "category": "geography",
            "text": "Which flag is Japan's?",
            "options": ["Red disc", "Blue cross", "Green stripe"],
            "select_count": 1,
            "image": "/images/ab12.png",
            "option_images": [None, None, "/images/cd34.webp"],
        },
        "previewTwo": [2, None, 1],
        "url": ["/images/ab12.png", None],
    }


def test_editor_removing_an_option_moves_the_correct_answers_and_images_with_it(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        const content = {id: "s1", version: 4, name: "Quiz", questions: [
            {category: "c", text: "t", options: ["a", "b", "c", "d"], correct: [0, 2, 3], explanation: null,
             image: null, option_images: ["ia", null, "ic", "id"]}]};
        const s = m.stateFromContent(content);
        const middle = m.removeOption(s, 0, 1);   // b: c and d move up, and stay correct
        const first = m.removeOption(s, 0, 0);    // a (correct) goes with its tick and image
        const last = m.removeOption(s, 0, 3);
        return {
            loaded: [s.setId, s.version, s.name, m.isDirty(s), pick(q(s, 0))],
            middle: [pick(q(middle, 0)), middle.focus],
            first: pick(q(first, 0)),
            last: [pick(q(last, 0)), last.focus],
        };""",
    )
    assert seen == {
        "loaded": [
            "s1",
            4,
            "Quiz",
            False,
            {
                "category": "c",
                "text": "t",
                "options": ["a", "b", "c", "d"],
                "correct": [0, 2, 3],
                "image": None,
                "option_images": ["ia", None, "ic", "id"],
            },
        ],
        "middle": [
            {
                "category": "c",
                "text": "t",
                "options": ["a", "c", "d"],
                "correct": [0, 1, 2],
                "image": None,
                "option_images": ["ia", "ic", "id"],
            },
            {"key": 0, "control": "option:1"},
        ],
        "first": {
            "category": "c",
            "text": "t",
            "options": ["b", "c", "d"],
            "correct": [1, 2],
            "image": None,
            "option_images": [None, "ic", "id"],
        },
        "last": [
            {
                "category": "c",
                "text": "t",
                "options": ["a", "b", "c"],
                "correct": [0, 2],
                "image": None,
                "option_images": ["ia", None, "ic"],
            },
            {"key": 0, "control": "option:2"},
        ],
    }


def test_editor_moves_and_deletes_questions_and_says_where_the_focus_goes(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        const three = m.stateFromContent({id: "s1", version: 1, name: "Q", questions: ["A", "B", "C"].map((text) =>
            ({category: "c", text, options: ["x", "y"], correct: [0]}))});
        const texts = (state) => state.questions.map((question) => question.text);
        const down = m.moveQuestion(three, 0, 1);
        const toEnd = m.moveQuestion(down, 1, 1);
        const up = m.moveQuestion(three, 1, -1);
        const unmoved = [m.moveQuestion(three, 0, -1) === three, m.moveQuestion(three, 2, 1) === three,
                         m.moveQuestion(three, 0, 2) === three];
        const middleGone = m.deleteQuestion(three, 1);
        const lastGone = m.deleteQuestion(three, 2);
        const allGone = m.deleteQuestion(m.deleteQuestion(lastGone, 0), 0);
        const readded = m.addQuestion(allGone);
        return {
            down: [texts(down), down.focus], toEnd: [texts(toEnd), toEnd.focus], up: [texts(up), up.focus], unmoved,
            middleGone: [texts(middleGone), middleGone.focus], lastGone: [texts(lastGone), lastGone.focus],
            allGone: [allGone.questions.length, allGone.focus], readded: [readded.questions[0].key, readded.focus],
            dirty: [m.isDirty(three), m.isDirty(down), m.isDirty(m.focused(down)), m.focused(down).focus],
        };""",
    )
    assert seen == {
        "down": [["B", "A", "C"], {"key": 0, "control": "move-down"}],
        "toEnd": [["B", "C", "A"], {"key": 0, "control": "move-up"}],
        "up": [["B", "A", "C"], {"key": 1, "control": "move-down"}],
        "unmoved": [True, True, True],
        "middleGone": [["A", "C"], {"key": 2, "control": "heading"}],
        "lastGone": [["A", "B"], {"key": 1, "control": "heading"}],
        "allGone": [0, {"key": None, "control": "add-question"}],
        "readded": [3, {"key": 3, "control": "category"}],
        "dirty": [False, True, True, None],
    }


def test_editor_shows_the_servers_problems_at_the_fields_they_name(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        const content = {id: "s1", version: 2, name: "Q", questions: ["A", "B"].map((text) =>
            ({category: "c", text, options: ["x", "y"], correct: [0]}))};
        const sent = m.stateFromContent(content);
        // the host moved question 1 down while the save was on its way: problems follow the questions sent
        const now = m.moveQuestion(sent, 0, 1);
        const refusal = {status: 400, message: "The question set is invalid.", details: [
            {question: 1, field: "correct", reason: "at least one correct option is required"},
            {question: 1, field: "options[1]", reason: "must not be empty"},
            {question: 2, field: "option_images[0]", reason: "names no stored image"},
            {question: 2, field: "text", reason: "must not be empty"},
            {question: 2, field: "question", reason: "give either 'text' or 'question', not both"},
            {question: 9, field: "text", reason: "a question the editor no longer has"},
            {field: "name", reason: "must be at most 100 characters (has 101)"},
            {field: "questions", reason: "at most 500 questions"},
            "plain words",
        ]};
        const s = m.withProblems(now, refusal, sent);
        const slots = ["text", "question", "category", "explanation", "image", "options", "correct", "options[3]",
                       "option_images[2]", "option_images", "unknown", undefined].map(m.slotOf);
        const typed = m.setQuestionField(s, 0, "text", "B again");
        const ticked = m.toggleCorrect(s, 1, 1);
        const optionTyped = m.setOption(s, 1, 1, "z");
        const renamed = m.setName(s, "Short");
        const moved = m.moveQuestion(s, 0, 1);
        const deleted = m.deleteQuestion(s, 1);
        const image = m.withUploadProblems(s, 0, "image", {status: 400, message: "Bad image",
            details: [{field: "image", reason: "is not a PNG, JPEG, WebP or GIF image"}]});
        const tooLarge = m.withUploadProblems(s, 1, "option:1", {status: 413, message: "HTTP 413"});
        const saved = m.savedState(s, {id: "s1", name: "Q", version: 3, question_count: 2}, s);
        return {
            focus: s.focus,
            movedKey: m.questionProblems(s, 0), stayedKey: m.questionProblems(s, 1),
            name: m.nameProblems(s), set: s.problems.set, slots,
            summary: m.problemSummary(s),
            typed: m.questionProblems(typed, 1), ticked: m.questionProblems(ticked, 0),
            optionTyped: m.questionProblems(optionTyped, 0), renamed: m.nameProblems(renamed),
            movedSummary: m.problemSummary(moved).map((line) => [line.text.split(/[,:]/)[0], line.focus.key]),
            deleted: [Object.keys(deleted.problems.questions), m.problemSummary(deleted).length],
            image: [m.questionProblems(image, 1).image, image.focus],
            tooLarge: [m.questionProblems(tooLarge, 0)["option:1"], tooLarge.focus],
            saved: [saved.version, m.isDirty(saved), m.problemSummary(saved)],
            untouched: m.withProblems(sent, {status: 400, message: "x"}).problems,
        };""",
    )
    assert seen["focus"] == {"key": None, "control": "problems"}
    # Key 0 (question 1 when sent) is second on screen now, key 1 (question 2 when sent) first.
    assert seen["movedKey"] == {
        "correct": ["at least one correct option is required"],
        "option:1": ["must not be empty"],
    }
    assert seen["stayedKey"] == {
        "option:0": ["names no stored image"],
        "text": ["must not be empty"],
        "question": ["give either 'text' or 'question', not both"],
    }
    assert seen["name"] == ["must be at most 100 characters (has 101)"]
    assert seen["set"] == [
        {"question": 9, "field": "text", "reason": "a question the editor no longer has"},
        {"question": None, "field": "name", "reason": "must be at most 100 characters (has 101)"},
        {"question": None, "field": "questions", "reason": "at most 500 questions"},
        {"question": None, "field": None, "reason": "plain words"},
    ]
    assert seen["slots"] == [
        "text",
        "question",
        "category",
        "explanation",
        "image",
        "options",
        "correct",
        "option:3",
        "option:2",
        "options",
        "question",
        "question",
    ]
    assert seen["summary"] == [
        {
            "text": "Question 9, text: a question the editor no longer has",
            "focus": {"key": None, "control": "problems"},
        },
        {"text": "Set name: must be at most 100 characters (has 101)", "focus": {"key": None, "control": "name"}},
        {"text": "questions: at most 500 questions", "focus": {"key": None, "control": "problems"}},
        {"text": "plain words", "focus": {"key": None, "control": "problems"}},
        {"text": "Question 1, option 1: names no stored image", "focus": {"key": 1, "control": "option:0"}},
        {"text": "Question 1, question text: must not be empty", "focus": {"key": 1, "control": "text"}},
        {
            "text": "Question 1: give either 'text' or 'question', not both",
            "focus": {"key": 1, "control": "heading"},
        },
        {
            "text": "Question 2, correct answers: at least one correct option is required",
            "focus": {"key": 0, "control": "correct:0"},
        },
        {"text": "Question 2, option 2: must not be empty", "focus": {"key": 0, "control": "option:1"}},
    ]
    # An edit takes away the problems of what it changed, and only those.
    assert seen["typed"] == {
        "option:0": ["names no stored image"],
        "question": ["give either 'text' or 'question', not both"],
    }
    assert seen["ticked"] == {"option:1": ["must not be empty"]}
    assert seen["optionTyped"] == {"correct": ["at least one correct option is required"]}
    assert seen["renamed"] == []
    set_lines = [["Question 9", None], ["Set name", None], ["questions", None], ["plain words", None]]
    assert seen["movedSummary"] == set_lines + [["Question 1", 0]] * 2 + [["Question 2", 1]] * 3
    assert seen["deleted"] == [["1"], 7]
    assert seen["image"] == [["is not a PNG, JPEG, WebP or GIF image"], {"key": 1, "control": "image"}]
    assert seen["tooLarge"] == [["the image is too large"], {"key": 0, "control": "option-image:1"}]
    assert seen["saved"] == [3, False, []]
    assert seen["untouched"] == {"set": [], "questions": {}}


def test_editor_edits_made_while_saving_stay_unsaved(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        const sent = m.setQuestionField(m.newSetState(), 0, "text", "Q1");
        const meanwhile = m.setName(sent, "Renamed meanwhile");
        const created = {id: "s9", name: "Untitled question set", version: 1, question_count: 1};
        const kept = m.savedState(meanwhile, created, sent);
        const clean = m.savedState(sent, {...created, name: "Named by server"}, sent);
        return {kept: [kept.setId, kept.version, kept.name, m.isDirty(kept)],
                clean: [clean.setId, clean.name, m.isDirty(clean)]};""",
    )
    assert seen == {
        "kept": ["s9", 1, "Renamed meanwhile", True],
        "clean": ["s9", "Named by server", False],
    }


def test_editor_writes_each_question_type_into_the_upload_document(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        let s = m.setQuestionField(m.newSetState(), 0, "text", "Is water wet?");
        s = m.setOption(m.setOption(s, 0, 0, "Yes"), 0, 1, "No");
        s = m.toggleCorrect(s, 0, 1);
        const tf = m.setType(s, 0, "true_false");       // the two fixed options; "No" was ticked: False stays
        const tfPicked = m.toggleCorrect(m.toggleCorrect(tf, 0, 0), 0, 1);   // one tick, moved
        let o = m.addQuestion(tfPicked);
        o = m.setType(o, 1, "numeric");
        o = m.setQuestionField(o, 1, "text", "How many legs has a spider?");
        o = m.setQuestionField(o, 1, "answer", " 8 ");
        o = m.addQuestion(o);
        o = m.setType(o, 2, "order");                   // at least three items
        const items = o.questions[2].options.length;
        o = m.setQuestionField(o, 2, "text", "Smallest first");
        ["one", "ten", "five"].forEach((text, at) => { o = m.setOption(o, 2, at, text); });
        o = m.moveOption(o, 2, 1, 1);                   // ten below five: the last place, so the focus goes up
        const moved = [q(o, 2).options, o.focus, m.moveOption(o, 2, 0, -1) === o, m.moveOption(o, 2, 0, 2) === o];
        o = m.setOptionImage(o, 2, 0, "one.png");
        o = m.moveOption(o, 2, 0, 1);                   // its image goes with it
        o = m.addQuestion(o);
        o = m.setType(o, 3, "poll");
        o = m.setQuestionField(o, 3, "text", "Best pet?");
        o = m.setOption(m.setOption(o, 3, 0, "Cat"), 3, 1, "Dog");
        const untickable = [m.toggleCorrect(o, 3, 0) === o, m.toggleCorrect(o, 2, 0) === o,
                            m.addOption(tfPicked, 0) === tfPicked, m.setType(o, 3, "poll") === o,
                            m.setType(o, 3, "essay") === o];
        // a numeric question keeps the options it had, for the way back
        const back = q(m.setType(m.setType(s, 0, "numeric"), 0, "choice"), 0);
        const typed = (text) => m.uploadDocument(m.setQuestionField(o, 1, "answer", text)).questions[1].answer;
        const tolerance = m.uploadDocument(m.setQuestionField(o, 1, "tolerance", "0.5")).questions[1].tolerance;
        return {
            tf: [pick(q(tf, 0)), tf.focus], tfPicked: q(tfPicked, 0).correct, items, moved,
            orderImages: q(o, 2).option_images, untickable,
            back: [back.type, back.options, back.correct],
            document: m.uploadDocument(o),
            answers: [typed("eight"), typed(""), typed("-1e3"), tolerance],
            previews: [m.previewQuestion(o, 1), m.previewQuestion(o, 2), m.previewQuestion(o, 3).select_count,
                       m.previewQuestion(o, 0).select_count],
            limits: ["choice", "poll", "order", "true_false", "numeric"].map(m.optionLimits),
        };""",
    )
    assert seen["tf"] == [
        {
            "category": "",
            "text": "Is water wet?",
            "options": ["True", "False"],
            "correct": [1],
            "image": None,
            "option_images": [],
        },
        {"key": 0, "control": "type"},
    ]
    assert seen["tfPicked"] == [1]
    assert seen["items"] == 3
    assert seen["moved"] == [["one", "five", "ten"], {"key": 2, "control": "item-up:2"}, True, True]
    assert seen["orderImages"] == [None, "one.png", None]
    assert seen["untickable"] == [True, True, True, True, True]
    assert seen["back"] == ["choice", ["Yes", "No"], [1]]
    assert seen["document"] == {
        "name": "Untitled question set",
        "questions": [
            {
                "type": "true_false",
                "category": "",
                "text": "Is water wet?",
                "options": ["True", "False"],
                "correct": [1],
            },
            {"type": "numeric", "category": "", "text": "How many legs has a spider?", "answer": 8},
            # an order question's options are the correct order: no `correct` needed
            {
                "type": "order",
                "category": "",
                "text": "Smallest first",
                "options": ["five", "one", "ten"],
                "option_images": [None, "one.png", None],
            },
            {"type": "poll", "category": "", "text": "Best pet?", "options": ["Cat", "Dog"]},
        ],
    }
    # what does not read as a number goes as typed: the server says what is wrong with it
    assert seen["answers"] == ["eight", None, -1000, 0.5]
    assert seen["previews"] == [
        {
            "type": "question",
            "question_type": "numeric",
            "index": 1,
            "category": "",
            "text": "How many legs has a spider?",
            "options": [],
            "select_count": 0,
            "image": None,
            "option_images": None,
        },
        {
            "type": "question",
            "question_type": "order",
            "index": 2,
            "category": "",
            "text": "Smallest first",
            "options": ["one", "ten", "five"],  # moved one place round: never the correct order
            "select_count": 3,
            "image": None,
            "option_images": ["/images/one.png", None, None],
        },
        1,
        1,
    ]
    assert seen["limits"] == [
        {"min": 2, "max": 8},
        {"min": 2, "max": 8},
        {"min": 3, "max": 6},
        {"min": 2, "max": 2},
        {"min": 0, "max": 0},
    ]


def test_editor_loads_typed_questions_and_maps_their_problems(page: Page) -> None:
    seen = run_module(
        page,
        "editor_state.js",
        EDITOR
        + """
        const s = m.stateFromContent({id: "s2", version: 1, name: "Typed", questions: [
            {type: "order", category: "c", text: "o", options: ["ten", "one", "five"], correct: [1, 2, 0],
             option_images: ["i10", null, null]},
            {type: "numeric", category: "c", text: "n", options: [], correct: [], answer: 3.5, tolerance: 0},
            {type: "poll", category: "c", text: "p", options: ["a", "b"], correct: []},
            {category: "c", text: "legacy", options: ["a", "b"], correct: [0]},
            {type: "order", category: "c", text: "not a permutation", options: ["x", "y", "z"], correct: [0, 0, 1]},
        ]});
        const refused = m.withProblems(s, {status: 400, details: [
            {question: 2, field: "answer", reason: "must be a number"},
            {question: 2, field: "tolerance", reason: "must be 0 or more"},
            {question: 3, field: "type", reason: "must be one of choice, true_false, poll, numeric, order"}]});
        const fixed = m.setQuestionField(refused, 1, "answer", "3.5");
        return {
            loaded: s.questions.map((x) => [x.type, x.options, x.correct, x.option_images, x.answer, x.tolerance]),
            document: m.uploadDocument(s).questions,
            summary: m.problemSummary(refused),
            fixed: m.questionProblems(fixed, 1),
            retyped: m.questionProblems(m.setType(refused, 2, "choice"), 2),
        };""",
    )
    assert seen["loaded"] == [
        ["order", ["one", "five", "ten"], [], [None, None, "i10"], "", ""],
        ["numeric", [], [], [], "3.5", "0"],
        ["poll", ["a", "b"], [], [], "", ""],
        ["choice", ["a", "b"], [0], [], "", ""],
        ["order", ["x", "y", "z"], [], [None, None, None], "", ""],
    ]
    # Re-uploading what was loaded gives the same questions (the order question in its correct order).
    assert seen["document"] == [
        {
            "type": "order",
            "category": "c",
            "text": "o",
            "options": ["one", "five", "ten"],
            "option_images": [None, None, "i10"],
        },
        {"type": "numeric", "category": "c", "text": "n", "answer": 3.5, "tolerance": 0},
        {"type": "poll", "category": "c", "text": "p", "options": ["a", "b"]},
        {"category": "c", "text": "legacy", "options": ["a", "b"], "correct": [0]},
        {"type": "order", "category": "c", "text": "not a permutation", "options": ["x", "y", "z"]},
    ]
    assert seen["summary"] == [
        {"text": "Question 2, answer: must be a number", "focus": {"key": 1, "control": "answer"}},
        {"text": "Question 2, tolerance: must be 0 or more", "focus": {"key": 1, "control": "tolerance"}},
        {
            "text": "Question 3, type: must be one of choice, true_false, poll, numeric, order",
            "focus": {"key": 2, "control": "type"},
        },
    ]
    assert seen["fixed"] == {"tolerance": ["must be 0 or more"]}
    assert seen["retyped"] == {}


def test_editor_draws_the_fields_of_each_question_type_labelled(page: Page, web_origin: str) -> None:
    browser = page.context.browser
    assert browser is not None
    editor_page = browser.new_page()
    editor_page.goto(f"{web_origin}/index.html")
    seen = editor_page.evaluate(
        """async () => {
        const render = await import('/js/editor_render.js');
        const m = await import('/js/editor_state.js');
        for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== "screen-editor";
        const calls = [];
        const handlers = new Proxy({}, {get: (_, name) => (...args) => calls.push([name, ...args])});
        const s = m.stateFromContent({id: "s1", version: 1, name: "Types", questions: [
            {type: "true_false", category: "c", text: "tf", options: ["True", "False"], correct: [1]},
            {type: "poll", category: "c", text: "poll", options: ["a", "b"], correct: []},
            {type: "numeric", category: "c", text: "num", options: [], correct: [], answer: 42, tolerance: 2},
            {type: "order", category: "c", text: "ord", options: ["x", "y", "z"], correct: [0, 1, 2]}]});
        render.renderEditor(s, handlers);
        const screen = document.getElementById("screen-editor");
        const controls = [...screen.querySelectorAll("input, textarea, button, select")];
        const unlabelled = controls.filter((node) => !(node.labels && node.labels.length)
            && !node.getAttribute("aria-label") && !node.textContent.trim()).map((node) => node.outerHTML);
        const byLabel = (label) => screen.querySelector(`[aria-label="${label}"]`);
        const labelled = (text) => [...screen.querySelectorAll("label")].find((label) => label.textContent.trim()
            === text).control;
        const types = [1, 2, 3, 4].map((number) => labelled(`Type of question ${number}`).value);
        const tf = [byLabel("Question 1: True is correct").checked, byLabel("Question 1: False is correct").checked];
        const ticks = [...screen.querySelectorAll(".correct-check")].length;
        const numeric = [labelled("Answer of question 3").value, labelled("Tolerance of question 3 (optional)").value];
        const moves = ["Move question 4, item 1 up", "Move question 4, item 1 down", "Move question 4, item 3 down"]
            .map((label) => byLabel(label).disabled);
        byLabel("Move question 4, item 1 down").click();
        const select = labelled("Type of question 2");
        select.value = "order";
        select.dispatchEvent(new Event("change"));
        byLabel("Question 1: True is correct").click();
        labelled("Answer of question 3").value = "41";
        labelled("Answer of question 3").dispatchEvent(new Event("input"));
        return {
            unlabelled, types, tf, ticks, numeric, moves, calls,
            addItem: [byLabel("Add an item to question 4").disabled, byLabel("Remove question 4, item 1").disabled],
            legends: [...screen.querySelectorAll("legend")].map((legend) => legend.textContent),
            pollAdd: byLabel("Add an option to question 2").textContent,
        };
    }"""
    )
    editor_page.close()
    assert seen["unlabelled"] == []
    assert seen["types"] == ["true_false", "poll", "numeric", "order"]
    assert seen["tf"] == [False, True]
    assert seen["ticks"] == 0  # neither a poll nor an order question has correct ticks
    assert seen["numeric"] == ["42", "2"]
    assert seen["moves"] == [True, False, True]
    assert seen["calls"] == [
        ["onMoveOption", 3, 0, 1],
        ["onType", 1, "order"],
        ["onToggleCorrect", 0, 0],
        ["onField", 2, "answer", "41"],
    ]
    assert seen["addItem"] == [False, True]  # 3 of 3..6 items: one more may come, none may go
    assert seen["legends"] == [
        "Which is right in question 1?",
        "Options of question 2",
        "Items of question 4, in the correct order",
    ]
    assert seen["pollAdd"] == "Add option"


def test_participant_prefetches_the_run_images_listed_by_state_and_started(page: Page) -> None:
    seen = run_module(
        page,
        "play_state.js",
        PLAY
        + """
        const images = ["/images/a.png", "/images/b.webp"];
        return [
            m.runImages({...running(0), images}),
            m.runImages({type: "started", question_count: 2, images: [...images, 7, "", null]}),
            m.runImages({type: "started", question_count: 2}),
            m.runImages({...question(0), images}),
            // a question push with its image changes nothing else in the state
            play(s0, [running(0), {...question(0), image: "/images/a.png", option_images: [null, "/images/b.webp"]}])
                .question.image,
        ];""",
    )
    assert seen == [
        ["/images/a.png", "/images/b.webp"],
        ["/images/a.png", "/images/b.webp"],
        [],
        [],
        "/images/a.png",
    ]


def test_question_view_draws_the_image_and_option_images_with_text_only(page: Page) -> None:
    seen = run_module(
        page,
        "question_view.js",
        """const parts = m.questionViewParts();
        let chosen = null;
        m.drawQuestion(parts, {index: 0, category: "<b>c</b>", text: "<img src=x onerror=alert(1)>", select_count: 1,
            options: ["a", "b"], image: "/images/q.png", option_images: [null, "/images/o.gif"]},
            {onChoose: (index) => { chosen = index; }});
        const buttons = [...parts.options.children];
        buttons[1].click();
        const drawn = {
            image: [parts.image.hidden, parts.image.querySelector("img").getAttribute("src"),
                    parts.image.querySelector("img").alt],
            text: [parts.text.textContent, parts.text.children.length, parts.category.textContent],
            options: buttons.map((button) => [button.className, button.querySelector(".option-text").textContent,
                (button.querySelector(".option-image") || {}).alt || null, button.getAttribute("aria-pressed")]),
            optionImage: buttons[1].querySelector("img").getAttribute("src"),
            chosen,
        };
        m.drawQuestion(parts, {index: 1, category: "", text: "Pick two", select_count: 2, options: ["a", "b", "c"]},
            {selected: new Set([2])});
        const plain = {image: [parts.image.hidden, parts.image.children.length], category: parts.category.hidden,
            pressed: [...parts.options.children].map((button) => button.getAttribute("aria-pressed")),
            hint: parts.hint.textContent, multi: parts.options.classList.contains("multi")};
        return {drawn, plain};""",
    )
    assert seen == {
        "drawn": {
            "image": [False, "/images/q.png", "Question image"],
            "text": ["<img src=x onerror=alert(1)>", 0, "<b>c</b>"],
            "options": [
                ["option", "a", None, None],
                ["option with-image", "b", "Image of option 2", None],
            ],
            "optionImage": "/images/o.gif",
            "chosen": 1,
        },
        "plain": {
            "image": [True, 0],
            "category": True,
            "pressed": ["false", "false", "true"],
            "hint": f"Pick 2 answers, then submit. Keys 1{EN_DASH}3 select.",
            "multi": True,
        },
    }


def test_editor_draws_every_control_labelled_and_moves_the_focus(page: Page, web_origin: str) -> None:
    browser = page.context.browser
    assert browser is not None
    editor_page = browser.new_page()  # its own context, closed with it
    # The host page's markup (its script finds no config.json here and stops; the markup stays).
    editor_page.goto(f"{web_origin}/index.html")
    seen = editor_page.evaluate(
        """async () => {
        const render = await import('/js/editor_render.js');
        const m = await import('/js/editor_state.js');
        for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== "screen-editor";
        const calls = [];
        const handlers = new Proxy({}, {get: (_, name) => (...args) => calls.push([name, ...args])});
        let s = m.stateFromContent({id: "s1", version: 3, name: "Quiz", questions: [
            {category: "c", text: "<b>first</b>", options: ["a", "b"], correct: [0], image: "k1.png"},
            {category: "c", text: "second", options: Array.from({length: 8}, (_, i) => `o${i}`), correct: [1, 2],
             option_images: [null, "k2.png"]}]});
        s = m.withProblems(s, {status: 400, details: [{question: 2, field: "options[1]", reason: "too long"},
                                                       {field: "name", reason: "too long"}]});
        render.renderEditor(s, handlers);
        const screen = document.getElementById("screen-editor");
        const controls = [...screen.querySelectorAll("input, textarea, button, select")];
        const unlabelled = controls.filter((node) => !(node.labels && node.labels.length)
            && !node.getAttribute("aria-label") && !node.textContent.trim()).map((node) => node.outerHTML);
        const button = (label) => screen.querySelector(`button[aria-label="${label}"]`);
        const afterProblems = document.activeElement.id;
        const option = document.getElementById("q1-option-1");
        const described = option.getAttribute("aria-describedby").split(" ")
            .map((id) => document.getElementById(id).textContent);
        button("Move question 2 up").click();
        render.renderEditor(m.addQuestion(s, 0), handlers);
        const afterAdd = document.activeElement.id;
        render.renderEditor(m.focused(m.toggleCorrect(s, 0, 1)), handlers);
        render.applyFocus({key: 0, control: "correct:1"});
        const afterTick = [document.activeElement.id, document.activeElement.checked];
        render.renderEditor(m.focused(s), handlers);
        button("Preview question 2").focus();
        render.showPreview(s, 1, button("Preview question 2"));
        const dialog = document.getElementById("editor-preview");
        const preview = {open: dialog.open, text: dialog.querySelector(".question-text").textContent,
            progress: dialog.querySelector(".eyebrow").textContent,
            disabled: [...dialog.querySelectorAll(".option")].every((node) => node.disabled),
            optionImage: dialog.querySelector(".option-image").getAttribute("src"),
            hint: dialog.querySelector(".question-view .muted").textContent};
        dialog.close();
        return {
            unlabelled, afterProblems, described, calls, afterAdd, afterTick, preview,
            count: controls.length,
            title: [document.getElementById("editor-title").textContent,
                    document.getElementById("editor-version").textContent],
            name: [document.getElementById("editor-name").value,
                   document.getElementById("editor-name").getAttribute("aria-invalid"),
                   document.getElementById("editor-name-problems").textContent],
            summary: [...document.querySelectorAll("#editor-problems li")].map((li) => li.textContent),
            disabled: ["Move question 1 up", "Move question 2 down", "Add an option to question 2",
                       "Remove question 1, option 1", "Move question 1 down"].map((label) => button(label).disabled),
            firstText: [document.getElementById("q0-text").value, screen.querySelectorAll("#q0-text b").length],
            images: [...screen.querySelectorAll("img")].map((img) => [img.alt, img.getAttribute("src")]),
        };
    }"""
    )
    editor_page.close()
    assert seen["unlabelled"] == []
    assert seen["count"] > 40
    assert seen["afterProblems"] == "editor-problems"
    assert seen["described"] == ["2 / 200", "too long"]
    assert seen["calls"] == [["onMove", 1, -1]]
    assert seen["afterAdd"] == "q2-text"  # the new question (key 2) takes the category of question 1
    assert seen["afterTick"] == ["q0-correct-1", True]
    assert seen["preview"] == {
        "open": True,
        "text": "second",
        "progress": "Question 2 of 2",
        "disabled": True,
        "optionImage": "/images/k2.png",
        "hint": f"Pick 2 answers, then submit. Keys 1{EN_DASH}8 select.",
    }
    assert seen["title"] == ["Edit question set", "Version 3"]
    assert seen["name"] == ["Quiz", "true", "too long"]
    assert seen["summary"] == ["Set name: too long", "Question 2, option 2: too long"]
    assert seen["disabled"] == [True, True, True, True, False]
    assert seen["firstText"] == ["<b>first</b>", 0]
    assert seen["images"] == [
        ["Image of question 1", "/images/k1.png"],
        ["Image of question 2, option 2", "/images/k2.png"],
    ]
