"""Join-flood protection that never refuses a classroom (http-api.md; docs/signon-and-tokens.md), through the sign-on
handler with the deployed defaults: real engine on Redis, requests as CloudFront hands them to the
HTTP API (`sourceIp` is the edge, `CloudFront-Viewer-Address` the viewer). Every count here is
exact and every request falls into one fixed window (the limiter's clock is pinned)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

import lambdas.signon.handler as signon_lambda
from speedrun import manifest
from speedrun.adapters.tokens import RunClaims
from speedrun.engine.keys import run_keys
from speedrun.errors import Conflict, Forbidden, NotFound, Unavailable
from speedrun.settings import Settings
from speedrun.signon.join_limit import (
    KEY_TTL_S,
    REFUSALS_PER_VIEWER_PER_RUN,
    UNKNOWN_CODES_PER_VIEWER_PER_MINUTE,
    WINDOW_MS,
    JoinLimiter,
    join_window_key,
    run_field,
    run_window_key,
)
from speedrun.signon.service import SignOnService
from speedrun.signon.viewer import parse_viewer_address, viewer_of
from tests.support.fakes import FakeLambdaContext
from tests.support.signon import HOST_SUB, SignOnWorld, question, signon_world

NOW_MS = 1_900_000_020_000
"""The start of a minute (so a 429 says `try again in 60 s`)."""
WINDOW = NOW_MS // WINDOW_MS
EDGE = "130.176.0.17"
"""One CloudFront edge's address: `sourceIp` of everything below unless a test says otherwise."""
SCHOOL, NEIGHBOUR = "198.51.100.7", "203.0.113.9"
"""Two viewers near that edge."""
VIA = "2.0 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)"
UNKNOWN_CODE = "ZZZZZZ"


@pytest.fixture
def world(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignOnWorld]:
    with signon_world(redis_url, tmp_path) as built:
        # The deployed defaults (speedrun.settings, speedrun.signon.join_limit); only the clock is pinned.
        built.service.join_limiter = JoinLimiter(built.engine.redis, clock=lambda: NOW_MS)
        monkeypatch.setattr(signon_lambda, "service", lambda: built.service)
        yield built


def edge_headers(viewer: str | None, port: int = 46532) -> dict[str, str]:
    """What CloudFront adds for the API origin (local_stack.events.through_edge does the same)."""
    headers = {"content-type": "application/json", "via": VIA}
    if viewer is not None:
        headers["x-forwarded-for"] = viewer
        headers["cloudfront-viewer-address"] = f"{viewer}:{port}"
    return headers


def post(path: str, body: Any, *, headers: dict[str, str], source_ip: str = EDGE, sub: str | None = None) -> Any:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "example.test",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": "t"},
            "requestId": "r1",
            "routeKey": f"POST {path}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "isBase64Encoded": True,
    }
    if sub is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    response = signon_lambda.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def open_run(world: SignOnWorld, **options: Any) -> dict[str, Any]:
    set_id = world.upload([question(0)])
    status, body = post(
        "/api/signon/speedruns", {"question_set_id": set_id, **options}, headers=edge_headers(None), sub=HOST_SUB
    )
    assert status == 201, body
    return dict(body)


def join(code: str, name: str, viewer: str | None, *, port: int = 46532, source_ip: str = EDGE) -> tuple[int, Any]:
    status, body = post(
        "/api/signon/join", {"join_code": code, "name": name}, headers=edge_headers(viewer, port), source_ip=source_ip
    )
    return status, body


def participants(world: SignOnWorld, run_id: str) -> list[str]:
    export = world.engine.export(run_id)
    assert export is not None
    return [event["data"]["name"] for event in export.events if event["type"] == "participant_joined"]


# --- a classroom is never refused ------------------------------------------------------------------


def test_a_school_of_1000_behind_one_address_fills_one_run_within_a_minute(world: SignOnWorld) -> None:
    run = open_run(world, max_participants=1000)
    statuses = [join(run["join_code"], f"Pupil {n}", SCHOOL, port=1024 + n)[0] for n in range(1000)]
    assert statuses == [201] * 1000
    assert len(participants(world, run["speedrun_id"])) == 1000
    counters = world.engine.redis.hgetall(run_window_key(run["speedrun_id"], WINDOW))
    assert counters == {run_field(SCHOOL, "joined"): "1000"}


