"""Live runs holding hand-built event lists: the reporter's view of the engine (`export`, `drop`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from speedrun.engine.models import RunExport


class CompletedRuns:
    def __init__(self, runs: Iterable[list[dict[str, Any]]] = ()) -> None:
        self.runs: dict[str, list[dict[str, Any]]] = {events[0]["data"]["run_id"]: events for events in runs}

    def export(self, run_id: str) -> RunExport | None:
        events = self.runs.get(run_id)
        return None if events is None else RunExport(run_id, "completed", events)

    def drop(self, run_id: str) -> None:
        """The reporter drops only a run it exported: an unknown id is a test failure."""
        self.runs.pop(run_id)
