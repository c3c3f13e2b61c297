"""The read models of a run, as pure functions of its events (docs/events.md).

The reporter persists `run_summary` and `participant_results`, and a completed run's player games
(`player_games_from`, with their `game_completed` events); the served views
(`speedrun.reporting.views`) and the CSV (`speedrun.reporting.csv_export`) are built from these two
read models, whether a run is still live or persisted, so a live answer and a persisted one cannot
differ. Nothing here reads anything but the events: `replay` rebuilds every read model from the
event store alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from speedrun.clock import iso_from_ms
from speedrun.events import (
    ANSWER_SCORED,
    GAME_COMPLETED,
    MESSAGE_SENT,
    PARTICIPANT_FINISHED,
    PARTICIPANT_JOINED,
    PARTICIPANT_KICKED,
    QUESTION_SERVED,
    RUN_COMPLETED,
    RUN_CREATED,
    RUN_STARTED,
    AnswerScoredData,
    FrozenQuestionData,
    GameCompletedData,
    ParticipantFinishedData,
    ParticipantJoinedData,
    ParticipantKickedData,
    QuestionServedData,
    RunCompletedData,
    RunCreatedData,
    RunStartedData,
    player_aggregate,
    player_event_seq,
)


@dataclass
class _Participant:
    participant_id: str
    name: str
    player_handle: str | None
    join_order: int
    kicked: bool = False
    finished: bool = False
    finished_elapsed_ms: int | None = None
    score: int = 0
    served: dict[int, QuestionServedData] = field(default_factory=dict)
    answers: dict[int, AnswerScoredData] = field(default_factory=dict)

    @property
    def elapsed_ms(self) -> int:
        if self.finished_elapsed_ms is not None:
            return self.finished_elapsed_ms
        return sum(int(answer["elapsed_ms"]) for answer in self.answers.values())


@dataclass
class _Run:
    run_id: str = ""
    host: str = ""
    name: str = ""
    question_set_id: str = ""
    join_code: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    questions: list[FrozenQuestionData] = field(default_factory=list)
    created_at: int | None = None
    started_at: int | None = None
    ends_at: int | None = None
    completed_at: int | None = None
    completion_reason: str | None = None
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    participants: dict[str, _Participant] = field(default_factory=dict)
    message_count: int = 0


def _fold(events: Sequence[dict[str, Any]]) -> _Run:
    run = _Run()
    for event in sorted(events, key=lambda e: int(e["seq"])):
        kind, data, at = event["type"], event["data"], int(event["at"])
        if kind == RUN_CREATED:
            created: RunCreatedData = data
            run.run_id = created["run_id"]
            run.host = created["host"]
            run.name = created["name"]
            run.question_set_id = created["question_set_id"]
            run.join_code = created.get("join_code", "")
            run.config = dict(created["config"])
            run.questions = sorted(created["questions"], key=lambda q: int(q["index"]))
            run.created_at = at
        elif kind == PARTICIPANT_JOINED:
            joined: ParticipantJoinedData = data
            run.participants[joined["participant_id"]] = _Participant(
                participant_id=joined["participant_id"],
                name=joined["name"],
                player_handle=joined.get("player_handle"),
                join_order=int(joined["join_order"]),
            )
        elif kind == RUN_STARTED:
            started: RunStartedData = data
            ends_at = started.get("ends_at")
            run.started_at = int(started["started_at"])
            run.ends_at = None if ends_at is None else int(ends_at)
        elif kind == QUESTION_SERVED:
            served: QuestionServedData = data
            run.participants[served["participant_id"]].served[int(served["index"])] = served
        elif kind == ANSWER_SCORED:
            scored: AnswerScoredData = data
            participant = run.participants[scored["participant_id"]]
            participant.answers[int(scored["index"])] = scored
            participant.score = int(scored["score"])
        elif kind == PARTICIPANT_FINISHED:
            finished: ParticipantFinishedData = data
            participant = run.participants[finished["participant_id"]]
            participant.finished = True
            participant.finished_elapsed_ms = int(finished["elapsed_ms"])
            participant.score = int(finished["score"])
        elif kind == PARTICIPANT_KICKED:
            kicked: ParticipantKickedData = data
            run.participants[kicked["participant_id"]].kicked = True
        elif kind == MESSAGE_SENT:
            run.message_count += 1
        elif kind == RUN_COMPLETED:
            completed: RunCompletedData = data
            run.completed_at = int(completed["completed_at"])
            run.completion_reason = completed["reason"]
            run.leaderboard = list(completed["leaderboard"])
    if not run.run_id:
        raise ValueError("the event list has no run_created event")
    return run


def _status(run: _Run) -> str:
    if run.completed_at is not None:
        return "completed"
    return "running" if run.started_at is not None else "lobby"


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_from_ms(ms)


def _ranks(run: _Run) -> dict[str, int]:
    """Final ranks: the `run_completed` leaderboard (what participants were told), else the rule of
    protocol.md (docs/engine.md, Rank: score descending, elapsed ascending, join order) over those present."""
    if run.leaderboard:
        return {entry["participant_id"]: int(entry["rank"]) for entry in run.leaderboard}
    present = [p for p in run.participants.values() if not p.kicked]
    ordered = sorted(present, key=lambda p: (-p.score, p.elapsed_ms, p.join_order))
    return {p.participant_id: rank for rank, p in enumerate(ordered, start=1)}


def run_summary(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run's summary (the `runs` read model and `GET /api/speedruns/{id}`)."""
    run = _fold(events)
    present = [p for p in run.participants.values() if not p.kicked]
    answers = [a for p in run.participants.values() for a in p.answers.values()]
    return {
        "run_id": run.run_id,
        "host": run.host,
        "name": run.name,
        "question_set_id": run.question_set_id,
        "join_code": run.join_code,
        "status": _status(run),
        "config": run.config,
        "question_count": len(run.questions),
        "participant_count": len(present),
        "kicked_count": len(run.participants) - len(present),
        "finished_count": sum(1 for p in present if p.finished),
        "answer_count": len(answers),
        "correct_answer_count": sum(1 for a in answers if a["outcome"] == "correct"),
        "message_count": run.message_count,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "ends_at": _iso(run.ends_at),
        "completed_at": _iso(run.completed_at),
        "completed_at_ms": run.completed_at,
        "completion_reason": run.completion_reason,
        "leaderboard": run.leaderboard,
        "questions": [
            {
                "index": int(q["index"]),
                "category": q["category"],
                "text": q["text"],
                "options": list(q["options"]),
                "correct_options": sorted(int(i) for i in q["correct"]),
                "select_count": int(q.get("select_count", len(q["correct"]))),
                "explanation": q.get("explanation"),
            }
            for q in run.questions
        ],
    }


