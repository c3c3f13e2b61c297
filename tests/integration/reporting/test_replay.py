"""Replay: every read model rebuilt from the event store alone equals the one the reporter and the
players worker wrote (full table scans compared)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.redis_backend import free_port
from speedrun import manifest
from speedrun.adapters.tables import MODELS
from speedrun.players.commands import PlayerCommand, PlayerCommands, ProfileBody, ProgressBody
from speedrun.players.worker import PlayerWorker
from speedrun.replay import (
    ORIGINAL_OWNER_ATTRIBUTE,
    OwnerNotResolved,
    OwnerSpec,
    ProgressBar,
    Replayer,
    main,
    owner_spec,
    resolve_owner,
)
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.reporter import Reporter
from tests.support.completed_runs import CompletedRuns
from tests.support.durable_stores import READ_MODEL_TABLES, MotoQueues, client, durable_stores, scan, scan_all, wipe
from tests.support.simulated_run import START_MS, simulate_run


class _Queue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send_player_command(self, handle: str, request_id: str, body: dict[str, Any]) -> None:
        self.bodies.append(body)


@pytest.fixture
def history() -> Iterator[MotoQueues]:
    """Three reported runs (some participants with handles), profiles with upserts and progress."""
    with durable_stores() as queues:
        runs = [
            simulate_run(
                run_id=f"RUN{n:09d}", participants=6, questions=3, kicked=(5,) if n == 1 else (), start_ms=START_MS + n
            )
            for n in range(3)
        ]
        live = CompletedRuns(runs)
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


def _create_tables(prefix: str, logical: tuple[str, ...]) -> None:
    """Another copy of the tables, under `<prefix><logical name>` (keys only: nothing here queries an index)."""
    for name in logical:
        schema = MODELS[name]._get_schema()
        keys = {key["AttributeName"] for key in schema["key_schema"]}
        client("dynamodb").create_table(
            TableName=f"{prefix}{name}",
            KeySchema=schema["key_schema"],
            AttributeDefinitions=[a for a in schema["attribute_definitions"] if a["AttributeName"] in keys],
            BillingMode="PAY_PER_REQUEST",
        )


def _scan_raw(table: str) -> list[dict[str, Any]]:
    pages = client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sorted((item for page in pages for item in page["Items"]), key=lambda item: json.dumps(item, sort_keys=True))


def test_replay_into_another_store_copies_events_and_read_models(history):
    """What `--target-endpoint` does (e.g. into the local stack): the same writes, under other table names."""
    logical = (*READ_MODEL_TABLES, manifest.EVENTS)
    _create_tables("debug-", logical)
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


# --- the owner mapping (`--owner`): what a replay into the local stack needs --------------------------

LOCAL_SUB = "5d41402a-bc4b-4a76-b971-9d911017c592"


def test_owner_mapping_rewrites_every_owner_field_and_keeps_the_original_on_the_events(history):
    """Every item written names the mapped owner wherever the original one authorized access (run
    host, profile owner, and whatever the projections derive from them); the copied events that
    carried an owner keep the original in `replay_original_owner` (outside `data`)."""
    logical = (*READ_MODEL_TABLES, manifest.EVENTS)
    _create_tables("mapped-", logical)
    replayer = Replayer(
        BatchWriter(client("dynamodb")), copy_events=True, table_name=lambda table: f"mapped-{table}", owner=LOCAL_SUB
    )

    replayer.replay_run("RUN000000001")
    replayer.replay_player("player-2")

    copied = {name: _scan_raw(f"mapped-{name}") for name in logical}
    (run,) = copied[manifest.RUNS]
    assert run["host"] == {"S": LOCAL_SUB}
    assert json.loads(run["summary"]["S"])["host"] == LOCAL_SUB
    (profile,) = copied[manifest.PLAYERS]
    assert profile["owner"] == {"S": LOCAL_SUB}
    assert len(copied[manifest.RESULTS]) == 6
    assert replayer.stats.original_owners == {"host-sub": 1, "sub-player-2": 2}

    originals = {
        item["type"]["S"]: item.pop(ORIGINAL_OWNER_ATTRIBUTE)["S"]
        for item in copied[manifest.EVENTS]
        if ORIGINAL_OWNER_ATTRIBUTE in item
    }
    assert originals == {"run_created": "host-sub", "profile_upserted": "sub-player-2"}
    written = json.dumps(copied)
    assert "host-sub" not in written and "sub-player-2" not in written  # no trace left but the record above

    # Apart from the owners, what was copied is what an unmapped copy holds.
    def unowned(items: list[dict[str, Any]]) -> str:
        return json.dumps(items).replace(LOCAL_SUB, "?")

    _create_tables("plain-", logical)
    plain = Replayer(BatchWriter(client("dynamodb")), copy_events=True, table_name=lambda table: f"plain-{table}")
    plain.replay_run("RUN000000001")
    plain.replay_player("player-2")
    for name in logical:
        expected = json.dumps(_scan_raw(f"plain-{name}")).replace("sub-player-2", "?").replace("host-sub", "?")
        assert unowned(copied[name]) == expected, name


def test_owner_mapping_leaves_the_source_alone(history):
    before = scan_all((*READ_MODEL_TABLES, manifest.EVENTS))
    _create_tables("mapped-", (*READ_MODEL_TABLES, manifest.EVENTS))
    replayer = Replayer(
        BatchWriter(client("dynamodb")), copy_events=True, table_name=lambda table: f"mapped-{table}", owner=LOCAL_SUB
    )
    replayer.replay_all(ProgressBar(7, stream=io.StringIO()))
    assert scan_all((*READ_MODEL_TABLES, manifest.EVENTS)) == before
    assert (replayer.stats.runs, replayer.stats.players) == (3, 4)
    assert len(_scan_raw(f"mapped-{manifest.RUNS}")) == 3
    assert {item["host"]["S"] for item in _scan_raw(f"mapped-{manifest.RUNS}")} == {LOCAL_SUB}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--run", "R", "--owner", LOCAL_SUB], "--owner needs --target-endpoint"),
        (["--run", "R", "--target-region", "eu-west-1"], "--target-region needs --target-endpoint"),
        (["--run", "R", "--target-endpoint", "http://127.0.0.1:1", "--owner", "not-a-sub"], "is not a Cognito sub"),
        (["--run", "R", "--target-endpoint", "http://127.0.0.1:1", "--owner", LOCAL_SUB[:-1]], "is not a Cognito sub"),
        (["--run", "R", "--target-endpoint", "http://127.0.0.1:1", "--owner", "user:"], "names no user"),
        (
            ["--run", "R", "--target-endpoint", "http://127.0.0.1:1", "--owner", LOCAL_SUB, "--user-pool-id", "p"],
            "--user-pool-id goes with --owner local-host or --owner user:NAME",
        ),
    ],
)
def test_malformed_owner_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_owner_spec_forms():
    assert owner_spec(LOCAL_SUB.upper()) == OwnerSpec(sub=LOCAL_SUB)
    assert owner_spec("local-host") == OwnerSpec(username="host")
    assert owner_spec("user:alice") == OwnerSpec(username="alice")


def _pool_with_host(cognito: Any, name: str = "speedrun-local-users") -> tuple[str, str]:
    pool = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="host", MessageAction="SUPPRESS")
    attributes = cognito.admin_get_user(UserPoolId=pool, Username="host")["UserAttributes"]
    return pool, next(a["Value"] for a in attributes if a["Name"] == "sub")


def test_resolve_owner_looks_the_user_up_in_the_targets_only_user_pool(stores):
    cognito = client("cognito-idp")
    with pytest.raises(OwnerNotResolved, match="no Cognito user pool at http://x"):
        resolve_owner(owner_spec("local-host"), cognito, where="http://x")
    pool, sub = _pool_with_host(cognito)

    assert resolve_owner(owner_spec("local-host"), cognito) == sub
    assert resolve_owner(owner_spec("user:host"), cognito, user_pool_id=pool) == sub
    assert resolve_owner(owner_spec(LOCAL_SUB), None) == LOCAL_SUB  # a sub is taken as given: no lookup
    with pytest.raises(OwnerNotResolved, match=f"no user 'nobody' in user pool {pool} at http://x"):
        resolve_owner(owner_spec("user:nobody"), cognito, where="http://x")

    other, other_sub = _pool_with_host(cognito, "another-pool")
    with pytest.raises(OwnerNotResolved, match=r"2 user pools .*: pass --user-pool-id"):
        resolve_owner(owner_spec("local-host"), cognito)
    assert resolve_owner(owner_spec("local-host"), cognito, user_pool_id=other) == other_sub
    with pytest.raises(OwnerNotResolved, match="no user pool us-east-1_nothere"):
        resolve_owner(owner_spec("local-host"), cognito, user_pool_id="us-east-1_nothere")


def test_an_unreachable_target_cognito_is_reported_at_once(capsys):
    port = free_port()
    assert main(["--run", "R", "--target-endpoint", f"http://127.0.0.1:{port}", "--owner", "local-host"]) == 2
    err = capsys.readouterr().err
    assert f"replay: --owner user 'host': could not read the Cognito user pools at http://127.0.0.1:{port}" in err
