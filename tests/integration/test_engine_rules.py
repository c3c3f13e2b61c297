"""The protocol's rules, each against the real engine (Lua on the test Redis) through the
WebSocket handler: error codes that change nothing, scoring, deadlines, one round trip per action,
leaderboard coalescing, exactly-once completion, kicks, reconnects and stale connections."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from unittest import mock

import pytest

import lambdas.finalizer.handler as finalizer_lambda
import lambdas.speedrun.handler as speedrun_lambda
from local_stack.client import COALESCED_LISTS
from speedrun.engine import service as service_module
from speedrun.engine.models import Caller
from tests.support.engine_harness import Client, EngineWorld, drain, engine_queues

DURATION_MS = 20_000


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


@pytest.fixture
def world(redis_url: str, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> EngineWorld:
    world = EngineWorld(redis_url, sqs)
    monkeypatch.setattr(finalizer_lambda, "service_from_settings", lambda: world.service)
    return world


def start_run(
    world: EngineWorld, players: int = 2, questions: int = 5, **config: Any
) -> tuple[str, Client, list[Client]]:
    run_id, code, host = world.create(questions, **config)
    clients = [world.join(code, f"Player {k}") for k in range(players)]
    assert world.send(host, "start")["type"] == "started"
    return run_id, host, clients


def expected_points(elapsed_ms: int, duration_ms: int = DURATION_MS) -> int:
    """round(1000 x (1 - elapsed / (2 x duration))), halves rounded up: the protocol's formula."""
    exact = 1000 * (1 - Fraction(min(elapsed_ms, duration_ms), 2 * duration_ms))
    return int(exact + Fraction(1, 2))


def frames_of(world: EngineWorld, client: Client, kind: str) -> list[dict[str, Any]]:
    """What the client was told of `kind` so far (the fan-out's deliveries due by now posted)."""
    world.fanout.run_due()
    return [frame for frame in world.received(client) if frame["type"] == kind]


def host_told(world: EngineWorld, host: Client, kind: str) -> list[dict[str, Any]]:
    """Every item of the host's coalesced notifications of `kind` (`participant_answered`, ...),
    once the run's pending flushes have been delivered."""
    world.settle()
    items: list[dict[str, Any]] = []
    for frame in frames_of(world, host, kind):
        items += frame.get(COALESCED_LISTS[kind]) or [
            {k: v for k, v in frame.items() if k not in ("type", "participant_count")}
        ]
    return items


# --- errors change nothing ----------------------------------------------------------------------


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


# --- scoring and the clock ----------------------------------------------------------------------


@pytest.mark.parametrize("elapsed", [0, 20, 60, 9_999, 19_999, 20_000, 20_999])
def test_correct_answers_score_by_the_formula(world: EngineWorld, elapsed: int) -> None:
    _run_id, _host, (player, _other) = start_run(world)
    world.send(player, "question", index=0)
    world.clock.advance(elapsed)
    result = world.send(player, "answer", index=0, selected=[0])
    assert result["outcome"] == "correct"
    assert result["points"] == expected_points(elapsed)
    assert 500 <= result["points"] <= 1000


def test_multi_select_needs_the_exact_set_in_any_order(world: EngineWorld) -> None:
    _run_id, _host, (player, other) = start_run(world, questions=3)
    for client in (player, other):  # question 2 wants options 2 and 3
        for index in (0, 1):
            world.send(client, "question", index=index)
            world.send(client, "timeout", index=index)
        assert world.send(client, "question", index=2)["select_count"] == 2
    world.clock.advance(4_000)
    exact = world.send(player, "answer", index=2, selected=[3, 2])
    assert (exact["outcome"], exact["points"], exact["correct_options"]) == ("correct", expected_points(4_000), [2, 3])
    partly = world.send(other, "answer", index=2, selected=[2, 0])
    assert (partly["outcome"], partly["points"]) == ("incorrect", 0)


