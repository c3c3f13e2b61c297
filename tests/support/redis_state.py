"""Comparable snapshots of Redis keys, by value.

`DUMP` bytes are not a stable fingerprint: Redis rehashes large hashes incrementally (on access and
in its background cron), and a hash serializes its fields in bucket order, so the same contents
can dump differently a moment later. Tests that prove "nothing changed" compare contents instead:
every field and member, canonically ordered, plus the absolute expiry time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis


def key_contents(client: redis.Redis, key: Any) -> tuple[Any, Any, int]:
    """(type, contents, absolute expiry in ms or -1) of one key; a missing key is ("none", None, -2)."""
    kind = client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    value: Any
    if kind == "hash":
        value = sorted(client.hgetall(key).items())
    elif kind == "list":
        value = client.lrange(key, 0, -1)
    elif kind == "zset":
        value = client.zrange(key, 0, -1, withscores=True)
    elif kind == "set":
        value = sorted(client.smembers(key))
    elif kind == "string":
        value = client.get(key)
    elif kind == "stream":
        value = client.xrange(key)
    elif kind == "none":
        value = None
    else:
        raise AssertionError(f"no reader for Redis type {kind!r}")
    return kind, value, int(client.pexpiretime(key))


def contents(client: redis.Redis, keys: Iterable[Any]) -> dict[Any, tuple[Any, Any, int]]:
    return {key: key_contents(client, key) for key in keys}
