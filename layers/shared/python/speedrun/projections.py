"""Read models of a run, as pure functions of its events (docs/events.md).

The reporter persists `run_summary` and `participant_results`; the engine answers the WebSocket
`results` action with `results_view` while a completed run is still live; the results API rebuilds
the same view from the persisted read models with `results_view_from`. Both paths go through
`results_view_from` / `csv_rows_from`, so a live answer and a persisted one cannot differ.
Nothing here reads anything but the events: `replay` rebuilds every read model from the event
store alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from speedrun.clock import iso_from_ms
from speedrun.errors import NotFound

RUN_CREATED = "run_created"
PARTICIPANT_JOINED = "participant_joined"
RUN_STARTED = "run_started"
QUESTION_SERVED = "question_served"
ANSWER_SCORED = "answer_scored"
PARTICIPANT_FINISHED = "participant_finished"
PARTICIPANT_KICKED = "participant_kicked"
MESSAGE_SENT = "message_sent"
RUN_COMPLETED = "run_completed"

GAME_COMPLETED = "game_completed"
PROFILE_UPSERTED = "profile_upserted"
PROGRESS_RECORDED = "progress_recorded"

UNANSWERED = "unanswered"
"""CSV outcome of a question a participant never answered (the run ended first)."""

CSV_COLUMNS: tuple[str, ...] = (
    "run_id",
    "run_name",
    "rank",
    "participant_id",
    "name",
    "player_handle",
    "total_score",
    "total_elapsed_ms",
    "question_index",
    "category",
    "question",
    "correct_options",
    "selected",
    "outcome",
    "points",
    "elapsed_ms",
)
"""One CSV row per participant per question. Option lists are 0-based indexes joined by `;`."""

_PLAYER_SEQ_SPREAD = 1_000_000


def run_aggregate(run_id: str) -> str:
    return f"run#{run_id}"


def player_aggregate(handle: str) -> str:
    return f"player#{handle}"


def player_event_seq(at_ms: int, key: str) -> int:
    """Deterministic position of a player event: time-ordered, and the same for a redelivered event.

    Player streams are written by two writers (the players worker and the reporter), so a counter
    would need a read-modify-write; the event time plus a hash of its unique key (request id or run
    id) orders events by time and makes a retry rewrite the identical item.
    """
    return at_ms * _PLAYER_SEQ_SPREAD + zlib.crc32(key.encode()) % _PLAYER_SEQ_SPREAD


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
    served: dict[int, dict[str, Any]] = field(default_factory=dict)
    answers: dict[int, dict[str, Any]] = field(default_factory=dict)

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
    questions: list[dict[str, Any]] = field(default_factory=list)
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
            run.run_id = data["run_id"]
            run.host = data["host"]
            run.name = data["name"]
            run.question_set_id = data["question_set_id"]
            run.join_code = data.get("join_code", "")
            run.config = dict(data["config"])
            run.questions = sorted(data["questions"], key=lambda q: int(q["index"]))
            run.created_at = at
        elif kind == PARTICIPANT_JOINED:
            run.participants[data["participant_id"]] = _Participant(
                participant_id=data["participant_id"],
                name=data["name"],
                player_handle=data.get("player_handle"),
                join_order=int(data["join_order"]),
            )
        elif kind == RUN_STARTED:
            run.started_at = int(data["started_at"])
            run.ends_at = None if data.get("ends_at") is None else int(data["ends_at"])
        elif kind == QUESTION_SERVED:
            run.participants[data["participant_id"]].served[int(data["index"])] = data
        elif kind == ANSWER_SCORED:
            participant = run.participants[data["participant_id"]]
            participant.answers[int(data["index"])] = data
            participant.score = int(data["score"])
        elif kind == PARTICIPANT_FINISHED:
            participant = run.participants[data["participant_id"]]
            participant.finished = True
            participant.finished_elapsed_ms = int(data["elapsed_ms"])
            participant.score = int(data["score"])
        elif kind == PARTICIPANT_KICKED:
            run.participants[data["participant_id"]].kicked = True
        elif kind == MESSAGE_SENT:
            run.message_count += 1
        elif kind == RUN_COMPLETED:
            run.completed_at = int(data["completed_at"])
            run.completion_reason = data["reason"]
            run.leaderboard = list(data["leaderboard"])
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
    protocol.md (score descending, total elapsed ascending, join order) over the present participants."""
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
    return {
        "aggregate_id": player_aggregate(game["handle"]),
        "seq": player_event_seq(at, game["run_id"]),
        "type": GAME_COMPLETED,
        "at": at,
        "data": {"run_id": game["run_id"], "score": game["score"], "rank": game["rank"]},
    }


