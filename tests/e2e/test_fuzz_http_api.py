"""Schemathesis fuzz of the HTTP API served by the local stack (issue 6, acceptance; issue 12 item 6).

The document under test is the one the stack serves (`GET /api/openapi.json`), and its operations
must be exactly the manifest's HTTP routes and exactly the operations fuzzed, so a route cannot be
left out of either. For every operation, schemathesis generates requests that fit the documented
inputs (positive) and requests that break them (negative), each with a credential the route's
`Auth` takes: the host's Cognito ID token on `Auth.USER` routes (some requests carry none, or a run
token, which the gateway's JWT authorizer refuses), on the results route (`Auth.IN_FUNCTION`) also the
host token of a persisted run, of a lobby run, a participant token or none; the join (public) none or
the ID token of the account that claimed the seeded player handle. About half of the requests aim at
things that exist: a question set, a lobby run and its join code, a completed and persisted run (so
the results route answers JSON and CSV), a claimed player handle with a game, and cursors (pages the
API returned, and ones shaped like them holding hostile keys: lone surrogates, NUL, 2,000
characters, an empty key). Every reply must be documented: no 5xx, a documented status code, the
documented content type and a body that matches the documented schema; every 4xx must be a clear
refusal: the platform's error body (`{"error": {"code", "message"}}`) or, for the statuses API Gateway
answers itself (401, 413), its `{"message"}`.

A second pass (issue 17, item 4) turns valid requests of every operation that takes a body into
hostile ones no schema describes: JSON nested deeper than the bound (up to 30,000 levels), the body
in another media type, and a lone surrogate (`"\\ud800"`) in a text field, or in a question-set
file's text. Each must be a 400 in the one error format (and still pass every check above).

A third pass fuzzes the `CloudFront-Viewer-Address` header of `POST /api/signon/join` (the join-flood
limits' key, speedrun.signon.viewer): malformed text, IPv4 and IPv6 with and without ports, brackets,
zone ids and IPv4-mapped addresses, lists, empty and blank values, and values of up to 64 KiB. Sent
through the gateway (as through CloudFront, which writes the header itself: the limits must key on the
viewer's own address) and straight to the sign-on function from its asset, as a direct call to the
execute-api endpoint delivers it (where a caller may send anything): never a 5xx, every refusal
clear, and every join-limit key in Redis is an address (an IPv4 address or an IPv6 /64), the one the
header names when it names one, else the caller's `sourceIp`, never text taken from the header.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_network
from typing import Any

import jwt
import pytest
import redis
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

from local_stack import events
from local_stack.client import RunSocket, bearer, http_request, sign_in, upload_question_set
from local_stack.process import RunningStack
from local_stack.runtime.service import FunctionError
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun import manifest
from speedrun.manifest import Auth
from speedrun.signon.join_limit import WINDOW_MS
from speedrun.text import MAX_JSON_DEPTH
from tests.support.question_sets import sample_question, sample_set_json

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION_AND_MODE = 48
MIN_REQUESTS = 1_150
REQUEST_TIMEOUT_S = 15
SETTLE_TIMEOUT_S = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HANDLE = "fuzz-player"
HOSTILE_EXAMPLES_PER_OPERATION = 60
JSON = "application/json"
MULTIPART = "multipart/form-data"
MANIFEST_OPERATIONS = {f"{route.method} {route.path}" for route, _spec in manifest.http_routes()}
"""Every HTTP route the platform deploys: the document must describe each, and each is fuzzed."""
AUTH = {f"{route.method} {route.path}": route.auth for route, _spec in manifest.http_routes()}
GATEWAY_STATUSES = {401, 413}
"""Statuses API Gateway itself may answer (JWT authorizer, payload limit), with its `{"message"}` body."""
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
HOSTILE_CURSOR_KEYS = ("\ud800", "\udfff", "", "\x00", "x" * 2_000, "\uffff", "🏁", "~" * 8, " ")
"""Keys a cursor shaped like the API's own may hold (the codec checks the shape, not the key)."""
VIEWER_HEADER = "CloudFront-Viewer-Address"
JOIN = "POST /api/signon/join"


# --- what exists in the stack, and who may call what ----------------------------------------------


