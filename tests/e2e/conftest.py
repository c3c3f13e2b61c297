"""The running local stack for end-to-end tests, and a Chromium for the browser tests (test_browser_*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from local_stack.process import RunningStack, stack_process
from tests.e2e.test_browser_run import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    """`python -m local_stack run` on a free port in a child process (its own Redis, moto and handlers).

    Yields `.base_url`, `.ws_url`, `.host_username`, `.host_password` (plus the Cognito pool and client
    ids and `.log()`, the stack's output, for failure messages).
    """
    with stack_process("--no-samples") as stack:
        yield stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's, `scripts/ensure-browser.sh`), one per test module."""
    assert CHROMIUM.exists(), "Chromium is missing: run `bash scripts/ensure-browser.sh`"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
