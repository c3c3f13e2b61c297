"""The local Lambda runtime runs functions the way Lambda does (architecture rule 8): from the
synthesized assets, in their own processes, through the Runtime API and AWS's runtime interface
client, with the template's environment, timeout and memory."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from local_stack import aws
from local_stack.runtime import artifacts
from local_stack.runtime.definitions import (
    FunctionDefinition,
    UnresolvedReference,
    read_functions,
    resolve_environment,
)
from local_stack.runtime.environment import PYTHON_VERSION, Launch
from local_stack.runtime.service import FunctionError, LambdaService
from speedrun import manifest
from tests.integration.local_stack.local_stack_spec import HANDLERS_DIR

ROOT = Path(__file__).resolve().parents[3]
EXTRAS = aws.placeholder_values()[1]
ADDED_INSIDE = {"_X_AMZN_TRACE_ID", "LC_CTYPE"}
"""awslambdaric sets the trace header of each invocation, as in every Lambda runtime; CPython sets
LC_CTYPE when the machine lacks Lambda's `en_US.UTF-8` locale (PEP 538 coercion)."""


@pytest.fixture(scope="module")
def template() -> dict[str, FunctionDefinition]:
    return read_functions(artifacts.synthesize(), artifacts.host_dependencies_layer())


def _local_values() -> dict[str, str]:
    return aws.placeholder_values()[0]


def _test_function(template: Mapping[str, FunctionDefinition], module: str, **changes: Any) -> FunctionDefinition:
    """A test handler on a real function's definition: its layers, environment, memory, timeout."""
    base = template[changes.pop("like", "speedrun")]
    return replace(base, name=module, handler=f"{module}.handler", code_dir=HANDLERS_DIR, **changes)


@pytest.fixture
def service_of(template: dict[str, FunctionDefinition]) -> Iterator[Any]:
    started: list[LambdaService] = []

    def start(*definitions: FunctionDefinition, max_environments: int = 4) -> LambdaService:
        service = LambdaService(
            {definition.name: definition for definition in definitions},
            {d.name: resolve_environment(d, _local_values(), EXTRAS) for d in definitions},
            launch=Launch(
                runtime_dir=artifacts.runtime_dir(),
                region="us-east-1",
                function_name_prefix="speedrun-test",
                account_id="123456789012",
            ),
            max_environments=max_environments,
        )
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def test_every_function_of_the_template_imports_from_its_assets_alone(
    template: dict[str, FunctionDefinition], service_of: Any
) -> None:
    assert set(template) == {spec.name for spec in manifest.FUNCTIONS}
    service = service_of(*template.values())
    inits = service.warm_all()
    failed = {name: str(result) for name, result in inits.items() if not isinstance(result, float)}
    assert failed == {}
    for name, definition in template.items():
        assert definition.handler == manifest.function(name).handler
        assert [path.name for path in definition.code_dir.iterdir() if path.suffix == ".py"] == ["handler.py"]


def test_sys_path_is_lambdas_order_and_nothing_of_the_dev_venv_is_importable(
    template: dict[str, FunctionDefinition], service_of: Any
) -> None:
    definition = _test_function(template, "introspect")
    service = service_of(definition)
    inside = service.invoke_sync("introspect", {"packages": ["pytest", "moto", "speedrun", "jwt", "awslambdaric"]})
    opt = service.pools["introspect"].opt_dir
    assert inside["sys_path"][:4] == [
        str(HANDLERS_DIR),
        str(opt / "python" / "lib" / PYTHON_VERSION / "site-packages"),
        str(opt / "python"),
        str(artifacts.runtime_dir()),
    ]
    # Then only the standard library: no site-packages of this machine, nothing of the dev venv.
    stdlib = [entry for entry in inside["sys_path"][4:] if entry.startswith(sys.base_prefix)]
    assert stdlib == inside["sys_path"][4:]
    assert not [entry for entry in inside["sys_path"] if ".venv" in entry or entry.endswith("-packages")][1:]
    assert inside["importable"] == {"pytest": False, "moto": False, "speedrun": True, "jwt": True, "awslambdaric": True}