@dataclass
class Credentials:
    id_token: str
    """The local host's Cognito ID token (the account also claimed HANDLE)."""
    persisted_host_token: str
    lobby_host_token: str
    participant_token: str

    def choices(self, auth: Auth) -> list[tuple[str, str | None]]:
        """(credential name, bearer token or None) a request to a route with `auth` may carry, weighted
        towards the one that gets through."""
        if auth is Auth.PUBLIC:
            return [("none", None), ("none", None), ("id token", self.id_token)]
        if auth is Auth.USER:
            ok = ("id token", self.id_token)
            return [ok, ok, ok, ok, ok, ("none", None), ("participant token", self.participant_token)]
        return [
            ("id token", self.id_token),
            ("persisted run's host token", self.persisted_host_token),
            ("persisted run's host token", self.persisted_host_token),
            ("lobby run's host token", self.lobby_host_token),
            ("participant token", self.participant_token),
            ("none", None),
        ]


@dataclass
class Known:
    """Values that exist in the stack, by path parameter name and by JSON body field name, and
    cursors (the API's own pages and hostile look-alikes)."""

    path_values: dict[str, list[str]]
    body_values: dict[str, list[str]]
    cursors: list[str]
    deletable: dict[str, list[str]]
    """Path values a DELETE aims at instead: things no other request needs (a deleted set is gone for
    every later request, in this test and the next)."""

    def aim(self, case: Any, data: st.DataObject) -> None:
        """Point the generated request at them (where it has such a parameter or field)."""
        if not isinstance(case.body, dict) and any(body.media_type == JSON for body in case.operation.body):
            # An optional JSON body (the copy's) left out or null: aimed at, an empty object.
            case.body = {}
        if case.path_parameters:
            values = {**self.path_values, **self.deletable} if case.method == "DELETE" else self.path_values
            case.path_parameters = {
                name: data.draw(st.sampled_from(values[name])) if name in values else value
                for name, value in case.path_parameters.items()
            }
        if isinstance(case.body, dict):
            case.body = {
                name: data.draw(st.sampled_from(self.body_values[name])) if name in self.body_values else value
                for name, value in case.body.items()
            }
        if any(parameter.name == "cursor" for parameter in case.operation.query) and data.draw(st.booleans()):
            case.query = {**(case.query or {}), "cursor": data.draw(st.sampled_from(self.cursors))}


@dataclass
class Findings:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    """`<operation> <status> <credential>`: which credentials reached which replies."""
    failures: list[str] = field(default_factory=list)


def refusal_problem(status: int, text: str) -> str | None:
    """Why a reply is not a clear refusal (a 4xx in the platform's error body, or API Gateway's own
    body for the statuses the gateway answers itself), or None."""
    if status < 400:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return "a refusal that is not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
        return None if error["code"] and error["message"] else "an empty error code or message"
    if status in GATEWAY_STATUSES and isinstance(body, dict) and set(body) == {"message"}:
        return None if isinstance(body["message"], str) and body["message"] else "an empty gateway message"
    return "neither the platform's error body nor API Gateway's"


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def cursor_of(key: dict[str, Any], *, padded: bool = True) -> str:
    text = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    return text if padded else text.rstrip("=")


def hostile_cursors(sub: str) -> list[str]:
    """Cursors shaped like each list's own (speedrun.reporting.read_models, question_sets.service) with
    hostile keys; `json.dumps` writes a lone surrogate as its escape, as a client would."""
    cursors = []
    for key in HOSTILE_CURSOR_KEYS:
        cursors += [
            cursor_of({"host": {"S": sub}, "created_key": {"S": key}}),
            cursor_of({"handle": {"S": HANDLE}, "game_key": {"S": key}}),
            cursor_of({"handle": {"S": HANDLE}, "host_handle": {"S": f"{sub}#{HANDLE}"}, "game_key": {"S": key}}),
            cursor_of({"set_id": key}, padded=False),
        ]
    return cursors


def _post(base_url: str, path: str, body: Any, token: str | None) -> Any:
    reply = http_request("POST", f"{base_url}{path}", json_body=body, headers=bearer(token) if token else None)
    assert reply.status == 201, (path, reply.status, reply.body[:300])
    return reply.json()


