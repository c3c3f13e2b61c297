"""A host's runs on the cache as deployed (three-node Redis Cluster, TLS, the cache user): the per-host
index is in another slot than the runs' keys, so sign-on writes it in a round trip of its own, the
listing reads each run's meta hash from whichever node holds it, and the reporter removes the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.cluster import RedisCluster
from redis.crc import key_slot

import lambdas.reporter.handler as reporter_lambda
import lambdas.results.handler as results_lambda
from speedrun import manifest
from speedrun.adapters.queues import JobQueues
from speedrun.adapters.tokens import ensure_token_secret
from speedrun.engine.keys import run_keys
from speedrun.engine.models import HOST, Caller
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.question_sets.service import default_service
from speedrun.reporting.live_runs import host_runs_key
from speedrun.settings import get_settings
from speedrun.signon.models import CreateSpeedRunRequest
from speedrun.signon.service import SignOnService
from tests.integration.redis.test_redis_cluster_tls import cluster, deployed  # noqa: F401 (fixtures)
from tests.support.durable_stores import MotoQueues, poll_once
from tests.support.durable_stores import client as shared_client
from tests.support.fakes import FakeLambdaContext, RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.question_sets import http_event, question_store_at, sample_set_json

HOST_SUB = "cluster-lister-sub"
TOKEN_SECRET = "speedrun/test/cluster-list-token-keys"


@pytest.fixture
def results_on_the_cluster(deployed: RedisCluster) -> Iterator[None]:  # noqa: F811
    results_lambda.live_runs.cache_clear()
    yield
    results_lambda.live_runs.cache_clear()


def _get(path: str, query: dict[str, str] | None = None) -> Any:
    response = results_lambda.handler(http_event("GET", path, sub=HOST_SUB, query=query), FakeLambdaContext())
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def test_runs_are_listed_from_every_node_and_leave_the_index_once_durable(
    deployed: RedisCluster,  # noqa: F811
    results_on_the_cluster: None,
    stores: MotoQueues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_token_secret(TOKEN_SECRET, client=shared_client("secretsmanager"))
    monkeypatch.setenv(manifest.TOKEN_SECRET_ENV, TOKEN_SECRET)
    monkeypatch.setenv(manifest.WS_URL_ENV, "wss://ws.example.test/live")
    with question_store_at(tmp_path, monkeypatch):
        signon = SignOnService.from_settings(get_settings())
        set_id = default_service().upload(HOST_SUB, sample_set_json(3), filename="set.json", name=None).id
        opened = [
            signon.create_speedrun(HOST_SUB, CreateSpeedRunRequest(question_set_id=set_id, name=f"Run {n}")).speedrun_id
            for n in range(6)
        ]
    index_slot = key_slot(host_runs_key(HOST_SUB).encode())
    assert any(key_slot(run_keys(run_id)[0].encode()) != index_slot for run_id in opened)
    assert deployed.zcard(host_runs_key(HOST_SUB)) == 6

    listed = _get("/api/speedruns", {"limit": "100"})["items"]
    assert sorted(item["run_id"] for item in listed) == sorted(opened)
    assert {item["status"] for item in listed} == {"lobby"}
    assert _get(f"/api/speedruns/{opened[0]}")["status"] == "lobby"

    # One run ends and the reporter (as deployed, on the cluster) makes it durable.
    engine = RunEngine(deployed)
    pusher = RecordingPusher()
    live = SpeedRunService(engine, pusher, JobQueues(stores.sqs), InProcessFanOut(engine, pusher, engine.clock))
    host = Caller(opened[0], HOST, None, "conn-host")
    assert live.connect(host)
    assert live.handle(host, "start", json.dumps({"action": "start"}))["type"] == "started"
    assert live.handle(host, "end", json.dumps({"action": "end"}))["type"] == "completed"
    handled = poll_once(
        stores.sqs,
        stores.urls[manifest.COMPLETION_QUEUE],
        lambda event: reporter_lambda.handler(event, FakeLambdaContext()),
        1,
    )
    assert handled == 1
    assert deployed.zcard(host_runs_key(HOST_SUB)) == 5
    listed = {item["run_id"]: item for item in _get("/api/speedruns", {"limit": "100"})["items"]}
    assert set(listed) == set(opened)
    assert listed[opened[0]]["persisted"] is True
    assert _get(f"/api/speedruns/{opened[0]}")["persisted"] is True
