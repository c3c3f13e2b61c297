"""The web client's pure helpers (web/js/clock.js, config.js, dom.js, runs.js), run in the system Chromium.

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
        page, "clock.js", "return [0, 1, 999, 1000, 59_001, 61_000, 3_600_000].map(m.formatDuration);"
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
