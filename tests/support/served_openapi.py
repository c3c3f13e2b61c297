"""The OpenAPI document as `GET /api/openapi.json` serves it: the api_docs function's asset staged
as synth stages it, its handler imported from there and asked for the document."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from infra.function_code import code_dir
from speedrun import manifest
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import http_event


def served_openapi_document(staging_root: Path) -> dict[str, Any]:
    """The document the handler serves, checked to be the one file its asset ships beside it."""
    asset = code_dir(manifest.function("api_docs"), staging_root=staging_root)
    assert sorted(path.name for path in asset.iterdir()) == ["handler.py", manifest.OPENAPI_FILE]
    module_spec = importlib.util.spec_from_file_location("staged_api_docs_handler", asset / "handler.py")
    assert module_spec is not None and module_spec.loader is not None
    staged = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(staged)
    response = staged.handler(http_event("GET", "/api/openapi.json", sub=None), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    document: dict[str, Any] = json.loads(response["body"])
    assert document == json.loads(Path(asset / manifest.OPENAPI_FILE).read_text())
    return document