def test_a_school_s_typos_and_name_clashes_do_not_lock_it_out(world: SignOnWorld) -> None:
    """Every 10th pupil first picks a name already taken, and 99 pupils first mistype the code."""
    run = open_run(world, max_participants=1000)
    code = run["join_code"]
    typo = "".join("A" if ch != "A" else "B" for ch in code)
    replies: list[int] = []
    for n in range(1000):
        if n % 10 == 9:
            replies.append(join(code, f"Pupil {n - 1}", SCHOOL)[0])  # taken (case-insensitively too)
        if n % 10 == 5 and n < 990:
            replies.append(join(typo, f"Pupil {n}", SCHOOL)[0])
        replies.append(join(code, f"Pupil {n}", SCHOOL)[0])
    assert replies.count(201) == 1000
    assert replies.count(409) == 100
    assert replies.count(404) == 99
    assert 429 not in replies
    assert len(participants(world, run["speedrun_id"])) == 1000


def test_a_10000_place_run_takes_schools_through_one_edge_in_one_minute(world: SignOnWorld) -> None:
    """Different viewers through the same edge are counted per viewer: the edge is never a key."""
    run = open_run(world, max_participants=10000)
    schools = [f"198.51.100.{n}" for n in range(1, 5)]
    statuses = [join(run["join_code"], f"{school} #{n}", school)[0] for n in range(250) for school in schools]
    assert statuses == [201] * 1000
    counters = world.engine.redis.hgetall(run_window_key(run["speedrun_id"], WINDOW))
    assert counters == {run_field(school, "joined"): "250" for school in schools}


# --- a script is stopped ---------------------------------------------------------------------------


def test_a_script_filling_a_run_is_stopped_at_the_run_s_places(world: SignOnWorld) -> None:
    run = open_run(world, max_participants=50)
    replies = [join(run["join_code"], f"Bot {n}", SCHOOL)[0] for n in range(100)]
    assert replies == [201] * 50 + [429] * 50
    assert len(participants(world, run["speedrun_id"])) == 50
    # Others near the same edge are told the run is full, as they would be anyway.
    assert join(run["join_code"], "Human", NEIGHBOUR)[0] == 403


def test_a_script_repeating_a_taken_name_is_stopped_after_20_refusals(world: SignOnWorld) -> None:
    run = open_run(world)
    code = run["join_code"]
    replies = [join(code, "Ada", SCHOOL)[0] for _ in range(30)]
    assert replies == [201] + [409] * REFUSALS_PER_VIEWER_PER_RUN + [429] * 9
    status, body = join(code, "A fresh name", SCHOOL)
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert "try again in 60 s" in body["error"]["message"]
    assert join(code, "Neighbour", NEIGHBOUR)[0] == 201  # behind the same edge, counted apart
    assert participants(world, run["speedrun_id"]) == ["Ada", "Neighbour"]
    # The next minute the script has 20 refusals again (no joins of its own yet).
    limiter = world.service.join_limiter
    assert limiter is not None
    limiter.clock = lambda: NOW_MS + WINDOW_MS
    assert [join(code, "Ada", SCHOOL)[0] for _ in range(21)] == [409] * 20 + [429]


def test_a_script_hammering_a_full_run_it_did_not_fill_is_stopped_after_20(world: SignOnWorld) -> None:
    run = open_run(world, max_participants=2)
    assert [join(run["join_code"], name, NEIGHBOUR)[0] for name in ("one", "two")] == [201, 201]
    replies = [join(run["join_code"], f"Bot {n}", SCHOOL)[0] for n in range(25)]
    assert replies == [403] * 20 + [429] * 5


def test_a_script_guessing_codes_is_stopped_after_100_unknown_codes_for_every_code(world: SignOnWorld) -> None:
    run = open_run(world)
    replies = [join(UNKNOWN_CODE, f"Guess {n}", SCHOOL)[0] for n in range(UNKNOWN_CODES_PER_VIEWER_PER_MINUTE + 1)]
    assert replies == [404] * UNKNOWN_CODES_PER_VIEWER_PER_MINUTE + [429]
    # The 429 says nothing about the code: a real one is refused the same way.
    assert join(run["join_code"], "Found it", SCHOOL)[0] == 429
    assert participants(world, run["speedrun_id"]) == []
    # Another viewer behind the same edge is unaffected.
    assert join(UNKNOWN_CODE, "Typo", NEIGHBOUR)[0] == 404
    assert join(run["join_code"], "Neighbour", NEIGHBOUR)[0] == 201
    assert int(world.engine.redis.get(join_window_key(SCHOOL, WINDOW))) == UNKNOWN_CODES_PER_VIEWER_PER_MINUTE
    assert int(world.engine.redis.get(join_window_key(NEIGHBOUR, WINDOW))) == 1


