"""A host's runs as the HTTP API lists and summarizes them, built from either side of a run's life:
the live state (the engine's `run:{id}:meta` hash and its `run_created` event) or the read models.
Pure functions: no I/O (`speedrun.reporting.live_runs` reads Redis, `read_models` DynamoDB)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from speedrun.clock import iso_from_ms
from speedrun.events import RUN_CREATED
from speedrun.reporting.projections import run_summary

LISTING_KEY_DIGITS = 15
"""Epoch milliseconds stay below 10^15 until the year 33658, so the keys sort as the times do."""

LISTING_FIELDS = (
    "join_code",
    "question_count",
    "participant_count",
    "finished_count",
    "created_at",
    "started_at",
    "ends_at",
    "completed_at",
    "completion_reason",
)
"""What a list entry carries besides `run_id, name, status, persisted, expires_at`."""

LIVE_ONLY_UNTRACKED = ("answer_count", "correct_answer_count", "message_count", "leaderboard")
"""Summary fields the live state does not keep (the events do, and the reporter folds them): null
until the run is persisted. The live leaderboard is on the WebSocket."""

META_FIELDS = (
    "host",
    "name",
    "status",
    "join_code",
    "question_count",
    "participant_count",
    "finished_count",
    "join_seq",
    "created_at",
    "expires_at",
    "started_at",
    "ends_at",
    "completed_at",
    "completion_reason",
)
"""The fields of `run:{id}:meta` (docs/engine.md) a listing or a live summary reads."""


def listing_key(created_at_ms: int, run_id: str) -> str:
    """`<created_at epoch ms, zero-padded>#<run id>`: sorts by creation time, unique per run. The
    live per-host index (a Redis sorted set, by lexicographic order) and the runs table's
    `runs_by_host` index sort by this same string, so one cursor pages through both."""
    return f"{created_at_ms:0{LISTING_KEY_DIGITS}d}#{run_id}"


def run_id_of(key: str) -> str:
    return key.partition("#")[2]


def created_event(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return next(event for event in events if event["type"] == RUN_CREATED)


def created_ms_of_events(events: Sequence[dict[str, Any]]) -> int:
    """When the run was created: the time of its `run_created` event (the engine stamps the meta's
    `created_at` with the same clock reading)."""
    return int(created_event(events)["at"])


def host_of_events(events: Sequence[dict[str, Any]]) -> str:
    return str(created_event(events)["data"]["host"])


def listing_of_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The list entry fields of a persisted run (stored on its `runs` item, projected into the index)."""
    return {name: summary.get(name) for name in LISTING_FIELDS}


def _int(value: str | None) -> int | None:
    return None if value in (None, "") else int(str(value))


def _iso(value: str | None) -> str | None:
    ms = _int(value)
    return None if ms is None else iso_from_ms(ms)


def listing_of_meta(run_id: str, meta: Mapping[str, str | None]) -> dict[str, Any]:
    """A live run's list entry from its meta hash."""
    status = meta["status"]
    return {
        "run_id": run_id,
        "name": meta["name"],
        "status": status,
        "persisted": False,
        "join_code": meta.get("join_code"),
        "question_count": _int(meta.get("question_count")) or 0,
        "participant_count": _int(meta.get("participant_count")) or 0,
        "finished_count": _int(meta.get("finished_count")) or 0,
        "created_at": _iso(meta.get("created_at")),
        "started_at": _iso(meta.get("started_at")),
        "ends_at": _iso(meta.get("ends_at")),
        "completed_at": _iso(meta.get("completed_at")),
        "completion_reason": meta.get("completion_reason") or None,
        # An unstarted run is forgotten when its lobby expires (docs/engine.md, Expiry).
        "expires_at": _iso(meta.get("expires_at")) if status == "lobby" else None,
    }


def listing_of_item(run_id: str, name: str, status: str, listing: Mapping[str, Any]) -> dict[str, Any]:
    """A persisted run's list entry from its `runs` item (as the index projects it)."""
    return {
        "run_id": run_id,
        "name": name,
        "status": status,
        "persisted": True,
        **{field: listing.get(field) for field in LISTING_FIELDS},
        "expires_at": None,
    }


def live_summary(meta: Mapping[str, str | None], run_created: dict[str, Any]) -> dict[str, Any]:
    """A live run's summary, shaped as the persisted one (`projections.run_summary`).

    Name, config and questions come from the run's own `run_created` event folded by the same
    projection the reporter uses, so they cannot differ from what is persisted later; status,
    counts and timestamps come from the meta hash the engine's scripts keep current. What the live
    state does not count (`LIVE_ONLY_UNTRACKED`) is null."""
    summary = run_summary([run_created])
    participant_count = _int(meta.get("participant_count")) or 0
    joined = _int(meta.get("join_seq")) or 0
    status = meta["status"]
    summary.update(
        status=status,
        participant_count=participant_count,
        kicked_count=max(0, joined - participant_count),
        finished_count=_int(meta.get("finished_count")) or 0,
        started_at=_iso(meta.get("started_at")),
        ends_at=_iso(meta.get("ends_at")),
        completed_at=_iso(meta.get("completed_at")),
        completed_at_ms=_int(meta.get("completed_at")),
        completion_reason=meta.get("completion_reason") or None,
        persisted=False,
        expires_at=_iso(meta.get("expires_at")) if status == "lobby" else None,
    )
    summary.update(dict.fromkeys(LIVE_ONLY_UNTRACKED))
    return summary
