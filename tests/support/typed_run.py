"""A hand-built run of every question type (docs/events.md) for the reporting tests: four
participants answer a choice, a true/false, a poll, a numeric and an order question, each answer
scored by the referee (`tests.support.question_rules`) under the run's options, without the engine.

Who answers what (elapsed ms; the window is 20 s, Cy's 40 s: Cy was granted double time in the lobby):

| | choice | true/false | poll | numeric (42.5 +- 2.5) | order |
|---|---|---|---|---|---|
| p001 Ada | right, 2 s | right, 1 s | Blue | 41.5 (80 %), 4 s | right, 5 s |
| p002 Bo | right, 19 s | wrong, 19 s | Blue | 50 (wrong), 19 s | right, 19 s |
| p003 Cy | right, 1 s | timeout | timeout | timeout | right, 1 s |
| p004 Di | right, 2 s | right, 1 s | Red | 42.5 (exact), 4 s | wrong, 5 s |

Under accuracy scoring Bo and Cy tie at 2,000: Cy's total counted time is the shorter (41 s: extra
time is scaled back, a poll counts none), so the tiebreak puts Cy ahead; without it join order puts
Bo ahead.
"""

from __future__ import annotations

import copy
from typing import Any

from speedrun.engine.models import FrozenQuestion
from tests.support.question_rules import Player, ranking, score

START_MS = 1_800_000_000_000
RUN_ID = "TYPEDAAAAAAA"
RUN_DURATION_S = 3600
NAMES = {"p001": "Ada", "p002": "Bo", "p003": "Cy", "p004": "Di"}
HANDLES = {"p001": "ada-1", "p004": "di-4"}
EXTRA_TIME = {"p003": 2}

CHOICE, TRUE_FALSE, POLL, NUMERIC, ORDER = range(5)
ORDER_OPTIONS = ["Clubs", "Arrows", "Diamonds", "Bows"]
"""As shown (shuffled at sign-on): the correct order is Arrows, Bows, Clubs, Diamonds."""
ORDER_CORRECT = [1, 3, 0, 2]

QUESTIONS: list[dict[str, Any]] = [
    {
        "index": CHOICE,
        "type": "choice",
        "category": "space",
        "text": "Which planets have no moon?",
        "options": ["Earth", "Venus", "Mars", "Mercury"],
        "correct": [1, 3],
        "select_count": 2,
        "explanation": "Only Mercury and Venus.",
    },
    {
        "index": TRUE_FALSE,
        "type": "true_false",
        "category": "space",
        "text": "The Sun is a planet.",
        "options": ["True", "False"],
        "correct": [1],
        "select_count": 1,
        "explanation": None,
    },
    {
        "index": POLL,
        "type": "poll",
        "category": "you",
        "text": "Your favourite colour?",
        "options": ["Red", "Green", "Blue"],
        "correct": [],
        "select_count": 1,
        "explanation": None,
    },
    {
        "index": NUMERIC,
        "type": "numeric",
        "category": "maths",
        "text": "85 / 2?",
        "options": [],
        "correct": [],
        "select_count": 0,
        "explanation": None,
        "answer": 42.5,
        "tolerance": 2.5,
    },
    {
        "index": ORDER,
        "type": "order",
        "category": "words",
        "text": "Alphabetical order?",
        "options": ORDER_OPTIONS,
        "correct": ORDER_CORRECT,
        "select_count": 4,
        "explanation": "A, B, C, D.",
    },
]

TIMEOUT = None
PLAYS: dict[str, list[tuple[Any, int]]] = {
    "p001": [([1, 3], 2000), ([1], 1000), ([2], 3000), (41.5, 4000), (ORDER_CORRECT, 5000)],
    "p002": [([1, 3], 19000), ([0], 19000), ([2], 19000), (50, 19000), (ORDER_CORRECT, 19000)],
    "p003": [([3, 1], 1000), (TIMEOUT, 40000), (TIMEOUT, 40000), (TIMEOUT, 40000), (ORDER_CORRECT, 1000)],
    "p004": [([1, 3], 2000), ([1], 1000), ([0], 500), (42.5, 4000), ([1, 0, 3, 2], 5000)],
}
"""Per participant, per question: what was answered (None: a timeout) and when."""


