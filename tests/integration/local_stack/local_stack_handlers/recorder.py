"""Events received by the test handlers, in arrival order: (function name, event).

The handlers run in their own execution environments (processes), so they append to a JSON-lines
file named by `RECORDER_FILE`, which the test process reads back. Inside a function this module is
`recorder` at the task root; the tests import it by its package path.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

RECORDER_FILE_ENV = "RECORDER_FILE"


def _path() -> Path:
    return Path(os.environ[RECORDER_FILE_ENV])


def record(function: str, event: dict[str, Any]) -> None:
    line = json.dumps({"function": function, "event": event}) + "\n"
    with _path().open("a", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.write(line)


def received(function: str) -> list[dict[str, Any]]:
    path = _path()
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_SH)
        lines = file.read().splitlines()
    entries = [json.loads(line) for line in lines if line]
    return [entry["event"] for entry in entries if entry["function"] == function]


def clear() -> None:
    _path().write_text("", encoding="utf-8")
