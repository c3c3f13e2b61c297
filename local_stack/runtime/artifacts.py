"""What the local Lambda runtime runs: the synthesized assets, prepared the way Lambda lays them out.

- the cloud assembly `cdk synth` writes, cached under `.build/local/synth/<hash>/` where the hash
  covers every input of the synth (the CDK app, the handlers, the layers, the pins);
- the dependencies layer built for *this* machine with pip from the same pinned requirements as the
  arm64 layer it replaces (`infra.layers`, cached the same way);
- `/opt`: each function's layers merged in their order, later layers overwriting earlier ones file by
  file, as Lambda extracts them (hard links, so a merge costs no copy);
- the runtime folder: AWS's runtime interface client (`awslambdaric`) and the AWS SDK the Lambda
  runtime ships, at the versions `requirements.txt` pins.

No Docker, and nothing from the development virtual environment: a function's process sees only
these folders and the standard library.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from infra.layers import (
    DEPENDENCIES_REQUIREMENTS,
    HOST_PIP_TARGET_ARGS,
    PROJECT_ROOT,
    build_cached,
    build_dependencies_layer,
    pip_install,
)

LOCAL_BUILD_ROOT = PROJECT_ROOT / ".build" / "local"
SYNTH_INPUTS = ("app.py", "cdk.json", "requirements.txt", "infra", "lambdas", "layers")
"""Everything `python app.py` reads: a change to any of them makes a new synth."""
RUNTIME_PACKAGES = ("awslambdaric", "boto3", "botocore")
"""The runtime's own packages (Lambda's /var/runtime and /var/lang): their pins are read from
requirements.txt, so the local runtime and the development tools use the same versions."""
REQUIREMENTS = PROJECT_ROOT / "requirements.txt"
SKIPPED = {"__pycache__", ".mypy_cache", ".pytest_cache"}

Progress = Callable[[str], None]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _files(root: Path, names: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = root / name
        if path.is_file():
            found.append(path)
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED)
            found += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith(".pyc")]
    return found


def content_hash(root: Path, names: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for path in _files(root, names):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


KEPT_BUILDS = 4
"""Per kind (synth, merged /opt): a changing tree makes a new build each time; the oldest go."""


def _prune(parent: Path, keep: Path) -> None:
    builds = sorted(
        (path for path in parent.iterdir() if path.is_dir() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for stale in [path for path in builds if path != keep][KEPT_BUILDS - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


def _build_once(target: Path, build: Callable[[Path], None]) -> Path:
    if not build_cached(target, build):
        os.utime(target)  # recently used: kept by the pruning below
        return target
    _prune(target.parent, keep=target)
    return target


def synthesize(root: Path = PROJECT_ROOT, build_root: Path = LOCAL_BUILD_ROOT, progress: Progress = _say) -> Path:
    """The cloud assembly of the project as it is now (`python app.py`, cached by content hash)."""
    target = build_root / "synth" / content_hash(root, SYNTH_INPUTS)
    if target.is_dir():
        progress(f"synth: cached {target.relative_to(root) if target.is_relative_to(root) else target}")
        return target

    def run_synth(outdir: Path) -> None:
        progress("synth: python app.py (the CDK app, as `cdk deploy` would synthesize it) ...")
        env = {
            **os.environ,
            "CDK_OUTDIR": str(outdir),
            "PYTHONPATH": os.pathsep.join([str(root), str(root / "layers" / "shared" / "python")]),
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        }
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"cdk synth failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")

    built = _build_once(target, run_synth)
    progress(f"synth: wrote {built}")
    return built


def host_dependencies_layer(build_root: Path = LOCAL_BUILD_ROOT) -> Path:
    """The dependencies layer for this machine's platform, from the arm64 layer's own requirements."""
    return build_dependencies_layer(
        DEPENDENCIES_REQUIREMENTS, build_root / "dependencies", pip_target_args=HOST_PIP_TARGET_ARGS
    )


def pinned(requirements: Path, packages: Sequence[str]) -> list[str]:
    """The `name==version` lines of `packages` in a requirements file (extras dropped)."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;#]+)", line.strip())
        if found:
            pins[found.group(1).lower()] = found.group(3)
    missing = [name for name in packages if name.lower() not in pins]
    if missing:
        raise RuntimeError(f"{requirements.name} pins no version of {', '.join(missing)}")
    return [f"{name}=={pins[name.lower()]}" for name in packages]


def runtime_dir(build_root: Path = LOCAL_BUILD_ROOT, requirements: Path = REQUIREMENTS) -> Path:
    """`awslambdaric` and the AWS SDK, installed for this machine (Lambda's runtime folders)."""
    pins = pinned(requirements, RUNTIME_PACKAGES)
    key = hashlib.sha256("\n".join([*pins, sys.version]).encode()).hexdigest()[:16]

    def install(target: Path) -> None:
        _say(f"local runtime: pip install {' '.join(pins)} ...")
        pip_install(target, ["--only-binary=:all:", *pins], "the local runtime")

    return _build_once(build_root / "runtime" / key, install)


def merged_layers(layer_roots: Sequence[Path], build_root: Path = LOCAL_BUILD_ROOT) -> Path:
    """One `/opt` with `layer_roots` extracted in order (a later layer's file replaces an earlier one's)."""
    key = hashlib.sha256("\n".join(str(path.resolve()) for path in layer_roots).encode()).hexdigest()[:16]

    def merge(target: Path) -> None:
        for layer in layer_roots:
            shutil.copytree(layer, target, copy_function=_link_or_copy, dirs_exist_ok=True)

    return _build_once(build_root / "opt" / key, merge)


def _link_or_copy(source: str, destination: str) -> None:
    if os.path.lexists(destination):
        os.unlink(destination)
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
