"""Upload requests refused on their envelope, before any body parsing."""

from __future__ import annotations

import base64
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext

import lambdas.question_sets.handler as question_sets_function
from speedrun.http import matches_route, refusal_response
from speedrun.manifest import IMAGE_UPLOAD, QUESTION_SET_REPLACE, QUESTION_SET_UPLOAD
from speedrun.question_sets.models import MAX_FILE_BYTES
from speedrun.question_sets.upload_guard import image_upload_refusal, upload_refusal
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import BOUNDARY, body_of, http_event, replace_event, upload_event

MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
SET_ID = "01KZ0000000000000000000000"
CONTEXT = cast(LambdaContext, FakeLambdaContext())


def test_only_the_upload_routes_are_guarded() -> None:
    assert question_sets_function.app.envelope_guards == {
        QUESTION_SET_UPLOAD: upload_refusal,
        QUESTION_SET_REPLACE: upload_refusal,
        IMAGE_UPLOAD: image_upload_refusal,
    }
    assert matches_route(upload_event(b"x"), QUESTION_SET_UPLOAD)
    assert not matches_route(http_event("GET", "/api/question-sets"), QUESTION_SET_UPLOAD)
    assert not matches_route(http_event("POST", "/api/signon/join"), QUESTION_SET_UPLOAD)


def test_the_replace_route_is_matched_with_any_one_set_id_segment() -> None:
    assert matches_route(replace_event(SET_ID, b"x"), QUESTION_SET_REPLACE)
    assert matches_route(http_event("PUT", f"/api/question-sets/{SET_ID}/"), QUESTION_SET_REPLACE)
    for method, path in [
        ("GET", f"/api/question-sets/{SET_ID}"),
        ("PUT", "/api/question-sets"),
        ("PUT", "/api/question-sets//"),
        ("PUT", f"/api/question-sets/{SET_ID}/copy"),
        ("POST", f"/api/question-sets/{SET_ID}/copy"),
    ]:
        assert not matches_route(http_event(method, path), QUESTION_SET_REPLACE), (method, path)
    assert not matches_route(replace_event(SET_ID, b"x"), QUESTION_SET_UPLOAD)


def test_a_replace_is_refused_on_its_envelope_as_an_upload_is() -> None:
    oversized = question_sets_function.app.resolve(replace_event(SET_ID, b"x" * (MAX_FILE_BYTES + 100 * 1024)), CONTEXT)
    assert oversized["statusCode"] == 413
    assert "4 MiB" in body_of(oversized)["error"]["message"]
    not_multipart = http_event("PUT", f"/api/question-sets/{SET_ID}", body=b"{}", content_type="application/json")
    refused = question_sets_function.app.resolve(not_multipart, CONTEXT)
    assert refused["statusCode"] == 400
    assert body_of(refused)["error"]["details"] == [{"field": "content-type", "reason": "got application/json"}]


def test_a_well_formed_upload_passes() -> None:
    assert upload_refusal(upload_event(b'{"questions": []}')) is None


def test_a_body_over_the_limit_is_413_from_its_base64_length_alone() -> None:
    event = upload_event(b"x" * (MAX_FILE_BYTES + 100 * 1024))
    refusal = upload_refusal(event)
    assert refusal is not None
    assert refusal.status == 413
    assert "4 MiB" in refusal.message
    response = refusal_response(refusal)
    assert response["statusCode"] == 413
    assert body_of(response)["error"]["code"] == "too_large"


def test_a_file_of_exactly_4_mib_fits_in_the_envelope_allowance() -> None:
    assert upload_refusal(upload_event(b"x" * MAX_FILE_BYTES, name="n" * 100)) is None


def test_a_non_multipart_body_is_refused() -> None:
    refusal = upload_refusal(http_event("POST", "/api/question-sets", body=b"{}", content_type="application/json"))
    assert refusal is not None
    assert refusal.status == 400
    assert "multipart/form-data" in refusal.message


def test_a_multipart_type_without_boundary_is_refused() -> None:
    event = http_event("POST", "/api/question-sets", body=b"x", content_type="multipart/form-data")
    refusal = upload_refusal(event)
    assert refusal is not None
    assert refusal.details == [{"field": "content-type", "reason": "got multipart/form-data"}]


def test_invalid_base64_is_refused() -> None:
    event = upload_event(b"x")
    event["body"] = "not*base64!"
    refusal = upload_refusal(event)
    assert refusal is not None
    assert refusal.message == "the request body is not valid base64"


def test_a_plain_text_body_that_latin1_cannot_carry_is_refused() -> None:
    event = upload_event(b"x")
    event["isBase64Encoded"] = False
    event["body"] = base64.b64decode(event["body"]).decode() + "€"
    refusal = upload_refusal(event)
    assert refusal is not None
    assert refusal.message == "a multipart body must arrive base64-encoded"
