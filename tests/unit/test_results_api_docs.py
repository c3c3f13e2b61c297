"""The served OpenAPI document describes the run routes of the results function: the host's runs
(`GET /api/speedruns`), a live-or-persisted summary and who may read a player's history."""

from __future__ import annotations

from typing import Any

from tests.unit.test_question_set_api_docs import document  # noqa: F401 (the fixture: the served document)


def _schema(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_hosts_runs_route_is_documented_with_its_page_model(document: dict[str, Any]) -> None:  # noqa: F811
    listing = document["paths"]["/api/speedruns"]["get"]
    assert {parameter["name"] for parameter in listing["parameters"]} == {"limit", "cursor"}
    assert set(listing["responses"]) == {"200", "400", "401", "503"}
    page_ref = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page_ref == {"$ref": "#/components/schemas/SpeedRunPage"}
    page = _schema(document, page_ref)
    assert set(page["required"]) == {"items", "next_cursor"}
    item = _schema(document, page["properties"]["items"]["items"])
    assert {"run_id", "name", "status", "persisted", "join_code", "participant_count", "created_at"} <= set(
        item["properties"]
    )
    assert item["properties"]["status"]["enum"] == ["lobby", "running", "completed"]


def test_the_summary_is_documented_for_live_and_persisted_runs(document: dict[str, Any]) -> None:  # noqa: F811
    summary_route = document["paths"]["/api/speedruns/{run_id}"]["get"]
    assert set(summary_route["responses"]) >= {"200", "401", "404", "503"}
    ref = summary_route["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/SpeedRunSummary"}
    summary = _schema(document, ref)
    assert {"persisted", "status", "config", "participant_count", "questions", "leaderboard"} <= set(
        summary["required"]
    )
    assert "live" in summary["properties"]["persisted"]["description"]
    assert "RunSettings" in document["components"]["schemas"]


def test_reading_a_players_history_documents_the_404_of_other_accounts(document: dict[str, Any]) -> None:  # noqa: F811
    games = document["paths"]["/api/players/{handle}/games"]["get"]
    assert "404" in games["responses"]
    assert "claimed the handle" in games["description"]
