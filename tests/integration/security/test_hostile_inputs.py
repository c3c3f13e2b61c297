"""Hostile bodies through the real handlers (issue 17, item 4): every one is a 4xx in the one error
format (`speedrun.http.ErrorBody`), refused at the edge, and never a 500.

- JSON nested far deeper than any body of the API (`speedrun.text.MAX_JSON_DEPTH`), which made the
  JSON parser raise `RecursionError`;
- a JSON route's body in another media type (`text/plain`, a form, multipart, a non-UTF-8 charset);
- a lone surrogate (the JSON escape `"\\ud800"`) in a text field: of a request body, of a question-set
  file (it made the stored set unserializable), of a WebSocket frame;
- and the other ways a JSON body failed before it was validated (not UTF-8, a 5,000-digit number).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

import lambdas.players_command.handler as players_lambda
import lambdas.question_sets.handler as question_sets_lambda
import lambdas.signon.handler as signon_lambda
from speedrun.adapters import tables
from speedrun.http import ErrorBody
from speedrun.text import MAX_JSON_DEPTH
from tests.support.engine_harness import Client, EngineWorld, engine_queues
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import (
    body_of,
    http_event,
    question_store_at,
    sample_question,
    upload_event,
)

LEVELS = 30_000
DEEP_ARRAY = "[" * LEVELS + "]" * LEVELS
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
"""Both under the 64 KiB body limit, so they reach the parser (and are not a 413)."""

JSON_ROUTES = [
    pytest.param(signon_lambda, "POST", "/api/signon/join", {"join_code": "ABCDEF", "name": "Ada"}, id="join"),
    pytest.param(
        signon_lambda, "POST", "/api/signon/speedruns", {"question_set_id": "set-1", "name": "Quiz"}, id="speedruns"
    ),
    pytest.param(players_lambda, "PUT", "/api/players/ada", {"display_name": "Ada"}, id="player-profile"),
    pytest.param(players_lambda, "POST", "/api/players/ada/progress", {"kind": "badge", "value": "x"}, id="progress"),
]


class NotReached:
    """Stands in for a function's service: a refused body must never get this far."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the body reached the service ({name})")


@pytest.fixture(autouse=True)
def services_not_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signon_lambda, "service", NotReached)
    monkeypatch.setattr(players_lambda, "commands", NotReached)


def call(
    module: Any, method: str, path: str, body: bytes | str, *, content_type: str | None = "application/json"
) -> tuple[int, dict[str, Any]]:
    raw = body.encode() if isinstance(body, str) else body
    event = http_event(method, path, sub="host-1", body=raw, content_type=content_type)
    response = module.handler(event, FakeLambdaContext())
    return int(response["statusCode"]), json.loads(response["body"])


def assert_bad_request(status: int, body: dict[str, Any], *, field: str, reason: str) -> None:
    """A 400 in the one error format whose details name `field` with `reason` in its reason."""
    assert status == 400, body
    error = ErrorBody.model_validate(body).error
    assert error.code == "bad_request"
    assert error.message.strip()
    assert any(detail["field"] == field and reason in detail["reason"] for detail in error.details), body


def with_value(fields: dict[str, Any], name: str, raw_value: str) -> str:
    """The body as JSON text with `name`'s value replaced by the JSON text `raw_value`."""
    return json.dumps({**fields, name: "<here>"}).replace('"<here>"', raw_value)


# --- deep nesting -----------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "method", "path", "fields"), JSON_ROUTES)
@pytest.mark.parametrize("where", ["whole-body-array", "whole-body-object", "in-a-field"])
def test_a_body_nested_30000_deep_is_a_400_before_parsing(
    module: Any, method: str, path: str, fields: dict[str, Any], where: str
) -> None:
    first_field = next(iter(fields))
    body = {
        "whole-body-array": DEEP_ARRAY,
        "whole-body-object": DEEP_OBJECT,
        "in-a-field": with_value(fields, first_field, "[" * 20_000 + "]" * 20_000),
    }[where]
    status, reply = call(module, method, path, body)
    assert_bad_request(status, reply, field="body", reason=f"at most {MAX_JSON_DEPTH} levels")
    assert f"nested more than {MAX_JSON_DEPTH} levels" in reply["error"]["message"]