def _person(p: dict[str, Any]) -> dict[str, str]:
    return {"participant_id": p["participant_id"], "name": p["name"]}


def results_view_from(
    summary: dict[str, Any], participants: Sequence[dict[str, Any]], participant_id: str | None
) -> dict[str, Any]:
    """The protocol's `results` message from the two read models (host view when participant_id is None)."""
    view: dict[str, Any] = {"type": "results", "speedrun_id": summary["run_id"], "name": summary["name"]}
    if participant_id is None:
        questions = []
        for q in summary["questions"]:
            by_outcome: dict[str, list[dict[str, str]]] = {"correct": [], "incorrect": [], "timeout": []}
            for p in participants:
                answer = _answer(p, q["index"])
                if answer is not None:
                    by_outcome[answer["outcome"]].append(_person(p))
            questions.append(
                {
                    **_question_fields(q),
                    "correct_answerers": by_outcome["correct"],
                    "incorrect_answerers": by_outcome["incorrect"],
                    "timeout_answerers": by_outcome["timeout"],
                }
            )
        view.update(
            questions=questions,
            score=None,
            rank=None,
            elapsed_ms=None,
            participant_count=summary["participant_count"],
            leaderboard=summary["leaderboard"],
        )
        return view
    me = next((p for p in participants if p["participant_id"] == participant_id), None)
    if me is None:
        raise NotFound("no results for this participant")
    questions = []
    for q in summary["questions"]:
        answer = _answer(me, q["index"])
        questions.append(
            {
                **_question_fields(q),
                "selected": None if answer is None else answer["selected"],
                "outcome": None if answer is None else answer["outcome"],
                "points": 0 if answer is None else answer["points"],
            }
        )
    view.update(questions=questions, score=me["score"], rank=me["rank"], elapsed_ms=me["elapsed_ms"])
    return view


def _question_fields(q: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": q["index"],
        "category": q["category"],
        "text": q["text"],
        "options": q["options"],
        "correct_options": q["correct_options"],
        "explanation": q["explanation"],
    }


def _answer(participant: dict[str, Any], index: int) -> dict[str, Any] | None:
    return next((a for a in participant["answers"] if int(a["index"]) == int(index)), None)


def results_view(events: Sequence[dict[str, Any]], participant_id: str | None) -> dict[str, Any]:
    """The protocol's `results` message (type "results"); the host view when participant_id is None.

    Raises NotFound for a participant id the run does not know.
    """
    return results_view_from(run_summary(events), participant_results(events), participant_id)


def csv_rows_from(summary: dict[str, Any], participants: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for p in participants:
        for q in summary["questions"]:
            answer = _answer(p, q["index"])
            rows.append(
                {
                    "run_id": summary["run_id"],
                    "run_name": summary["name"],
                    "rank": "" if p["rank"] is None else p["rank"],
                    "participant_id": p["participant_id"],
                    "name": p["name"],
                    "player_handle": p["player_handle"] or "",
                    "total_score": p["score"],
                    "total_elapsed_ms": p["elapsed_ms"],
                    "question_index": q["index"],
                    "category": q["category"],
                    "question": q["text"],
                    "correct_options": ";".join(str(i) for i in q["correct_options"]),
                    "selected": "" if answer is None else ";".join(str(i) for i in answer["selected"]),
                    "outcome": UNANSWERED if answer is None else answer["outcome"],
                    "points": 0 if answer is None else answer["points"],
                    "elapsed_ms": "" if answer is None else answer["elapsed_ms"],
                }
            )
    return rows


def csv_rows(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CSV export's rows (keys = CSV_COLUMNS): one per participant per question, in rank order."""
    return csv_rows_from(run_summary(events), participant_results(events))
