"""`make smoke` as a user runs it: the real make target in a subprocess, against the session's local stack
(the same client works against a CloudFront deployment; here the stack's config.json points it at the
stack's own Cognito emulation)."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

from local_stack.process import RunningStack
from tests.e2e.smoke import STEPS

ROOT = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT_S = 300
"""Bounded waits inside the client add up to well under this; it only guards against a hang."""


def make_smoke(*variables: str, timeout_s: float = SMOKE_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "smoke", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def report(result: subprocess.CompletedProcess[str], stack: RunningStack | None = None) -> str:
    text = f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr[-4000:]}"
    if stack is not None:
        text += f"\n--- local stack output ---\n{stack.log()[-8000:]}"
    return text


def step_lines(stdout: str) -> dict[str, str]:
    """Step -> its PASS/FAIL/SKIP line."""
    lines = {}
    for line in stdout.splitlines():
        found = re.match(r"^(PASS|FAIL|SKIP) ([a-z-]+)\b", line)
        if found:
            lines[found.group(2)] = line
    return lines


@pytest.mark.e2e
def test_make_smoke_passes_every_step_against_the_local_stack(local_stack: RunningStack) -> None:
    result = make_smoke(
        f"BASE_URL={local_stack.base_url}",
        f"USER={local_stack.host_username}",
        f"PASSWORD={local_stack.host_password}",
    )
    assert result.returncode == 0, report(result, local_stack)
    lines = step_lines(result.stdout)
    assert list(lines) == list(STEPS), report(result, local_stack)
    for step, line in lines.items():
        assert re.match(rf"^PASS {re.escape(step)} \(\d+ ms\)", line), report(result, local_stack)
    assert "FAIL" not in result.stdout and "SKIP" not in result.stdout
    assert f"all {len(STEPS)} steps passed" in result.stdout
    assert local_stack.host_password not in result.stdout + result.stderr, "the password is never printed"


@pytest.mark.e2e
def test_make_smoke_with_a_wrong_password_fails_at_sign_in(local_stack: RunningStack) -> None:
    result = make_smoke(
        f"BASE_URL={local_stack.base_url}",
        f"USER={local_stack.host_username}",
        "PASSWORD=not-the-password-1A!",
    )
    assert result.returncode != 0, report(result, local_stack)
    lines = step_lines(result.stdout)
    assert lines["config"].startswith("PASS config ("), report(result)
    assert lines["sign-in"].startswith("FAIL sign-in: "), report(result)
    assert "Incorrect username or password" in lines["sign-in"], report(result)
    later = STEPS[STEPS.index("sign-in") + 1 :]
    assert [lines[step] for step in later] == [f"SKIP {step}" for step in later], report(result)


def test_make_smoke_says_what_is_missing() -> None:
    result = make_smoke("USER=host", "PASSWORD=x", timeout_s=120)
    assert result.returncode != 0
    assert "BASE_URL is missing" in result.stderr, report(result)
    result = make_smoke("BASE_URL=http://127.0.0.1:1", "USER=host", timeout_s=120)
    assert result.returncode != 0
    assert "PASSWORD is missing" in result.stderr, report(result)
    result = make_smoke("BASE_URL=http://127.0.0.1:1", "PASSWORD=x", timeout_s=120)
    assert result.returncode != 0
    assert "USER is missing" in result.stderr, "the login name in the environment is not taken for the host user"


def test_make_smoke_against_an_unreachable_host_fails_at_config() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = make_smoke(f"BASE_URL=http://127.0.0.1:{port}", "USER=host", "PASSWORD=x", timeout_s=120)
    assert result.returncode != 0
    lines = step_lines(result.stdout)
    assert lines["config"].startswith("FAIL config: "), report(result)
    assert "cannot reach" in lines["config"], report(result)
    assert all(lines[step] == f"SKIP {step}" for step in STEPS[1:]), report(result)
