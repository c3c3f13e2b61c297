"""Every WebSocket route of a speed-run ($connect, $disconnect, $default and each action).

A small router keyed by route key: the connection lifecycle routes answer a status code; every
message route answers the direct reply frame (the route response), see speedrun.engine.service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketConnectEventRequestContext,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketDisconnectEventRequestContext,
    APIGatewayWebSocketMessageEventModel,
    APIGatewayWebSocketMessageEventRequestContext,
)
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


class ConnectContext(APIGatewayWebSocketConnectEventRequestContext):
    authorizer: RunAuthorizerContext


class ConnectEvent(APIGatewayWebSocketConnectEventModel):
    request_context: ConnectContext = Field(alias="requestContext")


class DisconnectContext(APIGatewayWebSocketDisconnectEventRequestContext):
    authorizer: RunAuthorizerContext


class DisconnectEvent(APIGatewayWebSocketDisconnectEventModel):
    request_context: DisconnectContext = Field(alias="requestContext")


class MessageContext(APIGatewayWebSocketMessageEventRequestContext):
    authorizer: RunAuthorizerContext


class MessageEvent(APIGatewayWebSocketMessageEventModel):
    request_context: MessageContext = Field(alias="requestContext")


def _caller(context: ConnectContext | DisconnectContext | MessageContext) -> Caller:
    identity = context.authorizer
    return Caller(
        run_id=identity.run_id,
        role=identity.role,
        participant_id=identity.participant_id or None,
        connection_id=context.connection_id,
    )


def on_connect(event: dict[str, Any]) -> Reply:
    try:
        parsed = parse(event=event, model=ConnectEvent)
    except ValidationError:
        return {"statusCode": 401}
    try:
        allowed = service_from_settings().connect(_caller(parsed.request_context))
    except DomainError as exc:
        return {"statusCode": exc.status}
    return {"statusCode": 200 if allowed else 403}


def on_disconnect(event: dict[str, Any]) -> Reply:
    try:
        parsed = parse(event=event, model=DisconnectEvent)
        service_from_settings().disconnect(_caller(parsed.request_context))
    except (ValidationError, DomainError):
        logger.warning("disconnect not recorded", extra={"route": "$disconnect"})
    return {"statusCode": 200}


def on_message(event: dict[str, Any]) -> Reply:
    try:
        parsed = parse(event=event, model=MessageEvent)
    except ValidationError:
        frame = frames.error("unauthorized", "no speed-run identity on this connection", None)
    else:
        context = parsed.request_context
        body = parsed.body if isinstance(parsed.body, str) else None
        frame = service_from_settings().handle(
            _caller(context), context.route_key, body, token_expires_at=context.authorizer.expires_at
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
