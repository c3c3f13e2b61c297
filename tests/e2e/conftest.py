"""The running local stack for end-to-end tests (WebSocket bots here, a browser in test_browser_run.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.process import RunningStack, stack_process


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    """`python -m local_stack run` on a free port in a child process (its own Redis, moto and handlers).

    Yields `.base_url`, `.ws_url`, `.host_username`, `.host_password` (plus the Cognito pool and client
    ids and `.log()`, the stack's output, for failure messages).
    """
    with stack_process("--no-samples") as stack:
        yield stack
