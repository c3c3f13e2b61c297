"""The fan-out function's work: post a delivery's pushes to `@connections`, or answer a flush.

Pace: one invocation posts at most PUSHES_PER_SECOND; the pushes queue's event source runs at most
`manifest.PUSHES_QUEUE`'s max_concurrency invocations, so all fan-out together stays under
PUSHES_PER_SECOND x max_concurrency calls a second, well inside API Gateway's account throttle
(docs/performance.md, the push budget). Within that, throttling (429) is retried with jittered
backoff by the pusher; a push still throttled (or met by a 5xx or network error) is queued again
with a delay, up to MAX_DELIVERY_ATTEMPTS in all, and only then counted as undelivered. A
connection that answers 410 Gone is forgotten by the run (the engine's `forget`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from speedrun.adapters.connections import Push, Pusher
from speedrun.engine import broadcasts
from speedrun.engine.store import RunEngine
from speedrun.fanout.deliveries import RECIPIENTS_PER_DELIVERY, FlushDelivery, PushDelivery
from speedrun.fanout.publisher import FanOut

logger = Logger(child=True)

PUSHES_PER_SECOND = 1000
"""One invocation's pace (all of its threads together)."""
POST_THREADS = 32
"""Parallel `@connections` calls of one invocation: at ~20..30 ms a call, enough for the pace."""
MAX_DELIVERY_ATTEMPTS = 4
"""A push is tried in this many deliveries (each with the pusher's own retries) before it is given up."""
REQUEUE_DELAY_S = (1, 2, 4)
"""Delay of the delivery that tries a push again, by attempt (plus up to a second of jitter)."""


@dataclass
class DeliveryReport:
    sent: int = 0
    gone: int = 0
    requeued: int = 0
    undelivered: int = 0
    """Pushes given up: refused for good, or still failing after MAX_DELIVERY_ATTEMPTS (logged)."""
    throttled_calls: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.gone += other.gone
        self.requeued += other.requeued
        self.undelivered += other.undelivered
        self.throttled_calls += other.throttled_calls


class FanOutService:
    def __init__(
        self,
        engine: RunEngine,
        pusher: Pusher,
        fanout: FanOut,
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.pusher = pusher
        self.fanout = fanout
        self._jitter = jitter

    def deliver(self, delivery: PushDelivery | FlushDelivery) -> DeliveryReport:
        if isinstance(delivery, FlushDelivery):
            return self.flush(delivery.run_id)
        return self.send(delivery.run_id, delivery.pushes(), attempt=delivery.attempt)

    def flush(self, run_id: str) -> DeliveryReport:
        """Send what the run has coalesced and is due; ask for the next flush when more is pending."""
        outcome = self.engine.call("flush", run_id)
        delay_ms = broadcasts.flush_delay_ms(outcome.effects)
        if delay_ms is not None:
            self.fanout.request_flush(run_id, delay_ms)
        pushes = broadcasts.effect_pushes(outcome.effects)
        if len(pushes) > RECIPIENTS_PER_DELIVERY:
            # A board to thousands of watchers or a big lobby's update: split into deliveries that
            # invocations post in parallel, as any broadcast, so no invocation outgrows its budget.
            self.fanout.publish(run_id, pushes)
            return DeliveryReport()
        return self.send(run_id, pushes)

    def send(self, run_id: str, pushes: Sequence[Push], *, attempt: int = 0) -> DeliveryReport:
        """Post in waves, so each connection gets its frames in order (a wave is posted in parallel)."""
        report = DeliveryReport()
        gone: set[str] = set()
        retry: list[Push] = []
        given_up = 0
        for wave in _waves(pushes):
            sent = self.pusher.send(wave)
            report.sent += sent.sent
            report.throttled_calls += sent.throttled_calls
            gone.update(sent.gone)
            given_up += len(sent.failed)
            if sent.retryable:
                again = set(sent.retryable)
                retry += [push for push in wave if push.connection_id in again]
        if gone:
            report.gone = len(gone)
            self.engine.call("forget", run_id, *sorted(gone))
        if retry and attempt + 1 < MAX_DELIVERY_ATTEMPTS:
            delay_s = REQUEUE_DELAY_S[min(attempt, len(REQUEUE_DELAY_S) - 1)] + round(self._jitter())
            self.fanout.publish(run_id, retry, attempt=attempt + 1, delay_s=delay_s)
            report.requeued = len(retry)
        else:
            given_up += len(retry)
        report.undelivered = given_up
        if given_up:
            logger.warning("pushes undelivered", extra={"run_id": run_id, "undelivered": given_up, "attempt": attempt})
        return report


def _waves(pushes: Sequence[Push]) -> list[list[Push]]:
    waves: list[list[Push]] = []
    depth: dict[str, int] = {}
    for push in pushes:
        level = depth.get(push.connection_id, 0)
        depth[push.connection_id] = level + 1
        if level == len(waves):
            waves.append([])
        waves[level].append(push)
    return waves
