"""Version pinning (issue 14): a run plays the version of its question set it was opened from, and its
summary and results name that version, while the set is replaced or deleted. The question-set
function and the results function over moto, the real sign-on service, the engine's WebSocket service
on the test's private Redis and the real reporter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import lambdas.results.handler as results_lambda
from speedrun.adapters.queues import JobQueues
from speedrun.engine.models import HOST, PARTICIPANT, Caller
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.live_runs import LiveRunReader
from speedrun.reporting.reporter import Reporter
from speedrun.signon.models import CreateSpeedRunRequest
from speedrun.signon.service import SignOnService
from tests.support.durable_stores import MotoQueues, client, moto_run_tokens
from tests.support.fakes import FakeLambdaContext, RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.question_set_api import HOST as HOST_SUB
from tests.support.question_set_api import QuestionSetApi
from tests.support.question_sets import body_of, http_event, question_store_at

SECRET_ID = "speedrun-version-pinning-keys"


def set_file(prefix: str, count: int) -> bytes:
    questions = [
        {"category": "general", "text": f"{prefix} question {n}?", "options": ["a", "b", "c"], "correct": [n % 3]}
        for n in range(count)
    ]
    return json.dumps({"name": f"{prefix} set", "questions": questions}).encode()


@dataclass
class OpenRun:
    run_id: str
    host: Caller
    player: Caller


@dataclass
class Platform:
    sets: QuestionSetApi
    engine: RunEngine
    signon: SignOnService
    live: SpeedRunService
    reporter: Reporter

    def open(self, set_id: str) -> OpenRun:
        """Sign-on opens a run from the set; its host connects, one participant joins and connects."""
        created = self.signon.create_speedrun(HOST_SUB, CreateSpeedRunRequest(question_set_id=set_id))
        host = Caller(created.speedrun_id, HOST, None, f"host-{created.speedrun_id}")
        assert self.live.connect(host)
        joined = self.engine.join(created.join_code, "Ada", None)
        player = Caller(created.speedrun_id, PARTICIPANT, joined.participant_id, f"ada-{created.speedrun_id}")
        assert self.live.connect(player)
        return OpenRun(created.speedrun_id, host, player)

    def act(self, caller: Caller, action: str, **fields: Any) -> dict[str, Any]:
        reply: dict[str, Any] = self.live.handle(caller, action, json.dumps({"action": action, **fields}))
        return reply

    def play(self, run: OpenRun, question_count: int) -> list[str]:
        """Start, answer every question (the first option): the texts the participant was served. The
        run completes when its one participant has finished."""
        assert self.act(run.host, "start")["type"] == "started"
        served = []
        for index in range(question_count):
            question = self.act(run.player, "question", index=index)
            assert question["type"] == "question", question
            served.append(question["text"])
            assert self.act(run.player, "answer", index=index, selected=[0])["type"] == "answer_result"
        export = self.engine.export(run.run_id)
        assert export is not None and export.status == "completed"
        return served

    def persist(self, run: OpenRun) -> None:
        assert self.reporter.report(run.run_id).persisted_now

    def results(self, run_id: str) -> dict[str, Any]:
        return self._get(f"/api/speedruns/{run_id}/results")

    def summary(self, run_id: str) -> dict[str, Any]:
        return self._get(f"/api/speedruns/{run_id}")

    def _get(self, path: str) -> dict[str, Any]:
        response = results_lambda.handler(http_event("GET", path, sub=HOST_SUB), FakeLambdaContext())
        assert response["statusCode"] == 200, response
        return dict(json.loads(response["body"]))


@pytest.fixture
def platform(
    engine: RunEngine, stores: MotoQueues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    tokens = moto_run_tokens(SECRET_ID)
    pusher = RecordingPusher()
    fanout = InProcessFanOut(engine, pusher, engine.clock)
    # Sign-on loads sets with the default question-set service: the one the function uses, on this folder.
    signon = SignOnService(engine, tokens, fanout, ws_url="ws://127.0.0.1:9/ws", clock=engine.clock)
    live = SpeedRunService(engine, pusher, JobQueues(stores.sqs), fanout)
    monkeypatch.setattr(results_lambda, "run_tokens", lambda: tokens)
    monkeypatch.setattr(results_lambda, "live_runs", lambda: LiveRunReader(engine.redis))
    store = tmp_path / "question-sets"
    with question_store_at(store, monkeypatch):
        yield Platform(QuestionSetApi(store), engine, signon, live, Reporter(engine, BatchWriter(client("dynamodb"))))


def test_a_run_plays_the_version_it_was_opened_from_and_its_results_name_it(platform: Platform) -> None:
    set_id = platform.sets.uploaded(set_file("Original", 3))
    first = platform.open(set_id)

    replaced = platform.sets.replace(set_id, set_file("Edited", 2))
    assert replaced["statusCode"] == 200
    assert body_of(replaced)["version"] == 2
    second = platform.open(set_id)
    # Deleting the set stops new runs, not the runs already opened from it.
    assert platform.sets.delete(set_id)["statusCode"] == 204

    export = platform.engine.export(first.run_id)
    assert export is not None
    assert export.events[0]["data"]["question_set_version"] == 1
    assert platform.summary(first.run_id)["question_set_version"] == 1  # live, before it is persisted

    assert platform.play(first, 3) == [f"Original question {n}?" for n in range(3)]
    assert platform.play(second, 2) == [f"Edited question {n}?" for n in range(2)]
    for run in (first, second):
        platform.persist(run)

    first_results = platform.results(first.run_id)
    assert first_results["question_set_version"] == 1
    assert [q["text"] for q in first_results["questions"]] == [f"Original question {n}?" for n in range(3)]
    assert platform.summary(first.run_id)["question_set_version"] == 1
    second_results = platform.results(second.run_id)
    assert second_results["question_set_version"] == 2
    assert [q["text"] for q in second_results["questions"]] == [f"Edited question {n}?" for n in range(2)]
    summary = platform.summary(second.run_id)
    assert (summary["persisted"], summary["question_set_id"], summary["question_set_version"]) == (True, set_id, 2)
