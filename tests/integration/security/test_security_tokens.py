"""Token attacks, through the local stack (the same gateway checks as API Gateway, the real handlers):
on every authenticated HTTP route of the manifest, at `$connect`, and mid-connection. Every refusal
is a 401/403 and changes nothing (all Redis keys, table items and queue counts compared)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from local_stack import events
from local_stack.client import RunSocket, multipart_body
from local_stack.demo import demo_question_set
from speedrun import manifest
from speedrun.clock import now_ms
from speedrun.manifest import Auth, HttpRoute
from tests.support.security_world import SecurityWorld, security_world

PUBLIC_ROUTES = {"GET /api/openapi.json", "POST /api/signon/join"}

Attack = Callable[[SecurityWorld], "str | None"]
ATTACKS: dict[str, Attack] = {
    "none": lambda world: None,
    "malformed": lambda world: "not-a-jwt",
    "cognito wrong signature": lambda world: world.cognito_token(world.host_a.sub, own_key=True),
    "cognito wrong key id": lambda world: world.cognito_token(world.host_a.sub, kid="not-a-key-of-this-pool"),
    "cognito expired": lambda world: world.cognito_token(world.host_a.sub, expires_in_s=-60),
    "run token wrong signature": lambda world: world.run_token(world.run_a.speedrun_id, key=secrets.token_bytes(32)),
    "run token wrong key id": lambda world: world.run_token(world.run_a.speedrun_id, kid="k-unknown"),
    "run token expired": lambda world: world.run_token(world.run_a.speedrun_id, expires_in_s=-60),
    "host token of another run": lambda world: world.run_b.host_token,
    "participant token": lambda world: world.participant_token,
    "kicked participant token": lambda world: world.extra["kicked_token"],
}


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.fixture(scope="module")
def world(redis_server_url: str) -> Iterator[SecurityWorld]:
    with security_world(redis_server_url) as running:
        kicked = running.join(running.run_a.join_code, "Kim")

        async def kick() -> None:
            host = await RunSocket.connect(running.stack.ws_url, running.run_a.host_token, "host")
            left = await host.request("kick", participant_id=kicked["participant_id"])
            assert left["type"] == "participant_left"
            await host.close()

        _run(kick())
        running.extra["kicked_token"] = kicked["participant_token"]
        running.extra["kicked_id"] = kicked["participant_id"]
        running.settle()
        # From here on nothing may reach a queue unnoticed: stop the workers, count the messages.
        for poller in running.stack.pollers.values():
            poller.stop()
        yield running


def _concrete_path(world: SecurityWorld, route: HttpRoute) -> str:
    return (
        route.path.replace("{run_id}", world.run_a.speedrun_id)
        .replace("{set_id}", world.set_a)
        .replace("{handle}", "player-a")
    )


def _valid_body(world: SecurityWorld, route: HttpRoute) -> tuple[bytes | None, dict[str, str]]:
    """A body the route would accept from its rightful caller, so only the token can be the reason."""
    if route.route_key == "POST /api/question-sets":
        content = json.dumps(demo_question_set(question_count=2)).encode()
        body, content_type = multipart_body({}, "set.json", content)
        return body, {"content-type": content_type}
    payloads: dict[str, Any] = {
        "POST /api/signon/speedruns": {"question_set_id": world.set_a},
        "PUT /api/players/{handle}": {"display_name": "Mallory"},
        "POST /api/players/{handle}/progress": {"kind": "badge", "value": "forged"},
    }
    if route.method in ("POST", "PUT", "PATCH"):
        return json.dumps(payloads.get(route.route_key, {})).encode(), {"content-type": "application/json"}
    return None, {}


def test_only_join_and_the_api_document_are_public() -> None:
    public = {route.route_key for route, _spec in manifest.http_routes() if route.auth is Auth.PUBLIC}
    assert public == PUBLIC_ROUTES


@pytest.mark.parametrize(
    "route",
    [route for route, _spec in manifest.http_routes() if route.auth is not Auth.PUBLIC],
    ids=lambda route: route.route_key,
)
def test_every_authenticated_route_refuses_every_bad_token_and_changes_nothing(
    world: SecurityWorld, route: HttpRoute
) -> None:
    path = _concrete_path(world, route)
    data, headers = _valid_body(world, route)
    before = world.snapshot()
    statuses = {}
    for name, attack in ATTACKS.items():
        reply = world.request(route.method, path, token=attack(world), data=data, headers=headers)
        statuses[name] = reply.status
        body = reply.json()
        assert "message" in body or "error" in body, (name, body)
    assert world.snapshot() == before
    if route.auth is Auth.USER:
        # The JWT authorizer (API Gateway's, emulated) refuses before the function runs.
        assert set(statuses.values()) == {401}, statuses
    else:
        assert set(statuses.values()) <= {401, 403}, statuses
        assert statuses["none"] == statuses["malformed"] == 401
        assert statuses["cognito wrong signature"] == statuses["cognito expired"] == 401
        assert statuses["host token of another run"] == statuses["participant token"] == 403


def test_the_rightful_callers_are_let_through(world: SecurityWorld) -> None:
    """The attacks above fail because of the token: the same requests with the right one pass."""
    for route, _spec in manifest.http_routes():
        if route.auth is Auth.PUBLIC or route.method != "GET" or "{run_id}" in route.path:
            continue  # writes are tried in test_security_ownership; run reads need a persisted run
        reply = world.request("GET", _concrete_path(world, route), token=world.host_a.id_token)
        assert reply.status in (200, 404), (route.route_key, reply.status)
    in_function = world.request(
        "GET", f"/api/speedruns/{world.run_a.speedrun_id}/results", token=world.run_a.host_token
    )
    assert in_function.status == 404  # the right host token: past auth, the run is not persisted yet
    assert in_function.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "attack",
    [
        "none",
        "malformed",
        "run token wrong signature",
        "run token wrong key id",
        "run token expired",
        "kicked participant token",
        "cognito wrong signature",
    ],
)
def test_connect_refuses_bad_tokens_and_changes_nothing(world: SecurityWorld, attack: str) -> None:
    token = ATTACKS[attack](world)
    url = world.stack.ws_url if token is None else f"{world.stack.ws_url}?token={token}"
    before = world.snapshot()

    async def handshake() -> int:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url)
        return refused.value.response.status_code

    status = _run(handshake())
    assert status == (401 if attack in ("none", "malformed") else 403)
    assert world.snapshot() == before
    assert world.stack.gateway is not None
    assert world.stack.gateway.connections == {}


def test_a_cognito_id_token_is_no_run_token(world: SecurityWorld) -> None:
    async def handshake() -> int:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(f"{world.stack.ws_url}?token={world.host_a.id_token}")
        return refused.value.response.status_code

    assert _run(handshake()) == 403


def test_participant_cannot_use_host_actions_and_a_host_cannot_reach_another_run(world: SecurityWorld) -> None:
    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        participant = await RunSocket.connect(world.stack.ws_url, world.participant_token, "p")
        other_host = await RunSocket.connect(world.stack.ws_url, world.run_b.host_token, "b")
        await participant.request("sync")
        await other_host.request("sync")
        before = world.snapshot()
        refused = [
            await participant.request("start"),
            await participant.request("end"),
            await participant.request("kick", participant_id=world.participant_id),
            await participant.request("message", to=world.participant_id, content="hi"),
        ]
        # Host B's token is bound to run B: run A's participant is unknown there.
        cross = await other_host.request("kick", participant_id=world.participant_id)
        after = world.snapshot()
        await participant.close()
        await other_host.close()
        return before, [*refused, cross], after

    before, replies, after = _run(scenario())
    assert [reply["type"] for reply in replies] == ["error"] * 5
    assert [reply["code"] for reply in replies[:3]] == ["forbidden"] * 3
    assert replies[3]["code"] in ("forbidden", "bad_request")
    assert replies[4]["code"] == "not_found"
    assert after == before


def _client(authorizer: dict[str, Any], connection_id: str | None = None) -> events.WebSocketClient:
    return events.WebSocketClient(
        connection_id=connection_id or events.connection_id(),
        source_ip="127.0.0.1",
        user_agent="attacker",
        domain_name="localhost",
        authorizer=authorizer,
    )


def _connect(world: SecurityWorld, authorizer: dict[str, Any]) -> str:
    """A `$connect` with this authorizer context: the engine admits it as its token's connection."""
    assert world.stack.lambdas is not None
    client = _client(authorizer)
    reply = world.stack.lambdas.invoke_sync(manifest.function("speedrun").name, events.websocket_connect_event(client))
    assert reply["statusCode"] == 200, reply
    return client.connection_id


