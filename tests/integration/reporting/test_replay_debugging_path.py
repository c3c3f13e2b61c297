"""The documented debugging path (docs/results-and-players.md, "Debugging a deployed run locally"),
end to end: a "deployed" source (a moto server of its own, in another region, with deployed-style
table names) holds completed runs and a profile owned by other accounts; `python -m speedrun.replay`
copies them into a running local stack; the local host signs in and reads them over HTTP.

Without `--owner` the replayed run keeps the deployed host's sub and the local host gets 404 (the
behaviour of issue 12 item 4, kept and documented); with `--owner local-host` it gets the summary,
the results and the CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import redis

from local_stack import aws
from local_stack.client import HttpReply, bearer, http_request
from local_stack.redis_backend import free_port
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun import manifest
from speedrun.adapters.tables import MODELS
from speedrun.events import RUN_CREATED, player_aggregate, run_aggregate
from speedrun.players.commands import PlayerCommand
from speedrun.players.worker import command_event, profile_model
from speedrun.replay import ORIGINAL_OWNER_ATTRIBUTE
from speedrun.reporting import event_store, projections, views
from speedrun.reporting.csv_export import csv_filename, csv_rows, to_csv
from speedrun.reporting.read_models import model_put
from speedrun.reporting.reporter import run_puts
from tests.support.simulated_run import START_MS, simulate_run

ROOT = Path(__file__).resolve().parents[3]
SOURCE_REGION = "eu-west-1"
"""The deployment's region: not the local stack's (us-east-1), as it may well be."""
DEPLOYED_HOST = "0b7e5d6c-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
DEPLOYED_PLAYER = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
MAPPED_RUN = "RUNMAPPED0001"
UNMAPPED_RUN = "RUNUNMAPPED01"
UNTOUCHED_RUN = "RUNUNTOUCHED1"
SUB_RUN = "RUNBYSUB00001"
MAPPED_HANDLE = "deployed-player"
UNMAPPED_HANDLE = "other-player"


SUMMARY_FIELDS = (
    "run_id",
    "host",
    "name",
    "question_set_id",
    "status",
    "question_count",
    "participant_count",
    "kicked_count",
    "finished_count",
    "answer_count",
    "correct_answer_count",
    "created_at",
    "started_at",
    "completed_at",
    "completion_reason",
    "leaderboard",
)
"""What `GET /api/speedruns/{id}` takes from the run summary projection (the reply may carry more)."""


def deployed_name(logical: str) -> str:
    return f"speedrun-prod-{logical.replace('_', '-')}-1A2B3C4D"


@dataclass
class Source:
    endpoint: str
    runs: dict[str, list[dict[str, Any]]]


def _moto_client(service: str, endpoint: str, region: str) -> Any:
    return aws.client(service, endpoint, region)


def _wait_for_moto(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _moto_client("dynamodb", endpoint, SOURCE_REGION).list_tables()
            return
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _profile_events(handle: str, owner: str) -> list[dict[str, Any]]:
    command = PlayerCommand(
        kind="upsert_profile",
        handle=handle,
        owner=owner,
        request_id=f"req-{handle}",
        accepted_at=START_MS,
        profile={"display_name": handle.title(), "avatar": None, "bio": "played on the deployment"},
    )
    return [command_event(command)]


@pytest.fixture(scope="module")
def source() -> Iterator[Source]:
    """A moto server in its own process standing for the deployment: every table under a deployed
    name, four reported runs of DEPLOYED_HOST and two profiles of DEPLOYED_PLAYER."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_moto(endpoint, process)
        dynamodb = _moto_client("dynamodb", endpoint, SOURCE_REGION)
        for logical, model in MODELS.items():
            schema = model._get_schema()  # the keys only: replay reads the events, nothing queries an index here
            keys = {key["AttributeName"] for key in schema["key_schema"]}
            dynamodb.create_table(
                TableName=deployed_name(logical),
                KeySchema=schema["key_schema"],
                AttributeDefinitions=[a for a in schema["attribute_definitions"] if a["AttributeName"] in keys],
                BillingMode="PAY_PER_REQUEST",
            )
        deployed = {model.Meta.table_name: deployed_name(logical) for logical, model in MODELS.items()}
        runs = {
            run_id: simulate_run(run_id=run_id, participants=5, questions=4, kicked=(3,), host=DEPLOYED_HOST, seed=n)
            for n, run_id in enumerate((MAPPED_RUN, UNMAPPED_RUN, UNTOUCHED_RUN, SUB_RUN))
        }
        puts = [put for run_id, events in runs.items() for put in run_puts(run_id, events)]
        for handle in (MAPPED_HANDLE, UNMAPPED_HANDLE):
            events = _profile_events(handle, DEPLOYED_PLAYER)
            puts += [event_store.event_put(player_aggregate(handle), event) for event in events]
            profile = profile_model(handle, events)
            assert profile is not None
            puts.append(model_put(profile))
        for put in puts:
            dynamodb.put_item(TableName=deployed[put.table], Item=put.item)
        yield Source(endpoint, runs)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def local(redis_server_url: str) -> Iterator[LocalStack]:
    """`make run`, in this process (its functions in their own processes, as always)."""
    redis.Redis.from_url(redis_server_url).flushall()
    with LocalStack(LocalStackOptions(port=0, examples_dir=None, web_dir=None, redis_url=redis_server_url)) as stack:
        yield stack


