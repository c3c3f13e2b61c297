"""The local gateway's WebSocket side: the $connect authorizer, route selection on `action`,
direct replies, @connections (boto3's apigatewaymanagementapi client), $disconnect and the limits."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local_stack.gateway import WEBSOCKET_MESSAGE_LIMIT_BYTES
from local_stack.stack import LocalStack
from tests.integration.local_stack.local_stack_handlers import recorder
from tests.integration.local_stack.local_stack_spec import spec_stack

WAIT_S = 15


@pytest.fixture(scope="module")
def stack(redis_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with spec_stack(redis_server_url, tmp_path_factory.mktemp("web")) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_recorder(stack: LocalStack) -> None:
    """An earlier test's `$disconnect` runs after its socket closed, in the function's own process:
    wait (bounded) until the stack is quiet, so it cannot land in this test's record."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and (stack.gateway is None or stack.gateway.connections or _busy(stack)):
        time.sleep(0.05)
    recorder.clear()


def _busy(stack: LocalStack) -> bool:
    return stack.lambdas is not None and stack.lambdas.in_flight > 0


def _run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, WAIT_S))


async def _ask(socket: Any, frame: str) -> dict[str, Any]:
    await socket.send(frame)
    return dict(json.loads(await socket.recv()))


async def _wait_for_events(function: str, route_key: str, count: int = 1) -> list[dict[str, Any]]:
    """$disconnect runs after the socket is gone: wait (bounded by WAIT_S) until the handler saw it.
    Only this test's connections count (an earlier test's $disconnect may still arrive late)."""
    while True:
        events = recorder.received(function)
        ours = {
            e["requestContext"]["connectionId"] for e in events if e["requestContext"].get("routeKey") == "$connect"
        }
        found = [
            e
            for e in events
            if e["requestContext"].get("routeKey") == route_key and e["requestContext"]["connectionId"] in ours
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)


def test_connect_runs_the_authorizer_then_connect_with_its_context(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with websockets.connect(f"{stack.ws_url}?token=good", user_agent_header="tester/1") as socket:
            await _ask(socket, json.dumps({"action": "echo"}))

    _run(scenario())
    (authorizer_event,) = recorder.received("ws_auth")
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"].endswith("/$connect")
    assert authorizer_event["queryStringParameters"] == {"token": "good"}
    assert authorizer_event["requestContext"]["eventType"] == "CONNECT"
    authorizer_request = APIGatewayAuthorizerRequestEvent(authorizer_event)
    route_arn = parse_api_gateway_arn(authorizer_request.method_arn, is_websocket_authorizer=True)
    assert (route_arn.stage, route_arn.resource) == ("local", "$connect")
    assert authorizer_request.query_string_parameters == {"token": "good"}
    connect = recorder.received("ws_echo")[0]
    parsed = APIGatewayWebSocketConnectEventModel.model_validate(connect)
    assert parsed.request_context.route_key == "$connect"
    assert parsed.request_context.identity.user_agent == "tester/1"
    assert connect["requestContext"]["authorizer"]["run_id"] == "run1"
    assert connect["requestContext"]["authorizer"]["principalId"] == "run1:host"
    assert authorizer_event["requestContext"]["connectionId"] == parsed.request_context.connection_id


@pytest.mark.parametrize(
    ("token", "status"),
    [("nonsense", 401), ("deny", 403), ("broken", 500), ("refuse-connect", 403)],
    ids=["unauthorized", "deny-policy", "authorizer-error", "connect-route-refuses"],
)
def test_refused_handshakes_get_the_http_status_and_no_connection(stack: LocalStack, token: str, status: int) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(f"{stack.ws_url}?token={token}")
        assert refused.value.response.status_code == status

    _run(scenario())
    assert stack.gateway is not None
    assert stack.gateway.connections == {}
    assert [e for e in recorder.received("ws_echo") if e["requestContext"]["routeKey"] != "$connect"] == []


def test_frames_are_routed_by_action_and_the_return_body_is_the_direct_reply(stack: LocalStack) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            return [
                await _ask(socket, json.dumps({"action": "echo", "n": 1})),
                await _ask(socket, json.dumps({"action": "no-such-action"})),
                await _ask(socket, "this is not json"),
                await _ask(socket, json.dumps(["action", "echo"])),
                await _ask(socket, json.dumps({"action": "$connect"})),
            ]

    replies = _run(scenario())
    assert [reply["route_key"] for reply in replies] == ["echo", "$default", "$default", "$default", "$default"]
    assert replies[0]["body"] == json.dumps({"action": "echo", "n": 1})
    assert replies[2]["body"] == "this is not json"
    assert replies[0]["authorizer"]["token_id"] == "good"
    messages = [e for e in recorder.received("ws_echo") if e["requestContext"]["eventType"] == "MESSAGE"]
    assert len(messages) == 5
    for message in messages:
        parsed = APIGatewayWebSocketMessageEventModel.model_validate(message)
        assert parsed.request_context.message_direction == "IN"


def test_a_failing_route_answers_like_api_gateway_and_a_none_result_sends_nothing(stack: LocalStack) -> None:
    async def scenario() -> dict[str, Any]:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            await socket.send(json.dumps({"action": "silent"}))
            reply = await _ask(socket, json.dumps({"action": "boom"}))
            # The reply to `silent` would have arrived before the one to `boom` if there had been one.
            assert reply["message"] == "Internal server error"
            return reply

    reply = _run(scenario())
    assert set(reply) == {"message", "connectionId", "requestId"}


def test_connections_api_pushes_reads_and_closes_and_answers_gone_for_unknown_ids(stack: LocalStack) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], int | None]:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            await socket.send(json.dumps({"action": "push"}))
            pushed_then_sent = [json.loads(await socket.recv()), json.loads(await socket.recv())]
            gone = await _ask(socket, json.dumps({"action": "push", "to": "AAAAAAAAAAAAAAAAAAAAAA=="}))
            await socket.send(json.dumps({"action": "push", "close": True}))
            frames = [*pushed_then_sent, gone]
            try:
                async for frame in socket:
                    frames.append(json.loads(frame))
            except ConnectionClosed:
                pass
            return frames, socket.close_code

    frames, close_code = _run(scenario())
    assert frames[0] == {"type": "pushed"}
    assert frames[1] == {"type": "push_sent"}
    assert frames[2] == {"type": "gone", "to": "AAAAAAAAAAAAAAAAAAAAAA=="}
    assert {"type": "pushed"} in frames[3:]
    assert close_code == 1000
    (disconnect,) = _run(_wait_for_events("ws_echo", "$disconnect"))
    parsed = APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect)
    assert parsed.request_context.disconnect_status_code == 1000
    assert disconnect["requestContext"]["authorizer"]["run_id"] == "run1"


