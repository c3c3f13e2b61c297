"""Each function's code asset: its own folder `lambdas/<name>/` and nothing else (Lambda's task root).

A function that serves the OpenAPI document gets a staged copy of its folder with the document built
beside its handler (`infra.openapi`), under `.build/functions/<name>/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from infra.layers import ASSET_EXCLUDE, PROJECT_ROOT
from infra.openapi import build_document
from speedrun import manifest

STAGING_ROOT = PROJECT_ROOT / ".build" / "functions"


def code_dir(spec: manifest.FunctionSpec, staging_root: Path = STAGING_ROOT) -> Path:
    """The folder CDK turns into the function's code asset."""
    source = PROJECT_ROOT / spec.code_dir
    if not spec.openapi_document:
        return source
    staged = staging_root / spec.name
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(
        source, staged, ignore=shutil.ignore_patterns(*(pattern.removeprefix("**/") for pattern in ASSET_EXCLUDE))
    )
    (staged / manifest.OPENAPI_FILE).write_text(build_document(), encoding="utf-8")
    return staged
