"""Schemathesis fuzz of the HTTP API served by the local stack (issue 6, acceptance).

The document under test is the one the stack serves (`GET /api/openapi.json`). For every operation
in it, schemathesis generates requests that fit the documented inputs (positive) and requests that
break them (negative), sent with the local host's Cognito ID token; about half of the requests
aim at ids that exist (a question set, a speed-run, a player handle), so they reach the handlers'
logic and not only their 404s. Every reply must be documented: no 5xx, a documented status code,
the documented content type and a body that matches the documented schema.

A second pass (issue 17, item 4) turns valid requests of every operation that takes a body into
hostile ones no schema describes: JSON nested deeper than the bound (up to 30,000 levels), the body
in another media type, and a lone surrogate (`"\\ud800"`) in a text field, or in a question-set
file's text. Each must be a 400 in the one error format (and still pass every check above).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local_stack.client import bearer, http_request, sign_in, upload_question_set
from local_stack.process import RunningStack
from speedrun.text import MAX_JSON_DEPTH
from tests.support.question_sets import sample_question, sample_set_json

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION_AND_MODE = 48
MIN_REQUESTS = 1_000
REQUEST_TIMEOUT_S = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HANDLE = "fuzz-player"
HOSTILE_EXAMPLES_PER_OPERATION = 60
JSON = "application/json"
MULTIPART = "multipart/form-data"
DEPTHS = st.sampled_from([MAX_JSON_DEPTH + 1, 64, 1_000, 10_000, 30_000])
"""Up to 30,000 levels (arrays; objects to 10,000): still under the 64 KiB body limit, so each reaches
the function's parser rather than the size check."""
LONE_SURROGATES = st.sampled_from(["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud83d"])
"""As a client sends them: JSON escapes (a lone surrogate has no UTF-8 encoding)."""
NOT_JSON_MEDIA_TYPES = st.sampled_from(
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "text/html",
        "application/xml",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        MULTIPART,
        f"{MULTIPART}; boundary=fuzz",
        "application/json; charset=iso-8859-1",
        "application/json-patch+json",
        "application/jsonp",
        "image/png",
    ]
) | st.from_regex(r"\A[a-z]{1,12}/[a-z0-9.+-]{1,20}\Z").filter(lambda media_type: media_type != JSON)
NOT_MULTIPART_MEDIA_TYPES = st.sampled_from([JSON, "text/plain", "text/csv", "application/octet-stream"])
QUESTION_TEXT_FIELDS = ("category", "text", "explanation")


@dataclass
class Known:
    """Ids that exist in the stack, by path parameter name and by JSON body field name."""

    path_values: dict[str, str]
    body_values: dict[str, str]

    def aim(self, case: Any) -> None:
        """Point the generated request at them (where it has such a parameter or field)."""
        if case.path_parameters:
            case.path_parameters = {
                name: self.path_values.get(name, value) for name, value in case.path_parameters.items()
            }
        if isinstance(case.body, dict):
            case.body = {name: self.body_values.get(name, value) for name, value in case.body.items()}


@dataclass
class Findings:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def seed_the_stack(stack: RunningStack, token: str) -> Known:
    """A question set, a speed-run on it (in its lobby: it can be joined) and a player profile of this
    host, for requests to aim at."""
    upload = upload_question_set(stack.base_url, token, "fuzz.json", sample_set_json(4))
    assert upload.status == 201, upload.body[:300]
    set_id = str(upload.json()["id"])
    run = http_request(
        "POST",
        f"{stack.base_url}/api/signon/speedruns",
        json_body={"question_set_id": set_id, "name": "Fuzzed"},
        headers=bearer(token),
    )
    assert run.status == 201, run.body[:300]
    profile = http_request(
        "PUT", f"{stack.base_url}/api/players/{HANDLE}", json_body={"display_name": "Fuzz"}, headers=bearer(token)
    )
    assert profile.status == 202, profile.body[:300]
    return Known(
        path_values={"set_id": set_id, "run_id": str(run.json()["speedrun_id"]), "handle": HANDLE},
        body_values={"question_set_id": set_id, "join_code": str(run.json()["join_code"])},
    )


