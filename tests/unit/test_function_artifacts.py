"""What each deployed function's sys.path holds, checked statically (no layer build, no network, and
the shipped code is parsed, never imported).

Lambda puts the task root (the function's folder `lambdas/<name>/`) first on sys.path, then the
layers' `python/` folders, then the runtime (its own modules and the AWS SDK). A task root module
named like a layer package shadows it; a third-party import no layer installs fails at the first
cold start. Both once killed the whole stack, so both are proved here from the sources, the
requirement files and the distributions installed in this venv (which the pins tests tie to the
layer's pins).
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from infra.layers import DEPENDENCIES_REQUIREMENTS, PROVIDED_BY_RUNTIME, SHARED_LAYER_DIR
from speedrun import manifest
from tests.support.imports import (
    LAMBDA_RUNTIME_MODULES,
    Closure,
    Import,
    distribution_top_levels,
    folder_module_names,
    host_marker_environment,
    installed_disagreements,
    lambda_marker_environment,
    pin_disagreements,
    python_files,
    read_requirements,
    requirement_closure,
    runtime_imports,
    shadowed,
    string_constants,
    target_stdlib_names,
    unprovided,
)

ROOT = Path(__file__).resolve().parents[2]
PROJECT_REQUIREMENTS = ROOT / "requirements.txt"
SHARED_LAYER_PYTHON = SHARED_LAYER_DIR / "python"
FIRST_PARTY = "speedrun"
SHARED_PACKAGE = SHARED_LAYER_PYTHON / FIRST_PARTY
RUNTIME_IMPORTS = frozenset(PROVIDED_BY_RUNTIME) | LAMBDA_RUNTIME_MODULES
"""What the Lambda Python runtime itself lets a function import (besides the standard library)."""
ASYMMETRIC_JWT_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA"}
)
"""PyJWT verifies these only with `cryptography` installed (the `crypto` extra)."""


def code_folders() -> dict[str, Path]:
    return {spec.name: ROOT / spec.code_dir for spec in manifest.FUNCTIONS}


def shipped_folders() -> list[Path]:
    """Everything a function runs of ours: every task root and the shared layer's package."""
    return [*code_folders().values(), SHARED_PACKAGE]


def import_scopes() -> list[tuple[Path, frozenset[str]]]:
    """Each folder of shipped code with the modules its own sys.path entry adds: a task root makes its
    function's sibling modules importable; the shared package can count on no task root."""
    task_roots = [(folder, frozenset(folder_module_names(folder))) for folder in code_folders().values()]
    return [*task_roots, (SHARED_PACKAGE, frozenset())]


