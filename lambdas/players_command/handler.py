"""HTTP: player commands (profile upsert, progress record), validated and queued for the worker."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.adapters.queues import JobQueues
from speedrun.http import caller_sub, error_responses, make_resolver
from speedrun.players.commands import HANDLE_PATTERN, PlayerCommands, ProfileBody, ProgressBody
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
app = make_resolver()

TAGS = ["players"]
Handle = Annotated[str, Path(pattern=HANDLE_PATTERN, description="3..32 of a-z, 0-9, `_`, `-`.")]


@cache
def commands() -> PlayerCommands:
    return PlayerCommands(JobQueues())


@app.put(
    "/api/players/<handle>",
    status_code=202,
    summary="Create or replace a player profile (queued; the first account to create a handle owns it)",
    tags=TAGS,
    responses={202: {"description": "`{request_id}`: queued."}, **error_responses(400, 401, 403, 413)},
)
def put_profile(handle: Handle, body: ProfileBody) -> dict[str, str]:
    request_id = commands().upsert_profile(handle, caller_sub(app), body)
    metrics.add_metric(name="PlayerCommandsQueued", unit=MetricUnit.Count, value=1)
    return {"request_id": request_id}


@app.post(
    "/api/players/<handle>/progress",
    status_code=202,
    summary="Append a progress record (queued; never overwritten)",
    tags=TAGS,
    responses={202: {"description": "`{request_id}`: queued."}, **error_responses(400, 401, 403, 413)},
)
def post_progress(handle: Handle, body: ProgressBody) -> dict[str, str]:
    request_id = commands().record_progress(handle, caller_sub(app), body)
    metrics.add_metric(name="PlayerCommandsQueued", unit=MetricUnit.Count, value=1)
    return {"request_id": request_id}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
