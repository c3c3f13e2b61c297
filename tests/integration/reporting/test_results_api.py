"""The results HTTP function: run summary (host only), results as JSON or CSV (host token or the
signed-in host), player game history (newest first, opaque cursor) and profiles."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

import lambdas.results.handler as results_lambda
from speedrun.adapters.tables import RunModel
from speedrun.adapters.tokens import RunTokens
from speedrun.clock import now_ms
from speedrun.reporting import csv_export, projections, views
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.reporter import Reporter
from speedrun.reporting.views import RunSettings
from tests.support.completed_runs import CompletedRuns
from tests.support.durable_stores import MotoQueues, client, durable_stores, moto_run_tokens
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import http_event
from tests.support.simulated_run import START_MS, simulate_run

HOST = "host-sub"
RUN = "RUNAAAAAAAAA"
SECRET_ID = "speedrun-results-test-keys"


@pytest.fixture
def stores(monkeypatch) -> Iterator[MotoQueues]:
    with durable_stores() as queues:
        tokens = moto_run_tokens(SECRET_ID)
        monkeypatch.setattr(results_lambda, "run_tokens", lambda: tokens)
        yield queues


@pytest.fixture
def tokens() -> RunTokens:
    return results_lambda.run_tokens()


def _issue(tokens: RunTokens, run_id: str, role: Any, participant_id: str | None) -> str:
    return tokens.issue(run_id, role, participant_id, expires_at_ms=now_ms() + 3_600_000).token


def _report(*runs: list[dict[str, Any]]) -> None:
    live = CompletedRuns()
    reporter = Reporter(live, BatchWriter(client("dynamodb")))
    for events in runs:
        run_id = events[0]["data"]["run_id"]
        live.runs[run_id] = events
        reporter.report(run_id)


def _get(
    path: str, *, sub: str | None = HOST, token: str | None = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    event = http_event("GET", path, sub=sub, query=query)
    if token is not None:
        event["headers"]["authorization"] = f"Bearer {token}"
    response: dict[str, Any] = results_lambda.handler(event, FakeLambdaContext())
    return response


def _json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_run_summary_for_its_host_only(stores):
    events = simulate_run(participants=5, questions=3)
    _report(events)

    response = _get(f"/api/speedruns/{RUN}")
    assert response["statusCode"] == 200
    expected = {**json.loads(json.dumps(projections.run_summary(events))), "persisted": True, "expires_at": None}
    # The response model names every config option (null where this run's config has none).
    expected["config"] = {**dict.fromkeys(RunSettings.model_fields), **expected["config"]}
    assert _json(response) == expected
    assert _get(f"/api/speedruns/{RUN}", sub="someone-else")["statusCode"] == 404
    assert _get("/api/speedruns/NOSUCHRUN")["statusCode"] == 404
    assert _get(f"/api/speedruns/{RUN}", sub=None)["statusCode"] == 401


def test_results_with_the_host_token_or_the_signed_in_host(stores, tokens):
    events = simulate_run(participants=6, questions=4, kicked=(3,))
    host_token = _issue(tokens, RUN, "host", None)
    path = f"/api/speedruns/{RUN}/results"
    # Not persisted yet: 404 even with the right token.
    assert _get(path, sub=None, token=host_token)["statusCode"] == 404
    _report(events)

    expected = views.results_view(events, None).model_dump(mode="json")
    response = _get(path, sub=None, token=host_token)
    assert response["statusCode"] == 200
    assert _json(response) == expected
    assert _json(_get(path, sub=HOST)) == expected

    assert _get(path, sub="another-host")["statusCode"] == 404
    assert _get(path, sub=None)["statusCode"] == 401
    assert _get(path, sub=None, token="not-a-jwt")["statusCode"] == 401
    other_run = _issue(tokens, "OTHERRUNAAAA", "host", None)
    assert _get(path, sub=None, token=other_run)["statusCode"] == 403
    participant = _issue(tokens, RUN, "participant", "p001")
    assert _get(path, sub=None, token=participant)["statusCode"] == 403


def test_a_run_created_before_question_set_versions_names_no_version(stores):
    """Its `run_created` event has no `question_set_version`, and a summary persisted before the field
    existed has no such key: both are served as null."""
    events = simulate_run(participants=2, questions=2)
    assert "question_set_version" not in events[0]["data"]
    _report(events)
    assert _json(_get(f"/api/speedruns/{RUN}/results"))["question_set_version"] is None
    assert _json(_get(f"/api/speedruns/{RUN}"))["question_set_version"] is None

    stored = RunModel.get(RUN)
    stored.summary = {key: value for key, value in stored.summary.items() if key != "question_set_version"}
    stored.save()
    assert _json(_get(f"/api/speedruns/{RUN}/results"))["question_set_version"] is None
    assert _json(_get(f"/api/speedruns/{RUN}"))["question_set_version"] is None


def test_the_results_name_the_question_set_version_the_run_was_created_from(stores):
    events = simulate_run(participants=2, questions=2)
    events[0]["data"]["question_set_version"] = 7
    _report(events)
    assert _json(_get(f"/api/speedruns/{RUN}/results"))["question_set_version"] == 7
    assert _json(_get(f"/api/speedruns/{RUN}"))["question_set_version"] == 7


def test_results_csv_download(stores, tokens):
    events = simulate_run(participants=4, questions=3, unanswered_last=1)
    _report(events)

    response = _get(f"/api/speedruns/{RUN}/results", query={"format": "csv"})
    assert response["statusCode"] == 200
    headers = {name.lower(): value for name, value in response["headers"].items()}
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"] == f'attachment; filename="speedrun-{RUN}-results.csv"'
    text = response["body"]
    assert text.startswith(",".join(csv_export.CSV_COLUMNS) + "\r\n")
    assert '"Question 0: ""quoted"", with a comma and ünïcode?"' in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{key: str(value) for key, value in row.items()} for row in csv_export.csv_rows(events)]
    assert len(rows) == 12
    assert _get(f"/api/speedruns/{RUN}/results", query={"format": "xml"})["statusCode"] == 400


def test_results_csv_neutralises_formulas_in_nicknames_and_question_texts(stores):
    """CSV injection: what a participant or a question set typed is text in the host's spreadsheet."""
    events = simulate_run(participants=3, questions=2)
    for event in events:
        if event["type"] == "participant_joined" and event["data"]["participant_id"] == "p001":
            event["data"]["name"] = '=HYPERLINK("//x","y")'
        if event["type"] == "run_created":
            event["data"]["questions"][1]["text"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    _report(events)

    rows = list(csv.DictReader(io.StringIO(_get(f"/api/speedruns/{RUN}/results", query={"format": "csv"})["body"])))
    assert {row["name"] for row in rows if row["participant_id"] == "p001"} == {'\'=HYPERLINK("//x","y")'}
    assert {row["question"] for row in rows if row["question_index"] == "1"} == {"'@SUM(1+1)*cmd|' /C calc'!A0"}
    # Numbers read back from the read model stay numbers.
    assert all(row["total_score"].lstrip("-").isdigit() for row in rows)


def test_player_games_newest_first_with_an_opaque_cursor(stores):
    runs = [
        simulate_run(run_id=f"RUN{n:09d}", participants=3, questions=2, start_ms=START_MS + n * 3_600_000)
        for n in range(5)
    ]
    _report(*runs)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = _json(_get("/api/players/player-2/games", query=query))
        seen += [game["run_id"] for game in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"RUN{n:09d}" for n in reversed(range(5))]
    assert pages == 3
    first = _json(_get("/api/players/player-2/games", query={"limit": "1"}))["items"][0]
    summary = projections.run_summary(runs[4])
    result = next(r for r in projections.participant_results(runs[4]) if r["player_handle"] == "player-2")
    assert first == {
        "run_id": "RUN000000004",
        "run_name": summary["name"],
        "completed_at": summary["completed_at"],
        "score": result["score"],
        "rank": result["rank"],
        "participant_count": 3,
        "question_count": 2,
        "correct_count": result["correct_count"],
    }
    # Nobody claimed `nobody` and the caller hosted no run with it: nothing it may read.
    assert _get("/api/players/nobody/games")["statusCode"] == 404


@pytest.mark.parametrize("cursor", ["%%%not-base64", "bm90IGpzb24", "eyJoYW5kbGUiOiB7IlMiOiAib3RoZXIifX0"])
def test_bad_cursor_is_a_bad_request(stores, cursor):
    response = _get("/api/players/player-2/games", query={"cursor": cursor})
    assert response["statusCode"] == 400
    assert _json(response)["error"]["code"] == "bad_request"


def test_another_players_cursor_is_refused(stores):
    runs = [simulate_run(run_id=f"RUN{n:09d}", participants=2, questions=1, handles_every=1) for n in range(3)]
    _report(*runs)
    cursor = _json(_get("/api/players/player-1/games", query={"limit": "1"}))["next_cursor"]
    assert cursor
    assert _get("/api/players/player-2/games", query={"cursor": cursor})["statusCode"] == 400
