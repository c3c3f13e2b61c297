"""The live-state Redis of the local stack: `REDIS_URL` when set, else a private `redis-server`
subprocess on a free port, else an embedded fakeredis server (with Lua) in this process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from fakeredis import TcpFakeServer


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class LocalRedis:
    url: str
    description: str
    _process: subprocess.Popen[bytes] | None = None
    _embedded: Any = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        if self._embedded is not None:
            self._embedded.shutdown()
            self._embedded.server_close()


def spawn_redis(*, port: int | None = None, data_dir: Path | None = None) -> LocalRedis:
    """A private Redis on `port` (a free one by default): a `redis-server` subprocess when the binary
    exists, else an embedded fakeredis server. With `data_dir`, redis-server keeps an append-only file
    there (fsync on every write), so it can be stopped and started again on the same port with its data."""
    port = port or free_port()
    url = f"redis://127.0.0.1:{port}/0"
    binary = shutil.which("redis-server")
    if binary is not None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(data_dir)]
            if data_dir
            else ["--appendonly", "no"]
        )
        process = subprocess.Popen(  # noqa: S603 (the redis-server found on PATH, fixed arguments)
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *persistence, "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_ready(url)
        kept = f", append-only file in {data_dir}" if data_dir else ", in memory"
        return LocalRedis(url, f"redis-server subprocess on port {port}{kept}", _process=process)
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, name="fakeredis", daemon=True)
    thread.start()
    wait_until_ready(url)
    return LocalRedis(
        url, f"embedded fakeredis on port {port} (no redis-server binary found; in memory)", _embedded=server
    )


def start_redis(url_from_env: str | None, data_dir: Path | None) -> LocalRedis:
    """The local stack's Redis: `REDIS_URL` when set, else a private one (see `spawn_redis`)."""
    if url_from_env:
        wait_until_ready(url_from_env)
        return LocalRedis(url_from_env, f"external Redis at {url_from_env} (REDIS_URL)")
    return spawn_redis(data_dir=data_dir)