def _message(
    world: SecurityWorld, authorizer: dict[str, Any], action: str, *, connection_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A frame on a connection with this authorizer context, as if its socket were still open (a new
    connection unless `connection_id` names one)."""
    client = _client(authorizer, connection_id)
    assert world.stack.gateway is not None
    spec = manifest.function("speedrun")
    event = events.websocket_message_event(client, action, json.dumps({"action": action, **fields}))
    assert world.stack.lambdas is not None
    reply = world.stack.lambdas.invoke_sync(spec.name, event)
    frame: dict[str, Any] = json.loads(reply["body"])
    return frame


PARTICIPANT_ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("sync", {}),
    ("question", {"index": 0}),
    ("answer", {"index": 0, "selected": [0]}),
    ("timeout", {"index": 0}),
    ("message", {"to": "host", "content": "still here"}),
]


def test_a_kicked_participant_can_do_nothing_mid_connection(world: SecurityWorld) -> None:
    """If the kick's socket close were lost, every action of that connection is still refused."""
    context = {
        "role": "participant",
        "run_id": world.run_a.speedrun_id,
        "participant_id": world.extra["kicked_id"],
        "token_id": "t",
        "expires_at": now_ms() + 3_600_000,
    }
    before = world.snapshot()
    frames = {action: _message(world, context, action, **fields) for action, fields in PARTICIPANT_ACTIONS}
    assert {frame["type"] for frame in frames.values()} == {"error"}
    # The run is still in its lobby: play actions may be refused for that first; none gets through.
    assert {frame["code"] for frame in frames.values()} <= {"forbidden", "not_running"}
    assert frames["sync"]["code"] == frames["message"]["code"] == "forbidden"
    assert world.snapshot() == before


def test_an_expired_token_stops_working_mid_connection(world: SecurityWorld) -> None:
    context = {
        "role": "participant",
        "run_id": world.run_a.speedrun_id,
        "participant_id": world.participant_id,
        "token_id": "t",
        # API Gateway may hand context numbers on as strings.
        "expires_at": str(now_ms() - 1),
    }
    before = world.snapshot()
    frames = [_message(world, context, action, **fields) for action, fields in [*PARTICIPANT_ACTIONS, ("ping", {})]]
    assert {(frame["type"], frame["code"]) for frame in frames} == {("error", "unauthorized")}
    assert world.snapshot() == before
    still_valid = {**context, "expires_at": now_ms() + 60_000}
    # (on a connection the engine admitted: one it never did may not act, whatever its token)
    assert _message(world, still_valid, "sync", connection_id=_connect(world, still_valid))["type"] == "state"