def fuzz_operation(
    operation: Any, mode: GenerationMode, base_url: str, token: str, known: Known, findings: Findings
) -> None:
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), aim_at_known=st.booleans())
    def send(case: Any, aim_at_known: bool) -> None:
        if aim_at_known:
            known.aim(case)
        response = case.call(base_url=base_url, session=session, headers=bearer(token), timeout=REQUEST_TIMEOUT_S)
        findings.requests[operation.label] += 1
        findings.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as failure:  # each one is recorded; the fuzz goes on with the next request
            findings.failures.append(
                f"{mode.value} {case.method} {case.formatted_path} -> {response.status_code} "
                f"{response.text[:300]!r}: {str(failure)[:600]}"
            )

    send()


def test_generated_requests_get_only_documented_replies_and_never_a_5xx(local_stack: RunningStack) -> None:
    token = sign_in(
        local_stack.base_url, local_stack.user_pool_client_id, local_stack.host_username, local_stack.host_password
    )
    known = seed_the_stack(local_stack, token)
    schema = schemathesis.openapi.from_url(f"{local_stack.base_url}/api/openapi.json", timeout=REQUEST_TIMEOUT_S)
    findings = Findings()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation the document describes wrongly: {result}"
        operations.append(result.ok())
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, mode, local_stack.base_url, token, known, findings)

    report = json.dumps({"requests": findings.requests, "statuses": findings.statuses}, indent=1)
    assert not findings.failures, "\n".join(findings.failures[:40]) + f"\n{len(findings.failures)} failures\n{report}"
    assert sum(findings.requests.values()) >= MIN_REQUESTS, report
    assert set(findings.requests) == {operation.label for operation in operations}, report


# --- hostile bodies ---------------------------------------------------------------------------


def deep_json(data: st.DataObject) -> str:
    depth = data.draw(DEPTHS, label="depth")
    if depth > 10_000 or data.draw(st.booleans(), label="arrays"):
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


PLACEHOLDER = "\u0000hostile\u0000"
"""Stands where the hostile part goes; `json.dumps` writes it as `\\u0000hostile\\u0000`."""


def json_with(document: Any, raw: str) -> str:
    """`document` as JSON text, with `raw` (JSON text) where PLACEHOLDER is."""
    return json.dumps(document).replace(json.dumps(PLACEHOLDER)[1:-1], raw)


def hostile_json_request(data: st.DataObject, body: dict[str, Any]) -> tuple[str, bytes, str]:
    """(shape, raw body, content type) of a hostile variant of a valid JSON body."""
    text_fields = sorted(name for name, value in body.items() if isinstance(value, str))
    shapes = ["deep", "media_type", "lone_surrogate"] if text_fields else ["deep", "media_type"]
    shape = data.draw(st.sampled_from(shapes), label="shape")
    if shape == "deep":
        nested = deep_json(data)
        in_a_field = len(body) > 0 and data.draw(st.booleans(), label="in a field")
        if in_a_field:
            name = data.draw(st.sampled_from(sorted(body)), label="field")
            nested = json.dumps({**body, name: PLACEHOLDER}).replace(json.dumps(PLACEHOLDER), nested)
        return shape, nested.encode(), JSON
    if shape == "media_type":
        return shape, json.dumps(body).encode(), data.draw(NOT_JSON_MEDIA_TYPES, label="content type")
    name = data.draw(st.sampled_from(text_fields), label="field")
    value = str(body[name])
    at = data.draw(st.integers(0, len(value)), label="at")
    surrogate = data.draw(LONE_SURROGATES, label="surrogate")
    return shape, json_with({**body, name: value[:at] + PLACEHOLDER + value[at:]}, surrogate).encode(), JSON


