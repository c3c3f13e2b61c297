"""The engine rules tests' fixtures: `sqs` (moto, once per module) and `world` (the engine harness,
the finalizer on its service, every script loaded). A test module imports `rules_sqs` and
`rules_world` to use them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import lambdas.finalizer.handler as finalizer_lambda
from speedrun.engine.scripts import SCRIPT_NAMES, script_source
from tests.support.engine_harness import EngineWorld, engine_queues


@pytest.fixture(scope="module", name="sqs")
def rules_sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


@pytest.fixture(name="world")
def rules_world(redis_url: str, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> EngineWorld:
    world = EngineWorld(redis_url, sqs)
    monkeypatch.setattr(finalizer_lambda, "service_from_settings", lambda: world.service)
    # The server keeps scripts across tests: loading them all here makes a test's Redis round trips
    # the same whichever tests ran before it.
    for name in SCRIPT_NAMES:
        world.redis.script_load(script_source(name))
    return world
