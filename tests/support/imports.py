"""Static views of what a Lambda function's code imports and what its layers provide.

Nothing here imports the shipped code or builds a layer: sources are parsed with `ast`, and the
dependencies layer's contents are derived from the distributions installed in this venv
(`importlib.metadata`), following layers/dependencies/requirements.txt transitively.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from infra.layers import PIP_TARGET_ARGS

LAMBDA_RUNTIME_MODULES = frozenset({"awslambdaric", "bootstrap"})
"""The Python runtime's own modules (/var/runtime): the task root comes before them on sys.path."""

STDLIB_REMOVED: Mapping[tuple[int, int], frozenset[str]] = {
    (3, 12): frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    (3, 13): frozenset(
        {
            "aifc",
            "audioop",
            "cgi",
            "cgitb",
            "chunk",
            "crypt",
            "imghdr",
            "lib2to3",
            "mailcap",
            "msilib",
            "nis",
            "nntplib",
            "ossaudiodev",
            "pipes",
            "sndhdr",
            "spwd",
            "sunau",
            "telnetlib",
            "uu",
            "xdrlib",
        }
    ),
}
"""Standard-library modules gone from the Python version that first lacks them (PEP 594, PEP 632)."""


def _pip_arg(flag: str) -> str:
    return PIP_TARGET_ARGS[PIP_TARGET_ARGS.index(flag) + 1]


def target_python() -> tuple[int, int]:
    """The Python the dependencies layer is built for (`--python-version` of infra.layers)."""
    major, minor = _pip_arg("--python-version").split(".")
    return int(major), int(minor)


def host_marker_environment() -> dict[str, str]:
    """The marker values pip really uses when it builds the layer here: `--platform`/`--python-version`
    select wheels but do not change marker evaluation (pypa/pip#11664)."""
    return {key: str(value) for key, value in default_environment().items()}


def lambda_marker_environment() -> dict[str, str]:
    """PEP 508 marker values of the Lambda runtime the layer is built for (CPython on Linux)."""
    major, minor = target_python()
    machine = _pip_arg("--platform").split("_", 1)[1]  # manylinux2014_aarch64 -> aarch64
    return {
        **host_marker_environment(),
        "implementation_name": "cpython",
        "implementation_version": f"{major}.{minor}.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "python_full_version": f"{major}.{minor}.0",
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
    }


def target_stdlib_names() -> frozenset[str]:
    """The standard library's top-level module names on the layer's target Python."""
    removed: set[str] = set()
    for version, names in STDLIB_REMOVED.items():
        if version <= target_python():
            removed |= names
    return frozenset(sys.stdlib_module_names) - removed


# --- requirement files ---


def read_requirements(path: Path) -> list[Requirement]:
    """The requirements of a pip requirements file of plain PEP 508 lines (no options, no `-r`)."""
    requirements = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise ValueError(f"{path}:{number}: pip options are not supported here: {line}")
        requirements.append(Requirement(line))
    return requirements


def exact_pin(requirement: Requirement) -> str | None:
    """The version of a `name==version` requirement; None for anything looser."""
    specifiers = list(requirement.specifier)
    if len(specifiers) == 1 and specifiers[0].operator in {"==", "==="} and "*" not in specifiers[0].version:
        return specifiers[0].version
    return None


def _extras(requirement: Requirement) -> set[NormalizedName]:
    return {canonicalize_name(extra) for extra in requirement.extras}


def pin_disagreements(layer_file: Path, project_file: Path) -> list[str]:
    """What the layer's pins say that the project's requirements file does not say the same way."""
    project = {canonicalize_name(r.name): r for r in read_requirements(project_file)}
    problems = []
    for wanted in read_requirements(layer_file):
        name = canonicalize_name(wanted.name)
        pin = exact_pin(wanted)
        if pin is None:
            problems.append(f"{wanted.name}: not pinned with == in {layer_file.name} ({wanted})")
        if name not in project:
            problems.append(f"{wanted.name}: pinned in the layer but absent from {project_file.name}")
            continue
        other = project[name]
        if exact_pin(other) != pin:
            theirs = other.specifier or "(unpinned)"
            problems.append(f"{wanted.name}: layer {wanted.specifier}, {project_file.name} {theirs}")
        lacking = sorted(_extras(wanted) - _extras(other))
        if lacking:
            problems.append(f"{wanted.name}: the layer asks for extras {lacking} that {project_file.name} lacks")
    return problems


