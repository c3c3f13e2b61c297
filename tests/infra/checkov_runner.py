"""checkov on synthesized templates, compared with the checked-in baseline `infra/checkov-baseline.yaml`.

checkov pins boto3 1.35, networkx 2.6 and packaging 23, which conflict with requirements.txt, so it
lives in its own venv, `.build/checkov`, built from `requirements-checkov.txt` on first use (PyPI).
`python -m tests.infra.checkov_runner <cdk.out>` (or `make checkov`) prints the findings the
baseline does not accept and exits 1 if there are any.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.layers import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements-checkov.txt"
VENV = PROJECT_ROOT / ".build" / "checkov"
BASELINE = PROJECT_ROOT / "infra" / "checkov-baseline.yaml"


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    """checkov's `<resource type>.<logical id>`."""
    template: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource} ({self.template})"


@dataclass(frozen=True)
class Acceptance:
    check_id: str
    resources: tuple[str, ...]
    """fnmatch patterns on `<resource type>.<logical id>` (logical ids end in a hash)."""
    reason: str

    def accepts(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and any(
            fnmatch.fnmatchcase(finding.resource, pattern) for pattern in self.resources
        )


def checkov_python() -> Path:
    """The isolated venv's interpreter, building the venv first if needed (into a temporary folder
    renamed into place, so an interrupted install leaves nothing half-built)."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=VENV.parent, prefix=".checkov-") as scratch:
        partial = Path(scratch) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(partial)], check=True)
        pip = [str(partial / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
        # `python -m checkov.main` needs no console script, so the renamed venv still works.
        partial.rename(VENV)
    return python


def run_checkov(templates: list[Path]) -> list[Finding]:
    """Every failed check on `templates` (framework cloudformation; no network: --skip-download)."""
    command = [str(checkov_python()), "-m", "checkov.main", "--framework", "cloudformation", "--skip-download"]
    command += ["--output", "json", "--quiet", "--compact"]
    for template in templates:
        command += ["--file", str(template)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    # Exit 1 means "some check failed"; anything else is checkov itself failing.
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed (exit {result.returncode}): {result.stderr[-3000:]}")
    reports = json.loads(result.stdout)
    if isinstance(reports, dict):
        reports = [reports]
    return [
        Finding(failed["check_id"], failed["resource"], Path(failed["file_path"]).name)
        for report in reports
        for failed in report["results"]["failed_checks"]
    ]


def load_baseline(path: Path = BASELINE) -> list[Acceptance]:
    entries = yaml.safe_load(path.read_text())
    return [Acceptance(entry["check_id"], tuple(entry["resources"]), entry["reason"]) for entry in entries]


def unaccepted(findings: list[Finding], baseline: list[Acceptance]) -> list[Finding]:
    return [finding for finding in findings if not any(entry.accepts(finding) for entry in baseline)]


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdk.out")
    findings = run_checkov(sorted(outdir.glob("*.template.json")))
    rest = unaccepted(findings, load_baseline())
    for finding in rest:
        print(finding)
    print(f"checkov: {len(findings)} failed checks, {len(rest)} not in {BASELINE.relative_to(PROJECT_ROOT)}")
    return 1 if rest else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
