"""Hand-built run event lists (docs/events.md) for the reporting tests: a seeded, deterministic
simulation of a run, scored by the protocol's rules, without the engine or Redis."""

from __future__ import annotations

import random
from typing import Any

START_MS = 1_800_000_000_000


def question(index: int) -> dict[str, Any]:
    return {
        "index": index,
        "category": f"cat-{index % 3}",
        "text": f'Question {index}: "quoted", with a comma and ünïcode?',
        "options": [f"option {index}.{k}" for k in range(4)],
        "correct": [index % 4],
        "select_count": 1,
        "explanation": None if index % 2 else f"because {index}",
    }


def simulate_run(
    *,
    run_id: str = "RUNAAAAAAAAA",
    participants: int = 5,
    questions: int = 3,
    handles_every: int = 2,
    kicked: tuple[int, ...] = (),
    unanswered_last: int = 0,
    seed: int = 7,
    question_duration_s: int = 20,
    host: str = "host-sub",
    start_ms: int = START_MS,
) -> list[dict[str, Any]]:
    """Events of one completed run. Participant k (1-based) has a player handle when k % handles_every == 0;
    the participants in `kicked` are kicked after the start; the last `unanswered_last` participants
    leave their last question unanswered (the host ended the run)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    clock = start_ms

    def emit(kind: str, data: dict[str, Any], at: int) -> None:
        events.append({"seq": len(events) + 1, "type": kind, "at": at, "data": data})

    duration_ms = question_duration_s * 1000
    emit(
        "run_created",
        {
            "run_id": run_id,
            "host": host,
            "name": f"Run {run_id}",
            "question_set_id": "set-1",
            "join_code": "ABCDEF",
            "config": {
                "question_duration_s": question_duration_s,
                "duration_s": None,
                "max_participants": 1000,
                "chat": True,
                "shuffle": False,
                "categories": None,
            },
            "questions": [question(i) for i in range(questions)],
        },
        clock,
    )
    ids = [f"p{k:03d}" for k in range(1, participants + 1)]
    for k, pid in enumerate(ids, start=1):
        clock += 10
        handle = f"player-{k}" if handles_every and k % handles_every == 0 else None
        emit(
            "participant_joined",
            {"participant_id": pid, "name": f"Näme, {k}", "player_handle": handle, "join_order": k},
            clock,
        )
    clock += 100
    emit("run_started", {"started_at": clock, "ends_at": None}, clock)
    emit("message_sent", {"from": "host", "to": "all", "content": "go"}, clock)
    for k in kicked:
        emit("participant_kicked", {"participant_id": ids[k - 1]}, clock)
    scores = dict.fromkeys(ids, 0)
    elapsed_total = dict.fromkeys(ids, 0)
    for index in range(questions):
        for k, pid in enumerate(ids, start=1):
            if k in kicked or (index == questions - 1 and k > participants - unanswered_last):
                continue
            clock += 7
            served_at = clock
            emit(
                "question_served",
                {"participant_id": pid, "index": index, "served_at": served_at, "deadline": served_at + duration_ms},
                clock,
            )
            roll = rng.random()
            elapsed = min(duration_ms, rng.randrange(200, duration_ms + 5000))
            if roll < 0.1 or elapsed >= duration_ms:
                outcome, selected, elapsed = "timeout", [], duration_ms
            elif roll < 0.6:
                outcome, selected = "correct", [index % 4]
            else:
                outcome, selected = "incorrect", [(index + 1) % 4]
            points = round(1000 * (1 - elapsed / (2 * duration_ms))) if outcome == "correct" else 0
            scores[pid] += points
            elapsed_total[pid] += elapsed
            clock += 3
            emit(
                "answer_scored",
                {
                    "participant_id": pid,
                    "index": index,
                    "selected": selected,
                    "outcome": outcome,
                    "points": points,
                    "elapsed_ms": elapsed,
                    "score": scores[pid],
                },
                clock,
            )
            if index == questions - 1:
                emit(
                    "participant_finished",
                    {"participant_id": pid, "score": scores[pid], "elapsed_ms": elapsed_total[pid]},
                    clock,
                )
    present = [(k, pid) for k, pid in enumerate(ids, start=1) if k not in kicked]
    ordered = sorted(present, key=lambda kp: (-scores[kp[1]], elapsed_total[kp[1]], kp[0]))
    leaderboard = [
        {
            "rank": rank,
            "participant_id": pid,
            "name": f"Näme, {k}",
            "score": scores[pid],
            "answered": questions - (1 if k > participants - unanswered_last else 0),
            "elapsed_ms": elapsed_total[pid],
        }
        for rank, (k, pid) in enumerate(ordered, start=1)
    ]
    clock += 50
    reason = "host_ended" if unanswered_last else "all_finished"
    emit("run_completed", {"reason": reason, "completed_at": clock, "leaderboard": leaderboard}, clock)
    return events
