"""Redis stopped mid-run and started again (a private `redis-server` keeping an append-only file,
restarted on the same port): every action during the outage is answered `unavailable` (and a
reconnect 503), nothing changes, clients retry after the restart on the same production client
(`speedrun.adapters.redis_client`: short timeouts, retries, reconnect), and every answer that got an
`answer_result` is in the durable results the reporter writes to (moto) DynamoDB. The reporter
itself meets the outage too: its job fails, stays on the queue, and succeeds once Redis is back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from speedrun import manifest
from speedrun.adapters.redis_client import redis_from_settings
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.read_models import read_results_view
from speedrun.reporting.reporter import Reporter, process_completion_jobs
from speedrun.settings import Settings
from tests.support.durable_stores import MotoQueues, poll_once, queue_depth, scan
from tests.support.durable_stores import client as aws_client
from tests.support.engine_harness import Client, EngineWorld
from tests.support.fanout import InProcessFanOut
from tests.support.redis_server import free_port, private_redis

PARTICIPANTS = 12
QUESTIONS = 4
ANSWERED_BEFORE_OUTAGE = 2

pytestmark = pytest.mark.timeout(120)


def _world(redis_url: str, stores: MotoQueues, monkeypatch: pytest.MonkeyPatch) -> EngineWorld:
    """The engine test world, but on the client every function uses (its timeouts and retries are
    what this test is about), not the harness's own."""
    monkeypatch.setenv(manifest.REDIS_URL_ENV, redis_url)
    world = EngineWorld(redis_url, stores.sqs)
    world.engine = RunEngine(redis_from_settings(Settings()), clock=world.clock)
    world.fanout = InProcessFanOut(world.engine, world.pusher, world.clock)
    world.service = SpeedRunService(world.engine, world.pusher, world.jobs, world.fanout)
    return world


def _answer(world: EngineWorld, player: Client, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask for a question and answer it (correct for even participants), as a client does."""
    served = world.send(player, "question", index=index)
    if served["type"] != "question":
        return served, served
    world.clock.advance(700)
    number = int(player.name.rsplit(" ", 1)[1])
    start = 0 if number % 2 else 1
    selected = list(range(start, start + served["select_count"]))
    return served, world.send(player, "answer", index=index, selected=selected)


def test_redis_outage_mid_run_loses_no_acknowledged_answer(tmp_path: Path, stores: MotoQueues, monkeypatch) -> None:
    data_dir, port = tmp_path / "redis", free_port()
    data_dir.mkdir()
    acknowledged: dict[str, list[dict[str, Any]]] = {}

    with private_redis(persistent_dir=data_dir, port=port) as redis_url:
        world = _world(redis_url, stores, monkeypatch)
        run_id, code, host = world.create(questions=QUESTIONS, max_participants=PARTICIPANTS)
        players = [world.join(code, f"player {k}") for k in range(PARTICIPANTS)]
        assert world.send(host, "start")["type"] == "started"
        for index in range(ANSWERED_BEFORE_OUTAGE):
            for player in players:
                _served, result = _answer(world, player, index)
                assert result["type"] == "answer_result", result
                acknowledged.setdefault(player.participant_id or "", []).append(result)
        # The next question is served to half of them: their answer is the one cut off by the outage.
        for player in players[::2]:
            assert world.send(player, "question", index=ANSWERED_BEFORE_OUTAGE)["type"] == "question"
        state_before = world.dump(run_id)

    # Redis is down: every action is `unavailable` (safe to retry), a reconnect is refused with 503.
    during_outage = [world.send(host, "sync")]
    for player in players:
        during_outage.append(world.send(player, "question", index=ANSWERED_BEFORE_OUTAGE))
        during_outage.append(world.send(player, "answer", index=ANSWERED_BEFORE_OUTAGE, selected=[0]))
    assert [frame["type"] for frame in during_outage] == ["error"] * len(during_outage)
    assert {frame["code"] for frame in during_outage} == {"unavailable"}
    assert world.reconnect(players[0]) == 503

    with private_redis(persistent_dir=data_dir, port=port):
        # Everything acknowledged before the outage is still there, and the refused actions changed nothing.
        assert world.dump(run_id) == state_before
        assert world.reconnect(players[0]) == 200
        assert world.send(players[0], "sync")["type"] == "state"
        # Clients retry what was refused, then play on to the end.
        for index in range(ANSWERED_BEFORE_OUTAGE, QUESTIONS):
            for player in players:
                served, result = _answer(world, player, index)
                assert served["type"] == "question", served
                assert result["type"] == "answer_result", result
                acknowledged[player.participant_id or ""].append(result)
        assert [frame["type"] for frame in world.received(host)].count("completed") == 1

    # The reporter meets the outage too: its job fails and stays on the queue, nothing is written.
    queue_url = os.environ[manifest.queue_env(manifest.COMPLETION_QUEUE)]  # the engine world's queue
    reporter = Reporter(world.engine, BatchWriter(aws_client("dynamodb"), sleep=lambda _s: None))

    def report(event: dict[str, Any]) -> Any:
        return process_completion_jobs(event, reporter)

    assert poll_once(stores.sqs, queue_url, report, 1) == 1
    assert queue_depth(stores.sqs, queue_url) == 1
    assert scan(manifest.RESULTS) == []

    with private_redis(persistent_dir=data_dir, port=port):
        assert poll_once(stores.sqs, queue_url, report, 1) == 1
        assert queue_depth(stores.sqs, queue_url) == 0
        assert world.engine.export(run_id) is None  # durable, then dropped

    # Every acknowledged answer is in the durable results, once, as it was acknowledged.
    assert len(scan(manifest.RESULTS)) == PARTICIPANTS
    for participant_id, results in acknowledged.items():
        view = read_results_view(run_id, participant_id).model_dump(mode="json")
        persisted = [(q["index"], q["outcome"], q["points"]) for q in view["questions"]]
        assert persisted == [(r["index"], r["outcome"], r["points"]) for r in results]
        assert view["score"] == results[-1]["score"]
