"""cdk-nag (AwsSolutions) and cfn-lint pass on every synthesized template; app.py needs no AWS or Docker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from infra import names
from infra.layers import PROJECT_ROOT
from speedrun import manifest
from tests.infra.infra_template import Synth


def nag_findings(stack: Stack) -> list[str]:
    report = AwsSolutionsChecks().validate_scope(stack)
    return [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]


def test_nag_reports_an_unacknowledged_finding() -> None:
    """The check below is only worth something if cdk-nag does flag a careless resource."""
    stack = Stack(App(), "Careless")
    s3.Bucket(stack, "Open")
    findings = nag_findings(stack)
    assert any(finding.startswith("AwsSolutions-S10 at Careless/Open") for finding in findings), findings


@pytest.mark.parametrize("mode", ["serverless", "nodes"])
def test_no_unacknowledged_cdk_nag_findings(request: pytest.FixtureRequest, mode: str) -> None:
    synth: Synth = request.getfixturevalue("synth" if mode == "serverless" else "synth_nodes")
    assert nag_findings(synth.stack) == []
    assert nag_findings(synth.stack.web_acl_stack) == []
    # The app registers the same pack; the synthesis it ran reported nothing either.
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []


@pytest.mark.parametrize("mode", ["serverless", "nodes"])
def test_cfn_lint_finds_no_errors(request: pytest.FixtureRequest, mode: str) -> None:
    synth: Synth = request.getfixturevalue("synth" if mode == "serverless" else "synth_nodes")
    templates = sorted(synth.outdir.glob("*.template.json"))
    expected = sorted(f"{stack.stack_name}.template.json" for stack in (synth.stack, synth.stack.web_acl_stack))
    assert [t.name for t in templates] == expected
    errors = [
        f"{template.name}: {m.rule.id} {m.message} ({m.path})"
        for template in templates
        for m in lint_file(template, ManualArgs(regions=["us-east-1", "eu-west-1"]))
        if m.rule.severity == "error"
    ]
    assert errors == []


def test_app_py_synthesizes_without_aws_credentials_or_docker(tmp_path: Path) -> None:
    """`python app.py` in a bare environment: no credentials, no PYTHONPATH, no docker on PATH."""
    env = {
        "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "docker").exists()),
        "HOME": str(tmp_path),
        "CDK_OUTDIR": str(tmp_path / "out"),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "out" / "SpeedRun-dev.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    tagged = {
        tag["Value"]: f["Properties"]["Handler"]
        for f in functions
        for tag in f["Properties"].get("Tags", [])
        if tag["Key"] == names.FUNCTION_TAG
    }
    assert tagged == {spec.name: "handler.handler" for spec in manifest.FUNCTIONS}
