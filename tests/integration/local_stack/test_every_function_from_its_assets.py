"""Acceptance: every function of the synthesized template imports **and handles one real event** when
run from its assets alone.

One real local stack for the module (its own Redis, moto and Cognito host account). Every function of
`speedrun.manifest.FUNCTIONS` is invoked through the local Lambda service, from its synthesized asset
in its own execution environments, with an event shaped exactly as its trigger delivers it
(`local_stack.events`, built the way the gateway and the queue pollers build them):

- HTTP routes carry the host's real Cognito ID token, and on authorized routes its claims as the JWT
  authorizer hands them on (strings); public routes carry none;
- the WebSocket authorizer gets a run token sign-on issued, and the `speedrun` function gets its
  frames on a connection that authorizer allowed (its context on `requestContext.authorizer`);
- each queue consumer gets the message its producer really sent, taken off the queue: the deadline
  `start` armed, the completion job `end` sent, the player command the players API queued. The
  stack's queue pollers are stopped for this: the test is the event source mapping, so it sees the
  consumer's reply.

Each function must answer with its domain reply (never a FunctionError, never a 500), and its REPORT
line must show that it ran in an environment of its own.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from local_stack import aws, events
from local_stack.client import multipart_body
from local_stack.demo import demo_question_set
from local_stack.gateway import compile_route
from local_stack.runtime.environment import Report
from local_stack.runtime.service import FunctionError, LambdaService
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun import manifest
from speedrun.adapters.identity import stringify_claims
from speedrun.manifest import Auth, FunctionSpec
from speedrun.players.queries import read_profile
from speedrun.reporting.read_models import read_summary

ROOT = Path(__file__).resolve().parents[3]
logger = logging.getLogger(__name__)

VIEWER_IP = "203.0.113.7"
"""The viewer's address as CloudFront reports it (TEST-NET-3); functions see the edge's as `sourceIp`."""
VIEWER_PORT = 50123
USER_AGENT = "speedrun-acceptance/1.0"
QUESTION_SET = demo_question_set(question_count=2)
PLAYER_HANDLE = "acceptance-player"
RECEIVE_ATTEMPTS = 10
"""Long polls (1 s each) before a message its producer already sent counts as missing."""
ERROR_MARKERS = ('"level":"ERROR"', "[ERROR]", "Traceback", "Task timed out")


@dataclass(frozen=True)
class Handled:
    """One invocation: what was sent, what came back, and the REPORT of the environment that ran it."""

    what: str
    reply: Any
    report: Report


@dataclass
class World:
    stack: LocalStack
    sqs: Any
    id_token: str
    handled: dict[str, list[Handled]] = field(default_factory=dict)
    cases_done: set[str] = field(default_factory=set)

    @property
    def lambdas(self) -> LambdaService:
        assert self.stack.lambdas is not None
        return self.stack.lambdas

    @property
    def domain_name(self) -> str:
        return self.stack.base_url.removeprefix("http://")

    @cached_property
    def host_claims(self) -> dict[str, str]:
        """The host's ID token claims as the HTTP API's JWT authorizer passes them on (verified there,
        so decoded here without verification; every value a string, as API Gateway renders them)."""
        return stringify_claims(jwt.decode(self.id_token, options={"verify_signature": False}))

    def run_case(self, name: str) -> None:
        """Each function's case once per module, whichever test asks first."""
        if name not in self.cases_done:
            CASES[name](self)
            self.cases_done.add(name)

    # --- invocations ---------------------------------------------------------------------------

    def invoke(self, name: str, event: dict[str, Any], what: str) -> Any:
        before = len(self.lambdas.reports)
        try:
            reply = self.lambdas.invoke_sync(name, event)
        except FunctionError as exc:
            pytest.fail(f"{name} ({what}) failed: {exc.error_type}: {exc} {exc.error.get('stackTrace', '')}")
        reports = list(self.lambdas.reports)[before:]
        assert [report.function for report in reports] == [name], f"{what}: {reports}"
        self.handled.setdefault(name, []).append(Handled(what, reply, reports[0]))
        logger.info("%s <- %s\n  -> %s", name, what, json.dumps(reply)[:600])
        return reply

    def http(
        self,
        function: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes = b"",
        content_type: str | None = None,
        query: Sequence[tuple[str, str]] = (),
        token: str | None = "",
    ) -> tuple[int, Any]:
        """One HTTP API v2 event for `method path` of `function`, as the local gateway builds it.

        `token` "" is the host's ID token (the JWT authorizer's claims attached), None is no
        Authorization header, anything else is sent as a bearer token the authorizer does not know.
        """
        spec = manifest.function(function)
        matched = [
            (route, found.groupdict())
            for route in spec.http_routes
            if route.method == method and (found := compile_route(route, spec).pattern.match(path))
        ]
        assert len(matched) == 1, f"{method} {path} is not one route of {function}"
        route, path_parameters = matched[0]
        bearer = self.id_token if token == "" else token
        headers = [("host", self.domain_name), ("user-agent", USER_AGENT), ("accept", "application/json")]
        if bearer is not None:
            headers.append(("authorization", f"Bearer {bearer}"))
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type is not None:
            headers.append(("content-type", content_type))
        signed_in = token == "" and route.auth is not Auth.PUBLIC
        event = events.http_api_event(
            route_key=route.route_key,
            method=method,
            raw_path=path,
            raw_query_string=urlencode(query),
            headers=events.through_edge(headers, VIEWER_IP, VIEWER_PORT, viewer_address=True),
            query=query,
            path_parameters=path_parameters,
            body=body,
            source_ip=events.CLOUDFRONT_EDGE_IP,
            domain_name=self.domain_name,
            jwt_claims=self.host_claims if signed_in else None,
        )
        reply = self.invoke(function, event, f"{method} {path}{'?' + urlencode(query) if query else ''}")
        assert isinstance(reply, dict) and "statusCode" in reply, reply
        text = base64.b64decode(reply["body"]).decode() if reply.get("isBase64Encoded") else reply.get("body") or ""
        replied = {name.lower(): str(value) for name, value in (reply.get("headers") or {}).items()}
        content = replied.get("content-type", "")
        return int(reply["statusCode"]), json.loads(text) if "json" in content and text else text

    def ws_client(self, token: str) -> events.WebSocketClient:
        """The connection API Gateway opens for `wss://.../ws?token=...` through CloudFront."""
        handshake = [
            ("Host", self.domain_name),
            ("User-Agent", USER_AGENT),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", base64.b64encode(secrets.token_bytes(16)).decode()),
        ]
        return events.WebSocketClient(
            connection_id=events.connection_id(),
            source_ip=events.CLOUDFRONT_EDGE_IP,
            user_agent=USER_AGENT,
            domain_name=self.domain_name,
            headers=events.through_edge(handshake, VIEWER_IP, VIEWER_PORT, viewer_address=False),
            query=[("token", token)],
        )

    def authorize(self, client: events.WebSocketClient) -> dict[str, Any]:
        """The `$connect` REQUEST authorizer; an Allow puts its context on the connection, as the gateway does."""
        event = events.websocket_authorizer_event(client, self.stack.options.region)
        started = time.monotonic()
        decision = self.invoke(manifest.ws_authorizer().name, event, "$connect authorizer (token of a sign-on)")
        assert isinstance(decision, dict), decision
        statements = decision["policyDocument"]["Statement"]
        assert [statement["Effect"] for statement in statements] == ["Allow"], decision
        assert statements[0]["Resource"] == [events.connect_method_arn(self.stack.options.region)], decision
        client.authorizer = {
            **decision["context"],
            "principalId": str(decision["principalId"]),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }
        return decision

    def connect(self, token: str) -> events.WebSocketClient:
        client = self.ws_client(token)
        self.authorize(client)
        reply = self.invoke(
            "speedrun", events.websocket_connect_event(client), f"$connect ({client.authorizer['role']})"
        )
        assert reply == {"statusCode": 200}
        return client

    def send(self, client: events.WebSocketClient, action: str, **fields: Any) -> dict[str, Any]:
        """One frame on the connection, routed by its `action` ($request.body.action); the direct reply."""
        assert action in manifest.WS_ROUTE_KEYS
        request_id = f"{action}-{secrets.token_hex(4)}"
        body = json.dumps({"action": action, "request_id": request_id, **fields})
        event = events.websocket_message_event(client, action, body)
        reply = self.invoke("speedrun", event, f"{action} frame ({client.authorizer['role']}): {body}")
        assert isinstance(reply, dict) and reply.get("statusCode") == 200, reply
        frame: dict[str, Any] = json.loads(reply["body"])
        assert frame.get("request_id") == request_id, frame
        return frame

    # --- queues: this test is the event source mapping -----------------------------------------

    def take(self, queue_name: str, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The message a producer sent (ReceiveMessage as the event source mapping asks for it);
        other messages are made visible again at once."""
        queue = self.stack.queues[queue_name]
        for _ in range(RECEIVE_ATTEMPTS):
            received = self.sqs.receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            found = None
            for message in received.get("Messages", []):
                if found is None and wanted(json.loads(message["Body"])):
                    found = message
                else:
                    self.sqs.change_message_visibility(
                        QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            if found is not None:
                return dict(found)
        raise AssertionError(f"the producer's message is not on the {queue_name} queue")

    def deliver(self, queue_name: str, message: dict[str, Any]) -> Any:
        """The SQS event of one record to the queue's consumer; the record is deleted once handled."""
        queue = self.stack.queues[queue_name]
        event = events.sqs_event([message], source_arn=queue.arn, region=self.stack.options.region)
        consumer = manifest.queue_consumer(queue_name).name
        reply = self.invoke(consumer, event, f"SQS {queue_name}: {message['Body']}")
        assert reply == {"batchItemFailures": []}
        self.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        return reply

    def delayed(self, queue_name: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.queues[queue_name].url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])

    # --- the platform's own steps, each done once ----------------------------------------------

    @cached_property
    def question_set(self) -> dict[str, Any]:
        body, content_type = multipart_body(
            {"name": "Acceptance"}, "acceptance.json", json.dumps(QUESTION_SET).encode()
        )
        status, created = self.http("question_sets", "POST", "/api/question-sets", body=body, content_type=content_type)
        assert status == 201, created
        assert (created["name"], created["question_count"]) == ("Acceptance", len(QUESTION_SET["questions"]))
        return dict(created)

    def open_run(self, name: str) -> dict[str, Any]:
        status, created = self.http(
            "signon",
            "POST",
            "/api/signon/speedruns",
            json_body={"question_set_id": self.question_set["id"], "name": name},
        )
        assert status == 201, created
        assert created["ws_url"] == self.stack.ws_url
        return dict(created)

    def join(self, run: dict[str, Any], name: str) -> dict[str, Any]:
        status, joined = self.http(
            "signon", "POST", "/api/signon/join", json_body={"join_code": run["join_code"], "name": name}, token=None
        )
        assert status == 201, joined
        assert joined["speedrun_id"] == run["speedrun_id"]
        return dict(joined)

    @cached_property
    def lobby(self) -> dict[str, Any]:
        return self.open_run("Acceptance: lobby")

    @cached_property
    def running_run(self) -> tuple[dict[str, Any], events.WebSocketClient, dict[str, Any]]:
        """Opened and started by its host, nobody acting: the deadline `start` armed is on its queue."""
        run = self.open_run("Acceptance: idle")
        host = self.connect(run["host_token"])
        started = self.send(host, "start")
        assert started["type"] == "started", started
        return run, host, started

    @cached_property
    def played_run(self) -> dict[str, Any]:
        """One participant answers the first question right, then the host ends the run."""
        run = self.open_run("Acceptance: played")
        joined = self.join(run, "Ada")
        host = self.connect(run["host_token"])
        player = self.connect(joined["participant_token"])
        assert self.send(host, "start")["type"] == "started"
        first = QUESTION_SET["questions"][0]
        question = self.send(player, "question", index=0)
        assert (question["type"], question["text"]) == ("question", first["text"]), question
        answer = self.send(player, "answer", index=0, selected=first["correct"])
        assert answer["type"] == "answer_result" and answer["correct_options"] == first["correct"], answer
        completed = self.send(host, "end")
        assert (completed["type"], completed["participant_count"]) == ("completed", 1), completed
        return {**run, "participant_id": joined["participant_id"]}

    @cached_property
    def persisted_run(self) -> dict[str, Any]:
        """The completion job `end` sent, handled by the reporter."""
        run = self.played_run
        job = self.take(manifest.COMPLETION_QUEUE, lambda body: body.get("run_id") == run["speedrun_id"])
        assert json.loads(job["Body"]) == {"run_id": run["speedrun_id"]}
        assert job["Attributes"]["MessageDeduplicationId"] == run["speedrun_id"]
        self.deliver(manifest.COMPLETION_QUEUE, job)
        return run

    @cached_property
    def profile_command(self) -> str:
        status, queued = self.http(
            "players_command",
            "PUT",
            f"/api/players/{PLAYER_HANDLE}",
            json_body={"display_name": "Acceptance Player", "avatar": "ok", "bio": "plays one of everything"},
        )
        assert status == 202, queued
        return str(queued["request_id"])