def hostile_upload(data: st.DataObject) -> tuple[str, dict[str, Any]]:
    """(shape, `requests` keyword arguments) of a hostile question-set upload."""
    shape = data.draw(st.sampled_from(["lone_surrogate", "lone_surrogate", "deep", "media_type"]), label="shape")
    if shape == "media_type":
        content_type = data.draw(NOT_MULTIPART_MEDIA_TYPES, label="content type")
        return shape, {"data": sample_set_json(2), "headers": {"content-type": content_type}}
    if shape == "deep":
        content = deep_json(data).encode()
    else:
        questions = [sample_question(n) for n in range(3)]
        document: Any = {"name": "Hostile", "questions": questions}
        target = data.draw(st.integers(0, len(questions)), label="question (or the set's name)")
        if target == len(questions):
            document["name"] = f"x {PLACEHOLDER} y"
        else:
            field_name = data.draw(st.sampled_from([*QUESTION_TEXT_FIELDS, "options"]), label="field")
            if field_name == "options":
                questions[target]["options"][data.draw(st.integers(0, 2), label="option")] = f"x {PLACEHOLDER} y"
            else:
                questions[target][field_name] = f"x {PLACEHOLDER} y"
            if data.draw(st.booleans(), label="array format"):
                document = questions
        content = json_with(document, data.draw(LONE_SURROGATES, label="surrogate")).encode()
    return shape, {"files": {"file": ("hostile.json", content, "application/octet-stream")}}


def hostile_operation(
    operation: Any, base_url: str, token: str, known: Known, findings: Findings, shapes: Counter[str]
) -> None:
    session = requests.Session()
    media_types = {body.media_type for body in operation.body}

    @settings(
        max_examples=HOSTILE_EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE), data=st.data())
    def send(case: Any, data: st.DataObject) -> None:
        known.aim(case)
        url = f"{base_url}{case.formatted_path}"
        if JSON in media_types:
            assert isinstance(case.body, dict), case.body
            shape, raw, content_type = hostile_json_request(data, case.body)
            response = session.request(
                case.method,
                url,
                data=raw,
                headers={**bearer(token), "content-type": content_type},
                timeout=REQUEST_TIMEOUT_S,
            )
            sent = f"{shape} {content_type} {raw[:120]!r}"
        else:
            shape, kwargs = hostile_upload(data)
            headers = {**bearer(token), **kwargs.pop("headers", {})}
            response = session.request(case.method, url, headers=headers, timeout=REQUEST_TIMEOUT_S, **kwargs)
            sent = f"{shape} {str(kwargs)[:160]}"
        shapes[f"{operation.label} {shape}"] += 1
        findings.requests[operation.label] += 1
        findings.statuses[response.status_code] += 1
        problems = []
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as failure:
            # schemathesis' "Reproduce with" shows the generated request, not the hostile one sent
            problems.append(str(failure).split("Reproduce with")[0].strip()[:600])
        if response.status_code != 400:
            problems.append(f"expected 400, got {response.status_code}")
        elif response.json().get("error", {}).get("code") != "bad_request":
            problems.append("expected the error code bad_request")
        if problems:
            findings.failures.append(
                f"{case.method} {case.formatted_path} ({sent}) -> {response.status_code} "
                f"{response.text[:300]!r}: {'; '.join(problems)}"
            )

    send()


def test_deep_nesting_other_media_types_and_lone_surrogates_get_a_400_in_the_error_format(
    local_stack: RunningStack,
) -> None:
    token = sign_in(
        local_stack.base_url, local_stack.user_pool_client_id, local_stack.host_username, local_stack.host_password
    )
    known = seed_the_stack(local_stack, token)
    schema = schemathesis.openapi.from_url(f"{local_stack.base_url}/api/openapi.json", timeout=REQUEST_TIMEOUT_S)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    with_body = [op for op in operations if {body.media_type for body in op.body} & {JSON, MULTIPART}]
    findings = Findings()
    shapes: Counter[str] = Counter()
    for operation in with_body:
        hostile_operation(operation, local_stack.base_url, token, known, findings, shapes)

    report = json.dumps({"requests": findings.requests, "statuses": findings.statuses, "shapes": shapes}, indent=1)
    assert not findings.failures, "\n".join(findings.failures[:40]) + f"\n{len(findings.failures)} failures\n{report}"
    # every operation with a body (the sign-on pair, both player commands, the upload) got every shape
    labels = {operation.label for operation in with_body}
    assert len(labels) == 5, report
    for label in labels:
        for shape in ("deep", "media_type", "lone_surrogate"):
            assert shapes[f"{label} {shape}"] > 0, report
