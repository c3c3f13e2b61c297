"""HTTP API test function: replies with the event it got, or with the response the request asks for."""

from __future__ import annotations

import base64
import json
from typing import Any

from recorder import record


def handler(event: dict[str, Any], _context: Any) -> Any:
    record("http_echo", event)
    query = event.get("queryStringParameters") or {}
    if query.get("fail") == "1":
        raise RuntimeError("the function failed")
    if query.get("shape") == "binary":
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "cookies": ["a=1; Path=/", "b=2; Path=/"],
            "body": base64.b64encode(bytes(range(256))).decode(),
            "isBase64Encoded": True,
        }
    if event["routeKey"] == "POST /api/question-sets":
        return {"statusCode": 201, "body": json.dumps({"id": f"set-{len(event['body'])}"})}
    if query.get("shape") == "bare":
        return {"inferred": True}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-route-key": event["routeKey"]},
        "body": json.dumps(event),
    }
