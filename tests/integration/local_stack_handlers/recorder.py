"""Events received by the test handlers, in arrival order: (function name, event)."""

from __future__ import annotations

import threading
from typing import Any

RECEIVED: list[tuple[str, dict[str, Any]]] = []
_lock = threading.Lock()


def record(function: str, event: dict[str, Any]) -> None:
    with _lock:
        RECEIVED.append((function, event))


def received(function: str) -> list[dict[str, Any]]:
    with _lock:
        return [event for name, event in RECEIVED if name == function]


def clear() -> None:
    with _lock:
        RECEIVED.clear()
