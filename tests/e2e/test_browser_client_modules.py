"""The web client's pure helpers (web/js/clock.js, config.js, dom.js, format.js, connection.js, runs.js,
views.js), the pages' message handling (host_state.js, play_state.js: protocol revisions 1 and 2) and
what they decide before drawing (host_forms.js, play_question.js, join_form.js), run in the system Chromium.

No backend: web/ is served by a throw-away static server and the ES modules are imported into a
page of that origin, so these checks are quick and independent of the local stack.
"""

from __future__ import annotations

import functools
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
            {"text": "Q1", "answer": "Answer: a, c", "correct": "Correct: Ada, Bo"},
            {"text": "Q2", "answer": "Answer: a", "correct": "Correct: nobody"},
        ],
    }


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
            steps.push([list(selected).sort(), picked.submit, m.readyToSubmit(two, selected)]);
        }
        const first = m.questionControls(two, null, false);
        const kept = m.questionControls(two, {...first, selected, sent: true, timeoutSent: true, spokenMark: 5},
                                        false);
        const answered = m.questionControls(two, {...first, selected, sent: true}, true);
        const other = m.questionControls(one, {...first, selected, sent: true}, false);
        return {
            single, steps, untouched: list(new Set([1])),
            frame: m.answerFrame(1, new Set([3, 0])),
            keys: ["1", "3", "4", "0", "x", " ", "2.5"].map((key) => m.optionForKey(key, 3)),
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
            {"outcome": "Correct!", "points": " +950 points · score 1,900 · rank 2", "next": "Next question"},
            {
                "outcome": "Time's up.",
                "points": f" +0 points · score 0 · rank {EN_DASH}",
                "next": "See the leaderboard",
            },
            "newer",
        ],
        "review": [
            {
                "outcome": "incorrect",
                "badge": "Not quite.",
                "points": " +0 points",
                "options": [
                    {"text": "a", "classes": "correct", "marks": ["correct answer"]},
                    {"text": "b", "classes": "chosen", "marks": ["your choice"]},
                    {"text": "c", "classes": "correct chosen", "marks": ["correct answer", "your choice"]},
                ],
            },
            {"outcome": "unanswered", "badge": "Not reached", "points": " +0 points", "options": []},
        ],
    }


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
