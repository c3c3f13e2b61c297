"""The engine's Lua scripts: one atomic call per action (EVALSHA, loaded on NOSCRIPT by redis-py).

Each `lua/<name>.lua` runs with `lua/common.lua` prepended. Scripts answer one JSON document,
`{"ok": reply, "effects": {...}}` or `{"error": {"code", "message"}, "effects": {...}}`: effects
(a completion the call triggered, a due leaderboard broadcast) must be acted on even when the
action itself was refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import redis
from aws_lambda_powertools import Logger

from speedrun.engine.frames import HOST_BOARD_MAX_ENTRIES, PARTICIPANT_BOARD_SIZE
from speedrun.engine.keys import run_keys
from speedrun.engine.models import NUMERIC_SLACK
from speedrun.errors import ERRORS_BY_CODE, DomainError, Unavailable

logger = Logger(child=True)

SCRIPT_NAMES = (
    "create",
    "join",
    "allowed",
    "connect",
    "disconnect",
    "forget",
    "sync",
    "start",
    "end",
    "kick",
    "extra_time",
    "question",
    "answer",
    "message",
    "finalize",
    "flush",
    "export",
    "drop",
)

LUA_CONSTANTS = {
    "PARTICIPANT_BOARD": PARTICIPANT_BOARD_SIZE,
    "HOST_BOARD_MAX": HOST_BOARD_MAX_ENTRIES,
    "NUMERIC_SLACK": NUMERIC_SLACK,
}
"""Facts the scripts share with the frames: defined once here, declared as Lua locals before common.lua."""


@contextmanager
def redis_errors_as_unavailable() -> Iterator[None]:
    """A lost or slow Redis becomes the protocol's `unavailable` (safe to retry)."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        logger.warning("live state store unreachable", extra={"cause": repr(exc)})
        raise Unavailable("live state store unavailable, retry") from exc


@cache
def script_source(name: str) -> str:
    folder = resources.files("speedrun.engine") / "lua"
    constants = "".join(f"local {key} = {value}\n" for key, value in LUA_CONSTANTS.items())
    return constants + (folder / "common.lua").read_text() + "\n" + (folder / f"{name}.lua").read_text()


@dataclass(frozen=True)
class Outcome:
    """A script's answer: the reply (None when refused), the error to raise, and the side effects."""

    reply: Any
    error: DomainError | None
    effects: dict[str, Any] = field(default_factory=dict)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


class RunScripts:
    def __init__(self, client: Any) -> None:
        self._scripts = {name: client.register_script(script_source(name)) for name in SCRIPT_NAMES}

    def raw(self, name: str, run_id: str, now: int, *args: Any) -> Any:
        with redis_errors_as_unavailable():
            return self._scripts[name](keys=run_keys(run_id), args=[now, *args])

    def call(self, name: str, run_id: str, now: int, *args: Any) -> Outcome:
        document = json.loads(self.raw(name, run_id, now, *args))
        effects = document.get("effects") or {}
        if "error" in document:
            error = document["error"]
            error_type = ERRORS_BY_CODE.get(error["code"], DomainError)
            return Outcome(None, error_type(error["message"]), effects)
        return Outcome(document["ok"], None, effects)
