"""A connection outlives its token: from the token's expiry on, the engine answers every frame of it
`unauthorized` and does nothing (the $connect authorizer refuses the token itself)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from speedrun.engine.models import HOST, Caller
from tests.support.engine_harness import EngineWorld, engine_queues


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


def test_from_the_tokens_expiry_on_every_frame_is_unauthorized(redis_url: str, sqs: Any) -> None:
    world = EngineWorld(redis_url, sqs)
    run_id, _join_code, host = world.create()
    caller = Caller(run_id, HOST, None, host.connection_id)
    start = json.dumps({"action": "start", "request_id": "r-1"})
    expired = world.service.handle(caller, "start", start, token_expires_at=world.clock())
    assert expired == {"type": "error", "code": "unauthorized", "message": "the token of this connection has expired"}
    assert world.send(host, "sync")["status"] == "lobby"
    still_valid = world.service.handle(caller, "start", start, token_expires_at=world.clock() + 1)
    assert (still_valid["type"], still_valid["request_id"]) == ("started", "r-1")
