"""The @connections pusher against a real HTTP endpoint (moto never answers 410 Gone) and botocore's
Stubber: stale connections, throttling, one serialization per distinct message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from speedrun.adapters import connections
from speedrun.adapters.connections import ConnectionsPusher, Push, RateLimiter
from tests.support.connections_endpoint import connections_endpoint


class FakeConnectionsApi:
    """An @connections endpoint: 410 for gone ids, a LimitExceeded budget per id, 200 otherwise."""

    def __init__(self, gone: set[str], throttle_first: dict[str, int] | None = None) -> None:
        self.gone = gone
        self.throttle_left = dict(throttle_first or {})
        self.received: dict[str, list[Any]] = {}
        self.deleted: list[str] = []
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()

    def answer(self, method: str, connection_id: str, body: bytes) -> tuple[int, str | None]:
        with self.lock:
            self.attempts[connection_id] = self.attempts.get(connection_id, 0) + 1
            if connection_id in self.gone:
                return 410, "GoneException"
            if self.throttle_left.get(connection_id, 0) > 0:
                self.throttle_left[connection_id] -= 1
                return 429, "LimitExceededException"
            if method == "DELETE":
                self.deleted.append(connection_id)
            else:
                self.received.setdefault(connection_id, []).append(json.loads(body))
            return 200, None


@pytest.fixture
def endpoint() -> Iterator[tuple[str, FakeConnectionsApi]]:
    api = FakeConnectionsApi(gone=set())
    # The backlog: the pusher opens up to max_workers connections at once.
    with connections_endpoint(api, request_queue_size=128) as url:
        yield url, api


def real_client(url: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(max_pool_connections=32, retries={"total_max_attempts": 1}),
    )


def test_thirty_percent_gone_others_all_receive(endpoint: tuple[str, FakeConnectionsApi]) -> None:
    url, api = endpoint
    ids = [f"conn-{n:03d}=" for n in range(100)]
    api.gone = set(ids[::10] + ids[1::10] + ids[2::10])  # 30 of 100
    message = {"type": "leaderboard", "entries": [], "participant_count": 70}

    report = ConnectionsPusher(real_client(url), max_workers=16).send([Push(cid, message) for cid in ids])

    assert report.sent == 70
    assert sorted(report.gone) == sorted(api.gone)
    assert report.failed == []
    assert set(api.received) == set(ids) - api.gone
    assert all(bodies == [message] for bodies in api.received.values())


def test_limit_exceeded_twice_then_delivered(endpoint: tuple[str, FakeConnectionsApi]) -> None:
    url, api = endpoint
    api.throttle_left = {"slow=": 2}
    sleeps: list[float] = []
    pusher = ConnectionsPusher(real_client(url), sleep=sleeps.append, jitter=lambda: 1.0)

    report = pusher.send([Push("slow=", {"type": "pong"}), Push("fast=", {"type": "pong"})])

    assert report.sent == 2
    assert api.attempts == {"slow=": 3, "fast=": 1}
    assert api.received["slow="] == [{"type": "pong"}]
    assert sleeps == [connections.BACKOFF_BASE_S, connections.BACKOFF_BASE_S * 2]  # exponential, full jitter at 1.0


def test_throttled_beyond_the_attempt_budget_is_retryable_not_raised(endpoint: tuple[str, FakeConnectionsApi]) -> None:
    url, api = endpoint
    api.throttle_left = {"stuck=": 100}
    pusher = ConnectionsPusher(real_client(url), max_attempts=4, sleep=lambda _s: None)

    report = pusher.send([Push("stuck=", {"type": "pong"}), Push("ok=", {"type": "pong"})])

    assert report.sent == 1
    assert report.retryable == ["stuck="]  # the fan-out queues it again later
    assert report.failed == [] and report.gone == []
    assert report.throttled_calls == 4
    assert api.attempts["stuck="] == 4


def test_a_paced_pusher_never_exceeds_its_rate(endpoint: tuple[str, FakeConnectionsApi]) -> None:
    url, _api = endpoint
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pace = RateLimiter(100, burst=5, clock=lambda: now[0], sleep=sleep)
    pusher = ConnectionsPusher(real_client(url), max_workers=1, pace=pace)
    report = pusher.send([Push(f"c{n}=", {"type": "pong"}) for n in range(105)])
    assert report.sent == 105
    # 5 at once (the burst), then 100 more at 100 a second: a second of simulated time
    assert 0.99 <= now[0] <= 1.01


def test_one_serialization_per_distinct_message(endpoint: tuple[str, FakeConnectionsApi]) -> None:
    url, api = endpoint
    broadcast = {"type": "started", "started_at": 1, "ends_at": 2, "question_count": 3, "question_duration_s": 20}
    direct = {"type": "state", "role": "host"}
    pushes = [Push(f"c{n}", broadcast) for n in range(40)] + [Push("host", direct)]

    with mock.patch.object(connections.json, "dumps", wraps=json.dumps) as dumps:
        report = ConnectionsPusher(real_client(url)).send(pushes)

    assert dumps.call_count == 2
    assert report.sent == 41
    assert api.received["host"] == [direct]


def test_compact_json_on_the_wire() -> None:
    assert connections.encode_message({"type": "message", "content": "héllo"}) == (
        '{"type":"message","content":"héllo"}'.encode()
    )


def test_close_deletes_and_ignores_gone(endpoint: tuple[str, FakeConnectionsApi]) -> None:
    url, api = endpoint
    api.gone = {"stale="}
    pusher = ConnectionsPusher(real_client(url))
    pusher.close("live=")
    pusher.close("stale=")
    assert api.deleted == ["live="]


def test_close_raises_other_errors() -> None:
    client = real_client("https://example.invalid/test")
    with Stubber(client) as stubber:
        stubber.add_client_error("delete_connection", "ForbiddenException", http_status_code=403)
        with pytest.raises(client.exceptions.ForbiddenException):
            ConnectionsPusher(client).close("c1")


def test_other_errors_are_counted_and_do_not_stop_the_broadcast() -> None:
    client = real_client("https://example.invalid/test")
    with Stubber(client) as stubber:
        stubber.add_client_error("post_to_connection", "ForbiddenException", http_status_code=403)
        report = ConnectionsPusher(client).send([Push("c1", {"type": "pong"})])
        stubber.assert_no_pending_responses()
    assert report.sent == 0
    assert report.failed == ["c1"]


def test_nothing_to_send_makes_no_call() -> None:
    client = real_client("https://example.invalid/test")
    with Stubber(client):
        assert ConnectionsPusher(client).send([]).sent == 0
