"""Schemathesis fuzz of the HTTP API served by the local stack (issue 6, acceptance).

The document under test is the one the stack serves (`GET /api/openapi.json`). For every operation
in it, schemathesis generates requests that fit the documented inputs (positive) and requests that
break them (negative), sent with the local host's Cognito ID token; about half of the requests
aim at ids that exist (a question set, a speed-run, a player handle), so they reach the handlers'
logic and not only their 404s. Every reply must be documented: no 5xx, a documented status code,
the documented content type and a body that matches the documented schema.
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
from tests.support.question_sets import sample_set_json

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION_AND_MODE = 48
MIN_REQUESTS = 1_000
REQUEST_TIMEOUT_S = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HANDLE = "fuzz-player"


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
