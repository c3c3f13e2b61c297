"""Every WebSocket route of the tests: echoes frames, pushes through @connections, fails on demand."""

from __future__ import annotations

import json
from typing import Any

import boto3
from recorder import record

from speedrun.settings import get_settings


def _management_api() -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=get_settings().require("connections_url"))


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any] | None:
    context = event["requestContext"]
    route_key = context["routeKey"]
    record("ws_echo", event)
    if route_key == "$connect":
        token = (event.get("queryStringParameters") or {}).get("token")
        return {"statusCode": 403 if token == "refuse-connect" else 200}
    if route_key == "$disconnect":
        return {"statusCode": 200}
    if route_key == "boom":
        raise RuntimeError("the route failed")
    if route_key == "push":
        message = json.loads(event["body"])
        api = _management_api()
        target = message.get("to", context["connectionId"])
        try:
            api.post_to_connection(ConnectionId=target, Data=json.dumps({"type": "pushed"}).encode())
        except api.exceptions.GoneException:
            return {"statusCode": 200, "body": json.dumps({"type": "gone", "to": target})}
        if message.get("close"):
            info = api.get_connection(ConnectionId=target)
            api.delete_connection(ConnectionId=target)
            return {
                "statusCode": 200,
                "body": json.dumps({"type": "closing", "source_ip": info["identity"]["sourceIp"]}),
            }
        return {"statusCode": 200, "body": json.dumps({"type": "push_sent"})}
    if route_key == "silent":
        return None
    reply = {"type": "echo", "route_key": route_key, "body": event["body"], "authorizer": context["authorizer"]}
    return {"statusCode": 200, "body": json.dumps(reply)}