# --- one case per function: the real event its trigger produces, and the reply it must give ----------


def _api_docs(world: World) -> None:
    status, document = world.http("api_docs", "GET", "/api/openapi.json", token=None)
    assert status == 200, document
    assert str(document["openapi"]).startswith("3.1"), document.get("openapi")
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert {(route.method, route.path) for route, _spec in manifest.http_routes()} <= documented


def _question_sets(world: World) -> None:
    created = world.question_set
    status, listed = world.http("question_sets", "GET", "/api/question-sets", query=[("limit", "10")])
    assert status == 200, listed
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    status, shown = world.http("question_sets", "GET", f"/api/question-sets/{created['id']}")
    assert (status, shown) == (200, created)
    # Edits, on a copy (the other steps use the set as uploaded): its content, put back, is its version 2.
    status, copy = world.http("question_sets", "POST", f"/api/question-sets/{created['id']}/copy")
    assert (status, copy["version"]) == (201, 1), copy
    copy_path = f"/api/question-sets/{copy['id']}"
    status, content = world.http("question_sets", "GET", f"{copy_path}/content")
    assert (status, len(content["questions"])) == (200, len(QUESTION_SET["questions"])), content
    body, content_type = multipart_body({}, "content.json", json.dumps(content).encode())
    status, replaced = world.http("question_sets", "PUT", copy_path, body=body, content_type=content_type)
    assert (status, replaced["version"], replaced["name"]) == (200, 2, copy["name"]), replaced
    assert world.http("question_sets", "DELETE", copy_path)[0] == 204
    assert world.http("question_sets", "GET", copy_path)[0] == 404


