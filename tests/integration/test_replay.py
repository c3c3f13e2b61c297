"""Replay: every read model rebuilt from the event store alone equals the one the reporter and the
players worker wrote (full table scans compared)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from speedrun import manifest
from speedrun.engine import RunExport
from speedrun.players import PlayerCommand, PlayerCommands, PlayerWorker, ProfileBody, ProgressBody
from speedrun.replay import ProgressBar, Replayer, main
from speedrun.reporting import BatchWriter, Reporter
from speedrun.tables import MODELS
from tests.support.durable_stores import READ_MODEL_TABLES, Queues, client, durable_stores, scan, scan_all, wipe
from tests.support.simulated_run import START_MS, simulate_run


class _CompletedRuns:
    def __init__(self, runs: list[list[dict[str, Any]]]) -> None:
        self.runs = {events[0]["data"]["run_id"]: events for events in runs}

    def export(self, run_id: str) -> RunExport | None:
        events = self.runs.get(run_id)
        return None if events is None else RunExport(run_id, "completed", events)

    def drop(self, run_id: str) -> None:
        self.runs.pop(run_id)


class _Queue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send_player_command(self, handle: str, request_id: str, body: dict[str, Any]) -> None:
        self.bodies.append(body)


@pytest.fixture
def history() -> Iterator[Queues]:
    """Three reported runs (some participants with handles), profiles with upserts and progress."""
    with durable_stores() as queues:
        runs = [
            simulate_run(
                run_id=f"RUN{n:09d}", participants=6, questions=3, kicked=(5,) if n == 1 else (), start_ms=START_MS + n
            )
            for n in range(3)
        ]
        live = _CompletedRuns(runs)
        reporter = Reporter(live, BatchWriter(client("dynamodb")))
        for run_id in list(live.runs):
            reporter.report(run_id)
        queue = _Queue()
        clock = iter(range(START_MS, START_MS + 10_000, 7))
        commands = PlayerCommands(queue, clock=lambda: next(clock))
        for handle in ("player-2", "player-4", "solo"):
            commands.upsert_profile(handle, f"sub-{handle}", ProfileBody(display_name=handle))
            commands.upsert_profile(handle, f"sub-{handle}", ProfileBody(display_name=handle.upper(), bio="again"))
            for n in range(3):
                commands.record_progress(handle, f"sub-{handle}", ProgressBody(kind="level_reached", value=n))
        worker = PlayerWorker()
        for body in queue.bodies:
            assert worker.apply(PlayerCommand.model_validate(body))["status"] == "applied"
        yield queues


def test_replay_all_rebuilds_every_wiped_read_model(history, capsys):
    original = scan_all(READ_MODEL_TABLES)
    assert all(original.values())
    events_before = scan(manifest.EVENTS)
    for table in READ_MODEL_TABLES:
        wipe(table)
    assert not any(scan_all(READ_MODEL_TABLES).values())

    assert main(["--all"]) == 0

    assert scan_all(READ_MODEL_TABLES) == original
    assert scan(manifest.EVENTS) == events_before  # replay only reads the event store
    err = capsys.readouterr().err
    aggregates = 3 + 4  # runs; players: player-2/-4 (profile, progress, games), player-6 (games), solo
    assert f"{aggregates}/{aggregates}" in err
    assert "replayed 3 run(s), 4 player(s)" in err


def test_replay_one_run(history):
    original = scan_all(READ_MODEL_TABLES)
    for table in (manifest.RUNS, manifest.RESULTS, manifest.PLAYER_GAMES):
        wipe(table)

    assert main(["--run", "RUN000000001"]) == 0

    rebuilt = scan_all(READ_MODEL_TABLES)
    assert rebuilt[manifest.RUNS] == [i for i in original[manifest.RUNS] if i["run_id"]["S"] == "RUN000000001"]
    assert rebuilt[manifest.RESULTS] == [i for i in original[manifest.RESULTS] if i["run_id"]["S"] == "RUN000000001"]
    assert rebuilt[manifest.PLAYER_GAMES] == [
        i for i in original[manifest.PLAYER_GAMES] if i["run_id"]["S"] == "RUN000000001"
    ]
    assert len(rebuilt[manifest.RESULTS]) == 6


def test_replay_one_player_with_games(history):
    original = scan_all(READ_MODEL_TABLES)
    for table in READ_MODEL_TABLES:
        wipe(table)

    assert main(["--player", "player-4"]) == 0

    rebuilt = scan_all(READ_MODEL_TABLES)
    for table in (manifest.PLAYERS, manifest.PLAYER_PROGRESS, manifest.PLAYER_GAMES):
        assert rebuilt[table] == [i for i in original[table] if i["handle"]["S"] == "player-4"]
    assert len(rebuilt[manifest.PLAYER_GAMES]) == 3
    assert rebuilt[manifest.PLAYERS][0]["version"] == {"N": "2"}
    assert rebuilt[manifest.RUNS] == []


def test_unknown_run_or_player_is_reported(history, capsys):
    assert main(["--run", "NOSUCHRUN"]) == 2
    assert main(["--player", "nobody"]) == 2
    assert "no events for run NOSUCHRUN" in capsys.readouterr().err


def test_replay_over_intact_tables_changes_nothing(history):
    original = scan_all((*READ_MODEL_TABLES, manifest.EVENTS))
    replayer = Replayer(BatchWriter(client("dynamodb")))
    replayer.replay_all(ProgressBar(7, stream=io.StringIO()))
    assert scan_all((*READ_MODEL_TABLES, manifest.EVENTS)) == original
    assert (replayer.stats.runs, replayer.stats.players) == (3, 4)


def _scan_raw(table: str) -> list[dict[str, Any]]:
    pages = client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sorted((item for page in pages for item in page["Items"]), key=lambda item: json.dumps(item, sort_keys=True))


def test_replay_into_another_store_copies_events_and_read_models(history):
    """What `--target-endpoint` does (e.g. into the local stack): the same writes, under other table names."""
    logical = (*READ_MODEL_TABLES, manifest.EVENTS)
    for name in logical:
        schema = MODELS[name]._get_schema()
        client("dynamodb").create_table(
            TableName=f"debug-{name}",
            KeySchema=schema["key_schema"],
            AttributeDefinitions=schema["attribute_definitions"],
            BillingMode="PAY_PER_REQUEST",
        )
    replayer = Replayer(BatchWriter(client("dynamodb")), copy_events=True, table_name=lambda table: f"debug-{table}")

    replayer.replay_run("RUN000000002")
    replayer.replay_player("player-2")

    original = scan_all(logical)

    def copied(event: dict[str, Any]) -> bool:
        aggregate = event["aggregate_id"]["S"]
        game_of_run = event["type"]["S"] == "game_completed" and "RUN000000002" in event["data"]["S"]
        return aggregate in ("run#RUN000000002", "player#player-2") or game_of_run

    def of_run(item: dict[str, Any]) -> bool:
        return item["run_id"]["S"] == "RUN000000002"

    assert _scan_raw(f"debug-{manifest.EVENTS}") == [e for e in original[manifest.EVENTS] if copied(e)]
    assert _scan_raw(f"debug-{manifest.RUNS}") == [i for i in original[manifest.RUNS] if of_run(i)]
    assert _scan_raw(f"debug-{manifest.RESULTS}") == [i for i in original[manifest.RESULTS] if of_run(i)]
    assert _scan_raw(f"debug-{manifest.PLAYERS}") == [
        i for i in original[manifest.PLAYERS] if i["handle"]["S"] == "player-2"
    ]
    assert _scan_raw(f"debug-{manifest.PLAYER_GAMES}") == [
        i for i in original[manifest.PLAYER_GAMES] if of_run(i) or i["handle"]["S"] == "player-2"
    ]