# --- media types --------------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "method", "path", "fields"), JSON_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/json; charset=latin-1",
        "application/jsonp",
    ],
)
def test_a_json_route_refuses_any_other_media_type_with_a_400_naming_the_content_type(
    module: Any, method: str, path: str, fields: dict[str, Any], content_type: str
) -> None:
    status, reply = call(module, method, path, json.dumps(fields), content_type=content_type)
    assert_bad_request(status, reply, field="content-type", reason="must be application/json")


# --- bodies that are not readable JSON text ----------------------------------------------------------


@pytest.mark.parametrize(("module", "method", "path", "fields"), JSON_ROUTES)
def test_a_json_body_that_is_not_utf8_is_a_400(module: Any, method: str, path: str, fields: dict[str, Any]) -> None:
    status, reply = call(module, method, path, b'{"name": "\xff\xfe"}')
    assert_bad_request(status, reply, field="body", reason="invalid UTF-8")


@pytest.mark.parametrize(("module", "method", "path", "fields"), JSON_ROUTES)
def test_a_number_of_5000_digits_is_a_400(module: Any, method: str, path: str, fields: dict[str, Any]) -> None:
    status, reply = call(module, method, path, with_value(fields, "extra", "1" * 5_000))
    assert_bad_request(status, reply, field="body", reason="too many digits")


# --- lone surrogates in request bodies -------------------------------------------------------------

LONE_SURROGATE_FIELDS = [
    pytest.param(signon_lambda, "POST", "/api/signon/join", {"join_code": "ABCDEF", "name": "Ada"}, "name", id="name"),
    pytest.param(
        signon_lambda, "POST", "/api/signon/join", {"join_code": "ABCDEF", "name": "Ada"}, "join_code", id="join_code"
    ),
    pytest.param(
        signon_lambda,
        "POST",
        "/api/signon/join",
        {"join_code": "ABCDEF", "name": "Ada", "player_handle": "ada"},
        "player_handle",
        id="player_handle",
    ),
    pytest.param(
        signon_lambda, "POST", "/api/signon/speedruns", {"question_set_id": "s", "name": "Q"}, "name", id="run-name"
    ),
    pytest.param(
        signon_lambda,
        "POST",
        "/api/signon/speedruns",
        {"question_set_id": "s", "categories": ["geo", "x"]},
        "categories",
        id="categories",
    ),
    pytest.param(
        signon_lambda, "POST", "/api/signon/speedruns", {"question_set_id": "s"}, "question_set_id", id="set-id"
    ),
    pytest.param(players_lambda, "PUT", "/api/players/ada", {"display_name": "A"}, "display_name", id="display_name"),
    pytest.param(players_lambda, "PUT", "/api/players/ada", {"display_name": "A", "bio": "b"}, "bio", id="bio"),
    pytest.param(
        players_lambda, "POST", "/api/players/ada/progress", {"kind": "badge", "value": "v"}, "value", id="value"
    ),
    pytest.param(
        players_lambda,
        "POST",
        "/api/players/ada/progress",
        {"kind": "badge", "value": 1, "note": "n"},
        "note",
        id="note",
    ),
]


@pytest.mark.parametrize(("module", "method", "path", "fields", "field"), LONE_SURROGATE_FIELDS)
@pytest.mark.parametrize("surrogate", ["\\ud800", "\\udfff", "\\ud83d"])
def test_a_lone_surrogate_in_any_text_field_is_a_400_naming_the_field(
    module: Any, method: str, path: str, fields: dict[str, Any], field: str, surrogate: str
) -> None:
    value = fields[field]
    if isinstance(value, list):  # in the last item of a list of texts
        raw_value = json.dumps([*value[:-1], "<here>"]).replace('"<here>"', f'"x{surrogate}"')
    else:
        raw_value = f'"{value}{surrogate}"'
    status, reply = call(module, method, path, with_value(fields, field, raw_value))
    assert_bad_request(status, reply, field=field, reason=f"lone surrogate (U+{surrogate[2:].upper()})")


# --- lone surrogates in question-set files -------------------------------------------------------------


@pytest.fixture
def question_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    store = tmp_path / "question-sets"
    with mock_aws():
        tables.create_all()
        with question_store_at(store, monkeypatch):
            yield store


