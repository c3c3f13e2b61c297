"""The pushes queue and the fan-out function in this process, on the tests' clock.

Deliveries take the real path: `push_deliveries` splits them as the publisher does, each is
serialized and parsed back through `parse_delivery`, as the fan-out handler reads it, and a real
`FanOutService` posts it with the test's pusher and answers flushes with the engine's `flush`
script. A delivery is posted when `run_due()` runs and its delay has passed (whole seconds,
rounded up, as SQS delays them), so the tests see the coalescing the deployed system does.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from speedrun.adapters.connections import Push, Pusher
from speedrun.engine.store import RunEngine
from speedrun.fanout.deliveries import FlushDelivery, parse_delivery, push_deliveries
from speedrun.fanout.service import DeliveryReport, FanOutService


class InProcessFanOut:
    def __init__(self, engine: RunEngine, pusher: Pusher, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.service = FanOutService(engine, pusher, self, jitter=lambda: 0.0)
        self.report = DeliveryReport()
        self.deliveries = 0
        """Deliveries posted or answered so far (each one a fan-out record on AWS)."""
        self.flush_requests = 0
        self.published_pushes = 0
        self._pending: list[tuple[int, int, str]] = []
        self._order = itertools.count()
        self._lock = threading.RLock()
        """Producers may be racing threads; deliveries are posted one at a time."""

    # --- the publisher's side (speedrun.fanout.publisher.FanOut) -------------------------------

    def publish(self, run_id: str, pushes: Sequence[Push], *, attempt: int = 0, delay_s: int = 0) -> None:
        self.published_pushes += len(pushes)
        for delivery in push_deliveries(run_id, pushes, attempt=attempt):
            self._enqueue(delivery.model_dump_json(), delay_s * 1000)

    def request_flush(self, run_id: str, delay_ms: int) -> None:
        self.flush_requests += 1
        self._enqueue(FlushDelivery(run_id=run_id).model_dump_json(), math.ceil(delay_ms / 1000) * 1000)

    def _enqueue(self, body: str, delay_ms: int) -> None:
        with self._lock:
            heapq.heappush(self._pending, (self.clock() + delay_ms, next(self._order), body))

    # --- the consumer's side (the fan-out function) ---------------------------------------------

    def run_due(self) -> int:
        """Deliver every delivery due by now (and what those queue that is due at once)."""
        delivered = 0
        with self._lock:
            while self._pending and self._pending[0][0] <= self.clock():
                _due, _order, body = heapq.heappop(self._pending)
                self.report.add(self.service.deliver(parse_delivery(body)))
                self.deliveries += 1
                delivered += 1
        return delivered

    def next_due(self) -> int | None:
        with self._lock:
            return self._pending[0][0] if self._pending else None

    def settle(self, advance_to: Callable[[int], Any], *, limit: int = 1000) -> int:
        """Let the queue run dry: advance the clock (`advance_to(due_ms)`) to each pending delivery
        and deliver it. Returns how many were delivered."""
        delivered = self.run_due()
        for _ in range(limit):
            due = self.next_due()
            if due is None:
                return delivered
            advance_to(due)
            delivered += self.run_due()
        raise AssertionError(f"the fan-out queue did not run dry after {limit} rounds")