def _signon(world: World) -> None:
    run = world.lobby
    claims = jwt.decode(run["host_token"], options={"verify_signature": False})
    assert (claims["role"], claims["run"]) == ("host", run["speedrun_id"])
    joined = world.join(run, "Grace")
    assert joined["participant_id"] and joined["participant_token"]


def _ws_authorizer(world: World) -> None:
    run = world.lobby
    client = world.ws_client(run["host_token"])
    decision = world.authorize(client)
    assert decision["context"]["role"] == "host"
    assert decision["context"]["run_id"] == run["speedrun_id"]


def _speedrun(world: World) -> None:
    run = world.lobby
    host = world.connect(run["host_token"])
    state = world.send(host, "sync")
    assert (state["type"], state["role"], state["speedrun_id"], state["status"]) == (
        "state",
        "host",
        run["speedrun_id"],
        "lobby",
    ), state
    assert world.send(host, "ping")["type"] == "pong"
    event = events.websocket_disconnect_event(host, 1000, "Client-side close frame status code '1000' - with reason ''")
    assert world.invoke("speedrun", event, "$disconnect (host, 1000)") == {"statusCode": 200}


def _finalizer(world: World) -> None:
    run, host, started = world.running_run
    deadline = world.take(manifest.DEADLINES_QUEUE, lambda body: body.get("run_id") == run["speedrun_id"])
    assert set(json.loads(deadline["Body"])) == {"run_id", "due_ms"}
    delayed = world.delayed(manifest.DEADLINES_QUEUE)
    world.deliver(manifest.DEADLINES_QUEUE, deadline)
    # Due, but nobody ended the run and its end is later: the finalizer re-arms it for `ends_at`.
    assert world.delayed(manifest.DEADLINES_QUEUE) == delayed + 1
    state = world.send(host, "sync")
    assert (state["status"], state["ends_at"]) == ("running", started["ends_at"]), state