def _local_endpoint(stack: LocalStack) -> str:
    return stack.environment["AWS_ENDPOINT_URL"]


def replay(source: Source, stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Steps 2 and 3: `make replay ARGS="..."` with the deployment as the source (its region, its table
    names, its endpoint; no local stack variables), as a developer's shell would run it."""
    environment = {name: value for name, value in os.environ.items() if name not in stack.environment}
    environment.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")]),
            "AWS_ENDPOINT_URL": source.endpoint,
            "AWS_ACCESS_KEY_ID": "deployed-account",  # the developer's credentials (moto takes any)
            "AWS_SECRET_ACCESS_KEY": "deployed-secret",
            "AWS_SESSION_TOKEN": "deployed-session",
            "AWS_REGION": SOURCE_REGION,
            "AWS_DEFAULT_REGION": SOURCE_REGION,
            **{manifest.table_env(logical): deployed_name(logical) for logical in MODELS},
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "speedrun.replay", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _get(stack: LocalStack, path: str, token: str) -> HttpReply:
    return http_request("GET", f"{stack.base_url}{path}", headers=bearer(token))


def _sub(id_token: str) -> str:
    return str(jwt.decode(id_token, options={"verify_signature": False})["sub"])


def _local_item(stack: LocalStack, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        _moto_client("dynamodb", _local_endpoint(stack), stack.options.region)
        .get_item(TableName=table, Key=key, ConsistentRead=True)
        .get("Item")
    )
    return item


def _local_events(stack: LocalStack, aggregate: str) -> list[dict[str, Any]]:
    dynamodb = _moto_client("dynamodb", _local_endpoint(stack), stack.options.region)
    reply = dynamodb.query(
        TableName=manifest.EVENTS,
        KeyConditionExpression="aggregate_id = :a",
        ExpressionAttributeValues={":a": {"S": aggregate}},
        ConsistentRead=True,
    )
    items: list[dict[str, Any]] = reply["Items"]
    return items


def _with_host(events: list[dict[str, Any]], host: str) -> list[dict[str, Any]]:
    return [
        {**event, "data": {**event["data"], "host": host}} if event["type"] == RUN_CREATED else event
        for event in events
    ]


def test_debugging_path_with_the_owner_mapped_to_the_local_host(source: Source, local: LocalStack) -> None:
    done = replay(
        source, local, "--run", MAPPED_RUN, "--target-endpoint", _local_endpoint(local), "--owner", "local-host"
    )
    assert done.returncode == 0, done.stderr

    # Step 4: the local host (its sub is random per start) reads the run over HTTP.
    token = local.sign_in_host()
    local_sub = _sub(token)
    assert local_sub != DEPLOYED_HOST
    assert f"owner {local_sub} in place of: {DEPLOYED_HOST} (1)" in done.stderr
    events = source.runs[MAPPED_RUN]

    summary = _get(local, f"/api/speedruns/{MAPPED_RUN}", token)
    assert summary.status == 200, summary.body
    expected_summary = json.loads(json.dumps(projections.run_summary(_with_host(events, local_sub))))
    for name in SUMMARY_FIELDS:
        assert summary.json()[name] == expected_summary[name], name
    assert summary.json()["host"] == local_sub
    assert summary.json()["participant_count"] == 4
    assert summary.json()["kicked_count"] == 1

    results = _get(local, f"/api/speedruns/{MAPPED_RUN}/results", token)
    assert results.status == 200, results.body
    assert results.json() == views.results_view(events, None).model_dump(mode="json")
    assert results.json()["speedrun_id"] == MAPPED_RUN
    assert len(results.json()["questions"]) == 4

    download = _get(local, f"/api/speedruns/{MAPPED_RUN}/results?format=csv", token)
    assert download.status == 200, download.body
    assert download.headers["content-type"].startswith("text/csv")
    assert csv_filename(MAPPED_RUN) in download.headers["content-disposition"]
    assert download.body.decode("utf-8") == to_csv(csv_rows(events))
    assert len(download.body.decode("utf-8").splitlines()) == 1 + 5 * 4  # header, participants x questions

    # Its players' games, which name the run's host too, are the local host's to read.
    games = _get(local, "/api/players/player-2/games", token)
    assert games.status == 200, games.body
    assert MAPPED_RUN in [game["run_id"] for game in games.json()["items"]]

    # The local event store has the run too, owned as its read models are; the run_created event
    # keeps the deployed host's sub beside it, for whoever debugs.
    copied = sorted(_local_events(local, run_aggregate(MAPPED_RUN)), key=lambda item: int(item["seq"]["N"]))
    assert [int(item["seq"]["N"]) for item in copied] == [event["seq"] for event in events]
    created = [item for item in copied if item["type"]["S"] == RUN_CREATED]
    assert json.loads(created[0]["data"]["S"])["host"] == local_sub
    assert created[0][ORIGINAL_OWNER_ATTRIBUTE] == {"S": DEPLOYED_HOST}
    assert all(ORIGINAL_OWNER_ATTRIBUTE not in item for item in copied if item is not created[0])
    run_item = _local_item(local, manifest.RUNS, {"run_id": {"S": MAPPED_RUN}})
    assert run_item is not None and run_item["host"] == {"S": local_sub}


def test_without_the_owner_mapping_the_local_host_gets_404(source: Source, local: LocalStack) -> None:
    """Today's behaviour without `--owner` (documented): the run is copied, still owned by the deployed
    host, so to the local host it does not exist."""
    done = replay(source, local, "--run", UNMAPPED_RUN, "--target-endpoint", _local_endpoint(local))
    assert done.returncode == 0, done.stderr
    assert "in place of" not in done.stderr
    copied = _local_item(local, manifest.RUNS, {"run_id": {"S": UNMAPPED_RUN}})
    assert copied is not None and copied["host"] == {"S": DEPLOYED_HOST}

    token = local.sign_in_host()
    for path in ("", "/results", "/results?format=csv"):
        reply = _get(local, f"/api/speedruns/{UNMAPPED_RUN}{path}", token)
        assert reply.status == 404, (path, reply.status, reply.body)
    assert all(ORIGINAL_OWNER_ATTRIBUTE not in item for item in _local_events(local, f"run#{UNMAPPED_RUN}"))


def test_a_replayed_profile_is_the_local_hosts_only_with_the_mapping(source: Source, local: LocalStack) -> None:
    """A profile's `owner` authorizes its commands: mapped, the local host may update it; not, 403."""
    endpoint = _local_endpoint(local)
    mapped_copy = replay(
        source, local, "--player", MAPPED_HANDLE, "--target-endpoint", endpoint, "--owner", "local-host"
    )
    assert mapped_copy.returncode == 0, mapped_copy.stderr
    plain_copy = replay(source, local, "--player", UNMAPPED_HANDLE, "--target-endpoint", endpoint)
    assert plain_copy.returncode == 0, plain_copy.stderr
    token = local.sign_in_host()

    profile = _get(local, f"/api/players/{MAPPED_HANDLE}", token)
    assert profile.status == 200, profile.body
    assert profile.json()["display_name"] == MAPPED_HANDLE.title()
    body = {"display_name": "Debugged"}
    mapped = http_request("PUT", f"{local.base_url}/api/players/{MAPPED_HANDLE}", json_body=body, headers=bearer(token))
    assert mapped.status == 202, mapped.body
    unmapped = http_request(
        "PUT", f"{local.base_url}/api/players/{UNMAPPED_HANDLE}", json_body=body, headers=bearer(token)
    )
    assert unmapped.status == 403, unmapped.body
    (event,) = _local_events(local, player_aggregate(MAPPED_HANDLE))
    assert event[ORIGINAL_OWNER_ATTRIBUTE] == {"S": DEPLOYED_PLAYER}


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("user:nobody", "no user 'nobody' in user pool"),
        ("user:", "names no user"),
        ("not-a-sub", "is not a Cognito sub (a UUID"),
        ("0b7e5d6c-1a2b-4c3d-8e9f-a0b1c2d3e4", "is not a Cognito sub (a UUID"),
    ],
)
def test_an_owner_that_cannot_be_resolved_stops_the_replay_before_any_write(
    source: Source, local: LocalStack, owner: str, message: str
) -> None:
    done = replay(source, local, "--run", UNTOUCHED_RUN, "--target-endpoint", _local_endpoint(local), "--owner", owner)
    assert done.returncode == 2
    assert message in done.stderr
    assert _local_item(local, manifest.RUNS, {"run_id": {"S": UNTOUCHED_RUN}}) is None
    assert _local_events(local, run_aggregate(UNTOUCHED_RUN)) == []


def test_a_sub_given_as_it_is_needs_no_lookup(source: Source, local: LocalStack) -> None:
    """`--owner <sub>` (e.g. the fixed sub of a `--data` stack) is written as given (case folded), with no lookup."""
    local_sub = _sub(local.sign_in_host())
    done = replay(
        source, local, "--run", SUB_RUN, "--target-endpoint", _local_endpoint(local), "--owner", local_sub.upper()
    )
    assert done.returncode == 0, done.stderr
    assert _get(local, f"/api/speedruns/{SUB_RUN}", local.sign_in_host()).status == 200
