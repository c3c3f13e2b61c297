"""Join-flood protection: at most N joins per source IP per minute, counted in Redis.

A fixed window (the epoch minute) keeps it to one round trip per join: INCR the window's counter
and (re)set its expiry in one pipeline. A burst straddling two windows may get up to 2N through;
the point is to stop a script filling a run with fake participants, not exact metering.
"""

from __future__ import annotations

from collections.abc import Callable

from speedrun.clock import now_ms
from speedrun.errors import RateLimited
from speedrun.redis_client import RedisClient

WINDOW_MS = 60_000
KEY_TTL_S = 120
"""Longer than a window, so a counter never expires while its window is current."""


def join_window_key(source_ip: str, window: int) -> str:
    return f"joins:{source_ip}:{window}"


class JoinRateLimiter:
    def __init__(self, redis: RedisClient, *, per_minute: int, clock: Callable[[], int] = now_ms) -> None:
        self.redis = redis
        self.per_minute = per_minute
        self.clock = clock

    def admit(self, source_ip: str) -> None:
        """Counts one join from `source_ip`; RateLimited (429) once it is over the minute's limit."""
        key = join_window_key(source_ip, self.clock() // WINDOW_MS)
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, KEY_TTL_S)
        count, _ = pipeline.execute()
        if int(count) > self.per_minute:
            raise RateLimited(f"at most {self.per_minute} joins per minute from one address; try again shortly")
