"""The shared Redis client under more concurrent callers than its pool holds, as in the local stack,
which runs every handler in one process on many threads: callers wait for a free connection rather
than failing (redis-py's default pool raises MaxConnectionsError past 100), and the server never
sees more connections than the pool's bound."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from speedrun import manifest
from speedrun.adapters.redis_client import redis_from_settings
from speedrun.settings import Settings

CALLERS = 200
HOLD_S = 0.2
"""Each caller holds its connection this long (a BLPOP that times out), so all 200 overlap."""


def test_more_callers_than_connections_all_succeed_within_the_pool_bound(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(manifest.REDIS_URL_ENV, redis_url)
    client = redis_from_settings(Settings())
    assert isinstance(client, redis.Redis)  # not cluster mode (REDIS_CLUSTER unset)
    # One connection, shared under a lock: the observer must not add connections of its own.
    observer = redis.Redis.from_url(redis_url, single_connection_client=True)
    observing = threading.Lock()
    baseline_clients = int(observer.info("clients")["connected_clients"])
    peak_clients = 0

    def hold(number: int) -> object:
        nonlocal peak_clients
        reply = client.blpop([f"{{pool-test}}:empty:{number}"], timeout=HOLD_S)
        with observing:
            peak_clients = max(peak_clients, int(observer.info("clients")["connected_clients"]))
        return reply

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        replies = list(pool.map(hold, range(CALLERS)))

    assert replies == [None] * CALLERS
    pool_bound = client.connection_pool.max_connections
    assert pool_bound < CALLERS
    # Connections beyond the baseline (the observer, the fixture's) are the pool's, never more than its bound.
    assert 1 < peak_clients - baseline_clients <= pool_bound
    observer.close()