def test_an_answer_after_the_deadline_and_grace_scores_timeout_not_an_error(world: EngineWorld) -> None:
    _run_id, host, (late, in_grace) = start_run(world)
    world.send(late, "question", index=0)
    world.send(in_grace, "question", index=0)
    world.clock.advance(DURATION_MS + 1_000)  # exactly the grace: still counts
    on_time = world.send(in_grace, "answer", index=0, selected=[0])
    assert (on_time["outcome"], on_time["points"]) == ("correct", 500)
    world.clock.advance(1)
    result = world.send(late, "answer", index=0, selected=[0])
    assert result["type"] == "answer_result"
    assert (result["outcome"], result["points"], result["correct_options"]) == ("timeout", 0, [0])
    answered = host_told(world, host, "participant_answered")
    assert [(a["participant_id"], a["outcome"]) for a in answered] == [
        (in_grace.participant_id, "correct"),
        (late.participant_id, "timeout"),
    ]
    scored = [e for e in world.engine.export(_run_id).events if e["type"] == "answer_scored"]  # type: ignore[union-attr]
    assert scored[-1]["data"] == {
        "participant_id": late.participant_id,
        "index": 0,
        "selected": [],
        "outcome": "timeout",
        "points": 0,
        "elapsed_ms": DURATION_MS,
        "score": 0,
    }


def test_asking_again_for_the_current_question_keeps_its_original_deadline(world: EngineWorld) -> None:
    run_id, _host, (player, _other) = start_run(world)
    first = world.send(player, "question", index=0)
    world.clock.advance(7_000)
    again = world.send(player, "question", index=0)
    assert (again["served_at"], again["deadline"]) == (first["served_at"], first["deadline"])
    assert first["deadline"] == world.clock() - 7_000 + DURATION_MS
    served = [e for e in world.engine.export(run_id).events if e["type"] == "question_served"]  # type: ignore[union-attr]
    assert len(served) == 1
    assert "correct" not in json.dumps(again)


def test_giving_up_scores_timeout_with_the_time_spent(world: EngineWorld) -> None:
    _run_id, _host, (player, _other) = start_run(world)
    world.send(player, "question", index=0)
    world.clock.advance(3_000)
    result = world.send(player, "timeout", index=0)
    assert (result["outcome"], result["points"], result["finished"]) == ("timeout", 0, False)
    assert world.send(player, "timeout", index=0)["code"] == "conflict"
    state = world.send(player, "sync")
    assert (state["next_index"], state["elapsed_ms"], state["current_question"]) == (1, 3_000, None)


def test_rank_is_score_then_total_time_then_join_order(world: EngineWorld) -> None:
    _run_id, _host, players = start_run(world, players=4, questions=2)
    a, b, c, d = players
    for client in players:
        world.send(client, "question", index=0)
    world.clock.advance(2_000)
    assert world.send(c, "answer", index=0, selected=[0])["rank"] == 1  # 950 points
    # 0 points in 2000 ms: behind b and d, who have 0 points in 0 ms so far
    assert world.send(a, "answer", index=0, selected=[1])["rank"] == 4
    assert world.send(b, "answer", index=0, selected=[1])["rank"] == 4  # same as a, joined later
    world.clock.advance(1_000)
    assert world.send(d, "answer", index=0, selected=[0])["rank"] == 2  # 925 points
    board = world.send(a, "sync")["leaderboard"]
    assert [e["participant_id"] for e in board] == [
        c.participant_id,
        d.participant_id,
        a.participant_id,
        b.participant_id,
    ]
    assert [e["rank"] for e in board] == [1, 2, 3, 4]


# --- one round trip -----------------------------------------------------------------------------


def test_question_answer_and_timeout_are_one_redis_round_trip_each(world: EngineWorld) -> None:
    _run_id, _host, (player, _other) = start_run(world, questions=3)
    world.send(player, "question", index=0)  # scripts are loaded by now
    world.send(player, "answer", index=0, selected=[0])
    steps: list[tuple[str, dict[str, Any]]] = [
        ("question", {"index": 1}),
        ("question", {"index": 1}),
        ("answer", {"index": 1, "selected": [3]}),
        ("question", {"index": 2}),
        ("timeout", {"index": 2}),
        ("sync", {}),
        ("message", {"to": "all", "content": "hi"}),
    ]
    for action, fields in steps:
        world.clock.advance(1_500)
        world.redis.commands.clear()
        reply = world.send(player, action, **fields)
        assert reply["type"] != "error", reply
        assert world.redis.commands == ["EVALSHA"], (action, world.redis.commands)
    world.redis.commands.clear()
    world.send(player, "ping")
    assert world.redis.commands == []


