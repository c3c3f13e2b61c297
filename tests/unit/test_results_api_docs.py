"""The served OpenAPI document describes the bodies of the results API: the results view, a
player's game history page and a host's runs, by their models (`speedrun.reporting.views`)."""

from __future__ import annotations

from typing import Any

import pytest

from speedrun.reporting.views import HostResults, HostResultsQuestion, PlayerGame, PlayerGamePage, SpeedRunSummary
from tests.support.served_openapi import served_openapi_document


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return served_openapi_document(tmp_path_factory.mktemp("functions"))


def _json_schema_of(document: dict[str, Any], path: str) -> dict[str, Any]:
    """The component schema of the route's 200 JSON body (its `$ref` resolved)."""
    body = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    schema: dict[str, Any] = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return schema


def _component(document: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_results_route_describes_the_results_view(document: dict[str, Any]) -> None:
    content = document["paths"]["/api/speedruns/{run_id}/results"]["get"]["responses"]["200"]["content"]
    assert content["text/csv"]["schema"]["type"] == "string"
    results = _json_schema_of(document, "/api/speedruns/{run_id}/results")
    assert list(results["properties"]) == list(HostResults.model_fields)
    question = _component(document, results["properties"]["questions"]["items"])
    assert list(question["properties"]) == list(HostResultsQuestion.model_fields)


def test_the_game_history_route_describes_its_page(document: dict[str, Any]) -> None:
    page = _json_schema_of(document, "/api/players/{handle}/games")
    assert list(page["properties"]) == list(PlayerGamePage.model_fields)
    game = _component(document, page["properties"]["items"]["items"])
    assert list(game["properties"]) == list(PlayerGame.model_fields)


def test_the_run_summary_route_describes_the_summary(document: dict[str, Any]) -> None:
    summary = _json_schema_of(document, "/api/speedruns/{run_id}")
    assert set(summary["properties"]) == set(SpeedRunSummary.model_fields)
