"""The envelope checks and error replies every HTTP function shares (`speedrun.http`)."""

from __future__ import annotations

import base64
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.errors import BadRequest, NotFound
from speedrun.http import error_response, make_resolver, multipart_body_refusal, refusal_response, request_header
from speedrun.manifest import HttpRoute
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import body_of, http_event

GUARDED = HttpRoute("POST", "/api/guarded")
CONTEXT = cast(LambdaContext, FakeLambdaContext())


def _refuse_everything(_event: object) -> BadRequest:
    return BadRequest("refused on its envelope", details=[{"field": "body", "reason": "never"}])


def test_a_guarded_route_is_refused_by_its_guard_before_routing_and_other_routes_are_not() -> None:
    app = make_resolver(envelope_guards={GUARDED: _refuse_everything})
    refused = app.resolve(http_event("POST", "/api/guarded/", body=b"x"), CONTEXT)
    assert refused["statusCode"] == 400
    assert body_of(refused) == {
        "error": {
            "code": "bad_request",
            "message": "refused on its envelope",
            "details": [{"field": "body", "reason": "never"}],
        }
    }
    unguarded = app.resolve(http_event("GET", "/api/guarded", body=b"x"), CONTEXT)
    assert unguarded["statusCode"] == 404
    assert body_of(unguarded)["error"] == {"code": "not_found", "message": "no such route"}


def test_the_resolver_and_the_refusals_before_it_answer_the_same_error_body() -> None:
    error = NotFound("gone", details=[{"field": "id"}])
    expected = {"error": {"code": "not_found", "message": "gone", "details": [{"field": "id"}]}}
    assert error_response(error).status_code == 404
    assert error_response(error).body == expected
    assert refusal_response(error)["statusCode"] == 404
    assert body_of(refusal_response(error)) == expected
    assert "details" not in NotFound("gone").to_http_body()["error"]


def test_a_header_is_found_in_any_letter_case() -> None:
    event = {"headers": {"Content-Type": "text/csv"}}
    assert request_header(event, "content-type") == "text/csv"
    assert request_header(event, "x-missing") == ""


def test_a_multipart_body_is_read_only_as_sent() -> None:
    assert multipart_body_refusal({"body": base64.b64encode(b"part").decode(), "isBase64Encoded": True}) is None
    assert multipart_body_refusal({"body": "plain latin-1 é", "isBase64Encoded": False}) is None
    invalid = multipart_body_refusal({"body": "not*base64!", "isBase64Encoded": True})
    assert invalid is not None
    assert invalid.details == [{"field": "body", "reason": "invalid base64"}]
    unreadable = multipart_body_refusal({"body": "€", "isBase64Encoded": False})
    assert unreadable is not None
    assert unreadable.details == [{"field": "body", "reason": "not base64-encoded"}]