# --- completion ---------------------------------------------------------------------------------


def finalize(world: EngineWorld, run_id: str, due_ms: int) -> dict[str, Any]:
    return finalize_raw(world, json.dumps({"run_id": run_id, "due_ms": due_ms}))


def finalize_raw(world: EngineWorld, *bodies: str) -> dict[str, Any]:
    """The deadlines queue's event source mapping calling the finalizer with a batch."""
    event = {
        "Records": [
            {
                "messageId": f"msg-{n}",
                "receiptHandle": "handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(world.clock()),
                    "SenderId": "AIDATEST",
                    "ApproximateFirstReceiveTimestamp": str(world.clock()),
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deadlines",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies, start=1)
        ]
    }
    return dict(finalizer_lambda.handler(event, world.context))


@pytest.mark.parametrize("rival", ["end", "finalizer"])
def test_two_completion_triggers_at_once_complete_once(world: EngineWorld, rival: str) -> None:
    run_id, host, players = start_run(world, players=3, duration_s=60)
    ((deadline, _delay),) = world.sqs.deadlines()
    world.clock.advance(60_000)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def trigger(kind: str) -> None:
        barrier.wait()
        if kind == "end":
            outcomes.append(world.service.handle(host_caller, "end", '{"action": "end"}'))
        else:
            outcomes.append(finalize(world, run_id, int(deadline["due_ms"])))

    host_caller = Caller(run_id, "host", None, host.connection_id)
    threads = [threading.Thread(target=trigger, args=(kind,)) for kind in ("finalizer", rival)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.fanout.run_due()
    host_completed = [f for f in world.pusher.inbox.get(host.connection_id, []) if f["type"] == "completed"]
    host_completed += [o for o in outcomes if o.get("type") == "completed"]
    assert len(host_completed) == 1
    assert host_completed[0]["reason"] == "deadline"  # the clock is past ends_at: the deadline wins either way
    for player in players:
        assert len(frames_of(world, player, "completed")) == 1
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]
    events = world.engine.export(run_id).events  # type: ignore[union-attr]
    assert [e["type"] for e in events].count("run_completed") == 1


def test_host_end_completes_with_host_ended(world: EngineWorld) -> None:
    run_id, host, players = start_run(world)
    reply = world.send(host, "end", request_id="bye")
    assert (reply["type"], reply["reason"], reply["request_id"]) == ("completed", "host_ended", "bye")
    assert [f["reason"] for f in frames_of(world, players[0], "completed")] == ["host_ended"]
    assert frames_of(world, host, "completed") == [reply]  # the reply only: not pushed twice
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]


def test_the_deadline_is_enforced_on_the_next_action(world: EngineWorld) -> None:
    run_id, host, (player, other) = start_run(world, duration_s=30)
    world.send(player, "question", index=0)
    world.clock.advance(30_000)
    before_events = len(world.engine.export(run_id).events)  # type: ignore[union-attr]
    reply = world.send(player, "answer", index=0, selected=[0])
    assert reply["code"] == "not_running"
    for client in (host, player, other):
        assert [f["reason"] for f in frames_of(world, client, "completed")] == ["deadline"]
    events = world.engine.export(run_id).events  # type: ignore[union-attr]
    assert [e["type"] for e in events[before_events:]] == ["run_completed"]
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]


