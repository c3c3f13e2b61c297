"""Question types against the real engine (Lua on the test Redis) through the WebSocket handler, each
answer checked against the referee (tests.support.question_rules): true/false, polls (no points, no
time), numeric answers by closeness, order questions (exact sequence only), and what a wrong shape of
answer gets (`bad_request`, nothing changed)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from speedrun.engine.models import FrozenQuestion
from tests.support.engine_harness import Client, EngineWorld
from tests.support.engine_rules import frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)
from tests.support.question_rules import Player, ranking, score

TRUE_FALSE = FrozenQuestion(
    0, "facts", "Water boils at 100 °C at sea level.", ["True", "False"], [0], type="true_false"
)
POLL = FrozenQuestion(0, "survey", "Which do you like best?", ["Tea", "Coffee", "Water"], [], type="poll")
NUMERIC = FrozenQuestion(
    0, "maths", "How many metres in a mile?", [], [], type="numeric", answer=1609.0, tolerance=10.0
)
EXACT_NUMERIC = FrozenQuestion(0, "maths", "Seven times six?", [], [], type="numeric", answer=42.0, tolerance=0.0)
ORDER = FrozenQuestion(
    0, "history", "Oldest first", ["Rome", "Babylon", "Berlin", "Ur"], [3, 1, 0, 2], type="order", explanation="Ur!"
)
CHOICE = FrozenQuestion(0, "geo", "Capital of Australia?", ["Sydney", "Canberra", "Perth"], [1], explanation="1908.")


def at(index: int, question: FrozenQuestion) -> FrozenQuestion:
    return FrozenQuestion(**{**question.__dict__, "index": index})


def served(world: EngineWorld, client: Client, index: int = 0) -> dict[str, Any]:
    frame = world.send(client, "question", index=index)
    assert frame["type"] == "question", frame
    return frame


def test_a_true_false_question_is_a_choice_of_two(world: EngineWorld) -> None:
    _run_id, _host, (right, wrong) = start_run(world, questions=[TRUE_FALSE])
    frame = served(world, right)
    assert (frame["question_type"], frame["options"], frame["select_count"]) == ("true_false", ["True", "False"], 1)
    served(world, wrong)
    world.clock.advance(4_000)
    result = world.send(right, "answer", index=0, selected=[0])
    assert (result["question_type"], result["outcome"], result["correct_options"]) == ("true_false", "correct", [0])
    assert result["points"] == score(TRUE_FALSE, [0], elapsed_ms=4_000).points == 900
    assert (world.send(wrong, "answer", index=0, selected=[1])["outcome"]) == "incorrect"


def test_a_poll_scores_nothing_and_adds_no_time(world: EngineWorld) -> None:
    run_id, host, (voter, quitter) = start_run(world, questions=[POLL, at(1, CHOICE)])
    assert served(world, voter)["select_count"] == 1
    served(world, quitter)
    world.clock.advance(6_000)
    result = world.send(voter, "answer", index=0, selected=[2])
    assert (result["outcome"], result["points"], result["correct_options"], result["score"]) == ("answered", 0, [], 0)
    assert world.send(quitter, "timeout", index=0)["outcome"] == "timeout"
    for client in (voter, quitter):
        assert world.send(client, "sync")["elapsed_ms"] == 0
    assert world.send(voter, "answer", index=0, selected=[1])["code"] == "conflict"
    world.settle()
    answered = frames_of(world, host, "participant_answered")
    assert {item["outcome"] for frame in answered for item in frame.get("answered") or [frame]} == {
        "answered",
        "timeout",
    }
    scored = [e["data"] for e in world.engine.export(run_id).events if e["type"] == "answer_scored"]  # type: ignore[union-attr]
    assert [(s["selected"], s["outcome"], s["elapsed_ms"]) for s in scored] == [
        ([2], "answered", 0),
        ([], "timeout", 0),
    ]


def test_a_poll_takes_one_option(world: EngineWorld) -> None:
    _run_id, _host, (voter, _other) = start_run(world, questions=[POLL])
    served(world, voter)
    before = world.dump(_run_id)
    for selected in ([0, 1], [3], [-1]):
        assert world.send(voter, "answer", index=0, selected=selected)["code"] == "bad_request"
    assert world.dump(_run_id) == before


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (1609, "correct"),
        (1609.0, "correct"),
        (1614, "correct"),
        (1599, "correct"),
        (1603.5, "correct"),
        (1619.25, "incorrect"),
        (-1609, "incorrect"),
        (0, "incorrect"),
    ],
)
def test_a_numeric_answer_earns_points_by_closeness(world: EngineWorld, value: float, outcome: str) -> None:
    run_id, _host, (player, _other) = start_run(world, questions=[NUMERIC])
    frame = served(world, player)
    assert (frame["question_type"], frame["options"], frame["select_count"]) == ("numeric", [], 0)
    assert "answer" not in frame and "tolerance" not in frame
    world.clock.advance(2_500)
    result = world.send(player, "answer", index=0, value=value)
    expected = score(NUMERIC, value, elapsed_ms=2_500)
    assert (result["outcome"], result["points"]) == (outcome, expected.points) == (expected.outcome, expected.points)
    assert (result["correct_value"], result["tolerance"], result["value"], result["correct_options"]) == (
        1609,
        10,
        value,
        [],
    )
    scored = [e["data"] for e in world.engine.export(run_id).events if e["type"] == "answer_scored"]  # type: ignore[union-attr]
    assert scored[-1]["value"] == value


def test_numeric_points_follow_the_formula(world: EngineWorld) -> None:
    """Exact: the whole base (938 at 2.5 s of 20); 5 of a tolerance of 10 away: 75 % of it."""
    _run_id, _host, (exact, near) = start_run(world, questions=[NUMERIC])
    served(world, exact)
    served(world, near)
    world.clock.advance(2_500)
    assert world.send(exact, "answer", index=0, value=1609)["points"] == 938
    assert world.send(near, "answer", index=0, value=1604)["points"] == 704  # round(938 x 0.75) = 703.5 -> 704


def test_a_decimal_tolerance_holds_despite_the_rounding_of_doubles(world: EngineWorld) -> None:
    decimal = FrozenQuestion(0, "maths", "0.3?", [], [], type="numeric", answer=0.3, tolerance=0.1)
    _run_id, _host, (edge, beyond) = start_run(world, questions=[decimal], scoring="accuracy")
    served(world, edge)
    served(world, beyond)
    assert (world.send(edge, "answer", index=0, value=0.4)["points"]) == 500  # 0.4 - 0.3 = 0.10000000000000003
    assert (world.send(beyond, "answer", index=0, value=0.4001)["outcome"]) == "incorrect"


def test_a_tolerance_of_zero_takes_only_the_exact_value(world: EngineWorld) -> None:
    _run_id, _host, (exact, close) = start_run(world, questions=[EXACT_NUMERIC], scoring="accuracy")
    served(world, exact)
    served(world, close)
    assert world.send(exact, "answer", index=0, value=42)["points"] == 1000
    assert (world.send(close, "answer", index=0, value=42.0001)["outcome"]) == "incorrect"


def test_a_numeric_question_is_answered_with_a_number_only(world: EngineWorld) -> None:
    run_id, _host, (player, _other) = start_run(world, questions=[NUMERIC, at(1, CHOICE)])
    served(world, player)
    before = world.dump(run_id)
    for fields in (
        {"selected": [0]},
        {"value": "1609"},
        {"value": True},
        {"value": None},
        {},
        {"value": 1609, "selected": [0]},
        {"value": 1e10},
        {"value": [1609]},
    ):
        reply = world.send(player, "answer", index=0, **fields)
        assert reply["code"] == "bad_request", (fields, reply)
    for raw in (
        '{"action": "answer", "index": 0, "value": NaN}',
        '{"action": "answer", "index": 0, "value": Infinity}',
    ):
        assert world.send_raw(player, "answer", raw)["code"] == "bad_request"
    assert world.dump(run_id) == before
    world.send(player, "answer", index=0, value=1609)
    served(world, player, 1)
    assert world.send(player, "answer", index=1, value=1)["code"] == "bad_request"


def test_an_order_question_wants_the_exact_sequence(world: EngineWorld) -> None:
    _run_id, _host, (right, swapped) = start_run(world, questions=[ORDER], show_explanations=True)
    frame = served(world, right)
    assert (frame["question_type"], frame["select_count"]) == ("order", 4)
    served(world, swapped)
    world.clock.advance(1_000)
    result = world.send(right, "answer", index=0, selected=[3, 1, 0, 2])
    assert (result["outcome"], result["points"], result["correct_options"]) == ("correct", 975, [3, 1, 0, 2])
    assert result["explanation"] == "Ur!"
    nearly = world.send(swapped, "answer", index=0, selected=[3, 1, 2, 0])  # no partial credit
    assert (nearly["outcome"], nearly["points"]) == ("incorrect", 0)


def test_an_order_answer_puts_every_option_once(world: EngineWorld) -> None:
    run_id, _host, (player, _other) = start_run(world, questions=[ORDER])
    served(world, player)
    before = world.dump(run_id)
    for selected in ([3, 1, 0], [3, 1, 0, 2, 4], [3, 3, 0, 2], [3, 1, 0, 9], [0.5, 1, 2, 3]):
        assert world.send(player, "answer", index=0, selected=selected)["code"] == "bad_request", selected
    assert world.dump(run_id) == before


FUZZ_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    7,
    2**53,
    -(2**63),
    1.5,
    "0",
    "",
    [],
    [[]],
    {},
    {"a": 1},
    [0, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
    [None],
    ["x"],
    [1e308],
    1e308,
    -1e9,
    1e9,
    1e9 + 1,
    "\ud800",
    [True],
    [0.0],
]


@pytest.mark.parametrize("question", [CHOICE, TRUE_FALSE, POLL, NUMERIC, ORDER], ids=lambda q: q.type)
def test_fuzzed_answers_of_each_type_are_refused_or_scored_never_a_failure(
    world: EngineWorld, question: FrozenQuestion
) -> None:
    rng = random.Random(f"fuzz-{question.type}")
    _run_id, _host, (player, _other) = start_run(world, questions=[question])
    served(world, player)
    for _ in range(60):
        fields: dict[str, Any] = {}
        for name in rng.sample(["selected", "value", "index"], rng.randint(0, 3)):
            fields[name] = rng.choice(FUZZ_VALUES)
        fields.setdefault("index", 0)
        raw = json.dumps({"action": "answer", **fields})
        reply = world.send_raw(player, "answer", raw)
        if reply["type"] == "answer_result":  # a well-formed answer scores once; later ones conflict
            assert reply["outcome"] in ("correct", "incorrect", "answered")
            return
        assert reply["type"] == "error" and reply["code"] in ("bad_request", "out_of_order"), (fields, reply)


def test_a_mixed_run_scores_and_ranks_as_the_referee_does(world: EngineWorld) -> None:
    """Random answers and times over every type, under both scorings; a fixed seed per case."""
    questions = [at(i, q) for i, q in enumerate([CHOICE, TRUE_FALSE, POLL, NUMERIC, ORDER, EXACT_NUMERIC])]
    for scoring, tiebreak in (("speed", True), ("accuracy", True), ("accuracy", False)):
        rng = random.Random(f"{scoring}-{tiebreak}")
        _run_id, _host, clients = start_run(
            world, players=5, questions=questions, scoring=scoring, speed_tiebreak=tiebreak, duration_s=3600
        )
        players = {c.participant_id or "": Player(c.participant_id or "", order) for order, c in enumerate(clients)}
        for index, question in enumerate(questions):
            for client in clients:
                served(world, client, index)
                elapsed = rng.choice([0, 1_000, 7_250, 19_999, 20_000, 20_800, 21_001])
                world.clock.advance(elapsed)
                answer = _random_answer(rng, question)
                given_up = rng.random() < 0.1
                if given_up:
                    reply = world.send(client, "timeout", index=index)
                elif question.type == "numeric":
                    reply = world.send(client, "answer", index=index, value=answer)
                else:
                    reply = world.send(client, "answer", index=index, selected=answer)
                expected = score(question, answer, elapsed_ms=elapsed, scoring=scoring, given_up=given_up)
                assert (reply["outcome"], reply["points"]) == (expected.outcome, expected.points), (
                    question.type,
                    answer,
                    elapsed,
                )
                players[client.participant_id or ""].add(expected)
        board = world.send(clients[0], "sync")["leaderboard"]
        assert [e["participant_id"] for e in board] == ranking(
            list(players.values()), scoring=scoring, speed_tiebreak=tiebreak
        )
        assert [(e["score"], e["elapsed_ms"]) for e in board] == [
            (players[e["participant_id"]].score, players[e["participant_id"]].elapsed_ms) for e in board
        ]


def _random_answer(rng: random.Random, question: FrozenQuestion) -> Any:
    if question.type == "numeric":
        return (question.answer or 0) + rng.choice([0, 0.25, -2.5, 5, -10, 10.5, 100])
    if question.type == "order":
        order = list(question.correct)
        if rng.random() < 0.5:
            rng.shuffle(order)
        return order
    if question.type == "poll":
        return [rng.randrange(len(question.options))]
    if rng.random() < 0.5:
        return list(question.correct)
    return [rng.randrange(len(question.options))]
