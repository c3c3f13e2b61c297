"""What a handler loads at its cold start, imported as deployed: its synthesized asset as the task
root, Lambda's `sys.path`, its template's environment (`lambda_variables`, as the local runtime
starts it). The X-Ray SDK is loaded only when tracing is on (`speedrun.tracing.lambda_tracer`), and
no handler loads what docs/performance.md found it paid for without using it."""

from __future__ import annotations

import json
import subprocess

import pytest

from local_stack import aws
from local_stack.runtime import artifacts
from local_stack.runtime.definitions import FunctionDefinition, read_functions, resolve_environment
from local_stack.runtime.environment import PYTHON_FLAGS, Launch, lambda_variables
from speedrun import manifest

XRAY_RECORDER = "aws_xray_sdk.core"


@pytest.fixture(scope="module")
def definitions() -> dict[str, FunctionDefinition]:
    return read_functions(artifacts.synthesize(), artifacts.host_dependencies_layer())


def modules_after_import(definition: FunctionDefinition, overrides: dict[str, str], prefix: str) -> list[str]:
    """The modules named `prefix...` loaded once the handler module is imported as Lambda's init does."""
    launch = Launch(runtime_dir=artifacts.runtime_dir(), region="us-east-1", function_name_prefix="t", account_id="1")
    values, extras = aws.placeholder_values()
    env = lambda_variables(
        definition,
        opt_dir=artifacts.merged_layers(definition.layer_dirs),
        launch=launch,
        function_environment={**resolve_environment(definition, values, extras), **overrides},
        runtime_api="127.0.0.1:9",  # never called: only the import runs
        log_stream_id="imports",
    )
    module = definition.handler.rsplit(".", 1)[0]
    probe = f"import json, sys, {module}; print(json.dumps(sorted(m for m in sys.modules if m.startswith({prefix!r}))))"
    result = subprocess.run(
        [launch.python, *PYTHON_FLAGS, "-c", probe],
        cwd=definition.code_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("name", [spec.name for spec in manifest.FUNCTIONS])
def test_a_handler_does_not_load_the_xray_recorder_while_tracing_is_disabled(
    definitions: dict[str, FunctionDefinition], name: str
) -> None:
    loaded = modules_after_import(definitions[name], {"POWERTOOLS_TRACE_DISABLED": "true"}, "aws_xray_sdk")
    assert XRAY_RECORDER not in loaded, loaded


def test_a_handler_traces_with_xray_as_deployed(definitions: dict[str, FunctionDefinition]) -> None:
    # The template's environment leaves tracing on (the functions have active tracing): the same
    # probe then sees the recorder, so the test above would see it too if a handler loaded it.
    assert "POWERTOOLS_TRACE_DISABLED" not in definitions["speedrun"].environment
    assert XRAY_RECORDER in modules_after_import(definitions["speedrun"], {}, "aws_xray_sdk")


PARSER_MODELS = "aws_lambda_powertools.utilities.parser"
"""Importing any of Powertools' parser builds every event model it has (~75 ms): handlers read
their events with Powertools' data classes and validate what they use with their own models."""


@pytest.mark.parametrize("name", [spec.name for spec in manifest.FUNCTIONS])
def test_a_handler_does_not_load_the_parsers_event_models(
    definitions: dict[str, FunctionDefinition], name: str
) -> None:
    assert modules_after_import(definitions[name], {}, PARSER_MODELS) == []


@pytest.mark.parametrize("name", [spec.name for spec in manifest.FUNCTIONS if not spec.needs.tables])
def test_tracing_does_not_load_pynamodb_into_a_function_without_tables(
    definitions: dict[str, FunctionDefinition], name: str
) -> None:
    # X-Ray's patch_all would import every library it can patch; the tracer patches botocore only.
    assert modules_after_import(definitions[name], {}, "pynamodb") == []


def test_the_connect_authorizer_loads_neither_question_sets_nor_fan_out_nor_players(
    definitions: dict[str, FunctionDefinition],
) -> None:
    loaded = modules_after_import(definitions["ws_authorizer"], {}, "speedrun.")
    assert [m for m in loaded if m.startswith(("speedrun.question_sets", "speedrun.fanout", "speedrun.players"))] == []


@pytest.mark.parametrize("name", ["speedrun", "reporter", "results"])
def test_the_engine_and_the_reports_know_question_types_without_the_question_set_package(
    definitions: dict[str, FunctionDefinition], name: str
) -> None:
    loaded = modules_after_import(definitions[name], {}, "speedrun.")
    assert "speedrun.question_types" in loaded
    assert [m for m in loaded if m.startswith("speedrun.question_sets")] == []


def test_the_question_set_function_loads_pillow_only_with_an_image(
    definitions: dict[str, FunctionDefinition],
) -> None:
    # Pillow (~45 ms to import here) and boto3 (the image store's S3 client) are imported by the first image upload.
    loaded = modules_after_import(definitions["question_sets"], {}, "")
    assert [m for m in loaded if m == "PIL" or m.startswith(("PIL.", "boto3"))] == []
    assert "speedrun.question_sets.images" in loaded, "the probe does see the image modules the handler imports"