def _play_and_end(ws_url: str, host_token: str, participant_token: str) -> None:
    async def play() -> None:
        host = await RunSocket.connect(ws_url, host_token, "host")
        assert (await host.request("start"))["type"] == "started"
        player = await RunSocket.connect(ws_url, participant_token, "player")
        assert (await player.request("question", index=0))["type"] == "question"
        assert (await player.request("answer", index=0, selected=[0]))["type"] == "answer_result"
        await player.close()
        assert (await host.request("end"))["type"] == "completed"
        await host.close()

    asyncio.run(play())


def seed_the_stack(stack: RunningStack, token: str) -> tuple[Known, Credentials]:
    """Two question sets (and two more only DELETE aims at); a player profile HANDLE of this host's
    account; a run that was played (a participant under HANDLE answered) and persisted; and a lobby
    run (it can be joined)."""
    base = stack.base_url
    set_ids = []
    for name in ("fuzz.json", "fuzz-2.json"):
        upload = upload_question_set(base, token, name, sample_set_json(4))
        assert upload.status == 201, upload.body[:300]
        set_ids.append(str(upload.json()["id"]))
    profile = http_request(
        "PUT", f"{base}/api/players/{HANDLE}", json_body={"display_name": "Fuzz"}, headers=bearer(token)
    )
    assert profile.status == 202, profile.body[:300]
    wait_until(
        lambda: http_request("GET", f"{base}/api/players/{HANDLE}", headers=bearer(token)).status == 200, "the profile"
    )

    played = _post(base, "/api/signon/speedruns", {"question_set_id": set_ids[0], "name": "Played"}, token)
    player = _post(
        base, "/api/signon/join", {"join_code": played["join_code"], "name": "Ada", "player_handle": HANDLE}, token
    )
    _play_and_end(stack.ws_url, played["host_token"], player["participant_token"])
    summary = f"{base}/api/speedruns/{played['speedrun_id']}"
    wait_until(lambda: http_request("GET", summary, headers=bearer(token)).json().get("persisted"), "the run persisted")

    lobby = _post(base, "/api/signon/speedruns", {"question_set_id": set_ids[1], "name": "Fuzzed"}, token)
    participant = _post(base, "/api/signon/join", {"join_code": lobby["join_code"], "name": "Bob"}, None)

    sub = str(jwt.decode(token, options={"verify_signature": False})["sub"])
    pages = [
        http_request("GET", f"{base}{path}?limit=1", headers=bearer(token)).json().get("next_cursor")
        for path in ("/api/speedruns", "/api/question-sets", f"/api/players/{HANDLE}/games")
    ]
    run_ids = [str(played["speedrun_id"]), str(lobby["speedrun_id"])]
    deletable = []
    for name in ("fuzz-delete.json", "fuzz-delete-2.json"):
        upload = upload_question_set(base, token, name, sample_set_json(2))
        assert upload.status == 201, upload.body[:300]
        deletable.append(str(upload.json()["id"]))
    known = Known(
        path_values={"set_id": set_ids, "run_id": run_ids, "handle": [HANDLE]},
        deletable={"set_id": deletable},
        body_values={"question_set_id": set_ids, "join_code": [str(lobby["join_code"])], "player_handle": [HANDLE]},
        cursors=[page for page in pages if page] + hostile_cursors(sub),
    )
    assert len(known.cursors) > len(hostile_cursors(sub)), "the API returned no next page to aim at"
    credentials = Credentials(token, played["host_token"], lobby["host_token"], participant["participant_token"])
    return known, credentials


def documented_operations(stack: RunningStack) -> list[Any]:
    served = requests.get(f"{stack.base_url}/api/openapi.json", timeout=REQUEST_TIMEOUT_S)
    assert served.status_code == 200, served.text[:300]
    # Not `from_url`: schemathesis leaves out the operation that serves the document it loaded from.
    schema = schemathesis.openapi.from_dict(served.json())
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation the document describes wrongly: {result}"
        operations.append(result.ok())
    labels = {operation.label for operation in operations}
    assert labels == MANIFEST_OPERATIONS, (
        f"undocumented routes: {sorted(MANIFEST_OPERATIONS - labels)}; "
        f"documented but not deployed: {sorted(labels - MANIFEST_OPERATIONS)}"
    )
    return operations


