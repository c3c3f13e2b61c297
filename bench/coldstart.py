"""Cold start: every handler's import as deployed (fresh interpreters started as Lambda starts the
runtime: its synthesized asset, Lambda's `sys.path`, the template's environment; `-X importtime`)
against a bare `import boto3` in the same environment, the init duration of every function through
the local Lambda runtime (awslambdaric, process start to its first `next`), and the size of what
Lambda loads: the dependencies layer (as built for arm64), the shared layer, each function's code."""

from __future__ import annotations

import io
import statistics
import subprocess
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from local_stack import aws
from local_stack.runtime import artifacts
from local_stack.runtime.definitions import FunctionDefinition, read_functions, resolve_environment
from local_stack.runtime.environment import PYTHON_FLAGS, Launch, lambda_variables
from local_stack.runtime.service import LambdaService
from speedrun import manifest

ROOT = Path(__file__).resolve().parents[1]


def import_time_us(module: str, python: str, env: Mapping[str, str], cwd: Path) -> int:
    """Cumulative import time of `module` in a fresh interpreter started as Lambda starts the runtime
    (`python -S -P`, the function's environment and folder), from `-X importtime` (microseconds)."""
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [python, *PYTHON_FLAGS, "-X", "importtime", "-c", f"import {module}"],
        cwd=cwd,
        env=dict(env),
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


def _launch() -> Launch:
    return Launch(
        runtime_dir=artifacts.runtime_dir(),
        region="us-east-1",
        function_name_prefix="speedrun-bench",
        account_id="123456789012",
    )


def init_through_the_runtime(
    definitions: Mapping[str, FunctionDefinition], repeats: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Each function's init duration (process start to its first `next`), one environment at a time."""
    values, extras = aws.placeholder_values()
    service = LambdaService(
        definitions,
        {name: resolve_environment(definition, values, extras) for name, definition in definitions.items()},
        launch=_launch(),
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


def _median_ms(samples: Sequence[int]) -> float:
    return round(statistics.median(samples) / 1000, 1)


def imports_as_deployed(
    definitions: Mapping[str, FunctionDefinition], repeats: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Each function's handler import as Lambda's init runs it (its synthesized asset, Lambda's
    `sys.path`, its template's environment), and a bare `import boto3` in the same environment: the
    ratio makes the figure independent of this machine's speed. After one untimed import each, so
    bytecode caches exist (a lower bound: see docs/performance.md)."""
    values, extras = aws.placeholder_values()
    launch = _launch()
    imports: dict[str, Any] = {}
    for name, definition in definitions.items():
        env = lambda_variables(
            definition,
            opt_dir=artifacts.merged_layers(definition.layer_dirs),
            launch=launch,
            function_environment=resolve_environment(definition, values, extras),
            runtime_api="127.0.0.1:9",  # never called: only the imports run
            log_stream_id="coldstart",
        )
        module = definition.handler.rsplit(".", 1)[0]
        try:
            for measured in (module, "boto3"):  # the untimed imports write the bytecode caches
                import_time_us(measured, launch.python, env, definition.code_dir)
            handler = [import_time_us(module, launch.python, env, definition.code_dir) for _ in range(repeats)]
            boto3 = [import_time_us("boto3", launch.python, env, definition.code_dir) for _ in range(repeats)]
        except RuntimeError as error:
            imports[name] = {"error": str(error)}
            continue
        imports[name] = {
            "memory_mb": definition.memory_mb,
            "median_ms": _median_ms(handler),
            "min_ms": round(min(handler) / 1000, 1),
            "max_ms": round(max(handler) / 1000, 1),
            "boto3_median_ms": _median_ms(boto3),
            "ratio_to_boto3": round(statistics.median(handler) / statistics.median(boto3), 2),
            "samples": repeats,
        }
        progress(f"import {module} of {name} as deployed: {imports[name]['median_ms']} ms")
    return imports


def measure(repeats: int = 5, progress: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    definitions = read_functions(artifacts.synthesize(progress=progress), artifacts.host_dependencies_layer())
    imports = imports_as_deployed(definitions, repeats, progress)
    for name, init in init_through_the_runtime(definitions, repeats, progress).items():
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
