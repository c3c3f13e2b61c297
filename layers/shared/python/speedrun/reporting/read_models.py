"""The run read models (runs, results, player games): written from the projections, read back for
the results API and the engine's `results` action once a run's live state is gone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from speedrun.adapters.tables import PlayerGameModel, PlayerModel, ResultModel, RunModel
from speedrun.cursors import decode_key_cursor, encode_key_cursor
from speedrun.errors import NotFound
from speedrun.reporting import projections
from speedrun.reporting.batch_writer import PutRequest
from speedrun.reporting.csv_export import csv_rows_from
from speedrun.reporting.event_store import event_put
from speedrun.reporting.listing import created_ms_of_events, listing_key, listing_of_item, listing_of_summary
from speedrun.reporting.views import (
    HostResults,
    ParticipantResults,
    PlayerGame,
    PlayerGamePage,
    host_results_from,
    participant_results_from,
)

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
    run = RunModel(
        run_id,
        host=summary["host"],
        name=summary["name"],
        status=summary["status"],
        summary=summary,
        created_key=listing_key(created_ms_of_events(events), run_id),
        listing=listing_of_summary(summary),
    )
    puts.append(model_put(run))
    return puts


def player_game_puts(games: Sequence[dict[str, Any]]) -> list[PutRequest]:
    """Each game's history item and its `game_completed` player event."""
    puts = []
    for game in games:
        host = game.get("host")
        item = PlayerGameModel(
            game["handle"],
            game["game_key"],
            host_handle=host_handle(host, game["handle"]) if host else None,
            **_without(game, "handle", "game_key"),
        )
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


def read_host_results(run_id: str) -> HostResults:
    """The host's `results` message from the read models; NotFound until the run is persisted."""
    return host_results_from(read_summary(run_id), read_participants(run_id))


def read_results_view(run_id: str, participant_id: str | None) -> HostResults | ParticipantResults:
    """The protocol's `results` message from the read models (host view when participant_id is None).

    Raises NotFound until the run is persisted, or for a participant the run does not know.
    """
    if participant_id is None:
        return read_host_results(run_id)
    summary = read_summary(run_id)
    try:
        participant = _result_row(ResultModel.get(run_id, participant_id, consistent_read=True))
    except ResultModel.DoesNotExist:
        raise NotFound("no results for this participant") from None
    return participant_results_from(summary, [participant], participant_id)


def read_csv_rows(run_id: str) -> list[dict[str, Any]]:
    return csv_rows_from(read_summary(run_id), read_participants(run_id))


def decode_cursor(cursor: str, handle: str) -> dict[str, Any]:
    """The LastEvaluatedKey a cursor stands for; BadRequest when it is not one of this player's."""
    return decode_key_cursor(cursor, {"handle": handle}, ("game_key",), "this player")


def host_handle(host: str, handle: str) -> str:
    """The `games_by_host_handle` index key: one player's games in one host's runs (handles have no `#`)."""
    return f"{host}#{handle}"


def handle_owner(handle: str) -> str | None:
    """The account (Cognito `sub`) that claimed the handle (created its profile), None if nobody has."""
    try:
        return str(PlayerModel.get(handle, consistent_read=True, attributes_to_get=["owner"]).owner)
    except PlayerModel.DoesNotExist:
        return None


def read_player_games(handle: str, limit: int, cursor: str | None, *, host: str | None = None) -> PlayerGamePage:
    """One page of a player's games, newest first. Every game (the player's own view) unless `host`
    is given: then only the games in that host's runs (the `games_by_host_handle` index), and a
    cursor of the one view is refused by the other."""
    if host is None:
        start = decode_cursor(cursor, handle) if cursor else None
        results = PlayerGameModel.query(handle, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    else:
        key = host_handle(host, handle)
        start = (
            decode_key_cursor(cursor, {"handle": handle, "host_handle": key}, ("game_key",), "this player in your runs")
            if cursor
            else None
        )
        results = PlayerGameModel.by_host_handle.query(
            key, scan_index_forward=False, limit=limit, last_evaluated_key=start
        )
    items = [_game_of(item) for item in results]
    return PlayerGamePage(items=items, next_cursor=encode_key_cursor(results.last_evaluated_key))


def read_listing_page(host: str, limit: int, before: str | None) -> list[tuple[str, dict[str, Any]]]:
    """Up to `limit` of the host's persisted runs whose listing key sorts below `before` (all when
    None), newest first, as `(listing key, list entry)`: the `runs_by_host` index (eventually
    consistent, like every global secondary index: a run the reporter has just persisted and
    removed from the live index may be missing for the moment the index takes to catch up)."""
    condition = RunModel.created_key < before if before else None
    results = RunModel.by_host.query(host, condition, scan_index_forward=False, limit=limit)
    return [
        (str(item.created_key), listing_of_item(item.run_id, item.name, item.status, item.listing or {}))
        for item in results
    ]


def _game_of(item: PlayerGameModel) -> PlayerGame:
    return PlayerGame.model_validate({name: getattr(item, name) for name in PlayerGame.model_fields})