def takes_input(operation: Any) -> bool:
    parameters = (operation.path_parameters, operation.query, operation.headers, operation.cookies, operation.body)
    return any(len(list(group)) > 0 for group in parameters)


@pytest.fixture(scope="module")
def seeded(local_stack: RunningStack) -> tuple[Known, Credentials]:
    token = sign_in(
        local_stack.base_url, local_stack.user_pool_client_id, local_stack.host_username, local_stack.host_password
    )
    return seed_the_stack(local_stack, token)


# --- generated requests -----------------------------------------------------------------------------


def fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    known: Known,
    credentials: Credentials,
    findings: Findings,
) -> None:
    session = requests.Session()
    choices = credentials.choices(AUTH[operation.label])

    @settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def send(case: Any, data: st.DataObject) -> None:
        if data.draw(st.booleans(), label="aim at what exists"):
            known.aim(case, data)
        credential, token = data.draw(st.sampled_from(choices), label="credential")
        headers = bearer(token) if token else {}
        if operation.label == JOIN and data.draw(st.booleans(), label="viewer header"):
            # Through the gateway (as through CloudFront) the header a viewer sends is replaced.
            headers[VIEWER_HEADER] = data.draw(SENDABLE_VIEWER_VALUES, label="viewer header value")[0]
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=REQUEST_TIMEOUT_S)
        findings.requests[operation.label] += 1
        findings.statuses[response.status_code] += 1
        findings.answered[f"{operation.label} {response.status_code} {credential}"] += 1
        problems = []
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as failure:  # each one is recorded; the fuzz goes on with the next request
            problems.append(str(failure)[:600])
        refusal = refusal_problem(response.status_code, response.text)
        if refusal is not None:
            problems.append(refusal)
        if problems:
            findings.failures.append(
                f"{mode.value} {case.method} {case.formatted_path} ({credential}, query {case.query}) -> "
                f"{response.status_code} {response.text[:300]!r}: {'; '.join(problems)}"
            )

    send()


def test_generated_requests_get_only_documented_replies_and_never_a_5xx(
    local_stack: RunningStack, seeded: tuple[Known, Credentials]
) -> None:
    known, credentials = seeded
    operations = documented_operations(local_stack)
    findings = Findings()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not takes_input(operation):
                continue  # nothing to break (GET /api/openapi.json)
            fuzz_operation(operation, mode, local_stack.base_url, known, credentials, findings)

    report = json.dumps(
        {"requests": findings.requests, "statuses": findings.statuses, "answered": findings.answered}, indent=1
    )
    assert not findings.failures, "\n".join(findings.failures[:40]) + f"\n{len(findings.failures)} failures\n{report}"
    assert sum(findings.requests.values()) >= MIN_REQUESTS, report
    assert set(findings.requests) == MANIFEST_OPERATIONS, report
    # the requests reached the functions' logic with every kind of credential, not only their refusals
    for reached in (
        "GET /api/speedruns 200 id token",
        "GET /api/speedruns/{run_id} 200 id token",
        "GET /api/speedruns/{run_id}/results 200 id token",
        "GET /api/speedruns/{run_id}/results 200 persisted run's host token",
        "GET /api/speedruns/{run_id}/results 403 participant token",
        "GET /api/players/{handle}/games 200 id token",
        "POST /api/signon/join 201 none",
        "GET /api/question-sets 401 none",
        "DELETE /api/question-sets/{set_id} 204 id token",
    ):
        assert findings.answered[reached] > 0, f"{reached}\n{report}"