def test_rejoining_after_kicks_stops_at_the_run_s_places(world: SignOnWorld) -> None:
    run = open_run(world, max_participants=3)
    joined = [join(run["join_code"], f"P{n}", SCHOOL)[1] for n in range(3)]
    world.engine.call("kick", run["speedrun_id"], joined[0]["participant_id"]).raise_error()
    status, body = join(run["join_code"], "P0 again", SCHOOL)
    assert status == 429
    assert "places" in body["error"]["message"]
    assert join(run["join_code"], "Someone else", NEIGHBOUR)[0] == 201


def test_refused_joins_change_nothing_in_the_run(world: SignOnWorld) -> None:
    run = open_run(world, max_participants=1)
    assert join(run["join_code"], "Only", SCHOOL)[0] == 201
    before = world.engine.export(run["speedrun_id"])
    replies = [join(run["join_code"], name, viewer)[0] for viewer in (SCHOOL, NEIGHBOUR) for name in ("Only", "Extra")]
    replies += [join(run["join_code"], f"Extra {n}", NEIGHBOUR)[0] for n in range(30)]
    assert replies == [429, 429, 409, 403] + [403] * 18 + [429] * 12
    assert world.engine.export(run["speedrun_id"]) == before


# --- whose address ---------------------------------------------------------------------------------


def test_without_the_header_the_source_address_is_the_viewer(world: SignOnWorld) -> None:
    """A direct call to the execute-api URL: `sourceIp` is then the caller's own address."""
    run = open_run(world)
    direct = "192.0.2.44"
    replies = [join(UNKNOWN_CODE, "x", None, source_ip=direct)[0] for _ in range(UNKNOWN_CODES_PER_VIEWER_PER_MINUTE)]
    assert replies == [404] * UNKNOWN_CODES_PER_VIEWER_PER_MINUTE
    assert join(run["join_code"], "Direct", None, source_ip=direct)[0] == 429
    assert join(run["join_code"], "Other direct", None, source_ip="192.0.2.45")[0] == 201
    # The same address through CloudFront is the same viewer.
    assert join(run["join_code"], "Via the edge", direct)[0] == 429
    # A header CloudFront did not write (no address in it) does not open a fresh counter either.
    status, _ = post(
        "/api/signon/join",
        {"join_code": run["join_code"], "name": "Forged"},
        headers={"content-type": "application/json", "cloudfront-viewer-address": "not-an-address"},
        source_ip=direct,
    )
    assert status == 429


def test_ipv6_viewers_are_counted_per_64_prefix(world: SignOnWorld) -> None:
    run = open_run(world, max_participants=1)
    assert join(run["join_code"], "First", NEIGHBOUR)[0] == 201
    # Rotating addresses inside the /64 does not give a script fresh counters.
    replies = [join(run["join_code"], f"Bot {n}", f"2001:db8::{n + 2:x}")[0] for n in range(21)]
    assert replies == [403] * 20 + [429]
    assert join(run["join_code"], "Next street", "2001:db8:0:1::1")[0] == 403  # another /64: its own counters
    counters = world.engine.redis.hgetall(run_window_key(run["speedrun_id"], WINDOW))
    assert counters[run_field("2001:db8::/64", "refused")] == "20"
    assert counters[run_field("2001:db8:0:1::/64", "refused")] == "1"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("198.51.100.7:46532", "198.51.100.7"),
        ("2001:db8::1:46532", "2001:db8::1"),
        ("2001:db8::1:443", "2001:db8::1"),  # CloudFront always appends the port
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:198.51.100.7:5000", "198.51.100.7"),
        (" 198.51.100.7:1 ", "198.51.100.7"),
    ],
)
def test_the_viewer_address_is_read_as_cloudfront_writes_it(header: str, expected: str) -> None:
    address = parse_viewer_address(header)
    assert address is not None
    assert str(address) == expected


@pytest.mark.parametrize("header", ["", "not-an-address", "198.51.100.7:port", "[2001:db8::1", "1.2.3.4, 5.6.7.8:1"])
def test_a_value_that_is_no_address_is_none(header: str) -> None:
    assert parse_viewer_address(header) is None


