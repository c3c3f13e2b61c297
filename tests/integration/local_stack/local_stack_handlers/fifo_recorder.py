"""SQS test consumer (FIFO queue): records every batch and succeeds."""

from __future__ import annotations

from typing import Any

from recorder import record


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    record("fifo_recorder", event)
    return {"batchItemFailures": []}
