"""One live connection per token on the deployed code path: `lambdas.speedrun.handler` with the real
`ConnectionsPusher` (botocore's apigatewaymanagementapi client) against an @connections endpoint that
answers as API Gateway does: a connection exists only once its `$connect` has returned (before that,
and after a DELETE, POST and DELETE answer 410 GoneException). Handshakes race on one token; the
engine is the real one on the test Redis (issue 17 item 3)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

import lambdas.speedrun.handler as speedrun_lambda
from speedrun.adapters.connections import ConnectionsPusher
from speedrun.engine.service import SpeedRunService
from tests.support.connections_endpoint import connections_endpoint
from tests.support.engine_harness import Client, EngineWorld, engine_queues
from tests.support.fanout import InProcessFanOut

HANDSHAKES = 60


class ManagementApi:
    """@connections of one WebSocket API: registered connections only."""

    def __init__(self) -> None:
        self.registered: set[str] = set()
        self.deleted: list[str] = []
        self.received: dict[str, list[Any]] = {}
        self.attempts: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()

    def register(self, connection_id: str) -> None:
        """What API Gateway does when a `$connect` returned 200."""
        with self.lock:
            self.registered.add(connection_id)

    def live(self, connection_ids: set[str]) -> set[str]:
        with self.lock:
            return self.registered & connection_ids

    def answer(self, method: str, connection_id: str, body: bytes) -> tuple[int, str | None]:
        with self.lock:
            self.attempts[(method, connection_id)] = self.attempts.get((method, connection_id), 0) + 1
            if connection_id not in self.registered:
                return 410, "GoneException"
            if method == "DELETE":
                self.registered.discard(connection_id)
                self.deleted.append(connection_id)
                return 204, None
            self.received.setdefault(connection_id, []).append(json.loads(body))
            return 200, None


@pytest.fixture
def api() -> Iterator[tuple[str, ManagementApi]]:
    management = ManagementApi()
    with connections_endpoint(management, request_queue_size=256) as url:
        yield url, management


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


@pytest.fixture
def world(
    redis_url: str, sqs: Any, api: tuple[str, ManagementApi], monkeypatch: pytest.MonkeyPatch
) -> Iterator[EngineWorld]:
    url, _management = api
    world = EngineWorld(redis_url, sqs)
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(max_pool_connections=32, retries={"total_max_attempts": 1}),
    )
    pusher = ConnectionsPusher(client)
    world.fanout = InProcessFanOut(world.engine, pusher, world.clock)
    world.service = SpeedRunService(world.engine, pusher, world.jobs, world.fanout)
    monkeypatch.setattr(speedrun_lambda, "service_from_settings", lambda: world.service)
    yield world


def handshake(world: EngineWorld, management: ManagementApi, client: Client) -> int:
    """`$connect`, then API Gateway registers the connection if it answered 200."""
    status = world.connect(client)
    if status == 200:
        management.register(client.connection_id)
    return status


def socket_of(client: Client, connection_id: str) -> Client:
    return Client(client.run_id, client.role, client.participant_id, connection_id, client.name, [connection_id])


def test_racing_handshakes_leave_one_live_socket_and_a_kick_closes_it(
    world: EngineWorld, api: tuple[str, ManagementApi]
) -> None:
    _url, management = api
    _run_id, code, host = world.create(3)
    management.register(host.connection_id)
    player = world.join(code, "Racer", connect=False)
    sockets = {f"race-{n:03d}=": socket_of(player, f"race-{n:03d}=") for n in range(HANDSHAKES)}
    barrier = threading.Barrier(HANDSHAKES)
    statuses: list[int] = []

    def connect(socket: Client) -> None:
        barrier.wait()
        statuses.append(handshake(world, management, socket))

    threads = [threading.Thread(target=connect, args=(socket,)) for socket in sockets.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * HANDSHAKES
    ids = set(sockets)
    survivors = management.live(ids)  # the replaced ones whose handshake outlasted every retry
    assert survivors, "the winner is live"

    # every live socket sends a frame: exactly one may act; the others are told why and closed
    replies: dict[str, dict[str, Any]] = {}
    for connection_id in sorted(survivors):
        replies[connection_id] = world.send(sockets[connection_id], "sync", request_id="s")
    able = [cid for cid, reply in replies.items() if reply["type"] == "state"]
    assert len(able) == 1, (len(survivors), replies)
    (winner,) = able
    for connection_id, reply in replies.items():
        if connection_id != winner:
            assert (reply["code"], reply["request_id"]) == ("unauthorized", "s")
            assert management.received[connection_id] == [reply]
    assert management.live(ids) == {winner}
    assert sorted(management.deleted) == sorted(ids - {winner})  # every replaced one, once

    assert world.send(host, "kick", participant_id=player.participant_id)["type"] == "participant_left"
    assert management.live(ids) == set()
    assert world.send(sockets[winner], "sync")["code"] == "forbidden"  # (a frame already in flight)


def test_a_connection_replaced_before_api_gateway_registered_it_is_closed_once_it_is(
    world: EngineWorld, api: tuple[str, ManagementApi]
) -> None:
    """The 410 of a DELETE sent while the replaced connection's `$connect` is still running is not
    the end of it: the DELETE is sent again shortly, and goes through once API Gateway registered it."""
    _url, management = api
    _run_id, code, host = world.create(3)
    management.register(host.connection_id)
    player = world.join(code, "Ada", connect=False)
    first, second = socket_of(player, "first="), socket_of(player, "second=")
    assert world.connect(first) == 200  # admitted by the engine; API Gateway has not registered it yet
    late = threading.Timer(0.1, management.register, args=(first.connection_id,))
    late.start()
    started = time.monotonic()
    assert handshake(world, management, second) == 200
    late.join()
    assert management.deleted == [first.connection_id]
    assert management.attempts[("DELETE", first.connection_id)] >= 2  # 410, then closed
    assert time.monotonic() - started < 2
    assert world.send(second, "sync")["type"] == "state"


def test_close_tells_closed_from_gone(api: tuple[str, ManagementApi]) -> None:
    url, management = api
    management.register("live=")
    pusher = ConnectionsPusher(
        boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1}),
        )
    )
    assert pusher.close("live=") is True
    assert pusher.close("live=") is False  # closed already
    assert pusher.close("connecting=") is False  # not registered yet
    assert management.deleted == ["live="]