def test_every_cursor_on_every_paginated_route_is_a_page_or_a_400_naming_the_cursor(
    local_stack: RunningStack, seeded: tuple[Known, Credentials]
) -> None:
    """Each cursor (pages the API returned and the hostile look-alikes) on each route that takes one,
    deterministically: the generated requests above meet only a sample of them."""
    known, credentials = seeded
    paginated = [op for op in documented_operations(local_stack) if any(p.name == "cursor" for p in op.query)]
    assert {op.label for op in paginated} == {
        "GET /api/question-sets",
        "GET /api/speedruns",
        "GET /api/players/{handle}/games",
    }
    session = requests.Session()
    failures: list[str] = []
    answered: Counter[str] = Counter()
    for operation in paginated:
        for cursor in known.cursors:
            case = operation.Case(
                path_parameters={"handle": HANDLE} if "{handle}" in operation.path else None,
                query={"cursor": cursor, "limit": 1},
            )
            response = case.call(
                base_url=local_stack.base_url,
                session=session,
                headers=bearer(credentials.id_token),
                timeout=REQUEST_TIMEOUT_S,
            )
            answered[f"{operation.label} {response.status_code}"] += 1
            problems = []
            try:
                case.validate_response(response, checks=CHECKS)
            except (Failure, FailureGroup) as failure:
                problems.append(str(failure).split("Reproduce with")[0].strip()[:400])
            if response.status_code == 400:
                error = response.json()["error"]
                if error["code"] != "bad_request" or [d["field"] for d in error.get("details", [])] != ["cursor"]:
                    problems.append("a 400 that does not name the cursor")
            elif response.status_code != 200:
                problems.append(f"expected a page or a 400, got {response.status_code}")
            if problems:
                failures.append(
                    f"{operation.label} cursor {cursor[:60]!r} -> {response.status_code} "
                    f"{response.text[:200]!r}: {'; '.join(problems)}"
                )
    assert not failures, "\n".join(failures[:30]) + f"\n{len(failures)} failures\n{answered}"
    assert all(answered[f"{op.label} 200"] > 0 for op in paginated), answered


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
        known.aim(case, data)
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
    local_stack: RunningStack, seeded: tuple[Known, Credentials]
) -> None:
    known, credentials = seeded
    operations = documented_operations(local_stack)
    with_body = [op for op in operations if {body.media_type for body in op.body} & {JSON, MULTIPART}]
    findings = Findings()
    shapes: Counter[str] = Counter()
    for operation in with_body:
        hostile_operation(operation, local_stack.base_url, credentials.id_token, known, findings, shapes)

    report = json.dumps({"requests": findings.requests, "statuses": findings.statuses, "shapes": shapes}, indent=1)
    assert not findings.failures, "\n".join(findings.failures[:40]) + f"\n{len(findings.failures)} failures\n{report}"
    # every operation with a body (the sign-on pair, both player commands, the uploads, the copy) got every shape
    labels = {operation.label for operation in with_body}
    with_body_routes = {
        f"{route.method} {route.path}" for route, _ in manifest.http_routes() if route.method not in ("GET", "DELETE")
    }
    assert labels == with_body_routes, report
    for label in labels:
        for shape in ("deep", "media_type", "lone_surrogate"):
            assert shapes[f"{label} {shape}"] > 0, report


# --- CloudFront-Viewer-Address ------------------------------------------------------------------

SOURCE = "<sourceIp>"
"""Expected key: the request's `sourceIp` (the header names no address)."""
PORTS = st.integers(0, 65_535)