def installed_disagreements(requirements_file: Path) -> list[str]:
    """The pins of a requirements file that this venv does not have installed at that version."""
    problems = []
    for wanted in read_requirements(requirements_file):
        pin = exact_pin(wanted)
        try:
            installed = metadata.version(wanted.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{wanted.name}: pinned =={pin} but not installed")
            continue
        if pin is not None and Version(installed) != Version(pin):
            problems.append(f"{wanted.name}: pinned =={pin} but {installed} is installed")
    return problems


# --- imports of source files ---


class Import(NamedTuple):
    module: str
    """The top-level name: `a` for `import a.b` and `from a.b import c`."""
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _RuntimeImports(ast.NodeVisitor):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[Import] = []

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:  # `else:` of `if TYPE_CHECKING:` runs
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(Import(alias.name.split(".")[0], self.path, node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.append(Import(node.module.split(".")[0], self.path, node.lineno))


def runtime_imports(source: str, path: Path) -> list[Import]:
    """Absolute imports a module can execute (anywhere, functions included), not `if TYPE_CHECKING:` ones."""
    visitor = _RuntimeImports(path)
    visitor.visit(ast.parse(source, filename=str(path)))
    return visitor.found


def python_files(folders: Iterable[Path]) -> Iterator[Path]:
    for folder in folders:
        yield from sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def string_constants(source: str) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


# --- the dependencies layer, derived from the installed distributions ---


@dataclass
class Closure:
    """The distributions a requirements file installs, transitively, found in this venv."""

    distributions: dict[NormalizedName, metadata.Distribution] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    """Required (for the given marker environment) but not installed here."""

    def names(self) -> set[NormalizedName]:
        return set(self.distributions)


def _applies(requirement: Requirement, environment: Mapping[str, str], extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras))


def requirement_closure(requirements: Iterable[Requirement], environment: Mapping[str, str]) -> Closure:
    """Follow `Requires-Dist` (with the requested extras, markers evaluated in `environment`)."""
    closure = Closure()
    extras_seen: dict[NormalizedName, set[NormalizedName]] = {}
    pending = [r for r in requirements if _applies(r, environment, ())]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = _extras(requirement)
        seen = extras_seen.get(name)
        if seen is not None and extras <= seen:
            continue
        extras_seen[name] = (seen or set()) | extras
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            closure.missing.add(requirement.name)
            continue
        closure.distributions[name] = distribution
        for line in distribution.requires or ():
            dependency = Requirement(line)
            if _applies(dependency, environment, extras_seen[name]):
                pending.append(dependency)
    return closure


def distribution_top_levels(distribution: metadata.Distribution) -> set[str]:
    """The importable top-level names a distribution installs: `top_level.txt` and its RECORD."""
    names = {line.strip().split("/")[0] for line in (distribution.read_text("top_level.txt") or "").splitlines()}
    for file in distribution.files or ():
        head = file.parts[0]
        if len(file.parts) > 1:
            if head not in {"..", "__pycache__"} and not head.endswith((".dist-info", ".data", ".egg-info")):
                names.add(head)
        else:
            names.add(inspect.getmodulename(head) or "")
    return {name for name in names if name.isidentifier()}


@cache
def _import_owners() -> dict[str, frozenset[NormalizedName]]:
    return {
        module: frozenset(canonicalize_name(owner) for owner in owners)
        for module, owners in metadata.packages_distributions().items()
    }


def provided_by(module: str, layer: Iterable[NormalizedName]) -> bool:
    """Whether a top-level import name belongs to one of the layer's distributions."""
    return not _import_owners().get(module, frozenset()).isdisjoint(layer)


def unprovided(
    imports: Iterable[Import], layer: Iterable[NormalizedName], ignored: Iterable[str]
) -> dict[str, list[str]]:
    """The imported names neither `ignored` (stdlib, runtime, first-party) nor in the layer, with where."""
    distributions, skipped = frozenset(layer), frozenset(ignored)
    found: dict[str, list[str]] = {}
    for imported in imports:
        if imported.module not in skipped and not provided_by(imported.module, distributions):
            found.setdefault(imported.module, []).append(imported.where())
    return found


# --- task roots ---


def folder_module_names(folder: Path) -> set[str]:
    """Top-level names importable from a folder on sys.path: modules (`x.py`, extensions) and sub-folders."""
    names = set()
    for entry in folder.iterdir():
        if entry.is_dir():
            name: str | None = entry.name if entry.name != "__pycache__" else None
        else:
            name = inspect.getmodulename(entry.name) if entry.suffix != ".pyc" else None
        if name and name.isidentifier():
            names.add(name)
    return names


def shadowed(folder: Path, taken: Mapping[str, str]) -> dict[str, str]:
    """The folder's top-level names that another sys.path entry provides, with who provides them."""
    return {name: taken[name] for name in sorted(folder_module_names(folder)) if name in taken}
