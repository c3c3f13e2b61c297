"""What the engine rules tests (tests/integration/engine/test_engine_rules_*.py) share: starting a run,
the protocol's scoring formula and what a client was told (their world: tests.support.engine_rules_world)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from speedrun.engine.models import FrozenQuestion
from tests.support.engine_harness import Client, EngineWorld

DURATION_MS = 20_000


def start_run(
    world: EngineWorld, players: int = 2, questions: int | Sequence[FrozenQuestion] = 5, **config: Any
) -> tuple[str, Client, list[Client]]:
    run_id, code, host = world.create(questions, **config)
    clients = [world.join(code, f"Player {k}") for k in range(players)]
    assert world.send(host, "start")["type"] == "started"
    return run_id, host, clients


def expected_points(elapsed_ms: int, duration_ms: int = DURATION_MS) -> int:
    """round(1000 x (1 - elapsed / (2 x duration))), halves rounded up: the protocol's formula."""
    exact = 1000 * (1 - Fraction(min(elapsed_ms, duration_ms), 2 * duration_ms))
    return int(exact + Fraction(1, 2))


def frames_of(world: EngineWorld, client: Client, kind: str) -> list[dict[str, Any]]:
    """What the client was told of `kind` so far (the fan-out's deliveries due by now posted)."""
    world.fanout.run_due()
    return [frame for frame in world.received(client) if frame["type"] == kind]
