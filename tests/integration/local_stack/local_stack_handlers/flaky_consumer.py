"""SQS test consumer (standard queue): records every batch; bodies with `"fail": true` are reported
as batch item failures, so the test sees partial batch failures, redelivery and the DLQ redrive."""

from __future__ import annotations

import json
from typing import Any

from recorder import record


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    record("flaky_consumer", event)
    failures = [
        {"itemIdentifier": item["messageId"]} for item in event["Records"] if json.loads(item["body"]).get("fail")
    ]
    return {"batchItemFailures": failures}
