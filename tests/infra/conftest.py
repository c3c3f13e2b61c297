"""One synthesis of the stack per test session and mode (the layer build is cached; synth ~15 s)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra import names
from tests.infra.infra_template import Synth, synthesize

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

NODES_WAF_RATE_LIMIT = 2000


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The stack as cdk.json configures it (serverless cache, stage dev)."""
    yield synthesize(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="session")
def synth_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The stack with `cache_mode=nodes`, another stage name, WAF logging on and another WAF rate limit."""
    yield synthesize(
        tmp_path_factory.mktemp("cdk-out-nodes"),
        context={
            names.CTX_CACHE_MODE: names.CACHE_MODE_NODES,
            names.CTX_STAGE: "qa",
            names.CTX_NAT_GATEWAYS: 2,
            names.CTX_WAF_LOGGING: True,
            names.CTX_WAF_RATE_LIMIT: NODES_WAF_RATE_LIMIT,
        },
    )
