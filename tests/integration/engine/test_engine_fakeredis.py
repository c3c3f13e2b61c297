"""The engine's scripts on fakeredis[lua] (the local stack's embedded fallback) behave exactly as on
a real Redis: the same scripted run gives the same replies, pushes and event stream on both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest

from tests.support.engine_harness import EngineWorld, engine_queues


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


def play(world: EngineWorld) -> list[Any]:
    """A short run touching every script: join, connect, sync, start, question, answer (single and
    multi-select, late), timeout, chat, kick, reconnect, results; returns everything observable."""
    seen: list[Any] = []
    run_id, code, host = world.create(3, duration_s=300)
    ann, bob, cat = (world.join(code, name) for name in ("Ann", "Bob", "Cat"))
    seen.append(world.send(ann, "sync"))
    seen.append(world.send(host, "start"))
    for index, (choice, wait) in enumerate([([0], 1_234), ([3], 21_001), ([3, 2], 19_999)]):
        seen.append(world.send(ann, "question", index=index))
        world.clock.advance(wait)
        seen.append(world.send(ann, "answer", index=index, selected=choice))
    seen.append(world.send(bob, "question", index=0))
    world.clock.advance(700)
    seen.append(world.send(bob, "timeout", index=0))
    seen.append(world.send(bob, "message", to="all", content='gg ünïcode "quoted" / slash'))
    seen.append(world.send(host, "kick", participant_id=cat.participant_id))
    assert world.reconnect(bob) == 200
    seen.append(world.send(bob, "sync"))
    seen.append(world.send(bob, "answer", index=0, selected=[0]))
    seen.append(world.send(host, "end"))
    seen.append(world.send(ann, "results"))
    seen.append([world.pusher.inbox[conn] for conn in sorted(world.pusher.inbox)])
    seen.append(world.engine.export(run_id).events)  # type: ignore[union-attr]
    ids = {run_id: "RUN", code: "CODE"} | {c.participant_id or "": c.name for c in (ann, bob, cat)}
    return [normalize(item, ids) for item in seen]


def normalize(value: Any, ids: dict[str, str]) -> Any:
    """Random ids replaced by stable names, so two runs compare equal."""
    if isinstance(value, dict):
        return {key: normalize(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item, ids) for item in value]
    if isinstance(value, str):
        return re.sub("|".join(map(re.escape, ids)), lambda m: ids[m.group(0)], value)
    return value


def test_fakeredis_plays_a_run_exactly_like_redis(redis_url: str, sqs: Any) -> None:
    on_redis = play(EngineWorld(redis_url, sqs))
    on_fakeredis = play(EngineWorld(redis_url, sqs, client=fakeredis.FakeRedis(decode_responses=True)))
    assert on_fakeredis == on_redis
    assert on_redis[-1][-1]["type"] == "run_completed"