def participant_results(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every participant's results (the `results` read model), best rank first, kicked ones last."""
    run = _fold(events)
    ranks = _ranks(run)
    rows = []
    for p in run.participants.values():
        answers = [
            {
                "index": index,
                "selected": [int(i) for i in answer["selected"]],
                "outcome": answer["outcome"],
                "points": int(answer["points"]),
                "elapsed_ms": int(answer["elapsed_ms"]),
                "served_at": p.served[index]["served_at"] if index in p.served else None,
            }
            for index, answer in sorted(p.answers.items())
        ]
        rows.append(
            {
                "participant_id": p.participant_id,
                "name": p.name,
                "player_handle": p.player_handle,
                "join_order": p.join_order,
                "kicked": p.kicked,
                "finished": p.finished,
                "score": p.score,
                "rank": None if p.kicked else ranks.get(p.participant_id),
                "elapsed_ms": p.elapsed_ms,
                "answered": len(answers),
                "correct_count": sum(1 for a in answers if a["outcome"] == "correct"),
                "answers": answers,
            }
        )
    return sorted(rows, key=result_order)


def result_order(row: dict[str, Any]) -> tuple[int, int, int]:
    """Sort key of participant results: by rank, unranked (kicked) ones last, then join order."""
    rank = row["rank"]
    return (0 if rank is not None else 1, rank or 0, int(row["join_order"]))


def answer_to(participant: dict[str, Any], index: int) -> dict[str, Any] | None:
    """A participant result row's answer to question `index`, None if it has none."""
    return next((a for a in participant["answers"] if int(a["index"]) == int(index)), None)


def player_games(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One game-history entry per participant who gave a `player_handle` (completed runs only)."""
    summary = run_summary(events)
    if summary["status"] != "completed":
        return []
    return player_games_from(summary, participant_results(events))


def player_games_from(summary: dict[str, Any], participants: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    games = []
    for p in participants:
        if not p["player_handle"] or p["kicked"]:
            continue
        games.append(
            {
                "handle": p["player_handle"],
                "game_key": f"{summary['completed_at']}#{summary['run_id']}",
                "run_id": summary["run_id"],
                "run_name": summary["name"],
                "completed_at": summary["completed_at"],
                "completed_at_ms": summary["completed_at_ms"],
                "participant_id": p["participant_id"],
                "score": p["score"],
                "rank": p["rank"],
                "participant_count": summary["participant_count"],
                "question_count": summary["question_count"],
                "correct_count": p["correct_count"],
                "host": summary["host"],
            }
        )
    return games


def game_completed_event(game: dict[str, Any]) -> dict[str, Any]:
    """The `game_completed` event of a player (aggregate `player#<handle>`), with a deterministic seq."""
    at = int(game["completed_at_ms"])
    data: GameCompletedData = {"run_id": game["run_id"], "score": game["score"], "rank": game["rank"]}
    return {
        "aggregate_id": player_aggregate(game["handle"]),
        "seq": player_event_seq(at, game["run_id"]),
        "type": GAME_COMPLETED,
        "at": at,
        "data": data,
    }
