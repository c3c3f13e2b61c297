"""A private Redis for tests: a real `redis-server` on a free port when the binary exists, an
embedded fakeredis server (with Lua) only when it does not. The same mechanism as the local stack's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_stack.redis_backend import free_port, spawn_redis

__all__ = ["free_port", "private_redis"]


@contextmanager
def private_redis(*, persistent_dir: Path | None = None, port: int | None = None) -> Iterator[str]:
    """Yield the URL of a private Redis that lives as long as the context.

    With `persistent_dir`, the server keeps an append-only file there, so a test can stop it and
    start it again on the same port with the data intact (the fault tests do).
    """
    server = spawn_redis(port=port, data_dir=persistent_dir)
    try:
        yield server.url
    finally:
        server.stop()