def frozen(question: dict[str, Any]) -> FrozenQuestion:
    fields = ("index", "category", "text", "options", "correct", "explanation", "type")
    return FrozenQuestion(
        **{name: question[name] for name in fields}, answer=question.get("answer"), tolerance=question.get("tolerance")
    )


def typed_run(
    *,
    scoring: str = "speed",
    speed_tiebreak: bool = True,
    question_duration_s: int | None = 20,
    completed: bool = True,
) -> list[dict[str, Any]]:
    """The run's events (without `run_completed` unless `completed`: the host has not ended it yet)."""
    events: list[dict[str, Any]] = []
    clock = START_MS

    def emit(kind: str, data: dict[str, Any]) -> None:
        events.append({"seq": len(events) + 1, "type": kind, "at": clock, "data": data})

    emit(
        "run_created",
        {
            "run_id": RUN_ID,
            "host": "host-sub",
            "name": "Every type",
            "question_set_id": "set-types",
            "question_set_version": 3,
            "join_code": "TYPES1",
            "config": {
                "question_duration_s": question_duration_s,
                "duration_s": RUN_DURATION_S,
                "max_participants": 100,
                "chat": False,
                "shuffle": False,
                "categories": None,
                "late_join": True,
                "scoring": scoring,
                "speed_tiebreak": speed_tiebreak,
                "show_explanations": True,
            },
            "questions": copy.deepcopy(QUESTIONS),
        },
    )
    players = {}
    for order, pid in enumerate(NAMES, start=1):
        clock += 10
        emit(
            "participant_joined",
            {"participant_id": pid, "name": NAMES[pid], "player_handle": HANDLES.get(pid), "join_order": order},
        )
        players[pid] = Player(pid, order)
    for pid, multiplier in EXTRA_TIME.items():
        emit("extra_time_granted", {"participant_id": pid, "multiplier": multiplier})
    clock += 100
    ends_at = clock + RUN_DURATION_S * 1000
    emit("run_started", {"started_at": clock, "ends_at": ends_at})
    for question in QUESTIONS:
        for pid, player in players.items():
            answer, elapsed = PLAYS[pid][question["index"]]
            multiplier = EXTRA_TIME.get(pid, 1)
            served_at = clock
            window = None if question_duration_s is None else question_duration_s * 1000 * multiplier
            deadline = ends_at if window is None else served_at + window
            emit(
                "question_served",
                {"participant_id": pid, "index": question["index"], "served_at": served_at, "deadline": deadline},
            )
            scored = score(
                frozen(question),
                answer,
                elapsed_ms=elapsed,
                scoring=scoring,
                duration_s=question_duration_s,
                multiplier=multiplier,
                given_up=answer is TIMEOUT,
            )
            player.add(scored)
            clock += 5
            data: dict[str, Any] = {
                "participant_id": pid,
                "index": question["index"],
                "selected": [] if answer is TIMEOUT or question["type"] == "numeric" else list(answer),
                "outcome": scored.outcome,
                "points": scored.points,
                "elapsed_ms": scored.counted_ms,
                "score": player.score,
            }
            if question["type"] == "numeric":
                data["value"] = answer
            emit("answer_scored", data)
            if question["index"] == len(QUESTIONS) - 1:
                emit(
                    "participant_finished",
                    {"participant_id": pid, "score": player.score, "elapsed_ms": player.elapsed_ms},
                )
    if completed:
        clock += 50
        ranked = ranking(list(players.values()), scoring=scoring, speed_tiebreak=speed_tiebreak)
        leaderboard = [
            {
                "rank": rank,
                "participant_id": pid,
                "name": NAMES[pid],
                "score": players[pid].score,
                "answered": len(QUESTIONS),
                "elapsed_ms": players[pid].elapsed_ms,
            }
            for rank, pid in enumerate(ranked, start=1)
        ]
        emit("run_completed", {"reason": "all_finished", "completed_at": clock, "leaderboard": leaderboard})
    return events
