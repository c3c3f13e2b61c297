"""Completion and deadlines, against the real engine (Lua on the test Redis) through the
WebSocket handler and the finalizer: exactly-once completion, the host's end, the deadline on
the next action and by the deadline message, and the deadline timer and completion job when
SQS fails."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

import lambdas.finalizer.handler as finalizer_lambda
from speedrun.engine.models import Caller
from tests.support.engine_harness import EngineWorld, drain
from tests.support.engine_rules import frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)


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
