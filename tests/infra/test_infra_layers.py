"""The dependencies layer build: pip for Lambda arm64, cached by the requirements' hash, SDK pruned."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import layers


class FakePip:
    """Stands in for `pip install -t <dir>`: records the command and writes a few packages."""

    def __init__(self, returncode: int = 0) -> None:
        self.commands: list[list[str]] = []
        self.returncode = returncode

    def __call__(self, command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        target = Path(command[command.index("-t") + 1])
        for package in ("pydantic", "boto3", "botocore", "s3transfer", "bin", "__pycache__"):
            (target / package).mkdir(parents=True)
        (target / "botocore-1.44.5.dist-info").mkdir()
        (target / "redis-8.1.0.dist-info").mkdir()
        (target / "six.py").write_text("")
        return subprocess.CompletedProcess(command, self.returncode, "", "pip said no")


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("pydantic==2.13.4\n")
    return path


def test_first_build_installs_for_lambda_arm64_and_prunes_the_runtime_sdk(
    monkeypatch: pytest.MonkeyPatch, requirements: Path, tmp_path: Path
) -> None:
    pip = FakePip()
    monkeypatch.setattr(layers.subprocess, "run", pip)
    root = layers.build_dependencies_layer(requirements, tmp_path / "build")
    (command,) = pip.commands
    assert command[1:4] == ["-m", "pip", "install"]
    for flag in ("--platform", "manylinux2014_aarch64", "--only-binary=:all:", "--python-version", "3.12"):
        assert flag in command
    assert command[command.index("--implementation") + 1] == "cp"
    assert command[command.index("-r") + 1] == str(requirements)
    assert sorted(p.name for p in (root / "python").iterdir()) == ["pydantic", "redis-8.1.0.dist-info", "six.py"]
    assert root.parent == tmp_path / "build"
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".partial-")]


def test_same_requirements_reuse_the_cache_without_pip(
    monkeypatch: pytest.MonkeyPatch, requirements: Path, tmp_path: Path
) -> None:
    pip = FakePip()
    monkeypatch.setattr(layers.subprocess, "run", pip)
    first = layers.build_dependencies_layer(requirements, tmp_path / "build")
    second = layers.build_dependencies_layer(requirements, tmp_path / "build")
    assert first == second
    assert len(pip.commands) == 1


def test_changed_requirements_build_a_new_layer(
    monkeypatch: pytest.MonkeyPatch, requirements: Path, tmp_path: Path
) -> None:
    pip = FakePip()
    monkeypatch.setattr(layers.subprocess, "run", pip)
    first = layers.build_dependencies_layer(requirements, tmp_path / "build")
    requirements.write_text("pydantic==2.13.4\nredis==8.1.0\n")
    second = layers.build_dependencies_layer(requirements, tmp_path / "build")
    assert first != second
    assert len(pip.commands) == 2


def test_failed_pip_leaves_no_cache_behind(monkeypatch: pytest.MonkeyPatch, requirements: Path, tmp_path: Path) -> None:
    monkeypatch.setattr(layers.subprocess, "run", FakePip(returncode=1))
    with pytest.raises(RuntimeError, match="could not build the dependencies layer"):
        layers.build_dependencies_layer(requirements, tmp_path / "build")
    assert list((tmp_path / "build").iterdir()) == []