def _fanout(world: World) -> None:
    run = world.played_run
    run_id = run["speedrun_id"]

    def push_of(kind: str) -> Callable[[dict[str, Any]], bool]:
        def wanted(body: dict[str, Any]) -> bool:
            groups = body.get("groups") or []
            return body.get("run_id") == run_id and any(group["message"]["type"] == kind for group in groups)

        return wanted

    # The broadcast `start` handed over: one delivery, the participant its recipient.
    started = world.take(manifest.PUSHES_QUEUE, push_of("started"))
    body = json.loads(started["Body"])
    assert (body["kind"], body["attempt"], len(body["groups"])) == ("push", 0, 1), body
    assert len(body["groups"][0]["to"]) == 1
    world.deliver(manifest.PUSHES_QUEUE, started)  # no socket behind it: 410 Gone, forgotten
    # A flush the run asked for (the join's notification to the host, the answer's board).
    flush = world.take(manifest.PUSHES_QUEUE, lambda body: body == {"kind": "flush", "run_id": run_id})
    world.deliver(manifest.PUSHES_QUEUE, flush)


def _reporter(world: World) -> None:
    run = world.persisted_run
    summary = read_summary(run["speedrun_id"])
    assert (summary["status"], summary["host"]) == ("completed", world.host_claims["sub"]), summary


