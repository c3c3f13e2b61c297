"""Answering, against the real engine (Lua on the test Redis) through the WebSocket handler:
scoring by the formula, multi-select, the deadline and its grace, giving up, ranking, and one
Redis round trip per action."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_stack.client import COALESCED_LISTS
from tests.support.engine_harness import Client, EngineWorld
from tests.support.engine_rules import DURATION_MS, expected_points, frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)


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
