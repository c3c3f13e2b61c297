"""HTTP: `GET /api/openapi.json`, the one OpenAPI 3.1 document of the whole HTTP API.

It is generated from the code: every HTTP function of the manifest has a resolver named `app` in
its handler module, and the document merges what those resolvers describe. Handler modules arrive
over time, so only the ones that exist are merged; the manifest then adds what a single resolver
cannot know (which routes are public).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun import manifest
from speedrun.http import ErrorBody, make_resolver

logger = Logger()
tracer = Tracer()
app = make_resolver()

TITLE = "Speed-run platform API"
API_VERSION = "1.0.0"
BEARER_SCHEME = "bearerAuth"
RESOLVER_NAME = "app"
GATEWAY_ERROR = "GatewayError"
# Deployed, handler modules are top-level (`question_sets.handler`); in tests and the local stack they
# live in the `lambdas` package. Import the others the same way this module was imported.
_PACKAGE_PREFIX = f"{__spec__.parent}." if __spec__ is not None and __spec__.parent else ""


def http_function_modules() -> list[str]:
    """Importable names of the manifest's HTTP handler modules that exist (in manifest order)."""
    names = [f"{_PACKAGE_PREFIX}{spec.module}" for spec in manifest.FUNCTIONS if spec.http_routes]
    return [name for name in names if importlib.util.find_spec(name) is not None]


@cache
def openapi_document() -> str:
    """The merged document as JSON, validated against the OpenAPI model (built once per container)."""
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
        try:
            resolver = getattr(importlib.import_module(module_name), RESOLVER_NAME)
        except Exception:
            # One broken handler module must not take the documentation of every other one down.
            logger.exception("handler module left out of the OpenAPI document", extra={"module": module_name})
            continue
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


@app.get(
    "/api/openapi.json",
    summary="This document: the OpenAPI 3.1 description of the whole HTTP API",
    tags=["docs"],
    responses={200: {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {}}}}},
)
def get_openapi_document() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=openapi_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
