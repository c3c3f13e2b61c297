"""Limits of the sign-on handler: join-flood protection per source IP (fixed one-minute windows in
Redis) and the body size refused before parsing. The WebSocket frame limit and the chat rate limit
are proven in test_engine_rules.py (`too_large`, `rate_limited`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lambdas.signon as signon_lambda
from speedrun.http import JSON_BODY_LIMIT_BYTES
from speedrun.signon.join_limit import KEY_TTL_S, WINDOW_MS, JoinRateLimiter, join_window_key
from tests.support.signon import FakeLambdaContext, SignOnWorld, question, signon_world

LIMIT = 5
NOW_MS = 1_900_000_000_000
FLOODER, NEIGHBOUR = "198.51.100.7", "203.0.113.9"


@pytest.fixture
def world(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignOnWorld]:
    with signon_world(redis_url, tmp_path) as built:
        built.service.join_limiter = JoinRateLimiter(built.engine.redis, per_minute=LIMIT, clock=lambda: NOW_MS)
        monkeypatch.setattr(signon_lambda, "service", lambda: built.service)
        yield built


def _post(path: str, text: str, *, source_ip: str, sub: str | None = None) -> tuple[int, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
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
        "body": base64.b64encode(text.encode()).decode(),
        "isBase64Encoded": True,
    }
    if sub is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    response = signon_lambda.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def _open_run(world: SignOnWorld) -> str:
    set_id = world.upload([question(0)])
    status, body = _post(
        "/api/signon/speedruns", json.dumps({"question_set_id": set_id}), source_ip=FLOODER, sub="host-sub-1"
    )
    assert status == 201, body
    return str(body["join_code"])


def _join(join_code: str, name: str, source_ip: str) -> tuple[int, Any]:
    return _post("/api/signon/join", json.dumps({"join_code": join_code, "name": name}), source_ip=source_ip)


def _joined_names(world: SignOnWorld, join_code: str) -> list[str]:
    run_id = world.engine.redis.get(f"joincode:{join_code}")
    export = world.engine.export(run_id.decode() if isinstance(run_id, bytes) else str(run_id))
    assert export is not None
    return [event["data"]["name"] for event in export.events if event["type"] == "participant_joined"]


def test_joins_over_the_limit_per_ip_and_minute_are_429_and_change_nothing(world: SignOnWorld) -> None:
    join_code = _open_run(world)
    assert [_join(join_code, f"P{n}", FLOODER)[0] for n in range(LIMIT)] == [201] * LIMIT
    status, body = _join(join_code, "Flood", FLOODER)
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert _joined_names(world, join_code) == [f"P{n}" for n in range(LIMIT)]

    # Another address is unaffected, and so is the flooder in the next window.
    assert _join(join_code, "Neighbour", NEIGHBOUR)[0] == 201
    assert world.service.join_limiter is not None
    world.service.join_limiter.clock = lambda: NOW_MS + WINDOW_MS
    assert _join(join_code, "Flood", FLOODER)[0] == 201


def test_the_window_counter_expires_by_itself(world: SignOnWorld) -> None:
    join_code = _open_run(world)
    _join(join_code, "Once", FLOODER)
    key = join_window_key(FLOODER, NOW_MS // WINDOW_MS)
    assert int(world.engine.redis.get(key)) == 1
    assert 0 < world.engine.redis.ttl(key) <= KEY_TTL_S


def test_a_body_over_the_json_limit_is_413_before_parsing(world: SignOnWorld) -> None:
    join_code = _open_run(world)
    padding = " " * JSON_BODY_LIMIT_BYTES
    status, body = _post(
        "/api/signon/join", json.dumps({"join_code": join_code, "name": "Big"}) + padding, source_ip=NEIGHBOUR
    )
    assert status == 413
    assert body["error"]["code"] == "too_large"
    assert _joined_names(world, join_code) == []
    # Not even counted as a join attempt: the guard runs before the handler's code.
    assert world.engine.redis.get(join_window_key(NEIGHBOUR, NOW_MS // WINDOW_MS)) is None
    at_limit = '{"join_code": "' + join_code + '", "name": "Fits"}'
    status, _ = _post("/api/signon/join", at_limit + " " * (JSON_BODY_LIMIT_BYTES - len(at_limit)), source_ip=NEIGHBOUR)
    assert status == 201