def test_a_package_missing_from_the_layers_fails_init_with_runtime_import_module_error(
    template: dict[str, FunctionDefinition], service_of: Any
) -> None:
    service = service_of(_test_function(template, "imports_missing"))
    with pytest.raises(FunctionError) as failed:
        service.invoke_sync("imports_missing", {})
    assert failed.value.error_type == "Runtime.ImportModuleError"
    assert str(failed.value) == "Unable to import module 'imports_missing': No module named 'moto'"


def test_an_invocation_past_its_timeout_is_killed_and_its_environment_replaced(
    template: dict[str, FunctionDefinition], service_of: Any
) -> None:
    service = service_of(_test_function(template, "introspect", timeout_s=1))
    first = service.invoke_sync("introspect", {})
    assert 0 < first["remaining_ms"] <= 1000
    with pytest.raises(FunctionError) as timed_out:
        service.invoke_sync("introspect", {"sleep_s": 5})
    assert timed_out.value.error_type == "Sandbox.Timedout"
    assert re.fullmatch(r"\S+Z [0-9a-f-]{36} Task timed out after 1\.00 seconds", str(timed_out.value))
    after = service.invoke_sync("introspect", {})
    assert after["pid"] != first["pid"]
    assert service.pools["introspect"].cold_starts == 2


def test_warm_environments_are_reused_and_concurrent_load_scales_out_up_to_the_cap(
    template: dict[str, FunctionDefinition], service_of: Any
) -> None:
    service = service_of(_test_function(template, "introspect", timeout_s=10), max_environments=3)
    pids = {service.invoke_sync("introspect", {})["pid"] for _ in range(3)}
    assert len(pids) == 1
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: service.invoke_sync("introspect", {"sleep_s": 0.5}), range(6)))
    assert len({reply["pid"] for reply in replies}) == 3
    assert service.pools["introspect"].cold_starts == 3


def test_a_reserved_concurrency_caps_the_environments(template: dict[str, FunctionDefinition], service_of: Any) -> None:
    service = service_of(_test_function(template, "introspect", reserved_concurrency=1), max_environments=4)
    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = list(pool.map(lambda _: service.invoke_sync("introspect", {"sleep_s": 0.2}), range(3)))
    assert len({reply["pid"] for reply in replies}) == 1


def test_every_invocation_reports_like_lambda(template: dict[str, FunctionDefinition], service_of: Any) -> None:
    definition = _test_function(template, "introspect", memory_mb=512)
    service = service_of(definition)
    context = service.invoke_sync("introspect", {})
    service.invoke_sync("introspect", {})
    assert context["function_name"] == "speedrun-test-introspect"
    assert context["memory_limit_in_mb"] == 512
    cold, warm = list(service.reports)
    assert cold.init_duration_ms is not None and cold.init_duration_ms > 0
    assert warm.init_duration_ms is None
    for report in (cold, warm):
        assert report.memory_mb == 512
        assert report.billed_duration_ms >= report.duration_ms
        assert 0 < report.max_memory_used_mb < 512
        assert re.fullmatch(
            r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\t"
            r"Max Memory Used: \d+ MB(\tInit Duration: [\d.]+ ms)?",
            report.line(),
        )


def test_a_functions_environment_is_its_templates_variables_plus_lambdas_reserved_ones(
    template: dict[str, FunctionDefinition], service_of: Any
) -> None:
    for like in ("speedrun", "signon", "reporter"):
        definition = _test_function(template, "introspect", like=like)
        service = service_of(definition)
        inside = set(service.invoke_sync("introspect", {})["variables"])
        environment = service.pools["introspect"].environment
        reserved = set(next(iter(service.pools["introspect"].environments)).variables("127.0.0.1:1")) - set(environment)
        assert set(template[like].environment) <= inside
        assert inside - ADDED_INSIDE == set(template[like].environment) | set(EXTRAS) | reserved
        service.stop()


def test_every_deployed_reference_has_a_local_value_and_an_unknown_one_stops_the_start(
    template: dict[str, FunctionDefinition],
) -> None:
    for definition in template.values():
        resolved = resolve_environment(definition, _local_values(), EXTRAS)
        assert all(isinstance(value, str) for value in resolved.values())
        assert resolved["STAGE"] == definition.environment["STAGE"]
    unknown = replace(template["api_docs"], environment={"NEW_THING": {"Ref": "SomethingNew"}})
    with pytest.raises(UnresolvedReference, match="NEW_THING"):
        resolve_environment(unknown, _local_values(), EXTRAS)
