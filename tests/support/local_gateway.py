"""The local stack's gateway alone: its routing and static serving for the real manifest, with a
Lambda service that never starts a function (no handler is imported or run)."""

from __future__ import annotations

from pathlib import Path

from local_stack.gateway import Gateway
from local_stack.runtime.environment import Launch
from local_stack.runtime.service import LambdaService
from speedrun import manifest

ROOT = Path(__file__).resolve().parents[2]


def gateway_alone(*, image_dir: Path | None = None) -> Gateway:
    never_started = LambdaService(
        {}, {}, launch=Launch(runtime_dir=ROOT, region="us-east-1", function_name_prefix="t", account_id="1")
    )
    return Gateway(
        manifest.FUNCTIONS,
        never_started,
        region="us-east-1",
        jwt_authorizer=None,
        cognito_endpoint="http://127.0.0.1:9",
        client_config=dict,
        web_dir=None,
        image_dir=image_dir,
    )
