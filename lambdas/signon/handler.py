"""HTTP: open a speed-run (host) and join one (anyone). Logic in `speedrun.signon`."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.adapters.identity import signed_in_sub
from speedrun.http import caller_sub, error_responses, make_resolver
from speedrun.signon.join_limit import (
    JOINS_PER_EXTRA_REFUSAL,
    REFUSALS_PER_VIEWER_PER_RUN,
    UNKNOWN_CODES_PER_VIEWER_PER_MINUTE,
)
from speedrun.signon.models import CreateSpeedRunRequest, JoinRequest, RunJoined, SpeedRunCreated
from speedrun.signon.service import SignOnService
from speedrun.signon.viewer import viewer_of
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
app = make_resolver()

TAGS = ["sign-on"]


@cache
def service() -> SignOnService:
    return SignOnService.from_settings()


@app.post(
    "/api/signon/speedruns",
    status_code=201,
    summary="Open a speed-run from one of the caller's question sets",
    description="Freezes the chosen questions into the run; returns the join code and the host's run token.",
    tags=TAGS,
    responses={201: {"description": "The run is open (lobby)."}, **error_responses(400, 401, 404, 413)},
)
def create_speedrun(body: Annotated[CreateSpeedRunRequest, Body(embed=False)]) -> SpeedRunCreated:
    created = service().create_speedrun(caller_sub(app), body)
    metrics.add_metric(name="SpeedRunsOpened", unit=MetricUnit.Count, value=1)
    return created


@app.post(
    "/api/signon/join",
    status_code=201,
    summary="Join a speed-run with its join code",
    description="Public. Returns the participant's run token; everyone in the run is told. "
    "Join-flood limits never refuse a classroom: a whole school behind one address can fill a run "
    "within a minute. They count per viewer address (the one CloudFront reports in "
    "`CloudFront-Viewer-Address`, not the edge's) and per run, in one-minute windows, and answer `429` "
    f"until the minute ends once an address has named {UNKNOWN_CODES_PER_VIEWER_PER_MINUTE} (by default) "
    "unknown join codes, or, within one run, has joined as many times as the run has places "
    f"(`max_participants`) or has been refused (name taken, run full or closed) {REFUSALS_PER_VIEWER_PER_RUN} "
    f"times plus once per {JOINS_PER_EXTRA_REFUSAL} joins it made. "
    "A `player_handle` some account has claimed needs that account's ID token (`Authorization: Bearer`), "
    "else `403`.",
    tags=TAGS,
    responses={201: {"description": "Joined."}, **error_responses(400, 401, 403, 404, 409, 413, 429)},
)
def join_speedrun(body: Annotated[JoinRequest, Body(embed=False)]) -> RunJoined:
    event = app.current_event
    joined = service().join(
        body,
        viewer=viewer_of(event.headers, event.request_context.http.source_ip),
        # Only a claimed handle needs the caller's account; anonymous joins verify nothing.
        player_sub=signed_in_sub(event) if body.player_handle is not None else None,
    )
    metrics.add_metric(name="ParticipantsJoined", unit=MetricUnit.Count, value=1)
    return joined


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
