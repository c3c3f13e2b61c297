"""The OpenAPI document of the whole HTTP API, built at synth from every HTTP handler's resolver.

Each function's asset holds only its own handler, so the function that serves the document
(`manifest.FunctionSpec.openapi_document`) cannot import the others at run time: the document is
built here, in the synth process, and written into that function's asset (`infra.assets`). A handler
module that fails to import fails the synth, instead of silently leaving its routes undocumented.
"""

from __future__ import annotations

import importlib
import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI

from speedrun import manifest
from speedrun.http import ErrorBody

TITLE = "Speed-run platform API"
API_VERSION = "1.0.0"
BEARER_SCHEME = "bearerAuth"
RESOLVER_NAME = "app"
GATEWAY_ERROR = "GatewayError"


def http_function_modules() -> list[str]:
    """Importable names of the manifest's HTTP handler modules (in manifest order)."""
    return [spec.module for spec in manifest.FUNCTIONS if spec.http_routes]


def build_document() -> str:
    """The merged document as JSON, validated against the OpenAPI model."""
    merge = OpenAPIMerge(
        title=TITLE,
        version=API_VERSION,
        description="HTTP API of the live quiz platform. The WebSocket protocol is described in protocol.md.",
        security_schemes={
            BEARER_SCHEME: HTTPBearer(
                bearerFormat="JWT",
                description="A Cognito ID token (hosts, players) or, where noted, a run-scoped token from sign-on.",
            )
        },
        security=[{BEARER_SCHEME: []}],
        on_conflict="error",
    )
    for module_name in http_function_modules():
        resolver = getattr(importlib.import_module(module_name), RESOLVER_NAME)
        merge.add_schema(json.loads(resolver.get_openapi_json_schema()))
    document = merge.get_openapi_schema()
    _apply_manifest_auth(document)
    _document_validation_errors_as_400(document)
    _document_gateway_replies(document)
    return OpenAPI.model_validate(document).model_dump_json(by_alias=True, exclude_none=True)


def _apply_manifest_auth(document: dict[str, Any]) -> None:
    for route, _spec in manifest.http_routes():
        operation = document.get("paths", {}).get(route.path, {}).get(route.method.lower())
        if operation is not None and route.auth is manifest.Auth.PUBLIC:
            operation["security"] = []


def _document_validation_errors_as_400(document: dict[str, Any]) -> None:
    """Powertools documents request validation failures as 422; `make_resolver` answers them with 400."""
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            takes_input = "parameters" in operation or "requestBody" in operation
            if responses.pop("422", None) is not None and takes_input:
                responses.setdefault(
                    "400", {"description": "Bad Request", "content": {"application/json": {"schema": error_ref}}}
                )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorBody" not in schemas:
        error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs", {}))
        schemas["ErrorBody"] = error_schema
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document.get("paths", {}), default=str):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _document_gateway_replies(document: dict[str, Any]) -> None:
    """API Gateway answers some requests itself, before any function runs, with its own body
    `{"message": ...}`: 401 when the JWT authorizer refuses the token (routes that need one), 413
    when a body is over the payload limit. Those statuses may carry either body."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[GATEWAY_ERROR] = {
        "title": GATEWAY_ERROR,
        "description": "An error API Gateway answers itself (no function ran).",
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    }
    either = {"anyOf": [{"$ref": "#/components/schemas/ErrorBody"}, {"$ref": f"#/components/schemas/{GATEWAY_ERROR}"}]}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            statuses = [HTTPStatus.UNAUTHORIZED] if operation.get("security") != [] else []
            if "requestBody" in operation:
                statuses.append(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            responses = operation.setdefault("responses", {})
            for status in statuses:
                reply = responses.setdefault(str(status.value), {"description": status.phrase})
                reply["content"] = {"application/json": {"schema": either}}
