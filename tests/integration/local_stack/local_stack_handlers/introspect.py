"""Reports what its execution environment looks like from inside: the process, `sys.path`, the
environment's variable names, the context object, whether a package can be imported; sleeps on demand."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(float(event.get("sleep_s", 0)))
    return {
        "pid": os.getpid(),
        "sys_path": sys.path,
        "variables": sorted(os.environ),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
        "memory_limit_in_mb": int(context.memory_limit_in_mb),
        "importable": {name: importlib.util.find_spec(name) is not None for name in event.get("packages", [])},
    }