def imports_of(folder: Path) -> list[Import]:
    return [
        found
        for path in python_files([folder])
        for found in runtime_imports(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    ]


def layer_distributions(closure: Closure) -> set[NormalizedName]:
    """The distributions left in the dependencies layer once infra.layers prunes the runtime's SDK."""
    return closure.names() - {canonicalize_name(name) for name in PROVIDED_BY_RUNTIME}


@pytest.fixture(scope="module")
def closure() -> Closure:
    """The dependencies layer's distributions, for the Lambda runtime's markers, as installed here."""
    return requirement_closure(read_requirements(DEPENDENCIES_REQUIREMENTS), lambda_marker_environment())


@pytest.fixture(scope="module")
def layer(closure: Closure) -> set[NormalizedName]:
    return layer_distributions(closure)


@pytest.fixture(scope="module")
def taken(closure: Closure, layer: set[NormalizedName]) -> dict[str, str]:
    """Every top-level name a task root must not use, with what it would shadow."""
    names = dict.fromkeys(sys.stdlib_module_names, "the standard library")
    names.update(dict.fromkeys(RUNTIME_IMPORTS, "the Lambda runtime"))
    for name in sorted(layer):
        distribution = closure.distributions[name]
        names.update(dict.fromkeys(distribution_top_levels(distribution), f"the dependencies layer ({name})"))
    names.update(dict.fromkeys(folder_module_names(SHARED_LAYER_PYTHON), "the shared layer"))
    return names


# --- 1. no task root shadows a layer package ---


def test_the_venv_holds_every_distribution_the_dependencies_layer_installs(closure: Closure) -> None:
    assert closure.missing == set(), "required by the layer (transitively) but not installed in the venv"
    assert {"pyjwt", "cryptography", "pydantic-core", "aws-xray-sdk"} <= closure.names()


def test_pip_on_this_host_selects_every_distribution_the_lambda_runtime_needs(closure: Closure) -> None:
    # pip --platform/--python-version pick wheels, but it evaluates markers for the host (pypa/pip#11664).
    on_host = requirement_closure(read_requirements(DEPENDENCIES_REQUIREMENTS), host_marker_environment())
    assert closure.names() - on_host.names() == set()


def test_no_task_root_module_shadows_a_layer_the_runtime_or_the_standard_library(taken: dict[str, str]) -> None:
    collisions = {name: found for name, folder in code_folders().items() if (found := shadowed(folder, taken))}
    assert collisions == {}


def test_the_forbidden_names_cover_both_layers_the_runtime_and_the_standard_library(taken: dict[str, str]) -> None:
    assert taken["speedrun"] == "the shared layer"
    assert taken["jwt"] == "the dependencies layer (pyjwt)"
    assert taken["pydantic_core"] == "the dependencies layer (pydantic-core)"
    assert taken["cryptography"] == "the dependencies layer (cryptography)"
    assert taken["typing_extensions"] == "the dependencies layer (typing-extensions)"
    assert taken["bootstrap"] == taken["awslambdaric"] == taken["botocore"] == "the Lambda runtime"
    assert taken["json"] == "the standard library"
    assert manifest.HANDLER_MODULE not in taken


def test_a_task_root_module_named_like_a_layer_package_is_reported(tmp_path: Path, taken: dict[str, str]) -> None:
    for module in ("speedrun.py", "json.py", "bootstrap.py", "handler.py", "notes.txt"):
        (tmp_path / module).write_text("")
    for package in ("jwt", "__pycache__", "helpers"):
        (tmp_path / package).mkdir()
    assert shadowed(tmp_path, taken) == {
        "bootstrap": "the Lambda runtime",
        "json": "the standard library",
        "jwt": "the dependencies layer (pyjwt)",
        "speedrun": "the shared layer",
    }


# --- 2. every third-party import of the shipped code is provided ---


def ignored_imports() -> frozenset[str]:
    return target_stdlib_names() | RUNTIME_IMPORTS | {FIRST_PARTY}


def test_every_runtime_import_of_the_shipped_code_is_installed_by_the_dependencies_layer(
    layer: set[NormalizedName],
) -> None:
    missing: dict[str, list[str]] = {}
    seen: set[str] = set()
    for folder, own_modules in import_scopes():
        imports = imports_of(folder)
        seen |= {i.module for i in imports}
        for module, where in unprovided(imports, layer, ignored_imports() | own_modules).items():
            missing.setdefault(module, []).extend(where)
    assert {"aws_lambda_powertools", "jwt", "pydantic", "pynamodb", "redis"} <= seen
    assert missing == {}


def test_imports_under_type_checking_are_skipped_and_imports_in_functions_are_seen() -> None:
    source = (
        "from __future__ import annotations\n"
        "import typing\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    import moto\n"
        "if typing.TYPE_CHECKING:\n"
        "    from flask import Flask\n"
        "else:\n"
        "    import redis.cluster\n"
        "def handler(event, context):\n"
        "    from pydantic.fields import FieldInfo\n"
    )
    found = runtime_imports(source, Path("fake.py"))
    assert [(i.module, i.line) for i in found] == [
        ("__future__", 1),
        ("typing", 2),
        ("typing", 3),
        ("redis", 10),
        ("pydantic", 12),
    ]


def test_a_dev_only_import_is_reported_as_not_provided(layer: set[NormalizedName]) -> None:
    source = "import json\nimport boto3\nimport moto\nfrom speedrun import manifest\n"
    imports = runtime_imports(source, Path("fake.py"))
    assert unprovided(imports, layer, ignored_imports()) == {"moto": ["fake.py:3"]}


def test_asymmetric_jwt_verification_has_cryptography_in_the_layer(layer: set[NormalizedName]) -> None:
    users = [
        path.relative_to(ROOT)
        for path in python_files(shipped_folders())
        if (source := path.read_text(encoding="utf-8"))
        and any(i.module == "jwt" for i in runtime_imports(source, path))
        and string_constants(source) & ASYMMETRIC_JWT_ALGORITHMS
    ]
    assert users, "no shipped module verifies an asymmetric JWT: this check proves nothing"
    assert "cryptography" in layer, f"{users} verify RS256/ES256 JWTs; PyJWT needs its `crypto` extra"


def test_pyjwt_without_its_crypto_extra_brings_no_cryptography() -> None:
    bare = requirement_closure([Requirement("PyJWT==2.15.1")], lambda_marker_environment())
    assert "pyjwt" in bare.names()
    assert "cryptography" not in layer_distributions(bare)


# --- 3. the pins agree ---


def test_the_layer_pins_are_the_project_pins() -> None:
    assert pin_disagreements(DEPENDENCIES_REQUIREMENTS, PROJECT_REQUIREMENTS) == []


def test_the_venv_has_the_layer_pins_installed() -> None:
    assert installed_disagreements(DEPENDENCIES_REQUIREMENTS) == []


def test_pin_disagreements_report_versions_extras_absences_and_loose_pins(tmp_path: Path) -> None:
    layer_file, project_file = tmp_path / "layer.txt", tmp_path / "requirements.txt"
    layer_file.write_text("# the layer\nPyJWT[crypto]==2.15.1\nredis==8.1.0\nPydantic_Settings==2.14.1\nwrapt>=1\n")
    project_file.write_text("pyjwt==2.15.1  # no extra\nredis==8.0.0\nwrapt>=1\n")
    assert pin_disagreements(layer_file, project_file) == [
        "PyJWT: the layer asks for extras ['crypto'] that requirements.txt lacks",
        "redis: layer ==8.1.0, requirements.txt ==8.0.0",
        "Pydantic_Settings: pinned in the layer but absent from requirements.txt",
        "wrapt: not pinned with == in layer.txt (wrapt>=1)",
    ]


def test_installed_disagreements_report_a_wrong_version_and_an_absent_package(tmp_path: Path) -> None:
    pins = tmp_path / "requirements.txt"
    pins.write_text("redis==0.0.1\nno-such-distribution-here==1.0\n")
    assert installed_disagreements(pins) == [
        f"redis: pinned ==0.0.1 but {metadata.version('redis')} is installed",
        "no-such-distribution-here: pinned ==1.0 but not installed",
    ]
