"""The CDK app: `python app.py` (or `make synth`) writes the CloudFormation templates to cdk.out/.

No AWS credentials and no Docker needed: the main stack is environment-agnostic (the web ACL's small
stack is pinned to us-east-1, as CloudFront requires, but not to an account) and the Lambda layers are
built with pip (see infra/layers.py). cdk-nag's AwsSolutions pack checks every synth.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra import names
from infra.context import StackOptions
from infra.stack import SpeedRunStack
from infra.web_acl_stack import WEB_ACL_REGION, WebAclStack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def build_app(outdir: str | None = None, context: dict[str, Any] | None = None) -> tuple[App, SpeedRunStack]:
    """The app and its main stack (`stack.web_acl_stack` is the other one). `context` overrides cdk.json;
    the CDK CLI's `-c` overrides both."""
    # The CLI hands cdk.json's context over in CDK_CONTEXT_JSON; `python app.py` must read it itself.
    merged = {**json.loads(CDK_JSON.read_text()).get("context", {}), **(context or {})}
    app = App(outdir=outdir or os.environ.get("CDK_OUTDIR", "cdk.out"), context=merged)
    options = StackOptions.from_context(app.node)
    # Region pinned, account still agnostic: CloudFront's web ACL must be created in us-east-1.
    web_acl_stack = WebAclStack(
        app,
        names.web_acl_stack_name(options.stage),
        stage=options.stage,
        rate_limit=options.waf_rate_limit,
        logging=options.waf_logging,
        env=Environment(region=WEB_ACL_REGION),
        description=f"Speed-run CloudFront web ACL ({options.stage})",
    )
    stack = SpeedRunStack(
        app,
        names.stack_name(options.stage),
        options=options,
        web_acl_stack=web_acl_stack,
        description=f"Speed-run quiz platform ({options.stage})",
    )
    for tagged in (stack, web_acl_stack):
        Tags.of(tagged).add("project", names.APP_NAME)
        Tags.of(tagged).add("stage", options.stage)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
