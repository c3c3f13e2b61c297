"""`GET /api/openapi.json`: one OpenAPI 3.1 document merged from every HTTP handler module at synth,
written into the asset of the function that serves it."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

from infra import openapi
from speedrun import manifest
from speedrun.question_sets.models import UPLOAD_MEDIA_TYPES, XLSX_MEDIA_TYPE
from speedrun.question_types import QUESTION_TYPES
from tests.support.served_openapi import served_openapi_document


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the api_docs function serves from its staged asset (as synth stages it)."""
    return served_openapi_document(tmp_path_factory.mktemp("functions"))


def test_the_document_is_openapi_3_1_with_the_platform_title(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Speed-run platform API"
    OpenAPI.model_validate(document)


def test_bearer_jwt_is_the_default_security_and_public_routes_need_none(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID token (hosts, players) or, where noted, a run-scoped token from sign-on.",
    }
    assert document["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/api/openapi.json"]["get"]["security"] == []


def test_the_question_set_routes_are_described(document: dict[str, Any]) -> None:
    sets = document["paths"]["/api/question-sets"]
    upload_body = sets["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    body_schema = document["components"]["schemas"][upload_body["$ref"].rsplit("/", 1)[1]]
    assert body_schema["required"] == ["file"]
    assert body_schema["properties"]["file"]["format"] == "binary"
    assert "name" in body_schema["properties"]
    assert set(sets["post"]["responses"]) == {"201", "400", "401", "413"}
    assert sets["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QuestionSetPage"
    }
    assert "get" in document["paths"]["/api/question-sets/{set_id}"]


def test_the_routes_that_edit_a_set_are_described(document: dict[str, Any]) -> None:
    one_set = document["paths"]["/api/question-sets/{set_id}"]
    schemas = document["components"]["schemas"]
    replace = one_set["put"]
    replace_body = replace["requestBody"]["content"]["multipart/form-data"]["schema"]
    body_schema = schemas[replace_body["$ref"].rsplit("/", 1)[1]]
    assert (body_schema["required"], body_schema["properties"]["file"]["format"]) == (["file"], "binary")
    assert "name" in body_schema["properties"]
    assert set(replace["responses"]) == {"200", "400", "401", "404", "409", "413"}
    assert all(name in replace["description"] for name in ("409", "404", "every problem"))
    assert set(one_set["delete"]["responses"]) == {"204", "400", "401", "404"}
    assert one_set["delete"]["responses"]["204"]["content"] == {}

    content = document["paths"]["/api/question-sets/{set_id}/content"]["get"]
    assert content["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QuestionSetContent"
    }
    assert schemas["QuestionSetContent"]["required"] == ["id", "version", "name", "questions"]
    assert set(schemas["Question"]["properties"]) >= {"category", "text", "options", "correct", "explanation"}
    assert_question_types_are_described(schemas["Question"])

    copy = document["paths"]["/api/question-sets/{set_id}/copy"]["post"]
    assert set(copy["responses"]) == {"201", "400", "401", "404", "413"}  # 413: the gateway's payload limit
    assert not copy["requestBody"].get("required", False)
    assert schemas["CopyRequest"]["required"] == ["name"]
    name = schemas["CopyRequest"]["properties"]["name"]
    assert (name["type"], name["minLength"], name["maxLength"]) == ("string", 1, 100)
    assert {"version", "updated_at"} <= set(schemas["QuestionSetMetadata"]["required"])


def assert_question_types_are_described(question: dict[str, Any]) -> None:
    """The question's type and the numeric fields, each with a description (the model's Field descriptions)."""
    properties = question["properties"]
    assert properties["type"]["enum"] == list(QUESTION_TYPES)
    assert properties["type"]["default"] == "choice"
    assert "type" not in question["required"]  # a question written before types is a choice
    for name in ("type", "options", "correct", "answer", "tolerance"):
        assert properties[name]["description"].strip(), name
    assert {"type": "number"} in properties["answer"]["anyOf"]
    assert all(kind in properties["correct"]["description"] for kind in QUESTION_TYPES if kind != "numeric")


def test_the_upload_names_every_accepted_format_and_media_type(document: dict[str, Any]) -> None:
    upload = document["paths"]["/api/question-sets"]["post"]
    upload_body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    file_schema = document["components"]["schemas"][upload_body["$ref"].rsplit("/", 1)[1]]["properties"]["file"]
    assert XLSX_MEDIA_TYPE in UPLOAD_MEDIA_TYPES
    assert all(media_type in upload["description"] for media_type in UPLOAD_MEDIA_TYPES)
    for text in (upload["description"], file_schema["description"]):
        assert all(name in text for name in ("JSON", "CSV", ".xlsx", "Kahoot!", "Open Trivia DB"))


def test_every_route_of_every_existing_http_module_is_in_the_document(document: dict[str, Any]) -> None:
    modules = openapi.http_function_modules()
    assert {"lambdas.question_sets.handler", "lambdas.api_docs.handler"} <= set(modules)
    expected = {(route.path, route.method.lower()) for route, _spec in manifest.http_routes()}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert expected <= documented


def test_validation_errors_are_documented_as_the_400_the_resolver_sends(document: dict[str, Any]) -> None:
    statuses = {status for item in document["paths"].values() for op in item.values() for status in op["responses"]}
    assert "422" not in statuses
    assert "ErrorBody" in document["components"]["schemas"]
