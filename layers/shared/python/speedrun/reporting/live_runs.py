"""The live side of a host's runs, read from Redis: the per-host index of live runs, and a live run's
summary straight from the engine's keys (read-only: the engine's scripts stay the only writers of a
run's own keys).

**The per-host index** `host:{<host sub>}:runs` is a sorted set whose members are listing keys
(`listing_key`: `<created_at ms>#<run id>`, all with score 0, so it sorts lexicographically, i.e. by
creation time). Sign-on adds a run after opening it; the reporter removes it once the run is durable,
before it drops the live state. On a cluster the index is in its host's slot, not in the run's, so
it cannot be written inside the run's scripts: each write is a round trip of its own, and a run
whose index write was lost (a crash between the two calls) is still served by id, and listed once
persisted. Members whose run is gone (a lobby that expired unstarted, or an index removal
lost after the drop) are found when listed, skipped, and removed then.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from speedrun.engine.keys import RUN_KEY_PARTS, run_keys
from speedrun.engine.scripts import redis_errors_as_unavailable
from speedrun.engine.store import RUN_ID_ALPHABET, RUN_ID_LENGTH
from speedrun.reporting.listing import META_FIELDS, listing_key, listing_of_meta, live_summary, run_id_of

LIVE_RUN_ID = re.compile(f"^[{RUN_ID_ALPHABET}]{{{RUN_ID_LENGTH}}}$")
"""Ids the engine issues; anything else is not looked up in Redis (it could not be a live run, and
a path segment never becomes part of a key name unchecked)."""
SCAN_BATCH = 50
"""Index members read per round trip while filling a page."""


def host_runs_key(host: str) -> str:
    """The per-host index (its own hash tag: a host's runs are spread over every slot)."""
    return f"host:{{{host}}}:runs"


def _meta_key(run_id: str) -> str:
    return run_keys(run_id)[RUN_KEY_PARTS.index("meta")]


def _events_key(run_id: str) -> str:
    return run_keys(run_id)[RUN_KEY_PARTS.index("events")]


class HostRunIndex:
    """Writes of the per-host index (sign-on adds, the reporter removes)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def add(self, host: str, run_id: str, created_at_ms: int) -> None:
        with redis_errors_as_unavailable():
            self.redis.zadd(host_runs_key(host), {listing_key(created_at_ms, run_id): 0})

    def remove(self, host: str, run_id: str, created_at_ms: int) -> None:
        with redis_errors_as_unavailable():
            self.redis.zrem(host_runs_key(host), listing_key(created_at_ms, run_id))


class LiveRunReader:
    """Reads of live runs for the results API. `connect` gives the client on first use, so requests
    the read models answer alone (a persisted run) never need Redis."""

    def __init__(self, redis: Any = None, *, connect: Callable[[], Any] | None = None) -> None:
        if (redis is None) == (connect is None):
            raise ValueError("give a client or a way to connect, not both")
        self._redis = redis
        self._connect = connect

    @property
    def redis(self) -> Any:
        if self._redis is None and self._connect is not None:
            self._redis = self._connect()
        return self._redis

    def summary(self, run_id: str) -> dict[str, Any] | None:
        """The live run's summary (`listing.live_summary`), None when there is no live state (never
        opened, expired, or persisted and dropped). The meta hash and the first event are in the
        run's slot: one pipelined round trip."""
        if not LIVE_RUN_ID.match(run_id):
            return None
        with redis_errors_as_unavailable():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(_meta_key(run_id), list(META_FIELDS))
            pipe.lindex(_events_key(run_id), 0)
            values, first_event = pipe.execute()
        meta = dict(zip(META_FIELDS, values, strict=True))
        if not meta["status"] or not first_event:
            return None
        return live_summary(meta, json.loads(first_event))

    def listing_page(self, host: str, limit: int, before: str | None) -> list[tuple[str, dict[str, Any]]]:
        """Up to `limit` of the host's live runs whose listing key sorts below `before` (all when None),
        newest first, as `(listing key, list entry)`. Members whose run has no live state left are
        removed on the way. The client must decode responses (`redis_from_settings` does)."""
        found: list[tuple[str, dict[str, Any]]] = []
        upper = f"({before}" if before else "+"
        with redis_errors_as_unavailable():
            while len(found) < limit:
                members = self.redis.zrevrangebylex(host_runs_key(host), upper, "-", start=0, num=SCAN_BATCH)
                if not members:
                    break
                stale = self._read_into(found, host, members, limit)
                if stale:
                    self.redis.zrem(host_runs_key(host), *stale)
                if len(members) < SCAN_BATCH:
                    break
                upper = f"({members[-1]}"
        return found[:limit]

    def _read_into(
        self, found: list[tuple[str, dict[str, Any]]], host: str, members: list[str], limit: int
    ) -> list[str]:
        # Each run's meta is in its own slot: a non-transactional pipeline (split per node on a cluster).
        pipe = self.redis.pipeline(transaction=False)
        for member in members:
            pipe.hmget(_meta_key(run_id_of(member)), list(META_FIELDS))
        stale = []
        for member, values in zip(members, pipe.execute(), strict=True):
            meta = dict(zip(META_FIELDS, values, strict=True))
            if not meta["status"]:
                stale.append(member)
            elif meta["host"] == host and len(found) < limit:
                found.append((member, listing_of_meta(run_id_of(member), meta)))
        return stale
