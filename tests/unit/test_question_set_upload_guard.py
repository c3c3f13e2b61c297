"""Upload requests refused on their envelope, before any body parsing."""

from __future__ import annotations

import base64

import lambdas.question_sets.handler as question_sets_function
from speedrun.http import matches_route, refusal_response
from speedrun.manifest import QUESTION_SET_UPLOAD
from speedrun.question_sets.models import MAX_FILE_BYTES
from speedrun.question_sets.upload_guard import upload_refusal
from tests.support.question_sets import BOUNDARY, body_of, http_event, upload_event

MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def test_only_the_upload_route_is_guarded() -> None:
    assert question_sets_function.app.envelope_guards == {QUESTION_SET_UPLOAD: upload_refusal}
    assert matches_route(upload_event(b"x"), QUESTION_SET_UPLOAD)
    assert not matches_route(http_event("GET", "/api/question-sets"), QUESTION_SET_UPLOAD)
    assert not matches_route(http_event("POST", "/api/signon/join"), QUESTION_SET_UPLOAD)


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
