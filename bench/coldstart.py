"""Cold start: the import time of every handler module (fresh interpreters, `-X importtime`), the init
duration of every function through the local Lambda runtime (from its synthesized assets, as Lambda
runs it: awslambdaric, Lambda's `sys.path`, the template's environment), and the size of what Lambda
loads: the dependencies layer (as built for arm64), the shared layer, each function's code."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from speedrun import manifest

ROOT = Path(__file__).resolve().parents[1]


def import_time_us(module: str, env: dict[str, str]) -> int:
    """Cumulative import time of `module` in a fresh interpreter, from `-X importtime` (microseconds)."""
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed: {result.stderr.strip().splitlines()[-1:]}")
    for line in reversed(result.stderr.splitlines()):
        # "import time:      self [us] |   cumulative | imported package"
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"no import time reported for {module}")


def _files(root: Path) -> list[Path]:
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


def package_size(root: Path) -> dict[str, Any]:
    """Bytes on disk and zipped (deflate, as Lambda stores a deployment package), without caches."""
    files = _files(root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root))
    return {
        "path": str(root.relative_to(ROOT)) if root.is_relative_to(ROOT) else str(root),
        "files": len(files),
        "bytes": sum(path.stat().st_size for path in files),
        "zipped_bytes": buffer.tell(),
    }


def _dependencies_layer() -> Path:
    from infra.layers import build_dependencies_layer  # noqa: PLC0415 (only this measurement needs the CDK)

    return build_dependencies_layer() / "python"


def init_through_the_runtime(repeats: int, progress: Callable[[str], None]) -> dict[str, Any]:
    """Each function's init duration (process start to its first `next`), one environment at a time."""
    from local_stack import aws  # noqa: PLC0415 (only this measurement needs the local runtime)
    from local_stack.runtime import artifacts  # noqa: PLC0415
    from local_stack.runtime.definitions import read_functions, resolve_environment  # noqa: PLC0415
    from local_stack.runtime.environment import Launch  # noqa: PLC0415
    from local_stack.runtime.service import LambdaService  # noqa: PLC0415

    definitions = read_functions(artifacts.synthesize(progress=progress), artifacts.host_dependencies_layer())
    values, extras = aws.placeholder_values()
    service = LambdaService(
        definitions,
        {name: resolve_environment(definition, values, extras) for name, definition in definitions.items()},
        launch=Launch(
            runtime_dir=artifacts.runtime_dir(),
            region="us-east-1",
            function_name_prefix="speedrun-bench",
            account_id="123456789012",
        ),
    )
    service.start()
    inits: dict[str, Any] = {}
    try:
        for name in definitions:
            service.cold_start(name)  # the first start writes the bytecode caches of the assets
            samples = [service.cold_start(name) for _ in range(repeats)]
            inits[name] = {"median_ms": round(statistics.median(samples), 1), "samples": repeats}
            progress(f"init {name} through the local runtime: {inits[name]['median_ms']} ms")
    finally:
        service.stop()
    return inits


def measure(repeats: int = 5, progress: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])}
    imports: dict[str, Any] = {}
    for spec in manifest.FUNCTIONS:
        module = spec.module
        try:
            # An untimed import first writes the bytecode caches: the samples then measure imports
            # from compiled bytecode (a lower bound: see docs/performance.md).
            import_time_us(module, env)
            samples = [import_time_us(module, env) for _ in range(repeats)]
        except RuntimeError as error:
            imports[spec.name] = {"error": str(error)}
            continue
        imports[spec.name] = {
            "memory_mb": spec.memory_mb,
            "median_ms": round(statistics.median(samples) / 1000, 1),
            "min_ms": round(min(samples) / 1000, 1),
            "max_ms": round(max(samples) / 1000, 1),
            "samples": repeats,
        }
        progress(f"import {module}: {imports[spec.name]['median_ms']} ms")
    for name, init in init_through_the_runtime(repeats, progress).items():
        imports.setdefault(name, {})["init_median_ms"] = init["median_ms"]
    sizes = {
        "shared layer": package_size(ROOT / "layers" / "shared"),
        **{f"function {spec.name}": package_size(ROOT / spec.code_dir) for spec in manifest.FUNCTIONS},
    }
    try:
        sizes["dependencies layer (arm64)"] = package_size(_dependencies_layer())
    except (RuntimeError, OSError) as error:
        sizes["dependencies layer (arm64)"] = {"error": str(error)}
    return {"imports": imports, "sizes": sizes}
