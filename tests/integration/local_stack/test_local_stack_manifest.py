"""Same manifest everywhere: every function, route and queue the manifest declares is reachable
through the local stack exactly where API Gateway / SQS would deliver it."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from local_stack.client import bearer, http_request, sign_in
from local_stack.gateway import Gateway
from local_stack.process import RunningStack, stack_process
from speedrun import manifest
from tests.support.local_gateway import gateway_alone

GATEWAY_NOT_FOUND = {"message": "Not Found"}


def _concrete(path: str) -> str:
    return re.sub(r"\{([^}+]+)\+?\}", lambda match: f"{match.group(1)}-1", path)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """The gateway's routing tables for the real manifest (no handler is imported or run)."""
    built = gateway_alone()
    yield built


def test_every_http_route_matches_its_function(gateway: Gateway) -> None:
    for route, spec in manifest.http_routes():
        matched = gateway.match(route.method, _concrete(route.path))
        assert matched is not None, route.route_key
        compiled, parameters = matched
        assert (compiled.route, compiled.function) == (route, spec)
        assert set(parameters) == set(re.findall(r"\{([^}+]+)\+?\}", route.path))


def test_every_websocket_route_key_is_routed_to_its_function(gateway: Gateway) -> None:
    assert gateway.ws_routes == dict(manifest.ws_routes())
    assert gateway.ws_authorizer == manifest.ws_authorizer()
    for key, _spec in manifest.ws_routes():
        if not key.startswith("$"):
            assert gateway.select_route(json.dumps({"action": key})) == key
    assert gateway.select_route(json.dumps({"action": "no-such-action"})) == "$default"


def test_every_queue_has_its_consumer() -> None:
    consumers = manifest.queue_consumers(manifest.QUEUES, manifest.FUNCTIONS)
    assert consumers == {queue.name: manifest.queue_consumer(queue.name) for queue in manifest.QUEUES}
    assert all(consumer.queue_trigger == name for name, consumer in consumers.items())


@pytest.fixture(scope="module")
def running() -> Iterator[RunningStack]:
    with stack_process("--no-samples") as stack:
        yield stack


def test_every_http_route_reaches_its_function_on_the_running_stack(running: RunningStack) -> None:
    token = sign_in(running.base_url, running.user_pool_client_id, running.host_username, running.host_password)
    for route, spec in manifest.http_routes():
        data = b"{}" if route.method in ("POST", "PUT") else None
        reply = http_request(
            route.method,
            f"{running.base_url}{_concrete(route.path)}",
            data=data,
            headers={**bearer(token), "content-type": "application/json"},
        )
        body = reply.json() if reply.body.startswith(b"{") else {}
        assert body != GATEWAY_NOT_FOUND, route.route_key
        assert reply.status != 401, f"{route.route_key}: the host's Cognito token was refused"
        # Each function ran from its synthesized asset and answered with its own reply, not a failure.
        assert reply.status < 500, f"{route.route_key} ({spec.name}): {reply.status} {body}"


def test_the_websocket_authorizer_guards_connect_on_the_running_stack(running: RunningStack) -> None:
    async def refused_status() -> int:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(f"{running.ws_url}?token=forged")
        return int(refused.value.response.status_code)

    status = asyncio.run(asyncio.wait_for(refused_status(), 30))
    assert status in (401, 403)