def test_the_finalizer_completes_an_idle_run_and_reschedules_early_messages(world: EngineWorld) -> None:
    run_id, host, (player, _other) = start_run(world, duration_s=1800)
    armed_at = world.clock()
    # Armed before the start, due at once: the finalizer reads the real ends_at and re-schedules.
    assert world.sqs.deadlines() == [({"run_id": run_id, "due_ms": armed_at}, 0)]
    assert finalize(world, run_id, armed_at) == {"batchItemFailures": []}
    due_ms = armed_at + 1_800_000
    deadline = {"run_id": run_id, "due_ms": due_ms}
    assert world.sqs.deadlines()[1:] == [(deadline, 900)]  # SQS delays at most 15 minutes
    world.clock.advance(900_000 - 1_500)
    assert finalize(world, run_id, due_ms) == {"batchItemFailures": []}
    assert world.sqs.deadlines()[1:] == [(deadline, 900), (deadline, 900)]  # not due: delayed again
    world.clock.advance(1_000)
    assert finalize(world, run_id, due_ms) == {"batchItemFailures": []}
    assert world.sqs.deadlines()[-1] == (deadline, 900)  # 900.5 s left: rounded up, capped
    world.clock.advance(899_000)
    assert finalize(world, run_id, due_ms) == {"batchItemFailures": []}
    assert world.sqs.deadlines()[-1] == (deadline, 2)
    assert frames_of(world, host, "completed") == []
    world.clock.advance(1_500)
    assert finalize(world, run_id, due_ms) == {"batchItemFailures": []}
    assert [f["reason"] for f in frames_of(world, player, "completed")] == ["deadline"]
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]
    world.engine.drop(run_id)
    assert finalize(world, run_id, due_ms) == {"batchItemFailures": []}  # gone: acknowledged


def test_a_malformed_deadline_message_is_a_partial_batch_failure(world: EngineWorld) -> None:
    fine = json.dumps({"run_id": "nosuchrun000", "due_ms": 1})  # no such run: acknowledged
    response = finalize_raw(world, fine, '{"run_id": "abc"}', "not json")
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-2"}, {"itemIdentifier": "msg-3"}]}


# --- kicks, connections -------------------------------------------------------------------------


def test_a_kicked_participant_is_gone_for_good(world: EngineWorld) -> None:
    run_id, host, (kept, kicked) = start_run(world)
    reply = world.send(host, "kick", participant_id=kicked.participant_id, request_id="k")
    assert reply == {
        "type": "participant_left",
        "participant_id": kicked.participant_id,
        "reason": "kicked",
        "participant_count": 1,
        "request_id": "k",
    }
    assert frames_of(world, kept, "participant_left") == [{k: v for k, v in reply.items() if k != "request_id"}]
    assert frames_of(world, kicked, "participant_left") == []
    assert kicked.connection_id in world.pusher.closed
    assert world.engine.connection_allowed(run_id, "participant", kicked.participant_id) is False
    assert world.engine.connection_allowed(run_id, "participant", kept.participant_id) is True
    assert world.reconnect(kicked) == 403
    assert world.send(kicked, "sync")["code"] == "forbidden"
    assert world.send(host, "kick", participant_id=kicked.participant_id)["code"] == "not_found"
    state = world.send(host, "sync")
    assert [p["participant_id"] for p in state["participants"]] == [kept.participant_id]
    assert [e["participant_id"] for e in state["leaderboard"]] == [kept.participant_id]


def test_kicking_the_last_unfinished_participant_completes_the_run(world: EngineWorld) -> None:
    run_id, host, (done, idle) = start_run(world, questions=1)
    world.send(done, "question", index=0)
    assert world.send(done, "answer", index=0, selected=[0])["finished"] is True
    world.send(host, "kick", participant_id=idle.participant_id)
    (completed,) = frames_of(world, host, "completed")
    assert completed["reason"] == "all_finished"
    assert [e["participant_id"] for e in completed["leaderboard"]] == [done.participant_id]
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]


def test_one_live_connection_per_identity(world: EngineWorld) -> None:
    _run_id, host, (player, _other) = start_run(world)
    old_connection = player.connection_id
    assert world.reconnect(player) == 200
    assert world.pusher.closed == [old_connection]
    stale = Client(player.run_id, player.role, player.participant_id, old_connection)
    world.disconnect(stale)  # the old socket's $disconnect must not unregister the new one
    entry = next(p for p in world.send(host, "sync")["participants"] if p["participant_id"] == player.participant_id)
    assert entry["connected"] is True
    world.disconnect(player)
    entry = next(p for p in world.send(host, "sync")["participants"] if p["participant_id"] == player.participant_id)
    assert entry["connected"] is False


