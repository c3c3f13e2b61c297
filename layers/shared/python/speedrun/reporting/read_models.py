"""The run read models (runs, results, player games): written from the projections, read back for
the results API and the engine's `results` action once a run's live state is gone."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from speedrun import projections
from speedrun.errors import BadRequest, NotFound
from speedrun.reporting.batch_writer import PutRequest
from speedrun.reporting.event_store import event_put
from speedrun.tables import PlayerGameModel, ResultModel, RunModel

_RESULT_FIELDS = (
    "participant_id",
    "name",
    "player_handle",
    "join_order",
    "kicked",
    "finished",
    "score",
    "rank",
    "elapsed_ms",
    "answered",
    "correct_count",
    "answers",
)
_GAME_FIELDS = (
    "run_id",
    "run_name",
    "completed_at",
    "score",
    "rank",
    "participant_count",
    "question_count",
    "correct_count",
)


def model_put(model: Any) -> PutRequest:
    return PutRequest(type(model).Meta.table_name, model.serialize())


def run_read_model_puts(events: Sequence[dict[str, Any]]) -> list[PutRequest]:
    """Every read-model item of one run, and its players' `game_completed` events.

    Keys are deterministic (run id, participant id, handle + completion time + run id, player event
    seq), so writing them again (a redelivered job, a replay) rewrites identical items.

    The run item comes last: the results API answers 404 until it exists, so a reader never sees
    the summary with only some of the participants' results (a report still being written, or one
    that failed part-way and waits for its retry).
    """
    summary = projections.run_summary(events)
    participants = projections.participant_results(events)
    run_id = summary["run_id"]
    puts = [
        model_put(ResultModel(run_id, row["participant_id"], **_without(row, "participant_id"))) for row in participants
    ]
    if summary["status"] == "completed":
        puts.extend(player_game_puts(projections.player_games_from(summary, participants)))
    run = RunModel(run_id, host=summary["host"], name=summary["name"], status=summary["status"], summary=summary)
    puts.append(model_put(run))
    return puts


def player_game_puts(games: Sequence[dict[str, Any]]) -> list[PutRequest]:
    """Each game's history item and its `game_completed` player event."""
    puts = []
    for game in games:
        item = PlayerGameModel(game["handle"], game["game_key"], **_without(game, "handle", "game_key"))
        puts.append(model_put(item))
        completed = projections.game_completed_event(game)
        puts.append(event_put(completed["aggregate_id"], completed))
    return puts


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in keys}


def _result_row(item: ResultModel) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in _RESULT_FIELDS}
    for name in ("join_order", "score", "elapsed_ms", "answered", "correct_count"):
        row[name] = int(row[name])
    row["rank"] = None if row["rank"] is None else int(row["rank"])
    return row


def read_summary(run_id: str) -> dict[str, Any]:
    """The persisted run summary; NotFound until the reporter has written it."""
    try:
        item = RunModel.get(run_id, consistent_read=True)
    except RunModel.DoesNotExist:
        raise NotFound("no persisted speed-run with this id") from None
    summary: dict[str, Any] = item.summary
    return summary


def read_participants(run_id: str) -> list[dict[str, Any]]:
    rows = [_result_row(item) for item in ResultModel.query(run_id, consistent_read=True)]
    return sorted(rows, key=projections.result_order)


def read_results_view(run_id: str, participant_id: str | None) -> dict[str, Any]:
    """The protocol's `results` message from the read models (host view when participant_id is None).

    Raises NotFound until the run is persisted, or for a participant the run does not know.
    """
    summary = read_summary(run_id)
    if participant_id is None:
        return projections.results_view_from(summary, read_participants(run_id), None)
    try:
        participant = _result_row(ResultModel.get(run_id, participant_id, consistent_read=True))
    except ResultModel.DoesNotExist:
        raise NotFound("no results for this participant") from None
    return projections.results_view_from(summary, [participant], participant_id)


def read_csv_rows(run_id: str) -> list[dict[str, Any]]:
    return projections.csv_rows_from(read_summary(run_id), read_participants(run_id))


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, handle: str) -> dict[str, Any]:
    """The LastEvaluatedKey a cursor stands for; BadRequest when it is not one of this player's."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, UnicodeError, ValueError):
        raise BadRequest("invalid cursor", details=[{"field": "cursor", "reason": "not a cursor"}]) from None
    valid = (
        isinstance(key, dict)
        and set(key) == {"handle", "game_key"}
        and key["handle"] == {"S": handle}
        and isinstance(key["game_key"], dict)
        and isinstance(key["game_key"].get("S"), str)
    )
    if not valid:
        raise BadRequest("invalid cursor", details=[{"field": "cursor", "reason": "not a cursor of this player"}])
    return key


def read_player_games(handle: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a player's games, newest first: `{items, next_cursor}`."""
    start = decode_cursor(cursor, handle) if cursor else None
    results = PlayerGameModel.query(handle, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = [_game_row(item) for item in results]
    return {"items": items, "next_cursor": encode_cursor(results.last_evaluated_key)}


def _game_row(item: PlayerGameModel) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in _GAME_FIELDS}
    for name in ("score", "rank", "participant_count", "question_count", "correct_count"):
        row[name] = int(row[name])
    return row
