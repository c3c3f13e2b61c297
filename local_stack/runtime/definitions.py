"""Each function as the synthesized template defines it: handler, code asset, layers, environment,
memory, timeout and reserved concurrency, read from the cloud assembly `cdk synth` wrote."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import names

TemplateValue = str | dict[str, Any]
"""A literal, or an intrinsic (`Ref`, `Fn::GetAtt`, `Fn::Join`) naming a deployed resource."""


@dataclass(frozen=True)
class FunctionDefinition:
    name: str
    """The manifest name (the function's `speedrun:function` tag)."""
    handler: str
    code_dir: Path
    """The task root: the function's code asset, as `cdk synth` staged it."""
    layer_dirs: tuple[Path, ...]
    """Layer contents in the function's order, each extracted into `/opt`."""
    environment: Mapping[str, TemplateValue] = field(default_factory=dict)
    memory_mb: int = 128
    timeout_s: int = 3
    reserved_concurrency: int | None = None


class AssemblyError(RuntimeError):
    pass


def _tag(resource: Mapping[str, Any], key: str) -> str | None:
    tags = resource.get("Properties", {}).get("Tags", [])
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("Key") == key:
            return str(tag.get("Value"))
    return None


def _asset_dirs(assembly: Path) -> dict[str, Path]:
    """Asset object key (`<hash>.zip`) -> the staged folder, from every stack's asset manifest."""
    dirs: dict[str, Path] = {}
    for manifest_path in assembly.glob("*.assets.json"):
        files = json.loads(manifest_path.read_text()).get("files", {})
        for asset in files.values():
            source = asset.get("source", {})
            if source.get("packaging") != "zip":
                continue
            for destination in asset.get("destinations", {}).values():
                dirs[destination["objectKey"]] = assembly / source["path"]
    return dirs


def read_functions(assembly: Path, dependencies_layer: Path) -> dict[str, FunctionDefinition]:
    """The project's functions (by manifest name) from the synthesized templates.

    The dependencies layer's arm64 asset is replaced by `dependencies_layer` (the same pins built for
    this machine); every other layer and each function's code are the assets exactly as synthesized.
    """
    assets = _asset_dirs(assembly)
    functions: dict[str, FunctionDefinition] = {}
    for template_path in sorted(assembly.glob("*.template.json")):
        resources: dict[str, Any] = json.loads(template_path.read_text()).get("Resources", {})
        layers: dict[str, Path | None] = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::Lambda::LayerVersion":
                is_dependencies = logical_id.startswith(f"Layers{names.DEPENDENCIES_LAYER}")
                key = resource["Properties"]["Content"]["S3Key"]
                layers[logical_id] = dependencies_layer if is_dependencies else assets.get(key)
        for logical_id, resource in resources.items():
            name = _tag(resource, names.FUNCTION_TAG)
            if resource["Type"] != "AWS::Lambda::Function" or name is None:
                continue
            properties = resource["Properties"]
            code_key = properties["Code"]["S3Key"]
            if code_key not in assets:
                raise AssemblyError(f"{logical_id}: its code asset {code_key} is not in {assembly}")
            layer_dirs = []
            for layer in properties.get("Layers", []):
                layer_dir = layers.get(layer.get("Ref", "")) if isinstance(layer, dict) else None
                if layer_dir is None:
                    raise AssemblyError(f"{logical_id}: layer {layer!r} is not a folder asset of this assembly")
                layer_dirs.append(layer_dir)
            functions[name] = FunctionDefinition(
                name=name,
                handler=properties["Handler"],
                code_dir=assets[code_key],
                layer_dirs=tuple(layer_dirs),
                environment=dict(properties.get("Environment", {}).get("Variables", {})),
                memory_mb=int(properties.get("MemorySize", 128)),
                timeout_s=int(properties.get("Timeout", 3)),
                reserved_concurrency=(
                    int(properties["ReservedConcurrentExecutions"])
                    if "ReservedConcurrentExecutions" in properties
                    else None
                ),
            )
    if not functions:
        raise AssemblyError(f"no function tagged {names.FUNCTION_TAG} in {assembly}")
    return functions


class UnresolvedReference(AssemblyError):
    pass


def resolve_environment(
    definition: FunctionDefinition, local_values: Mapping[str, str], extras: Mapping[str, str]
) -> dict[str, str]:
    """The function's variables with every deployed reference replaced by its local value.

    `local_values` maps variable names to what the local stack provides in place of a deployed
    resource (a table name, a queue URL, the Redis endpoint, the mount path of the question store);
    literals pass through unchanged. A reference the local stack cannot provide stops the start, so a
    new variable can never silently reach a function unset.
    """
    resolved: dict[str, str] = {}
    for key, value in definition.environment.items():
        if key in local_values:
            resolved[key] = local_values[key]
        elif isinstance(value, str):
            resolved[key] = value
        else:
            raise UnresolvedReference(f"{definition.name}: no local value for {key} = {json.dumps(value)}")
    return {**resolved, **extras}