def test_a_connection_that_answers_gone_is_forgotten_with_one_extra_call(world: EngineWorld) -> None:
    run_id, code, host = world.create(2)
    alive, vanished = world.join(code, "Alive"), world.join(code, "Vanished")
    world.pusher.gone.add(vanished.connection_id)
    world.engine.call("forget", run_id)  # loads the script (once per server) before counting
    world.redis.commands.clear()
    world.send(host, "start")
    # start, keeping the join code for late joins; the fan-out forgets the gone connection
    assert world.redis.commands == ["EVALSHA", "PERSIST"]
    assert world.fanout.report.gone == 1
    world.redis.commands.clear()
    world.send(alive, "message", to="all", content="anyone?")
    assert world.redis.commands == ["EVALSHA"]  # nothing gone any more: no extra call
    flags = {p["name"]: p["connected"] for p in world.send(host, "sync")["participants"]}
    assert flags == {"Alive": True, "Vanished": False}


def test_unknown_runs_refuse_the_connection(world: EngineWorld) -> None:
    ghost = Client("nosuchrun000", "host", None, "conn-ghost")
    assert world.connect(ghost) == 403
    assert world.send(ghost, "sync")["code"] == "not_found"


# --- chat, results, sync ------------------------------------------------------------------------


def test_chat_reaches_exactly_its_recipients(world: EngineWorld) -> None:
    _run_id, host, (alice, bob) = start_run(world)
    reply = world.send(alice, "message", to="all", content="hello all")
    assert reply["type"] == "message" and reply["from"] == alice.participant_id and reply["from_name"] == "Player 0"
    assert [f["content"] for f in frames_of(world, bob, "message")] == ["hello all"]
    assert [f["content"] for f in frames_of(world, host, "message")] == ["hello all"]
    world.send(alice, "message", to="host", content="psst host")
    world.send(host, "message", to=bob.participant_id, content="just bob")
    assert [f["content"] for f in frames_of(world, host, "message")] == ["hello all", "psst host", "just bob"]
    assert [f["content"] for f in frames_of(world, bob, "message")] == ["hello all", "just bob"]
    assert [f["content"] for f in frames_of(world, alice, "message")] == ["hello all", "psst host"]  # own replies only
    assert world.send(host, "message", to="host", content="me")["code"] == "bad_request"


def test_participants_cannot_chat_when_the_host_turned_chat_off(world: EngineWorld) -> None:
    _run_id, host, (alice, bob) = start_run(world, chat=False)
    assert world.send(alice, "message", to="host", content="hi")["code"] == "forbidden"
    assert world.send(host, "message", to="all", content="announcement")["type"] == "message"
    assert [f["content"] for f in frames_of(world, bob, "message")] == ["announcement"]


