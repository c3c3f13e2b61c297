"""The local stack in a child process (`python -m local_stack run --port 0 --ready-file ...`), for
tests that need it isolated from their own process: the handlers it runs cache clients and settings
per process, exactly as on Lambda."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RunningStack:
    base_url: str
    ws_url: str
    host_username: str
    host_password: str
    user_pool_id: str
    user_pool_client_id: str
    log_path: Path
    pid: int
    """The stack's process (tests read its memory use)."""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def stack_process(*extra_args: str, start_timeout_s: float = START_TIMEOUT_S) -> Iterator[RunningStack]:
    with tempfile.TemporaryDirectory(prefix="speedrun-stack-") as scratch:
        ready_file = Path(scratch) / "ready.json"
        log_path = Path(scratch) / "stack.log"
        python_path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])
        env = {**os.environ, "PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "local_stack", "run", "--port", "0", "--ready-file", str(ready_file)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
                [*command, *extra_args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + start_timeout_s
            while not ready_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local stack did not start:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.1)
            ready = json.loads(ready_file.read_text())
            yield RunningStack(
                base_url=ready["base_url"],
                ws_url=ready["ws_url"],
                host_username=ready["host_username"],
                host_password=ready["host_password"],
                user_pool_id=ready["user_pool_id"],
                user_pool_client_id=ready["user_pool_client_id"],
                log_path=log_path,
                pid=process.pid,
            )
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
