"""Redis key layout (docs/engine.md). Every key of a run carries the hash tag `{<run id>}` so one
script may touch them all on a cluster; only the join code index lives outside the run's slot."""

from __future__ import annotations

RUN_KEY_PARTS = ("meta", "questions", "players", "names", "board", "events", "conns", "chat", "feed", "watchers")
"""The order scripts receive them in KEYS (lua/common.lua names them the same way)."""


def run_keys(run_id: str) -> list[str]:
    return [f"run:{{{run_id}}}:{part}" for part in RUN_KEY_PARTS]


def join_code_key(join_code: str) -> str:
    return f"joincode:{join_code}"
