"""The two Lambda layers every function gets: the shared domain package and the third-party packages.

No Docker: the dependencies layer is built by pip for the Lambda platform (arm64, CPython 3.12,
manylinux wheels only) at synth time, cached under `.build/layers/dependencies/<hash>/` where the
hash covers the requirements file and the pip target, so a repeated synth does no network work.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import names

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_LAYER_DIR = PROJECT_ROOT / "layers" / "shared"
"""Contains `python/speedrun`: Lambda puts a layer's `python/` folder on sys.path."""
DEPENDENCIES_REQUIREMENTS = PROJECT_ROOT / "layers" / "dependencies" / "requirements.txt"
BUILD_ROOT = PROJECT_ROOT / ".build" / "layers" / "dependencies"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_TARGET_ARGS = (
    "--platform",
    "manylinux2014_aarch64",
    "--only-binary=:all:",
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
)
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
"""The AWS SDK ships with the Lambda runtime; a second botocore in the layer would shadow the
runtime's and break its boto3 (pynamodb and the X-Ray SDK pull it in as a dependency)."""
ASSET_EXCLUDE = ["**/__pycache__", "**/*.pyc", ".gitkeep"]


HOST_PIP_TARGET_ARGS = ("--only-binary=:all:",)
"""The same pins built for the machine running the local stack (its platform and Python)."""


def _cache_key(requirements: Path, pip_target_args: tuple[str, ...]) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(" ".join(pip_target_args).encode())
    digest.update(" ".join(PROVIDED_BY_RUNTIME).encode())
    return digest.hexdigest()[:16]


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _prune(site_packages: Path) -> None:
    for entry in site_packages.iterdir():
        distribution = entry.name.split("-", 1)[0].lower()
        if entry.name in {"bin", "__pycache__"} or distribution in PROVIDED_BY_RUNTIME:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def build_cached(target: Path, build: Callable[[Path], None]) -> bool:
    """Build into a temporary sibling of `target`, then rename it into place, so an interrupted build
    never leaves a half-filled cache behind. False when the cache already holds `target`."""
    if target.is_dir():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-", ignore_cleanup_errors=True) as partial:
        build(Path(partial))
        try:
            Path(partial).rename(target)
        except OSError:
            # Another process finished the same build first; its result is identical.
            if not target.is_dir():
                raise
    return True


def pip_install(target: Path, arguments: Sequence[str], what: str) -> None:
    """`pip install -t target <arguments>` with this interpreter; RuntimeError naming `what` on failure."""
    result = subprocess.run(  # noqa: S603 - this interpreter's pip, fixed arguments, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-t",
            str(target),
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        raise RuntimeError(f"pip could not build {what} (exit {result.returncode})")


def build_dependencies_layer(
    requirements: Path = DEPENDENCIES_REQUIREMENTS,
    build_root: Path = BUILD_ROOT,
    *,
    pip_target_args: tuple[str, ...] = PIP_TARGET_ARGS,
) -> Path:
    """Install the layer's packages (for Lambda arm64 unless `pip_target_args` says otherwise) into a
    cached folder; return the layer root."""
    layer_root = build_root / _cache_key(requirements, pip_target_args)
    platform = "Lambda arm64" if pip_target_args == PIP_TARGET_ARGS else "this machine"

    def install(partial: Path) -> None:
        print(f"dependencies layer: pip install -r {requirements.name} for {platform} ...", file=sys.stderr)
        site_packages = partial / "python"
        pip_install(
            site_packages, ["--no-compile", *pip_target_args, "-r", str(requirements)], "the dependencies layer"
        )
        _prune(site_packages)

    built = build_cached(layer_root, install)
    print(f"dependencies layer: {'built' if built else 'cached'} {_shown(layer_root)}", file=sys.stderr)
    return layer_root


class Layers(Construct):
    """`shared` (the speedrun package, as-is) and `dependencies` (pip-installed for arm64)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.shared = lambda_.LayerVersion(
            self,
            names.SHARED_LAYER,
            code=lambda_.Code.from_asset(str(SHARED_LAYER_DIR), exclude=ASSET_EXCLUDE),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="speedrun domain package (layers/shared/python/speedrun)",
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            names.DEPENDENCIES_LAYER,
            code=lambda_.Code.from_asset(str(build_dependencies_layer()), exclude=ASSET_EXCLUDE),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Third-party packages of the functions (layers/dependencies/requirements.txt), arm64",
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.shared]
