"""Run options against the real engine: accuracy scoring and its tiebreak, untimed questions, extra time
for one participant (server clock only), explanations with the result, and what `state` and `started`
say of them. Points come from the referee (tests.support.question_rules)."""

from __future__ import annotations

from typing import Any

from speedrun.engine.keys import run_keys
from speedrun.engine.models import FrozenQuestion
from tests.support.engine_harness import EngineWorld, make_questions
from tests.support.engine_rules import DURATION_MS, frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)
from tests.support.question_rules import score

EXPLAINED = [
    FrozenQuestion(i, "c", f"Q{i}?", ["a", "b", "c"], [0], explanation=f"Because {i}." if i else None) for i in range(3)
]


def test_accuracy_scoring_is_a_flat_thousand_and_time_breaks_ties(world: EngineWorld) -> None:
    _run_id, _host, (slow, fast) = start_run(world, questions=2, scoring="accuracy")
    world.send(slow, "question", index=0)
    world.clock.advance(9_000)
    assert world.send(slow, "answer", index=0, selected=[0])["points"] == 1000
    world.send(fast, "question", index=0)
    world.clock.advance(1_000)
    reply = world.send(fast, "answer", index=0, selected=[0])
    assert (reply["points"], reply["rank"]) == (1000, 1)  # same score, less time


def test_without_the_speed_tiebreak_equal_scores_rank_by_join_order(world: EngineWorld) -> None:
    _run_id, _host, (slow, fast) = start_run(world, questions=2, scoring="accuracy", speed_tiebreak=False)
    world.send(slow, "question", index=0)
    world.clock.advance(9_000)
    world.send(slow, "answer", index=0, selected=[0])
    world.send(fast, "question", index=0)
    world.clock.advance(1_000)
    assert world.send(fast, "answer", index=0, selected=[0])["rank"] == 2  # joined later
    board = world.send(fast, "sync")["leaderboard"]
    assert [(e["participant_id"], e["elapsed_ms"]) for e in board] == [
        (slow.participant_id, 9_000),
        (fast.participant_id, 1_000),
    ]


def test_untimed_questions_wait_until_the_run_ends(world: EngineWorld) -> None:
    run_id, _host, (thinker, _other) = start_run(
        world, questions=2, scoring="accuracy", question_duration_s=None, duration_s=900
    )
    started = world.send(thinker, "sync")
    assert (started["question_duration_s"], started["scoring"]) == (None, "accuracy")
    frame = world.send(thinker, "question", index=0)
    events = world.engine.export(run_id).events  # type: ignore[union-attr]
    ends_at = next(e["data"]["ends_at"] for e in events if e["type"] == "run_started")
    assert (frame["duration_ms"], frame["deadline"]) == (None, ends_at)
    world.clock.advance(300_000)  # five minutes: far past any question time
    reply = world.send(thinker, "answer", index=0, selected=[0])
    assert (reply["outcome"], reply["points"]) == ("correct", 1000)
    assert world.send(thinker, "sync")["elapsed_ms"] == 300_000
    world.send(thinker, "question", index=1)
    world.clock.advance(600_000)  # the run's own deadline passes
    assert world.send(thinker, "answer", index=1, selected=[1])["code"] == "not_running"


def test_extra_time_granted_in_the_lobby_sets_that_participants_deadlines_only(world: EngineWorld) -> None:
    _run_id, code, host = world.create(3)
    helped, other = world.join(code, "Helped"), world.join(code, "Other")
    granted = world.send(host, "extra_time", participant_id=helped.participant_id, multiplier=1.5)
    assert granted == {"type": "extra_time", "participant_id": helped.participant_id, "multiplier": 1.5}
    told = frames_of(world, helped, "extra_time")
    assert told == [{**granted, "index": None, "deadline": None, "duration_ms": None}]
    assert frames_of(world, other, "extra_time") == []
    assert world.send(host, "start")["type"] == "started"
    assert world.send(helped, "sync")["extra_time"] == 1.5
    host_list = {p["participant_id"]: p["extra_time"] for p in world.send(host, "sync")["participants"]}
    assert host_list == {helped.participant_id: 1.5, other.participant_id: 1}
    slow = world.send(helped, "question", index=0)
    normal = world.send(other, "question", index=0)
    assert slow["deadline"] - world.clock() == slow["duration_ms"] == 30_000
    assert normal["deadline"] - world.clock() == normal["duration_ms"] == DURATION_MS
    world.clock.advance(24_000)  # past the others' deadline and grace, inside the helped one's window
    helped_reply = world.send(helped, "answer", index=0, selected=[0])
    assert (
        (helped_reply["outcome"], helped_reply["points"])
        == (
            "correct",
            score(make_questions(1)[0], [0], elapsed_ms=24_000, multiplier=1.5).points,
        )
        == ("correct", 600)
    )
    assert world.send(other, "answer", index=0, selected=[0])["outcome"] == "timeout"
    # the tiebreak counts the helped participant's time scaled back to the question's: 24 s of 30 = 16 s of 20
    assert world.send(helped, "sync")["elapsed_ms"] == 16_000


