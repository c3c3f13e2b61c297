"""The engine's test world: the real engine and service on the test Redis (behind a command
counter), moto SQS queues, an injected clock, the recording pusher (tests.support.fakes), the
fan-out in this process (tests.support.fanout: deliveries posted after the frame's reply, coalesced
ones when due), and WebSocket events shaped like API Gateway's (`handshake_event`, `frame_event`,
built by local_stack.events) fed to `lambdas.speedrun.handler`."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from unittest import mock

import boto3
import redis
from moto import mock_aws

import lambdas.speedrun.handler as speedrun_lambda
from local_stack.events import (
    WebSocketClient,
    websocket_connect_event,
    websocket_disconnect_event,
    websocket_message_event,
)
from speedrun import manifest
from speedrun.adapters.queues import JobQueues
from speedrun.engine.keys import join_code_key, run_keys
from speedrun.engine.models import HOST, PARTICIPANT, FrozenQuestion, RunConfig
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from tests.support import redis_state
from tests.support.fakes import FakeLambdaContext, RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.played_run import START_MS, ManualClock


class RecordingSqs:
    """The SQS client, plus a record of every message sent (moto hides delayed messages until due)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> Any:
        self.sent.append(kwargs)
        return self._client.send_message(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def deadlines(self) -> list[tuple[dict[str, Any], int]]:
        """(body, delay in seconds) of every deadline scheduled so far."""
        url = os.environ[manifest.queue_env(manifest.DEADLINES_QUEUE)]
        return [(json.loads(m["MessageBody"]), m["DelaySeconds"]) for m in self.sent if m["QueueUrl"] == url]


class CountingRedis(redis.Redis):
    """Counts the commands (each one a network round trip) the engine sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]).upper())
        return super().execute_command(*args, **options)


@contextmanager
def engine_queues() -> Iterator[Any]:
    """moto SQS (started once: it is slow to start) for `fresh_queues`; restores the environment."""
    with mock_aws(), mock.patch.dict(os.environ):
        yield boto3.client("sqs", region_name="us-east-1")


_queue_generation = itertools.count(1)


def fresh_queues(sqs: Any) -> None:
    """New empty queues for the manifest's queues; their URLs in the environment as the CDK app sets them."""
    generation = next(_queue_generation)
    for spec in manifest.QUEUES:
        name = f"{spec.name}-{generation}"
        attributes = {"FifoQueue": "true"} if spec.fifo else {}
        url = sqs.create_queue(QueueName=f"{name}.fifo" if spec.fifo else name, Attributes=attributes)["QueueUrl"]
        os.environ[manifest.queue_env(spec.name)] = url


def drain(sqs: Any, queue_name: str) -> list[dict[str, Any]]:
    """Every message body waiting on a queue (received once, so a second drain sees only new ones)."""
    url = os.environ[manifest.queue_env(queue_name)]
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
        if not messages:
            return bodies
        bodies += [json.loads(m["Body"]) for m in messages]


def make_questions(count: int, *, options: int = 4) -> list[FrozenQuestion]:
    """Every third question wants two options (multi-select)."""
    return [
        FrozenQuestion(
            index=i,
            category=f"cat-{i % 2}",
            text=f"Question {i}?",
            options=[f"option {i}.{k}" for k in range(options)],
            correct=[i % options, (i + 1) % options] if i % 3 == 2 else [(i * 3) % options],
            explanation=None,
        )
        for i in range(count)
    ]


def run_config(**overrides: Any) -> RunConfig:
    config = RunConfig(
        host="host-sub",
        name="Engine run",
        question_set_id="set-1",
        question_set_version=1,
        question_duration_s=20,
        duration_s=600,
        max_participants=1000,
        chat=True,
        shuffle=False,
        categories=None,
    )
    return replace(config, **overrides)


@dataclass
class Client:
    run_id: str
    role: str
    participant_id: str | None
    connection_id: str
    name: str = "host"
    connections: list[str] = field(default_factory=list)

    @property
    def authorizer(self) -> dict[str, Any]:
        principal = f"{self.run_id}:{self.participant_id or 'host'}"
        return {
            "role": self.role,
            "run_id": self.run_id,
            "participant_id": self.participant_id or "",
            "token_id": f"jti-{principal}",
            "principalId": principal,
        }


_WEBSOCKET_DOMAIN = "ws.example.test"


def handshake_event(client: Client, route_key: str, now: int) -> dict[str, Any]:
    """The event API Gateway invokes the speed-run function with for `client`'s `$connect` or
    `$disconnect` (a going-away close) at `now` (ms)."""
    connection = _websocket_client(client, now)
    if route_key == "$connect":
        return websocket_connect_event(connection, at_ms=now)
    if route_key == "$disconnect":
        return websocket_disconnect_event(connection, 1001, "Going away", at_ms=now)
    raise ValueError(f"not a handshake route: {route_key}")


def frame_event(client: Client, route_key: str, now: int, body: str) -> dict[str, Any]:
    """The event API Gateway invokes the speed-run function with for a frame (`body`, the text
    `client` sent) routed to `route_key` at `now` (ms)."""
    return websocket_message_event(_websocket_client(client, now), route_key, body, at_ms=now)


def _websocket_client(client: Client, now: int) -> WebSocketClient:
    """What API Gateway knows about `client`'s connection; it connected at `now`, as every event of
    it says (the engine reads only the connection id, route and authorizer context)."""
    return WebSocketClient(
        connection_id=client.connection_id,
        source_ip="127.0.0.1",
        user_agent="engine-tests",
        domain_name=_WEBSOCKET_DOMAIN,
        connected_at_ms=now,
        headers=[("Host", _WEBSOCKET_DOMAIN)],
        authorizer=client.authorizer,
    )


class EngineWorld:
    def __init__(self, redis_url: str, sqs: Any, *, client: redis.Redis | None = None) -> None:
        """On the Redis at `redis_url`, or on `client` (fakeredis) when given."""
        self.clock = ManualClock(START_MS)
        # a blocking pool: the racing tests run 200 threads, more than a default pool holds
        pool = redis.BlockingConnectionPool.from_url(redis_url, decode_responses=True, max_connections=64, timeout=30)
        self.redis = CountingRedis(connection_pool=pool)
        self.raw_redis = redis.Redis.from_url(redis_url)
        self.sqs = RecordingSqs(sqs)
        fresh_queues(sqs)
        self.engine = RunEngine(client or self.redis, clock=self.clock)
        self.pusher = RecordingPusher()
        self.jobs = JobQueues(self.sqs, clock=self.clock)
        # The fan-out function is a process of its own: its Redis calls are not the action's.
        fanout_redis = client or redis.Redis(connection_pool=pool)
        self.fanout = InProcessFanOut(RunEngine(fanout_redis, clock=self.clock), self.pusher, self.clock)
        self.service = SpeedRunService(self.engine, self.pusher, self.jobs, self.fanout)
        self.context = FakeLambdaContext()
        self._connections = 0

    # --- set-up -------------------------------------------------------------------------------

    def create(self, questions: int | Sequence[FrozenQuestion] = 3, **config: Any) -> tuple[str, str, Client]:
        """A run of `questions` made-up questions, or of the given ones; the host connected."""
        frozen = make_questions(questions) if isinstance(questions, int) else questions
        created = self.engine.create_run(run_config(**config), frozen)
        host = Client(created.run_id, HOST, None, self._new_connection_id())
        assert self.connect(host) == 200
        return created.run_id, created.join_code, host

    def join(self, join_code: str, name: str, handle: str | None = None, *, connect: bool = True) -> Client:
        joined = self.engine.join(join_code, name, handle)
        if joined.flush_in_ms is not None:  # what sign-on does
            self.fanout.request_flush(joined.run_id, joined.flush_in_ms)
        self.fanout.run_due()
        client = Client(joined.run_id, PARTICIPANT, joined.participant_id, self._new_connection_id(), name)
        if connect:
            assert self.connect(client) == 200
        return client

    def _new_connection_id(self) -> str:
        self._connections += 1
        return f"conn-{self._connections:04d}="

    # --- the handler, as API Gateway calls it ---------------------------------------------------

    def connect(self, client: Client) -> int:
        status = int(self._invoke(handshake_event(client, "$connect", self.clock()))["statusCode"])
        if status == 200:
            client.connections.append(client.connection_id)
        self.fanout.run_due()
        return status

    def reconnect(self, client: Client) -> int:
        client.connection_id = self._new_connection_id()
        return self.connect(client)

    def disconnect(self, client: Client) -> int:
        return int(self._invoke(handshake_event(client, "$disconnect", self.clock()))["statusCode"])

    def send_raw(self, client: Client, route_key: str, body: str) -> dict[str, Any]:
        """One frame through the handler; the direct reply lands in the sender's inbox before the
        pushes the action handed to the fan-out (posted next, those due at once)."""
        response = self._invoke(frame_event(client, route_key, self.clock(), body))
        assert response["statusCode"] == 200
        reply: dict[str, Any] = json.loads(response["body"])
        self.pusher.inbox.setdefault(client.connection_id, []).append(reply)
        self.fanout.run_due()
        return reply

    def send(self, client: Client, action: str, **fields: Any) -> dict[str, Any]:
        route_key = action if action in self.service.actions else "$default"
        return self.send_raw(client, route_key, json.dumps({"action": action, **fields}))

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with mock.patch.object(speedrun_lambda, "service_from_settings", lambda: self.service):
            return dict(speedrun_lambda.handler(event, self.context))

    def settle(self) -> int:
        """Advance the clock to every pending fan-out delivery (the coalesced pushes' flushes) and
        post it, until none is left; returns how many were delivered."""
        return self.fanout.settle(self.clock.advance_to)

    # --- observation --------------------------------------------------------------------------

    def received(self, client: Client) -> list[dict[str, Any]]:
        """Everything the client was told, over every connection it had, in order."""
        return [frame for conn in client.connections for frame in self.pusher.inbox.get(conn, [])]

    def dump(self, run_id: str) -> dict[Any, tuple[Any, Any, int]]:
        """Every key of the run (and its join code) by value (see tests.support.redis_state); equal
        dumps mean equal state."""
        keys = run_keys(run_id)
        code = self.redis.hget(keys[0], "join_code")
        if code:
            keys.append(join_code_key(str(code)))
        return redis_state.contents(self.raw_redis, keys)
