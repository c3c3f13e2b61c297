"""The read models of a run, as pure functions of its events (docs/events.md).

The reporter persists `run_summary` and `participant_results`, and a completed run's player games
(`player_games_from`, with their `game_completed` events); the served views
(`speedrun.reporting.views`) and the CSV (`speedrun.reporting.csv_export`) are built from these two
read models, whether a run is still live or persisted, so a live answer and a persisted one cannot
differ. Nothing here reads anything but the events: `replay` rebuilds every read model from the
event store alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    MessageSentData,
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
from speedrun.question_types import DEFAULT_QUESTION_TYPE

OLDER_RUN_OPTIONS: dict[str, Any] = {"scoring": "speed", "speed_tiebreak": True, "show_explanations": False}
"""How runs created before the run options played (their `run_created.config` has none of these):
a summary's config is completed with them, so every run names its options."""


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
    question_set_version: int | None = None
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


def _apply_run_created(run: _Run, data: RunCreatedData, at: int) -> None:
    run.run_id = data["run_id"]
    run.host = data["host"]
    run.name = data["name"]
    run.question_set_id = data["question_set_id"]
    run.question_set_version = data.get("question_set_version")
    run.join_code = data.get("join_code", "")
    run.config = {**OLDER_RUN_OPTIONS, **data["config"]}
    run.questions = sorted(data["questions"], key=lambda q: int(q["index"]))
    run.created_at = at


def _apply_participant_joined(run: _Run, data: ParticipantJoinedData, at: int) -> None:
    run.participants[data["participant_id"]] = _Participant(
        participant_id=data["participant_id"],
        name=data["name"],
        player_handle=data.get("player_handle"),
        join_order=int(data["join_order"]),
    )


def _apply_run_started(run: _Run, data: RunStartedData, at: int) -> None:
    ends_at = data.get("ends_at")
    run.started_at = int(data["started_at"])
    run.ends_at = None if ends_at is None else int(ends_at)


def _apply_question_served(run: _Run, data: QuestionServedData, at: int) -> None:
    run.participants[data["participant_id"]].served[int(data["index"])] = data


def _apply_answer_scored(run: _Run, data: AnswerScoredData, at: int) -> None:
    participant = run.participants[data["participant_id"]]
    participant.answers[int(data["index"])] = data
    participant.score = int(data["score"])


def _apply_participant_finished(run: _Run, data: ParticipantFinishedData, at: int) -> None:
    participant = run.participants[data["participant_id"]]
    participant.finished = True
    participant.finished_elapsed_ms = int(data["elapsed_ms"])
    participant.score = int(data["score"])


def _apply_participant_kicked(run: _Run, data: ParticipantKickedData, at: int) -> None:
    run.participants[data["participant_id"]].kicked = True


def _apply_message_sent(run: _Run, data: MessageSentData, at: int) -> None:
    run.message_count += 1


def _apply_run_completed(run: _Run, data: RunCompletedData, at: int) -> None:
    run.completed_at = int(data["completed_at"])
    run.completion_reason = data["reason"]
    run.leaderboard = list(data["leaderboard"])


# How each event type changes the run; the data is typed per event, hence Any in the table.
_APPLY: dict[str, Callable[[_Run, Any, int], None]] = {
    RUN_CREATED: _apply_run_created,
    PARTICIPANT_JOINED: _apply_participant_joined,
    RUN_STARTED: _apply_run_started,
    QUESTION_SERVED: _apply_question_served,
    ANSWER_SCORED: _apply_answer_scored,
    PARTICIPANT_FINISHED: _apply_participant_finished,
    PARTICIPANT_KICKED: _apply_participant_kicked,
    MESSAGE_SENT: _apply_message_sent,
    RUN_COMPLETED: _apply_run_completed,
}


def _fold(events: Sequence[dict[str, Any]]) -> _Run:
    run = _Run()
    for event in sorted(events, key=lambda e: int(e["seq"])):
        apply = _APPLY.get(event["type"])
        # A type with no entry (not a run event) leaves the run as it is.
        if apply is not None:
            apply(run, event["data"], int(event["at"]))
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
    protocol.md (docs/engine.md, Rank: score descending, then total elapsed ascending unless the run
    scores accuracy without `speed_tiebreak`, then join order) over those present."""
    if run.leaderboard:
        return {entry["participant_id"]: int(entry["rank"]) for entry in run.leaderboard}
    present = [p for p in run.participants.values() if not p.kicked]
    timed = run.config["scoring"] != "accuracy" or bool(run.config["speed_tiebreak"])
    ordered = sorted(present, key=lambda p: (-p.score, p.elapsed_ms if timed else 0, p.join_order))
    return {p.participant_id: rank for rank, p in enumerate(ordered, start=1)}


def _question(q: FrozenQuestionData) -> dict[str, Any]:
    """A summary question: the frozen one with its correct answer named for the results."""
    kind = q.get("type", DEFAULT_QUESTION_TYPE)
    correct = [int(i) for i in q["correct"]]
    return {
        "index": int(q["index"]),
        "type": kind,
        "category": q["category"],
        "text": q["text"],
        "options": list(q["options"]),
        # An order question's correct options are the order itself; any other's are a set.
        "correct_options": correct if kind == "order" else sorted(correct),
        "select_count": int(q.get("select_count", len(correct))),
        "explanation": q.get("explanation"),
        "correct_value": q.get("answer"),
        "tolerance": q.get("tolerance"),
    }


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
        "question_set_version": run.question_set_version,
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
        "questions": [_question(q) for q in run.questions],
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
                "value": answer.get("value"),
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