def json_file_with(field: str, *, as_array: bool = False) -> bytes:
    """A valid two-question file whose second question (or the set's name) holds `\\ud800` in `field`."""
    questions: list[dict[str, Any]] = [sample_question(1), sample_question(2)]
    document: Any = questions if as_array else {"name": "Capitals", "questions": questions}
    if field == "name":
        document["name"] = "<here>"
    elif field == "options[1]":
        questions[1]["options"][1] = "<here>"
    else:
        questions[1][field] = "<here>"
    return json.dumps(document).replace('"<here>"', '"bad \\ud800 text"').encode()


@pytest.mark.parametrize(
    ("content", "where"),
    [
        pytest.param(json_file_with("text"), {"question": 2, "field": "text"}, id="text"),
        pytest.param(json_file_with("category"), {"question": 2, "field": "category"}, id="category"),
        pytest.param(json_file_with("name"), {"field": "name"}, id="name"),
        pytest.param(json_file_with("options[1]"), {"question": 2, "field": "options[1]"}, id="option"),
        pytest.param(json_file_with("explanation"), {"question": 2, "field": "explanation"}, id="explanation"),
        pytest.param(json_file_with("text", as_array=True), {"question": 2, "field": "text"}, id="array-format-text"),
    ],
)
def test_a_lone_surrogate_in_a_question_set_file_is_a_400_locating_it_and_nothing_is_stored(
    question_store: Path, content: bytes, where: dict[str, Any]
) -> None:
    response = question_sets_lambda.handler(upload_event(content), FakeLambdaContext())
    body = body_of(response)
    assert response["statusCode"] == 400, body
    error = ErrorBody.model_validate(body).error
    assert error.code == "bad_request"
    reason = "contains a lone surrogate (U+D800) at character 5: text must be valid Unicode (UTF-8)"
    assert error.details == [{**where, "reason": reason}]
    assert not (question_store.exists() and any(question_store.iterdir()))
    assert list(tables.QuestionSetModel.scan()) == []


# --- WebSocket frames -------------------------------------------------------------------------------


@pytest.fixture
def world(redis_url: str) -> Iterator[EngineWorld]:
    with engine_queues() as sqs:
        yield EngineWorld(redis_url, sqs)


def frames_of(world: EngineWorld) -> tuple[Client, Client]:
    _run_id, code, host = world.create(3, chat=True)
    return host, world.join(code, "Ada")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"action": "sync", "x": ' + "[" * 15_000 + "]" * 15_000 + "}", id="in-a-field"),
        pytest.param('{"action": "ping", "request_id": ' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "}", id="request-id"),
        pytest.param('{"action": "answer", "index": 0, "selected": ' + "[" * 40 + "]" * 40 + "}", id="just-over"),
    ],
)
def test_a_deeply_nested_frame_gets_an_error_bad_request_frame(world: EngineWorld, raw: str) -> None:
    _host, participant = frames_of(world)
    route = json.loads(raw[: raw.index(",")] + "}")["action"]
    reply = world.send_raw(participant, route, raw)
    assert reply["type"] == "error", reply
    assert reply["code"] == "bad_request", reply
    assert f"nested more than {MAX_JSON_DEPTH} levels" in reply["message"]
    assert "request_id" not in reply


@pytest.mark.parametrize(
    ("sender", "raw", "field"),
    [
        ("participant", '{"action": "message", "to": "all", "content": "hi \\ud800"}', "content"),
        ("participant", '{"action": "message", "to": "\\udfff", "content": "hi"}', "to"),
        ("host", '{"action": "kick", "participant_id": "p\\ud800"}', "participant_id"),
    ],
)
def test_a_lone_surrogate_in_a_frame_field_gets_an_error_naming_it(
    world: EngineWorld, sender: str, raw: str, field: str
) -> None:
    host, participant = frames_of(world)
    action = json.loads(raw)["action"]
    reply = world.send_raw(host if sender == "host" else participant, action, raw)
    assert reply["type"] == "error", reply
    assert reply["code"] == "bad_request", reply
    assert reply["message"].startswith(f"{field}: contains a lone surrogate"), reply
    json.dumps(reply, ensure_ascii=False).encode()  # sendable: the reply does not echo the surrogate
