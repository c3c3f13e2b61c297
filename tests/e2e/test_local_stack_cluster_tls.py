"""`make run ARGS=--redis-cluster-tls`: the whole platform with the cache as deployed (a three-node
Redis Cluster, TLS only, an ACL user whose secret the functions read), played end to end by the
smoke client (a whole run: upload, sign-on, 5 participants over WebSockets, results, CSV)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest

from local_stack.process import RunningStack, stack_process
from tests.e2e.smoke import parse_args, run_smoke


@pytest.fixture(scope="module")
def cluster_stack() -> Iterator[RunningStack]:
    with stack_process("--no-samples", "--redis-cluster-tls") as stack:
        yield stack


def test_a_whole_run_plays_on_the_cluster_with_tls_and_the_cache_user(cluster_stack: RunningStack) -> None:
    assert "TLS Redis Cluster" in cluster_stack.log()
    options = parse_args(
        [
            "--base-url",
            cluster_stack.base_url,
            "--user",
            cluster_stack.host_username,
            "--password",
            cluster_stack.host_password,
        ]
    )
    printed = io.StringIO()
    exit_code = asyncio.run(run_smoke(options, out=printed))
    output = printed.getvalue()
    assert exit_code == 0, f"{output}\n--- stack ---\n{cluster_stack.log()[-6000:]}"
    assert "all 9 steps passed" in output
