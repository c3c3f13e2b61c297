"""WebSocket $connect REQUEST authorizer (identity source `route.request.querystring.token`).

A missing or malformed token raises "Unauthorized" (API Gateway answers 401); a token that is
forged, expired, for another audience, or whose run is gone or whose participant was kicked gets a
Deny policy (403). An Allow carries the run context every later route of the connection receives
as `requestContext.authorizer` (docs/signon-and-tokens.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.errors import Forbidden, Unauthorized
from speedrun.signon.authorizer import ConnectionAuthorizer
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()


@cache
def authorizer() -> ConnectionAuthorizer:
    return ConnectionAuthorizer.from_settings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    # No query string at all is a missing token (401), not a KeyError (500).
    token = (event.raw_event.get("queryStringParameters") or {}).get("token")
    route = parse_api_gateway_arn(event.method_arn, is_websocket_authorizer=True).resource  # "$connect"
    try:
        claims = authorizer().authorize(token)
    except Unauthorized as exc:
        logger.info("connection refused", extra={"status": 401, "reason": exc.message})
        metrics.add_metric(name="ConnectionsRefused", unit=MetricUnit.Count, value=1)
        # The exact message API Gateway turns into 401 (any other exception is a 500).
        raise Exception("Unauthorized") from None
    except Forbidden as exc:
        logger.info("connection denied", extra={"status": 403, "reason": exc.message})
        metrics.add_metric(name="ConnectionsRefused", unit=MetricUnit.Count, value=1)
        policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(event.method_arn, principal_id="anonymous")
        policy.deny_route(route)
        return policy.asdict()
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        event.method_arn,
        principal_id=claims.subject,
        context={
            "role": claims.role,
            "run_id": claims.run_id,
            "participant_id": claims.participant_id or "",
            "token_id": claims.token_id,
            # The connection outlives no token: every later route refuses actions after this.
            "expires_at": claims.expires_at_ms,
        },
    )
    policy.allow_route(route)
    metrics.add_metric(name="ConnectionsAuthorized", unit=MetricUnit.Count, value=1)
    return policy.asdict()
