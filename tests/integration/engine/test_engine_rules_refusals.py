"""The protocol's refusals, each against the real engine (Lua on the test Redis) through the
WebSocket handler: every refused frame gets its error code and changes nothing, the chat rate
limit, runs not running, events without a run identity, replies too large for one message."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest

import lambdas.speedrun.handler as speedrun_lambda
from speedrun.engine import frames
from speedrun.engine import service as service_module
from speedrun.reporting import views
from speedrun.reporting.views import HostResults, ParticipantResults
from tests.support.engine_harness import Client, EngineWorld
from tests.support.engine_rules import expected_points, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)


def test_every_refused_frame_gets_its_code_and_leaves_the_run_byte_for_byte_unchanged(world: EngineWorld) -> None:
    run_id, host, (first, second) = start_run(world, questions=5)
    world.send(first, "question", index=0)
    world.clock.advance(1_000)
    assert world.send(first, "answer", index=0, selected=[0])["outcome"] == "correct"
    world.send(first, "question", index=1)  # first: answering question 1; second: nothing served
    world.clock.advance(500)

    def frame(action: str, **fields: Any) -> str:
        return json.dumps({"action": action, **fields})

    cases: list[tuple[Client, str, str, str]] = [
        (
            first,
            "answer",
            frame("answer", index=0, selected=[0], request_id="r1"),
            "conflict",
        ),
        (
            second,
            "answer",
            frame("answer", index=0, selected=[0], request_id="r2"),
            "out_of_order",
        ),
        (first, "answer", frame("answer", index=2, selected=[0]), "out_of_order"),
        (second, "timeout", frame("timeout", index=0), "out_of_order"),
        (first, "question", frame("question", index=3, request_id="r3"), "out_of_order"),
        (first, "question", frame("question", index=0), "out_of_order"),
        (first, "question", frame("question", index=99), "bad_request"),
        (first, "start", frame("start", request_id="r4"), "forbidden"),
        (first, "end", frame("end"), "forbidden"),
        (first, "kick", frame("kick", participant_id=second.participant_id), "forbidden"),
        (host, "question", frame("question", index=0), "forbidden"),
        (host, "kick", frame("kick", participant_id="nobody"), "not_found"),
        (host, "start", frame("start"), "conflict"),
        (first, "answer", frame("answer", index=1, selected=[9]), "bad_request"),
        (first, "answer", frame("answer", index=1, selected=[1, 1]), "bad_request"),
        (first, "answer", frame("answer", index=1, selected=["1"]), "bad_request"),
        (first, "answer", frame("answer", index=1, selected=[1.5]), "bad_request"),
        (first, "answer", frame("answer", index=1, selected=[0, 1]), "bad_request"),
        (first, "answer", frame("answer", index=1), "bad_request"),
        (first, "answer", frame("answer", index=1, selected=[3]) + " " * 33 * 1024, "too_large"),
        (first, "answer", "{not json", "bad_request"),
        (first, "$default", frame("dance", request_id="r5"), "bad_request"),
        (first, "ping", frame("ping", request_id="r" * 65), "bad_request"),
        (first, "message", frame("message", to="all", content="x" * 501), "bad_request"),
        (first, "message", frame("message", to="all", content=""), "bad_request"),
        (
            first,
            "message",
            frame("message", to=second.participant_id, content="psst"),
            "forbidden",
        ),
        (host, "message", frame("message", to="nobody", content="hi"), "not_found"),
    ]
    for client, route_key, body, code in cases:
        before = world.dump(run_id)
        reply = world.send_raw(client, route_key, body)
        assert reply["type"] == "error", (route_key, body[:80], reply)
        assert reply["code"] == code, (route_key, body[:80], reply)
        sent = json.loads(body) if body.startswith("{") and len(body) < 1000 and body.endswith("}") else {}
        if sent.get("request_id") and len(sent["request_id"]) <= 64:
            assert reply["request_id"] == sent["request_id"]
        assert world.dump(run_id) == before, (route_key, body[:80])

    # the question being answered is untouched by all that: it still scores
    world.clock.advance(1_000)
    result = world.send(first, "answer", index=1, selected=[3])
    assert (result["outcome"], result["points"]) == ("correct", expected_points(1_500))


def test_past_the_rate_limit_messages_are_refused_without_a_trace(world: EngineWorld) -> None:
    run_id, _host, (first, _second) = start_run(world)
    for n in range(5):
        world.clock.advance(1_000)
        assert world.send(first, "message", to="all", content=f"hello {n}")["type"] == "message"
    world.clock.advance(1_000)
    before = world.dump(run_id)
    assert world.send(first, "message", to="all", content="one too many")["code"] == "rate_limited"
    assert world.dump(run_id) == before
    world.clock.advance(5_001)  # the first message left the 10 s window
    assert world.send(first, "message", to="all", content="room again")["type"] == "message"


def test_lobby_and_completed_runs_refuse_questions_and_answers(world: EngineWorld) -> None:
    run_id, code, host = world.create(2)
    player = world.join(code, "Early")
    before = world.dump(run_id)
    assert world.send(player, "question", index=0)["code"] == "not_running"
    assert world.send(player, "answer", index=0, selected=[0])["code"] == "not_running"
    assert world.send(host, "end")["code"] == "not_running"
    assert world.send(player, "results")["code"] == "not_running"
    assert world.dump(run_id) == before
    world.send(host, "start")
    assert world.send(host, "end")["type"] == "completed"
    before = world.dump(run_id)
    assert world.send(player, "question", index=0)["code"] == "not_running"
    assert world.send(player, "timeout", index=0)["code"] == "not_running"
    assert world.send(player, "message", to="all", content="gg")["code"] == "not_running"
    assert world.send(host, "kick", participant_id=player.participant_id)["code"] == "not_running"
    assert world.send(host, "end")["code"] == "not_running"
    assert world.dump(run_id) == before


def test_events_without_a_run_identity_are_refused(world: EngineWorld) -> None:
    _run_id, _code, host = world.create(1)
    with mock.patch.object(speedrun_lambda, "service_from_settings", lambda: world.service):
        context: dict[str, Any] = {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "x",
            "requestTime": "22/Nov/2026:00:00:00 +0000",
            "messageDirection": "IN",
            "stage": "test",
            "connectedAt": 1,
            "requestTimeEpoch": 1,
            "identity": {"sourceIp": "127.0.0.1"},
            "requestId": "r",
            "domainName": "ws.example.test",
            "connectionId": "conn-anonymous",
            "apiId": "testws",
        }
        connect = {
            "headers": {},
            "multiValueHeaders": {},
            "isBase64Encoded": False,
            "requestContext": context,
        }
        assert speedrun_lambda.handler(connect, world.context) == {"statusCode": 401}
        message = {
            "requestContext": {**context, "routeKey": "sync", "eventType": "MESSAGE", "messageId": "m"},
            "body": '{"action": "sync"}',
            "isBase64Encoded": False,
        }
        reply = speedrun_lambda.handler(message, world.context)
        assert reply["statusCode"] == 200
        assert json.loads(reply["body"])["code"] == "unauthorized"
        disconnect = {**connect, "requestContext": {**context, "routeKey": "$disconnect"}}
        assert speedrun_lambda.handler(disconnect, world.context) == {"statusCode": 200}
    assert world.send(host, "sync")["type"] == "state"


def test_a_reply_too_large_for_one_websocket_message_is_refused_with_too_large(
    world: EngineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_id, host, _players = start_run(world)
    world.send(host, "end")
    live_view = views.results_view

    def huge(events: list[dict[str, Any]], participant_id: str | None) -> HostResults | ParticipantResults:
        return live_view(events, participant_id).model_copy(update={"name": "x" * 200_000})

    monkeypatch.setattr(service_module.views, "results_view", huge)
    reply = world.send(host, "results", request_id="big")
    assert reply == {
        "type": "error",
        "code": "too_large",
        "message": frames.TOO_LARGE_FOR_A_MESSAGE,
        "request_id": "big",
    }
