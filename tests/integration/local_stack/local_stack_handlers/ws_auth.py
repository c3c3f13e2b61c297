"""WebSocket REQUEST authorizer for the tests: token `good` allowed, `deny` denied, else Unauthorized."""

from __future__ import annotations

from typing import Any

from recorder import record


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    record("ws_auth", event)
    token = (event.get("queryStringParameters") or {}).get("token")
    if token == "broken":
        raise RuntimeError("the authorizer itself failed")
    if token not in ("good", "deny", "refuse-connect"):
        raise Exception("Unauthorized")
    return {
        "principalId": "run1:host",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny" if token == "deny" else "Allow",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"role": "host", "run_id": "run1", "participant_id": "", "token_id": token},
    }
