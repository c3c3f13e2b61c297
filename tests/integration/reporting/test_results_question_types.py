"""Question types and run options through the durable side (moto DynamoDB): a run of every type
(`tests.support.typed_run`) reported by the reporter is served by the results function (JSON, CSV,
summary, player games) and by the read models exactly as the live views built from its events; read
models written before types (no `type`, `value`, options) are served as they were."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

import lambdas.results.handler as results_lambda
from speedrun.adapters.tables import ResultModel, RunModel
from speedrun.reporting import csv_export, projections, views
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.read_models import read_csv_rows, read_results_view
from speedrun.reporting.reporter import Reporter
from tests.support.completed_runs import CompletedRuns
from tests.support.durable_stores import MotoQueues, client, durable_stores, moto_run_tokens
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import http_event
from tests.support.simulated_run import simulate_run
from tests.support.typed_run import HANDLES, NAMES, NUMERIC, RUN_ID, typed_run

HOST = "host-sub"
SECRET_ID = "speedrun-results-types-test-keys"


@pytest.fixture
def stores(monkeypatch) -> Iterator[MotoQueues]:
    with durable_stores() as queues:
        tokens = moto_run_tokens(SECRET_ID)
        monkeypatch.setattr(results_lambda, "run_tokens", lambda: tokens)
        yield queues


def _report(events: list[dict[str, Any]]) -> None:
    run_id = events[0]["data"]["run_id"]
    Reporter(CompletedRuns([events]), BatchWriter(client("dynamodb"))).report(run_id)


def _get(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = results_lambda.handler(
        http_event("GET", path, sub=HOST, query=query), FakeLambdaContext()
    )
    assert response["statusCode"] == 200, response["body"]
    return response


def _served(run_id: str) -> tuple[Any, Any, list[dict[str, str]]]:
    """The summary, the host results and the CSV rows the results function serves."""
    summary = json.loads(_get(f"/api/speedruns/{run_id}")["body"])
    results = json.loads(_get(f"/api/speedruns/{run_id}/results")["body"])
    text = _get(f"/api/speedruns/{run_id}/results", query={"format": "csv"})["body"]
    return summary, results, list(csv.DictReader(io.StringIO(text)))


def _as_read(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{key: str(value) for key, value in row.items()} for row in rows]


@pytest.mark.parametrize(("scoring", "speed_tiebreak"), [("speed", True), ("accuracy", True), ("accuracy", False)])
def test_a_run_of_every_type_is_served_as_its_events_say(stores, scoring, speed_tiebreak):
    events = typed_run(scoring=scoring, speed_tiebreak=speed_tiebreak)
    _report(events)

    summary, results, rows = _served(RUN_ID)
    assert results == views.results_view(events, None).model_dump(mode="json")
    assert rows == _as_read(csv_export.csv_rows(events))
    assert summary["questions"] == projections.run_summary(events)["questions"]
    assert {k: summary["config"][k] for k in ("scoring", "speed_tiebreak", "show_explanations")} == {
        "scoring": scoring,
        "speed_tiebreak": speed_tiebreak,
        "show_explanations": True,
    }
    assert [q["type"] for q in results["questions"]] == ["choice", "true_false", "poll", "numeric", "order"]
    assert results["questions"][NUMERIC]["values"] == [41.5, 42.5, 50.0]
    for pid in NAMES:
        assert read_results_view(RUN_ID, pid) == views.results_view(events, pid)
    assert ResultModel.get(RUN_ID, "p001").answers[NUMERIC]["value"] == 41.5

    board = next(e for e in events if e["type"] == "run_completed")["data"]["leaderboard"]
    ranks = {entry["participant_id"]: entry["rank"] for entry in board}
    correct = {"p001": 4, "p004": 3}
    for pid, handle in HANDLES.items():
        game = json.loads(_get(f"/api/players/{handle}/games")["body"])["items"][0]
        assert (game["rank"], game["correct_count"], game["question_count"]) == (ranks[pid], correct[pid], 5)


def test_an_untimed_run_is_served_with_a_null_question_duration(stores):
    events = typed_run(scoring="accuracy", question_duration_s=None)
    _report(events)
    summary, results, _rows = _served(RUN_ID)
    assert summary["config"]["question_duration_s"] is None
    assert results == views.results_view(events, None).model_dump(mode="json")


def test_read_models_written_before_types_are_served_as_before(stores):
    """A run reported before question types and run options: its stored summary has no question
    `type`, `correct_value`, `tolerance` nor config options, its stored answers no `value`."""
    events = simulate_run(participants=4, questions=3, unanswered_last=1)
    run_id = events[0]["data"]["run_id"]
    _report(events)
    fresh = _served(run_id)
    fresh_participant = read_results_view(run_id, "p002")

    stored = RunModel.get(run_id)
    options = projections.OLDER_RUN_OPTIONS
    stored.summary = {
        **stored.summary,
        "config": {k: v for k, v in stored.summary["config"].items() if k not in options},
        "questions": [
            {k: v for k, v in q.items() if k not in ("type", "correct_value", "tolerance")}
            for q in stored.summary["questions"]
        ],
    }
    stored.save()
    for item in ResultModel.query(run_id):
        item.answers = [{k: v for k, v in answer.items() if k != "value"} for answer in item.answers]
        item.save()
    assert "type" not in RunModel.get(run_id).summary["questions"][0]
    assert all("value" not in answer for item in ResultModel.query(run_id) for answer in item.answers)

    assert _served(run_id) == fresh
    assert read_results_view(run_id, "p002") == fresh_participant
    assert {row["question_type"] for row in read_csv_rows(run_id)} == {"choice"}
    summary = fresh[0]
    assert {k: summary["config"][k] for k in options} == options
