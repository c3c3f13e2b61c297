"""A run played through the real engine (`RunEngine` + `SpeedRunService`, real Redis), recording
what every participant was told live, for the reporting tests to compare the durable results with."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from speedrun.adapters.queues import JobQueues
from speedrun.engine.models import HOST, PARTICIPANT, Caller, FrozenQuestion, RunConfig
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from tests.support.fakes import RecordingPusher
from tests.support.fanout import InProcessFanOut

START_MS = 1_800_000_000_000


class ManualClock:
    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms

    def advance_to(self, ms: int) -> None:
        """To `ms`, never backwards (a pending delivery's due time may already have passed)."""
        self.now = max(self.now, ms)


@dataclass
class PlayedRun:
    run_id: str
    host: Caller
    participants: list[Caller]
    handles: dict[str, str | None]
    answer_results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    completed: dict[str, Any] = field(default_factory=dict)
    """The `completed` frame the host was pushed (full final leaderboard)."""


def questions(count: int) -> list[FrozenQuestion]:
    return [
        FrozenQuestion(
            index=i,
            category=f"cat-{i % 3}",
            text=f'Question {i}: "quoted", with a comma; and ünïcode?',
            options=[f"option {i}.{k}" for k in range(4)],
            correct=[i % 4] if i % 5 else [i % 4, (i + 1) % 4],
            explanation=f"because {i}" if i % 2 else None,
        )
        for i in range(count)
    ]


def play_run(
    engine: RunEngine,
    clock: ManualClock,
    pusher: RecordingPusher,
    jobs: JobQueues,
    *,
    participants: int,
    question_count: int,
    handles_every: int = 2,
    seed: int = 11,
    question_duration_s: int = 20,
) -> PlayedRun:
    """Create, fill, start and play a run to completion (every participant answers everything)."""
    rng = random.Random(seed)
    fanout = InProcessFanOut(engine, pusher, clock)
    service = SpeedRunService(engine, pusher, jobs, fanout)
    config = RunConfig(
        host="host-sub",
        name="Reporting run",
        question_set_id="set-1",
        question_set_version=1,
        question_duration_s=question_duration_s,
        duration_s=None,
        max_participants=1000,
        chat=True,
        shuffle=False,
        categories=None,
    )
    frozen = questions(question_count)
    created = engine.create_run(config, frozen)
    host = Caller(created.run_id, HOST, None, "conn-host")
    assert service.connect(host)
    callers, handles = [], {}
    for k in range(1, participants + 1):
        handle = f"player-{k}" if handles_every and k % handles_every == 0 else None
        joined = engine.join(created.join_code, f"Näme, {k}", handle)
        caller = Caller(created.run_id, PARTICIPANT, joined.participant_id, f"conn-{k}")
        assert service.connect(caller)
        callers.append(caller)
        handles[joined.participant_id] = handle
        clock.advance(5)
    played = PlayedRun(created.run_id, host, callers, handles)
    started = service.handle(host, "start", json.dumps({"action": "start"}))
    assert started["type"] == "started", started
    duration_ms = question_duration_s * 1000
    for question in frozen:
        # Everyone is served at once, then answers in the order of their (random) thinking time.
        plans = []
        for caller in callers:
            served = service.handle(caller, "question", json.dumps({"action": "question", "index": question.index}))
            assert served["type"] == "question", served
            plans.append((rng.randrange(100, duration_ms), rng.random(), caller))
        served_at = clock.now
        for think_ms, roll, caller in sorted(plans, key=lambda plan: plan[0]):
            clock.now = max(clock.now, served_at + think_ms)
            if roll < 0.1:
                reply = service.handle(caller, "timeout", json.dumps({"action": "timeout", "index": question.index}))
            else:
                selected = list(question.correct) if roll < 0.6 else [(question.correct[0] + 1) % 4]
                if len(selected) < len(question.correct):
                    selected.append((selected[0] + 2) % 4)
                body = {"action": "answer", "index": question.index, "selected": selected}
                reply = service.handle(caller, "answer", json.dumps(body))
            assert reply["type"] == "answer_result", reply
            played.answer_results.setdefault(caller.participant_id or "", []).append(reply)
            fanout.run_due()
        clock.advance(1000)
    fanout.settle(clock.advance_to)
    completed = pusher.frames_to(host.connection_id, "completed")
    assert len(completed) == 1, completed
    played.completed = completed[0]
    return played
