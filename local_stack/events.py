"""Builders of the Lambda events API Gateway and SQS event source mappings produce.

Every builder returns a plain dict shaped like the real service's event, so a handler cannot tell
the local gateway from AWS; the tests parse each of them with Powertools' official event models.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from speedrun.clock import now_ms

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
"""moto's account: queue ARNs and Lambda ARNs agree with it."""
HTTP_API_ID = "localhttp"
WEBSOCKET_API_ID = "localws"
STAGE = "$default"
WEBSOCKET_STAGE = "local"

CLOUDFRONT_EDGE_IP = "130.176.0.1"
"""The `sourceIp` API Gateway reports behind CloudFront: an address of CloudFront's origin-facing
fleet (130.176.0.0/16 is one of its published ranges), never the viewer's."""
CLOUDFRONT_VIA = "2.0 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)"

_TEXT_CONTENT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)


def is_text_content(content_type: str | None) -> bool:
    """HTTP API passes these bodies as text; anything else (multipart uploads too) is base64-encoded."""
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith(_TEXT_CONTENT_TYPES) or media_type.endswith(("+json", "+xml"))


def _clf_time(ms: int) -> str:
    """API Gateway's request time format: `22/Nov/2026:00:25:52 +0000`."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _join_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated keys are joined with commas, as API Gateway does for headers and query parameters."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _multi_values(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def through_edge(
    headers: Sequence[tuple[str, str]], viewer_ip: str, viewer_port: int, *, viewer_address: bool
) -> list[tuple[str, str]]:
    """The request headers as CloudFront hands them to the API origin: `X-Forwarded-For` gains the
    viewer's address (appended to one the viewer sent), `Via` names the edge, and where the origin
    request policy forwards it (the HTTP API, not the WebSocket handshake) `CloudFront-Viewer-Address`
    carries the viewer's `ip:port`. Headers a viewer sends under CloudFront's own names are dropped."""
    kept = [(name, value) for name, value in headers if not name.lower().startswith("cloudfront-")]
    forwarded = [value for name, value in kept if name.lower() == "x-forwarded-for"]
    kept = [(name, value) for name, value in kept if name.lower() not in ("x-forwarded-for", "via")]
    kept.append(("X-Forwarded-For", ", ".join([*forwarded, viewer_ip])))
    kept.append(("Via", CLOUDFRONT_VIA))
    if viewer_address:
        kept.append(("CloudFront-Viewer-Address", f"{viewer_ip}:{viewer_port}"))
    return kept


def request_id() -> str:
    return str(uuid.uuid4())


def connection_id() -> str:
    """API Gateway connection ids look like `L0SM9cOFvHcCIhw=`: 11 random bytes, url-safe base64 (safe in a path)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()


# --- HTTP API (payload format 2.0) ---


def http_api_event(
    *,
    route_key: str,
    method: str,
    raw_path: str,
    raw_query_string: str,
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
    path_parameters: Mapping[str, str],
    body: bytes,
    source_ip: str,
    domain_name: str,
    jwt_claims: Mapping[str, Any] | None,
) -> dict[str, Any]:
    lowered = [(name.lower(), value) for name, value in headers]
    cookies = [part.strip() for name, value in lowered if name == "cookie" for part in value.split(";") if part.strip()]
    header_map = _join_values((name, value) for name, value in lowered if name != "cookie")
    at_ms = now_ms()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query_string,
        "headers": header_map,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": HTTP_API_ID,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header_map.get("user-agent", ""),
            },
            "requestId": request_id(),
            "routeKey": route_key,
            "stage": STAGE,
            "time": _clf_time(at_ms),
            "timeEpoch": at_ms,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = _join_values(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": dict(jwt_claims), "scopes": None}}
    if body:
        if is_text_content(header_map.get("content-type")):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


# --- WebSocket API ---


@dataclass
class WebSocketClient:
    """What API Gateway knows about one WebSocket connection."""

    connection_id: str
    source_ip: str
    user_agent: str
    domain_name: str
    connected_at_ms: int = field(default_factory=now_ms)
    headers: list[tuple[str, str]] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    authorizer: dict[str, Any] = field(default_factory=dict)
    """The authorizer's context plus `principalId`, passed to every later route of the connection."""


def _websocket_request_context(
    client: WebSocketClient, route_key: str, event_type: str, at_ms: int | None
) -> dict[str, Any]:
    """`at_ms`: when the request arrived (epoch ms), now unless given."""
    if at_ms is None:
        at_ms = now_ms()
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id(),
        "requestTime": _clf_time(at_ms),
        "messageDirection": "IN",
        "stage": WEBSOCKET_STAGE,
        "connectedAt": client.connected_at_ms,
        "requestTimeEpoch": at_ms,
        "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
        "requestId": request_id(),
        "domainName": client.domain_name,
        "connectionId": client.connection_id,
        "apiId": WEBSOCKET_API_ID,
    }


def _websocket_handshake_fields(client: WebSocketClient) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "headers": _join_values(client.headers),
        "multiValueHeaders": _multi_values(client.headers),
        "isBase64Encoded": False,
    }
    if client.query:
        fields["queryStringParameters"] = _join_values(client.query)
        fields["multiValueQueryStringParameters"] = _multi_values(client.query)
    return fields


def connect_method_arn(region: str) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{WEBSOCKET_API_ID}/{WEBSOCKET_STAGE}/$connect"


def websocket_authorizer_event(client: WebSocketClient, region: str) -> dict[str, Any]:
    """The REQUEST authorizer event of `$connect`."""
    return {
        "type": "REQUEST",
        "methodArn": connect_method_arn(region),
        **_websocket_handshake_fields(client),
        "stageVariables": {},
        "requestContext": _websocket_request_context(client, "$connect", "CONNECT", None),
    }


def websocket_connect_event(client: WebSocketClient, *, at_ms: int | None = None) -> dict[str, Any]:
    context = _websocket_request_context(client, "$connect", "CONNECT", at_ms)
    context["authorizer"] = dict(client.authorizer)
    return {**_websocket_handshake_fields(client), "requestContext": context}


def websocket_message_event(
    client: WebSocketClient, route_key: str, body: str, *, at_ms: int | None = None
) -> dict[str, Any]:
    context = _websocket_request_context(client, route_key, "MESSAGE", at_ms)
    context["messageId"] = base64.b64encode(secrets.token_bytes(10)).decode()
    context["authorizer"] = dict(client.authorizer)
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def websocket_disconnect_event(
    client: WebSocketClient, status_code: int, reason: str, *, at_ms: int | None = None
) -> dict[str, Any]:
    context = _websocket_request_context(client, "$disconnect", "DISCONNECT", at_ms)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    context["authorizer"] = dict(client.authorizer)
    # API Gateway sends only a few headers on $disconnect; the handshake's are not repeated.
    headers = [("Host", client.domain_name), ("x-api-key", ""), ("X-Forwarded-For", client.source_ip)]
    return {
        "headers": _join_values(headers),
        "multiValueHeaders": _multi_values(headers),
        "requestContext": context,
        "isBase64Encoded": False,
    }


# --- SQS event source mapping ---


def queue_arn(region: str, queue_name: str) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_name}"


def sqs_event(messages: Sequence[Mapping[str, Any]], *, source_arn: str, region: str) -> dict[str, Any]:
    """`messages` are ReceiveMessage results (with `Attributes` and `MessageAttributes` requested)."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        attributes.setdefault("SenderId", ACCOUNT_ID)
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None,
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": source_arn,
            "awsRegion": region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}