def test_client_close_runs_disconnect_with_the_close_code(stack: LocalStack) -> None:
    async def scenario() -> str:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            reply = await _ask(socket, json.dumps({"action": "echo"}))
            await socket.close(code=4001, reason="bye")
            return str(reply["route_key"])

    assert _run(scenario()) == "echo"
    (disconnect,) = _run(_wait_for_events("ws_echo", "$disconnect"))
    assert disconnect["requestContext"]["disconnectStatusCode"] == 4001
    assert "bye" in disconnect["requestContext"]["disconnectReason"]


def test_idle_connections_are_closed_going_away(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stack.gateway is not None
    monkeypatch.setattr(stack.gateway, "idle_timeout_s", 0.3)

    async def scenario() -> int | None:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            with pytest.raises(ConnectionClosed):
                await socket.recv()
            return socket.close_code

    assert _run(scenario()) == 1001
    (disconnect,) = _run(_wait_for_events("ws_echo", "$disconnect"))
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1001


def test_connections_older_than_the_maximum_are_closed(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stack.gateway is not None
    monkeypatch.setattr(stack.gateway, "max_connection_s", 0.3)

    async def scenario() -> int | None:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            with pytest.raises(ConnectionClosed):
                while True:  # keeps the connection busy: only the age limit can close it
                    await _ask(socket, json.dumps({"action": "echo"}))
            return socket.close_code

    assert _run(scenario()) == 1001


def test_a_message_over_the_api_gateway_limit_closes_the_connection(stack: LocalStack) -> None:
    async def scenario() -> int | None:
        async with websockets.connect(f"{stack.ws_url}?token=good", max_size=None) as socket:
            await socket.send("x" * (WEBSOCKET_MESSAGE_LIMIT_BYTES + 1))
            with pytest.raises(ConnectionClosed):
                await socket.recv()
            return socket.close_code

    assert _run(scenario()) == 1009
    assert [e for e in recorder.received("ws_echo") if e["requestContext"]["routeKey"] == "$default"] == []


def test_connection_ids_look_like_api_gateway_ones(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with websockets.connect(f"{stack.ws_url}?token=good") as socket:
            await _ask(socket, json.dumps({"action": "echo"}))

    _run(scenario())
    connection_id = recorder.received("ws_echo")[0]["requestContext"]["connectionId"]
    assert len(connection_id) == 16
    assert connection_id.endswith("=")
    assert "/" not in connection_id
