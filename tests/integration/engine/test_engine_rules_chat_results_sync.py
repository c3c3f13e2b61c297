"""Chat, results, sync and ping, against the real engine (Lua on the test Redis) through the
WebSocket handler: who a message reaches, chat turned off, results live then from the read
model, the sync snapshots."""

from __future__ import annotations

import pytest

from speedrun.reporting import read_models
from speedrun.reporting.views import ParticipantResults
from tests.support.engine_harness import EngineWorld
from tests.support.engine_rules import expected_points, frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)


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

    def read_model(run: str, participant: str | None) -> ParticipantResults:
        asked.append((run, participant))
        return ParticipantResults(speedrun_id=run, name="read model", questions=[], score=0, rank=None, elapsed_ms=0)

    monkeypatch.setattr(read_models, "read_results_view", read_model)
    world.engine.drop(run_id)
    assert world.send(player, "results")["name"] == "read model"
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
        {"participant_id": player.participant_id, "name": "Zoë", "connected": True, "finished": False, "extra_time": 1}
    ]
    assert state["started_at"].endswith("Z") and state["ends_at"].endswith("Z")


def test_ping_is_answered_without_touching_redis(world: EngineWorld) -> None:
    _run_id, _code, host = world.create(1)
    assert world.send(host, "ping", request_id="p") == {"type": "pong", "request_id": "p"}
