"""Every WebSocket route of a speed-run ($connect, $disconnect, $default and each action).

A small router keyed by route key: the connection lifecycle routes answer a status code; every
message route answers the direct reply frame (the route response), see speedrun.engine.service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from speedrun.engine import frames
from speedrun.engine.models import Caller
from speedrun.engine.service import service_from_settings
from speedrun.errors import DomainError
from speedrun.roles import Role
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()

Reply = dict[str, Any]


class RunAuthorizerContext(BaseModel):
    """What the $connect authorizer put on the connection (API Gateway repeats it on every route)."""

    model_config = ConfigDict(extra="ignore")

    role: Role
    run_id: str = Field(min_length=1)
    participant_id: str = ""
    token_id: str = ""
    expires_at: int | None = None
    """Epoch ms when the connecting token expires (API Gateway may hand it on as a string)."""


@dataclass(frozen=True)
class Received:
    """What a route needs of its event: who sent it (the connection and the identity its authorizer
    gave it), the route, the frame's text and when the connecting token expires."""

    caller: Caller
    route_key: str
    body: str | None
    token_expires_at: int | None


def _received(event: dict[str, Any]) -> Received:
    """ValueError when the event carries no speed-run identity. Powertools' data class reads the
    event and our model its authorizer context: the parser's event models would import every event
    model Powertools has (~75 ms of each cold start, docs/performance.md)."""
    parsed = APIGatewayWebSocketEvent(event)
    try:
        context = parsed.request_context
        identity = RunAuthorizerContext.model_validate(context.get("authorizer"))
        connection_id, route_key = context.connection_id, context.route_key
    except (KeyError, TypeError, ValidationError) as exc:
        raise ValueError("no speed-run identity on this connection") from exc
    if not (isinstance(connection_id, str) and connection_id and isinstance(route_key, str)):
        raise ValueError("no connection id or route key")
    caller = Caller(
        run_id=identity.run_id,
        role=identity.role,
        participant_id=identity.participant_id or None,
        connection_id=connection_id,
    )
    body = parsed.get("body")
    return Received(caller, route_key, body if isinstance(body, str) else None, identity.expires_at)


def on_connect(event: dict[str, Any]) -> Reply:
    try:
        received = _received(event)
    except ValueError:
        return {"statusCode": 401}
    try:
        allowed = service_from_settings().connect(received.caller)
    except DomainError as exc:
        return {"statusCode": exc.status}
    return {"statusCode": 200 if allowed else 403}


def on_disconnect(event: dict[str, Any]) -> Reply:
    try:
        service_from_settings().disconnect(_received(event).caller)
    except (ValueError, DomainError):
        logger.warning("disconnect not recorded", extra={"route": "$disconnect"})
    return {"statusCode": 200}


def on_message(event: dict[str, Any]) -> Reply:
    try:
        received = _received(event)
    except ValueError:
        frame = frames.error("unauthorized", "no speed-run identity on this connection", None)
    else:
        frame = service_from_settings().handle(
            received.caller, received.route_key, received.body, token_expires_at=received.token_expires_at
        )
    return {"statusCode": 200, "body": frames.reply_body(frame)}


ROUTES: dict[str, Callable[[dict[str, Any]], Reply]] = {
    "$connect": on_connect,
    "$disconnect": on_disconnect,
}
"""Every other route key (the actions and $default) is a message: `on_message`."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> Reply:
    route_key = str(event.get("requestContext", {}).get("routeKey", ""))
    return ROUTES.get(route_key, on_message)(event)
