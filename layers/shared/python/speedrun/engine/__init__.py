"""The speed-run engine: live run state in Redis (one atomic Lua script per action), scoring,
leaderboard coalescing, completion, and the WebSocket service on top (docs/engine.md)."""

from speedrun.engine.models import (
    HOST,
    PARTICIPANT,
    Caller,
    CreatedRun,
    FrozenQuestion,
    Joined,
    RunConfig,
    RunExport,
)
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine

__all__ = [
    "HOST",
    "PARTICIPANT",
    "Caller",
    "CreatedRun",
    "FrozenQuestion",
    "Joined",
    "RunConfig",
    "RunEngine",
    "RunExport",
    "SpeedRunService",
]
