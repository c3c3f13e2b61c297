"""Limits of the sign-on handler: join-flood protection (per viewer address as CloudFront reports it,
and per run, in fixed one-minute windows in Redis) and the body size refused before parsing. The
classroom-sized cases and every limit's exact count are in test_signon_join_limits.py; the WebSocket
frame limit and the chat rate limit are proven in test_engine_rules_refusals.py (`too_large`, `rate_limited`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lambdas.signon.handler as signon_lambda
from speedrun.http import JSON_BODY_LIMIT_BYTES
from speedrun.signon.join_limit import KEY_TTL_S, WINDOW_MS, JoinLimiter, join_window_key, run_window_key
from tests.support.fakes import FakeLambdaContext
from tests.support.signon import SignOnWorld, question, signon_world

LIMIT = 5
NOW_MS = 1_900_000_020_000
EDGE = "130.176.0.17"
FLOODER, NEIGHBOUR = "198.51.100.7", "203.0.113.9"
"""Two viewers behind the same CloudFront edge."""


@pytest.fixture
def world(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignOnWorld]:
    with signon_world(redis_url, tmp_path) as built:
        built.service.join_limiter = JoinLimiter(
            built.engine.redis, unknown_codes_per_minute=LIMIT, clock=lambda: NOW_MS
        )
        monkeypatch.setattr(signon_lambda, "service", lambda: built.service)
        yield built


def _post(path: str, text: str, *, viewer: str | None, sub: str | None = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if viewer is not None:
        headers["cloudfront-viewer-address"] = f"{viewer}:40000"
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
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": EDGE, "userAgent": "t"},
            "requestId": "r1",
            "routeKey": f"POST {path}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": base64.b64encode(text.encode()).decode(),
        "isBase64Encoded": True,
    }
    if sub is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    response = signon_lambda.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def _open_run(world: SignOnWorld) -> tuple[str, str]:
    set_id = world.upload([question(0)])
    status, body = _post(
        "/api/signon/speedruns", json.dumps({"question_set_id": set_id}), viewer=None, sub="host-sub-1"
    )
    assert status == 201, body
    return str(body["speedrun_id"]), str(body["join_code"])


def _join(join_code: str, name: str, viewer: str) -> tuple[int, Any]:
    return _post("/api/signon/join", json.dumps({"join_code": join_code, "name": name}), viewer=viewer)


def _joined_names(world: SignOnWorld, run_id: str) -> list[str]:
    export = world.engine.export(run_id)
    assert export is not None
    return [event["data"]["name"] for event in export.events if event["type"] == "participant_joined"]


def test_a_viewer_over_the_unknown_code_limit_gets_429_for_every_code_and_changes_nothing(
    world: SignOnWorld,
) -> None:
    run_id, join_code = _open_run(world)
    assert [_join("ZZZZZZ", f"G{n}", FLOODER)[0] for n in range(LIMIT)] == [404] * LIMIT
    status, body = _join(join_code, "Flood", FLOODER)
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert _joined_names(world, run_id) == []

    # Another viewer behind the same edge is unaffected, and so is the flooder in the next window.
    assert _join(join_code, "Neighbour", NEIGHBOUR)[0] == 201
    assert world.service.join_limiter is not None
    world.service.join_limiter.clock = lambda: NOW_MS + WINDOW_MS
    assert _join(join_code, "Flood", FLOODER)[0] == 201


def test_the_window_counters_expire_by_themselves(world: SignOnWorld) -> None:
    run_id, join_code = _open_run(world)
    _join(join_code, "Once", FLOODER)
    _join("ZZZZZZ", "Once", FLOODER)
    window = NOW_MS // WINDOW_MS
    viewer_key, run_key = join_window_key(FLOODER, window), run_window_key(run_id, window)
    assert int(world.engine.redis.get(viewer_key)) == 1
    assert world.engine.redis.hgetall(run_key) == {f"{FLOODER}|joined": "1"}
    for key in (viewer_key, run_key):
        assert 0 < world.engine.redis.ttl(key) <= KEY_TTL_S


def test_a_body_over_the_json_limit_is_413_before_parsing(world: SignOnWorld) -> None:
    run_id, join_code = _open_run(world)
    padding = " " * JSON_BODY_LIMIT_BYTES
    status, body = _post(
        "/api/signon/join", json.dumps({"join_code": join_code, "name": "Big"}) + padding, viewer=NEIGHBOUR
    )
    assert status == 413
    assert body["error"]["code"] == "too_large"
    assert _joined_names(world, run_id) == []
    # Not even counted as a join attempt: the guard runs before the handler's code.
    assert list(world.engine.redis.scan_iter("joins:*")) == []
    at_limit = '{"join_code": "' + join_code + '", "name": "Fits"}'
    status, _ = _post("/api/signon/join", at_limit + " " * (JSON_BODY_LIMIT_BYTES - len(at_limit)), viewer=NEIGHBOUR)
    assert status == 201
