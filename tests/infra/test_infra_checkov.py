"""checkov (framework cloudformation) on every synthesized template of both cache modes: each failed
check is fixed or accepted, with its reason, in `infra/checkov-baseline.yaml`."""

from __future__ import annotations

import pytest

from tests.infra.checkov_runner import Finding, load_baseline, run_checkov, unaccepted
from tests.infra.infra_template import Synth


@pytest.fixture(scope="module")
def findings(synth: Synth, synth_nodes: Synth) -> dict[str, list[Finding]]:
    """One checkov run per mode (about 20 s each)."""
    return {
        mode: run_checkov(sorted(result.outdir.glob("*.template.json")))
        for mode, result in (("serverless", synth), ("nodes", synth_nodes))
    }


@pytest.mark.parametrize("mode", ["serverless", "nodes"])
def test_every_failed_check_is_in_the_baseline(findings: dict[str, list[Finding]], mode: str) -> None:
    assert [str(finding) for finding in unaccepted(findings[mode], load_baseline())] == []


def test_checkov_read_the_templates(synth: Synth, findings: dict[str, list[Finding]]) -> None:
    """The comparison above means something only if checkov did read the templates and report."""
    assert {finding.template for finding in findings["serverless"]} == {f"{synth.stack.stack_name}.template.json"}
    assert len(findings["serverless"]) > 0


def test_every_baseline_entry_still_matches_a_failure(findings: dict[str, list[Finding]]) -> None:
    """A fixed finding must leave the baseline too, so the file lists only what is really accepted."""
    every = findings["serverless"] + findings["nodes"]
    stale = [f"{entry.check_id} {entry.resources}" for entry in load_baseline() if not any(map(entry.accepts, every))]
    assert stale == []


def test_every_baseline_entry_has_a_reason() -> None:
    for entry in load_baseline():
        assert entry.check_id.startswith("CKV"), entry
        assert len(entry.reason.split()) >= 5, entry
        assert entry.resources, entry