def test_extra_time_granted_mid_question_moves_its_deadline(world: EngineWorld) -> None:
    _run_id, host, (player, _other) = start_run(world)
    frame = world.send(player, "question", index=0)
    world.clock.advance(15_000)
    granted = world.send(host, "extra_time", participant_id=player.participant_id, multiplier=2)
    assert granted["multiplier"] == 2
    (pushed,) = frames_of(world, player, "extra_time")
    assert (pushed["index"], pushed["deadline"], pushed["duration_ms"]) == (0, frame["deadline"] + DURATION_MS, 40_000)
    assert world.send(player, "question", index=0)["deadline"] == pushed["deadline"]
    world.clock.advance(20_000)  # 35 s after serving: inside the doubled window
    assert world.send(player, "answer", index=0, selected=[0])["points"] == 563  # round(1000 x (1 - 35/80))
    world.send(host, "extra_time", participant_id=player.participant_id, multiplier=1)
    assert world.send(player, "question", index=1)["duration_ms"] == DURATION_MS


def test_extra_time_is_the_hosts_and_checked(world: EngineWorld) -> None:
    run_id, host, (player, other) = start_run(world)
    assert world.send(player, "extra_time", participant_id=other.participant_id, multiplier=2)["code"] == "forbidden"
    before = world.dump(run_id)
    for fields in (
        {"participant_id": player.participant_id, "multiplier": 0.5},
        {"participant_id": player.participant_id, "multiplier": 4.5},
        {"participant_id": player.participant_id, "multiplier": "2"},
        {"participant_id": player.participant_id, "multiplier": True},
        {"participant_id": player.participant_id},
        {"multiplier": 2},
    ):
        assert world.send(host, "extra_time", **fields)["code"] == "bad_request", fields
    assert world.send(host, "extra_time", participant_id="nobody", multiplier=2)["code"] == "not_found"
    assert world.dump(run_id) == before
    world.send(host, "end")
    assert world.send(host, "extra_time", participant_id=player.participant_id, multiplier=2)["code"] == "not_running"


def test_extra_time_is_one_redis_round_trip_and_one_push(world: EngineWorld) -> None:
    _run_id, host, (player, other) = start_run(world)
    world.send(host, "extra_time", participant_id=player.participant_id, multiplier=2)  # scripts loaded
    world.settle()
    world.redis.commands.clear()
    pushed_before = {c.participant_id: len(world.received(c)) for c in (player, other)}
    world.send(host, "extra_time", participant_id=player.participant_id, multiplier=3)
    assert world.redis.commands == ["EVALSHA"]
    world.settle()
    assert len(world.received(player)) == pushed_before[player.participant_id] + 1
    assert len(world.received(other)) == pushed_before[other.participant_id]


def test_explanations_come_with_the_result_only_when_the_host_shows_them(world: EngineWorld) -> None:
    for shown in (True, False):
        _run_id, _host, (player, _other) = start_run(world, questions=EXPLAINED, show_explanations=shown)
        replies: list[dict[str, Any]] = []
        for index in (0, 1):
            world.send(player, "question", index=index)
            replies.append(world.send(player, "answer", index=index, selected=[0]))
        assert "explanation" not in world.send(player, "question", index=2)
        if shown:
            assert [r["explanation"] for r in replies] == [None, "Because 1."]
        else:
            assert all("explanation" not in r for r in replies)


def test_state_and_started_say_the_runs_options(world: EngineWorld) -> None:
    _run_id, code, host = world.create(2, scoring="accuracy", speed_tiebreak=False, show_explanations=True)
    player = world.join(code, "Ada")
    options = {"scoring": "accuracy", "speed_tiebreak": False, "show_explanations": True}
    for client in (host, player):
        state = world.send(client, "sync")
        assert {key: state[key] for key in options} == options
    started = world.send(host, "start")
    assert {key: started[key] for key in options} == options
    (pushed,) = frames_of(world, player, "started")
    assert {key: pushed[key] for key in options} == options


def test_runs_frozen_before_the_options_read_as_their_defaults(world: EngineWorld) -> None:
    run_id, _host, (player, _other) = start_run(world)
    meta_key = run_keys(run_id)[0]
    world.redis.hdel(meta_key, "scoring", "speed_tiebreak", "show_explanations")
    state = world.send(player, "sync")
    assert (state["scoring"], state["speed_tiebreak"], state["show_explanations"]) == ("speed", True, False)
    world.send(player, "question", index=0)
    world.clock.advance(4_000)
    reply = world.send(player, "answer", index=0, selected=[0])
    assert (reply["points"], "explanation" in reply) == (900, False)