def address_key(address: IPv4Address | IPv6Address) -> str:
    """What the join limits must count an address under: itself (IPv4, also IPv4-mapped IPv6) or its /64."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


VIEWER_VALUES: st.SearchStrategy[tuple[str, str | None]] = st.one_of(
    st.builds(lambda a, p: (f"{a}:{p}", address_key(a)), st.ip_addresses(v=4), PORTS),
    st.builds(lambda a, p: (f"{a}:{p}", address_key(a)), st.ip_addresses(v=6), PORTS),
    st.builds(lambda a, p: (f"[{a}]:{p}", address_key(a)), st.ip_addresses(v=6), PORTS),
    st.builds(lambda a: (str(a), address_key(a)), st.ip_addresses(v=4)),
    st.builds(lambda a: (str(a), None), st.ip_addresses(v=6)),  # no port: the last group may be read as one
    st.builds(lambda a, p: (f"::ffff:{a}:{p}", str(a)), st.ip_addresses(v=4), PORTS),
    st.builds(lambda zone, p: (f"fe80::1%{zone}:{p}", None), st.from_regex(r"\A[a-z0-9.]{1,40}\Z"), PORTS),
    st.sampled_from(
        [
            ("", SOURCE),
            (" ", SOURCE),
            ("   ", SOURCE),
            ("unknown", SOURCE),
            ("localhost:443", SOURCE),
            ("1.2.3.4:1, 5.6.7.8:2", SOURCE),
            ("[::1", SOURCE),
            ("[::1]x", SOURCE),
            ("1.2.3.4.5:1", SOURCE),
            ("256.1.1.1:80", SOURCE),
            ("1.2.3.4:", SOURCE),
            ("::::", SOURCE),
            (":443", SOURCE),
            ("0x7f.1:80", SOURCE),
            ("\u0661.\u0662.\u0663.\u0664:1", None),
            ("9" * 10_000, SOURCE),
            ("a" * 65_536, SOURCE),
            ("::" * 5_000, SOURCE),
            ("203.0.113.5:" + "9" * 10_000, "203.0.113.5"),
            ("[2001:db8::1]:" + "1" * 20_000, "2001:db8::/64"),
            ("fe80::1%" + "z" * 10_000 + ":1", None),
        ]
    ),
    st.text(max_size=300).map(lambda text: (text, None)),
)
"""(header value, the key the join limits must count it under: an address's key, SOURCE, or None: any
address's key, the case of values whose reading is not pinned here)."""


def sendable(value: str) -> bool:
    """A header value an HTTP client sends as it is (printable ASCII, no surrounding blanks, 8 KB)."""
    return len(value) <= 8_000 and value == value.strip() and all(" " <= char <= "~" for char in value)


SENDABLE_VIEWER_VALUES = VIEWER_VALUES.filter(lambda pair: sendable(pair[0]))
CODE_KINDS = st.sampled_from(["unknown", "unknown", "joinable", "malformed"])
UNKNOWN_CODES = ("ZZZZZZ", "YYYYYY", "XXXXXX", "WWWWWW")
DIRECT_EXAMPLES = 300
GATEWAY_EXAMPLES = 120
JOIN_STATUSES = {201, 400, 403, 404, 409, 413, 429}


@dataclass
class Joinable:
    stack: LocalStack
    join_code: str
    redis: redis.Redis
    names: Iterator[int] = field(default_factory=itertools.count)
    sources: Iterator[IPv4Address] = field(default_factory=lambda: IPv4Network("198.18.0.0/15").hosts())

    def body(self, kind: str) -> bytes:
        code = {"joinable": self.join_code, "malformed": "0O1I!"}.get(kind)
        if code is None:
            code = next(c for c in UNKNOWN_CODES if c != self.join_code)
        return json.dumps({"join_code": code, "name": f"viewer {next(self.names)}"}).encode()

    def viewer_counters(self) -> list[str]:
        """The viewers of every join-limit counter in Redis (viewer keys and run hash fields)."""
        viewers = []
        for key in self.redis.scan_iter(match="joins:*"):
            text = _text(key)
            if text.startswith("joins:viewer:"):
                viewers.append(text.removeprefix("joins:viewer:").rsplit(":", 1)[0])
            else:
                viewers += [_text(name).rsplit("|", 1)[0] for name in self.redis.hkeys(key)]
        return viewers

    def counted(self, viewer: str) -> bool:
        window = int(time.time() * 1000) // WINDOW_MS
        return any(self.redis.exists(f"joins:viewer:{viewer}:{w}") for w in (window, window - 1))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def is_address_key(viewer: str) -> bool:
    try:
        return str(IPv4Address(viewer)) == viewer
    except ValueError:
        pass
    try:
        network = ip_network(viewer)
    except ValueError:
        return False
    return isinstance(network.network_address, IPv6Address) and network.prefixlen == 64 and str(network) == viewer


@pytest.fixture(scope="module")
def joinable(redis_server_url: str) -> Iterator[Joinable]:
    """A stack of its own (in this process, so a test can invoke its functions as a direct call to the
    execute-api endpoint would, and read its Redis), with one lobby run of 10,000 places."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushall()
    with LocalStack(LocalStackOptions(port=0, examples_dir=None, web_dir=None, redis_url=redis_server_url)) as stack:
        assert stack.user_pool is not None
        token = sign_in(stack.base_url, stack.user_pool.client_id, stack.host_username, stack.host_password)
        upload = upload_question_set(stack.base_url, token, "viewer.json", sample_set_json(2))
        assert upload.status == 201, upload.body[:300]
        run = _post(
            stack.base_url,
            "/api/signon/speedruns",
            {"question_set_id": upload.json()["id"], "max_participants": 10_000},
            token,
        )
        yield Joinable(stack, run["join_code"], client)


def test_viewer_addresses_sent_straight_to_the_function_are_keyed_on_an_address_and_never_a_5xx(
    joinable: Joinable,
) -> None:
    assert joinable.stack.lambdas is not None
    lambdas = joinable.stack.lambdas
    failures: list[str] = []
    tally: Counter[str] = Counter()

    @settings(max_examples=DIRECT_EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(viewer=VIEWER_VALUES, kind=CODE_KINDS)
    def send(viewer: tuple[str, str | None], kind: str) -> None:
        value, expected = viewer
        source = str(next(joinable.sources))
        event = events.http_api_event(
            route_key=JOIN,
            method="POST",
            raw_path="/api/signon/join",
            raw_query_string="",
            headers=[
                ("host", "api.execute-api.us-east-1.amazonaws.com"),
                ("content-type", JSON),
                ("user-agent", "fuzz"),
                (VIEWER_HEADER, value),
            ],
            query=[],
            path_parameters={},
            body=joinable.body(kind),
            source_ip=source,
            domain_name="api.execute-api.us-east-1.amazonaws.com",
            jwt_claims=None,
        )
        try:
            reply = lambdas.invoke_sync("signon", event)
        except FunctionError as failed:
            failures.append(f"{value[:120]!r} {kind}: the function failed ({failed}): API Gateway answers 500")
            return
        status = int(reply["statusCode"])
        text = base64.b64decode(reply["body"]).decode() if reply.get("isBase64Encoded") else str(reply["body"])
        tally[f"{kind} {status}"] += 1
        problems = [] if status in JOIN_STATUSES else [f"undocumented status {status}"]
        refusal = refusal_problem(status, text)
        if refusal is not None:
            problems.append(refusal)
        if kind == "unknown" and status in (404, 429):
            key = source if expected == SOURCE else expected
            if key is not None and not joinable.counted(key):
                problems.append(f"not counted under {key}")
        if problems:
            failures.append(f"{value[:120]!r} (source {source}) {kind} -> {status} {text[:200]!r}: {problems}")

    send()
    viewers = joinable.viewer_counters()
    not_addresses = sorted({viewer[:80] for viewer in viewers if not is_address_key(viewer)})
    assert not failures, "\n".join(failures[:30]) + f"\n{len(failures)} failures\n{tally}"
    assert not not_addresses, f"join-limit counters keyed on text that is no address: {not_addresses[:20]}"
    assert tally["joinable 201"] > 0 and tally["unknown 404"] > 0 and tally["malformed 400"] > 0, tally


def test_viewer_addresses_sent_through_the_gateway_are_replaced_by_the_viewers_own(joinable: Joinable) -> None:
    for key in joinable.redis.scan_iter(match="joins:*"):
        joinable.redis.delete(key)
    session = requests.Session()
    failures: list[str] = []
    tally: Counter[str] = Counter()

    @settings(max_examples=GATEWAY_EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(viewer=SENDABLE_VIEWER_VALUES, kind=CODE_KINDS)
    def send(viewer: tuple[str, str | None], kind: str) -> None:
        value = viewer[0]
        response = session.post(
            f"{joinable.stack.base_url}/api/signon/join",
            data=joinable.body(kind),
            headers={"content-type": JSON, VIEWER_HEADER: value},
            timeout=REQUEST_TIMEOUT_S,
        )
        tally[f"{kind} {response.status_code}"] += 1
        problems = [] if response.status_code in JOIN_STATUSES else [f"undocumented status {response.status_code}"]
        refusal = refusal_problem(response.status_code, response.text)
        if refusal is not None:
            problems.append(refusal)
        if problems:
            failures.append(f"{value[:120]!r} {kind} -> {response.status_code} {response.text[:200]!r}: {problems}")

    send()
    assert not failures, "\n".join(failures[:30]) + f"\n{len(failures)} failures\n{tally}"
    # CloudFront writes the header itself (the local gateway as it does): only the viewer's own address counts
    assert set(joinable.viewer_counters()) == {"127.0.0.1"}, sorted(set(joinable.viewer_counters()))[:20]
    assert tally["joinable 201"] > 0 and tally["unknown 404"] > 0, tally
