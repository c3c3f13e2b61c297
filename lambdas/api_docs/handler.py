"""`GET /api/openapi.json`: serves the OpenAPI document that synth wrote into this function's asset."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.http import make_resolver
from speedrun.manifest import OPENAPI_FILE
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
app = make_resolver()

DOCUMENT_PATH = Path(__file__).with_name(OPENAPI_FILE)
"""Next to this module in the asset (`infra.openapi` builds it); absent in the source tree."""


@cache
def openapi_document() -> str:
    return DOCUMENT_PATH.read_text(encoding="utf-8")


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