def test_viewer_of_prefers_the_reported_viewer_and_falls_back_to_the_source() -> None:
    assert viewer_of({"CloudFront-Viewer-Address": "198.51.100.7:1"}, EDGE) == "198.51.100.7"
    assert viewer_of({"cloudfront-viewer-address": "2001:db8::9:1"}, EDGE) == "2001:db8::/64"
    assert viewer_of({"x-forwarded-for": "203.0.113.1, 198.51.100.7"}, EDGE) == EDGE
    assert viewer_of({"cloudfront-viewer-address": "garbage"}, "2001:db8:1:2::3") == "2001:db8:1:2::/64"
    assert viewer_of({}, "::ffff:192.0.2.1") == "192.0.2.1"
    assert viewer_of(None, None) is None


# --- keys ------------------------------------------------------------------------------------------


def test_per_run_counters_share_the_run_s_slot_and_expire(world: SignOnWorld) -> None:
    run = open_run(world)
    assert join(run["join_code"], "Ada", SCHOOL)[0] == 201
    assert join(UNKNOWN_CODE, "Ada", SCHOOL)[0] == 404
    redis = world.engine.redis
    run_counters = run_window_key(run["speedrun_id"], WINDOW)
    assert key_slot(run_counters.encode()) == key_slot(run_keys(run["speedrun_id"])[0].encode())
    assert run_counters.startswith(f"joins:{{{run['speedrun_id']}}}:")
    for key in (run_counters, join_window_key(SCHOOL, WINDOW)):
        assert key.startswith("joins:")
        assert 0 < redis.ttl(key) <= KEY_TTL_S
    assert sorted(k for k in redis.scan_iter("joins:*")) == sorted([run_counters, join_window_key(SCHOOL, WINDOW)])


def test_the_token_of_a_limited_join_is_a_normal_one(world: SignOnWorld) -> None:
    run = open_run(world)
    status, body = join(run["join_code"], "Ada", SCHOOL)
    assert status == 201
    claims: RunClaims = world.tokens.verify(body["participant_token"])
    assert (claims.run_id, claims.role) == (run["speedrun_id"], "participant")


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [(None, UNKNOWN_CODES_PER_VIEWER_PER_MINUTE), ("7", 7)])
def test_the_deployed_service_takes_its_unknown_code_limit_from_the_environment(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, env: str | None, expected: int
) -> None:
    if env is None:
        monkeypatch.delenv(manifest.JOIN_UNKNOWN_CODES_PER_VIEWER_ENV, raising=False)
    else:
        monkeypatch.setenv(manifest.JOIN_UNKNOWN_CODES_PER_VIEWER_ENV, env)
    settings = Settings(redis_url=redis_url, ws_url="ws://127.0.0.1:9/ws", token_secret_id="unused")
    limiter = SignOnService.from_settings(settings).join_limiter
    assert limiter is not None
    assert limiter.unknown_codes_per_minute == expected


# --- the limiter's own bookkeeping -----------------------------------------------------------------


def test_a_code_whose_run_is_gone_counts_as_unknown(world: SignOnWorld) -> None:
    limiter = world.service.join_limiter
    assert limiter is not None
    with pytest.raises(NotFound):
        limiter.admit(SCHOOL, lambda: "gonegonegone")
    assert int(world.engine.redis.get(join_window_key(SCHOOL, WINDOW))) == 1
    assert world.engine.redis.exists(run_window_key("gonegonegone", WINDOW)) == 0


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (None, {run_field(SCHOOL, "joined"): "1"}),
        (Conflict("name already taken"), {run_field(SCHOOL, "joined"): "0", run_field(SCHOOL, "refused"): "1"}),
        (Forbidden("the speed-run is full"), {run_field(SCHOOL, "joined"): "0", run_field(SCHOOL, "refused"): "1"}),
        (Unavailable("live state store unavailable"), {run_field(SCHOOL, "joined"): "0"}),
        (RuntimeError("bug"), {run_field(SCHOOL, "joined"): "0"}),
    ],
)
def test_an_admitted_join_is_settled_by_its_outcome(
    world: SignOnWorld, error: Exception | None, expected: dict[str, str]
) -> None:
    run = open_run(world)
    limiter = world.service.join_limiter
    assert limiter is not None
    admission = limiter.admit(SCHOOL, lambda: str(run["speedrun_id"]))
    limiter.settle(admission, error)
    assert world.engine.redis.hgetall(run_window_key(run["speedrun_id"], WINDOW)) == expected