def test_results_come_from_the_live_events_then_from_the_read_model(
    world: EngineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, host, (player, _other) = start_run(world, questions=1)
    world.send(player, "question", index=0)
    world.send(player, "answer", index=0, selected=[0])
    world.send(host, "end")
    own = world.send(player, "results", request_id="res")
    assert (own["type"], own["speedrun_id"], own["request_id"]) == ("results", run_id, "res")
    assert own["score"] == expected_points(0)
    assert world.send(host, "results")["type"] == "results"
    asked: list[tuple[str, str | None]] = []

    def read_model(run: str, participant: str | None) -> dict[str, Any]:
        asked.append((run, participant))
        return {"type": "results", "speedrun_id": run, "from": "read model"}

    monkeypatch.setattr(service_module.reporting, "read_results_view", read_model)
    world.engine.drop(run_id)
    assert world.send(player, "results")["from"] == "read model"
    assert asked == [(run_id, player.participant_id)]


def test_sync_snapshots_for_host_and_participant(world: EngineWorld) -> None:
    run_id, code, host = world.create(3, name="Capitals")
    player = world.join(code, "Zoë")
    lobby = world.send(player, "sync", request_id="s1")
    assert lobby["status"] == "lobby" and lobby["started_at"] is None and lobby["ends_at"] is None
    assert (lobby["participants"], lobby["next_index"], lobby["score"], lobby["request_id"]) == (1, 0, 0, "s1")
    world.send(host, "start")
    state = world.send(host, "sync")
    assert {
        k: state[k] for k in ("role", "speedrun_id", "status", "name", "question_count", "question_duration_s")
    } == {
        "role": "host",
        "speedrun_id": run_id,
        "status": "running",
        "name": "Capitals",
        "question_count": 3,
        "question_duration_s": 20,
    }
    assert state["participants"] == [
        {"participant_id": player.participant_id, "name": "Zoë", "connected": True, "finished": False}
    ]
    assert state["started_at"].endswith("Z") and state["ends_at"].endswith("Z")


def test_ping_is_answered_without_touching_redis(world: EngineWorld) -> None:
    _run_id, _code, host = world.create(1)
    assert world.send(host, "ping", request_id="p") == {"type": "pong", "request_id": "p"}


class FlakyQueue(Exception):
    pass


def test_a_completion_job_lost_after_the_action_is_sent_by_the_deadline_message(
    world: EngineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, host, (player,) = start_run(world, players=1, questions=1, duration_s=120)
    ((deadline, _delay),) = world.sqs.deadlines()
    send_job = world.jobs.send_completion_job

    def unavailable(_run_id: str) -> None:
        raise FlakyQueue("SQS is down")

    monkeypatch.setattr(world.jobs, "send_completion_job", unavailable)
    world.send(player, "question", index=0)
    result = world.send(player, "answer", index=0, selected=[0])
    assert (result["type"], result["finished"]) == ("answer_result", True)  # the answer stands
    assert [f["reason"] for f in frames_of(world, host, "completed")] == ["all_finished"]
    assert drain(world.sqs, "completion") == []
    world.clock.advance(120_000)
    with pytest.raises(FlakyQueue):  # still down: the deadline message fails, to be retried
        world.service.finalize(run_id, int(deadline["due_ms"]))
    monkeypatch.setattr(world.jobs, "send_completion_job", send_job)
    assert finalize(world, run_id, int(deadline["due_ms"])) == {"batchItemFailures": []}
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]
    assert len(frames_of(world, host, "completed")) == 1


def test_a_start_whose_deadline_timer_cannot_be_armed_is_refused_and_changes_nothing(
    world: EngineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, code, host = world.create(2)
    player = world.join(code, "Ann")
    schedule_deadline = world.jobs.schedule_deadline

    def unavailable(_run_id: str, _due_ms: int) -> None:
        raise FlakyQueue("SQS is down")

    monkeypatch.setattr(world.jobs, "schedule_deadline", unavailable)
    before = world.dump(run_id)
    reply = world.send(host, "start")
    assert (reply["type"], reply["code"]) == ("error", "unavailable")  # safe to retry
    assert world.dump(run_id) == before
    assert frames_of(world, player, "started") == []
    monkeypatch.setattr(world.jobs, "schedule_deadline", schedule_deadline)
    assert world.send(host, "start")["type"] == "started"  # the retry starts it, timer armed
    assert [f["type"] for f in frames_of(world, player, "started")] == ["started"]
    assert len(world.sqs.deadlines()) == 1


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


# --- API Gateway's message limit ----------------------------------------------------------------


def test_a_reply_too_large_for_one_websocket_message_is_refused_with_too_large(
    world: EngineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, host, _players = start_run(world)
    world.send(host, "end")
    huge = {"type": "results", "speedrun_id": run_id, "questions": [{"text": "x" * 1_000}] * 200}
    monkeypatch.setattr(service_module.projections, "results_view", lambda _events, _participant_id: huge)
    reply = world.send(host, "results", request_id="big")
    assert reply == {
        "type": "error",
        "code": "too_large",
        "message": speedrun_lambda.TOO_LARGE_FOR_A_MESSAGE,
        "request_id": "big",
    }
