"""Fixtures shared by every suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

# No test may reach a real AWS account: fake credentials and a fixed region, before boto3 loads.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "testing"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "SpeedRunTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "speedrun-tests")

# Imported after the environment above is in place (they read it when imported).
from speedrun.engine.store import RunEngine  # noqa: E402
from tests.support.durable_stores import MotoQueues, durable_stores  # noqa: E402
from tests.support.played_run import ManualClock  # noqa: E402
from tests.support.redis_server import private_redis  # noqa: E402


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """One private Redis per test session (never the machine's shared instance)."""
    with private_redis() as url:
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """The session's private Redis, emptied before each test."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushall()
    yield redis_server_url
    client.close()


@pytest.fixture
def stores() -> Iterator[MotoQueues]:
    """moto with every table and queue (as the local stack creates them), for the whole test."""
    with durable_stores() as queues:
        yield queues


@pytest.fixture
def engine(redis_url: str) -> RunEngine:
    """The run engine on the test's private Redis, with a manual clock."""
    return RunEngine(redis.Redis.from_url(redis_url, decode_responses=True), clock=ManualClock())