def _results(world: World) -> None:
    run = world.persisted_run
    status, summary = world.http("results", "GET", f"/api/speedruns/{run['speedrun_id']}")
    assert status == 200, summary
    assert (summary["status"], summary["host"]) == ("completed", world.host_claims["sub"]), summary
    # The in-function route with the run's host token (no Cognito claims: API Gateway verified nothing).
    status, results = world.http(
        "results", "GET", f"/api/speedruns/{run['speedrun_id']}/results", token=run["host_token"]
    )
    assert status == 200, results
    assert (results["type"], results["speedrun_id"], results["participant_count"]) == (
        "results",
        run["speedrun_id"],
        1,
    ), results
    assert results["questions"][0]["correct_answerers"] == [{"participant_id": run["participant_id"], "name": "Ada"}]


def _players_command(world: World) -> None:
    assert world.profile_command


def _players_worker(world: World) -> None:
    request_id = world.profile_command
    command = world.take(manifest.PLAYERS_QUEUE, lambda body: body.get("request_id") == request_id)
    body = json.loads(command["Body"])
    assert (body["kind"], body["handle"], body["owner"]) == ("upsert_profile", PLAYER_HANDLE, world.host_claims["sub"])
    assert command["Attributes"]["MessageGroupId"] == PLAYER_HANDLE
    world.deliver(manifest.PLAYERS_QUEUE, command)
    profile = read_profile(PLAYER_HANDLE)
    assert (profile["handle"], profile["display_name"], profile["version"]) == (PLAYER_HANDLE, "Acceptance Player", 1)


CASES: dict[str, Callable[[World], None]] = {
    "api_docs": _api_docs,
    "question_sets": _question_sets,
    "signon": _signon,
    "ws_authorizer": _ws_authorizer,
    "speedrun": _speedrun,
    "finalizer": _finalizer,
    "fanout": _fanout,
    "reporter": _reporter,
    "results": _results,
    "players_command": _players_command,
    "players_worker": _players_worker,
}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with LocalStack(LocalStackOptions(port=0, examples_dir=None, web_dir=None)) as stack:
        for poller in stack.pollers.values():
            poller.stop()
        sqs = aws.client("sqs", stack.environment["AWS_ENDPOINT_URL"], stack.options.region)
        yield World(stack, sqs, stack.sign_in_host())


def test_every_function_of_the_manifest_has_a_case() -> None:
    assert set(CASES) == {spec.name for spec in manifest.FUNCTIONS}


@pytest.mark.parametrize("spec", manifest.FUNCTIONS, ids=lambda spec: spec.name)
def test_the_function_handles_one_real_event_from_its_assets(world: World, spec: FunctionSpec) -> None:
    assert spec.name in CASES, f"{spec.name}: no real event for this function (add its case to CASES)"
    init = world.stack.init_durations[spec.name]
    assert isinstance(init, float), f"{spec.name}: INIT FAILED at start-up: {init}"
    world.run_case(spec.name)
    handled = world.handled.get(spec.name, [])
    assert handled, f"{spec.name} was never invoked by its case"
    for invocation in handled:
        assert invocation.report.function == spec.name, invocation
        assert invocation.report.error_type is None, invocation
        assert invocation.report.memory_mb == spec.memory_mb, invocation
    errors = [
        log.line
        for log in world.lambdas.logs
        if log.function == spec.name and any(marker in log.line for marker in ERROR_MARKERS)
    ]
    assert not errors, f"{spec.name} logged errors:\n" + "\n".join(errors)


def test_each_function_ran_in_environments_of_its_own_from_its_synthesized_asset(world: World) -> None:
    for spec in manifest.FUNCTIONS:
        world.run_case(spec.name)
    processes: dict[int, str] = {}
    for spec in manifest.FUNCTIONS:
        pool = world.lambdas.pools[spec.name]
        assert pool.definition.code_dir.resolve() != (ROOT / spec.code_dir).resolve()
        assert (pool.definition.code_dir / "handler.py").is_file()
        assert pool.environments, f"{spec.name} has no environment"
        for environment in pool.environments:
            assert environment.function_name == f"{aws.NAME_PREFIX}-{spec.name}"
            assert environment.process is not None
            assert processes.setdefault(environment.process.pid, spec.name) == spec.name
        reported = {report.function for report in world.lambdas.reports}
        assert spec.name in reported
