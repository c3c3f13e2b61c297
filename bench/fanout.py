"""A discrete-event model of one speed-run's fan-out against API Gateway's quotas (protocol revision 2).

What is real: the engine (`RunEngine` on a private Redis, every action through
`SpeedRunService.handle`, joins through `RunEngine.join` as sign-on calls it), the fan-out function's
work (`FanOutService.deliver` on each pushes-queue record, parsed by `parse_delivery`, as the
handler parses it), its `ConnectionsPusher` (retries with backoff) and its `RateLimiter`
(PUSHES_PER_SECOND), both with a simulated clock and sleep injected.

What is modelled (MODEL, written into the results):
- API Gateway: each `@connections` call takes a latency drawn from a lognormal (median 20 ms,
  p99 80 ms, seeded); the account throttle is a token bucket (10,000 a second, burst 5,000) that
  EVERY API call of the run draws from (each client frame, each `@connections` call, each sign-on
  HTTP join, each `$connect`); an empty bucket answers 429 (botocore ClientError
  LimitExceededException to the pusher, a retry after a pause to a client). New WebSocket
  connections are admitted by a second bucket (500 a second, burst 500).
- The pushes queue (SQS standard, delays in whole seconds) and its event source: at most
  `max_concurrency` fan-out invocations at once, each with up to `batch_size` visible records, each
  container warm after a cold start and keeping its pusher and rate limiter (as `fanout()` is
  cached per container). An invocation's records run one after the other (the batch processor);
  a record's pushes are posted in waves over POST_THREADS virtual threads (a job goes to the thread
  free first), so its duration follows from the calls' latencies, the pace and the retries.
- Participants arrive at the connect quota (Poisson, 500 a second), join (HTTP), connect (retrying
  a refused connect), `sync`; once every one is admitted the host starts; each participant asks
  for question 0 when its `started` push arrives, answers after a think time (uniform 2..15 s),
  asks for the next question at once, 20 questions.

Simplifications (stated, not hidden): an invocation's whole timeline is computed when it starts
(its engine calls see the run's state at that moment); the buckets handle calls booked out of time
order exactly (1 ms bins), so that is sound for the throttle; Lambda concurrency of the speed-run
and sign-on functions is not limited; client frames' replies come back after a fixed round trip.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from botocore.exceptions import ClientError

from bench import cost
from bench.engine_run import CountingPusher, message_units
from speedrun import manifest
from speedrun.adapters.connections import ConnectionsPusher, Push, RateLimiter, SendReport
from speedrun.adapters.queues import JobQueues
from speedrun.engine.models import HOST, PARTICIPANT, Caller
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.fanout.deliveries import FlushDelivery, parse_delivery, push_deliveries
from speedrun.fanout.publisher import SQS_BATCH_ENTRIES
from speedrun.fanout.service import (
    MAX_DELIVERY_ATTEMPTS,
    POST_THREADS,
    PUSHES_PER_SECOND,
    DeliveryReport,
    FanOutService,
)
from speedrun.reporting.reporter import run_puts
from tests.support.engine_harness import CountingRedis, make_questions, run_config
from tests.support.fakes import RecordingPusher
from tests.support.played_run import START_MS, ManualClock

LATENCY_MEDIAN_MS = 20.0
LATENCY_P99_MS = 80.0
LATENCY_SIGMA = math.log(LATENCY_P99_MS / LATENCY_MEDIAN_MS) / 2.3263
"""Lognormal: p99 = median x exp(2.3263 sigma)."""
ACCOUNT_RPS = 10_000
ACCOUNT_BURST = 5_000
CONNECT_RPS = 500
CONNECT_BURST = 500
THINK_S = (2.0, 15.0)
CLIENT_RTT_MS = 40.0
"""A client frame's round trip (client -> API Gateway -> the speed-run function -> the reply)."""
CLIENT_RETRY_S = (0.2, 1.0)
"""A client refused with 429 tries again after a pause drawn uniformly from this range."""
POLL_MS = 20.0
"""The event source hands a record to a free invocation this long after it became visible."""
COLD_START_MS = 800.0
INVOKE_OVERHEAD_MS = 5.0
RECORD_OVERHEAD_MS = 1.0
REDIS_CALL_MS = 1.0
"""A flush's (or a forget's) Redis round trip from the fan-out function."""
START_AFTER_ADMITTED_S = 5.0
"""The host starts this long after the last participant was admitted."""
NOT_STARTED_SYNC_S = 30.0
"""A participant that was not told `started` by then syncs and begins anyway (counted)."""
WRONG_RATE = 0.3
GIVE_UP_RATE = 0.1
QUESTION_DURATION_S = 20

MODEL: dict[str, Any] = {
    "connections_latency": {
        "distribution": "lognormal",
        "median_ms": LATENCY_MEDIAN_MS,
        "p99_ms": LATENCY_P99_MS,
        "sigma": round(LATENCY_SIGMA, 4),
    },
    "account_throttle": {"rate_per_s": ACCOUNT_RPS, "burst": ACCOUNT_BURST, "shared_by": "every API call of the run"},
    "connect_quota": {"rate_per_s": CONNECT_RPS, "burst": CONNECT_BURST},
    "arrivals": f"Poisson at {CONNECT_RPS} a second",
    "think_s": {"distribution": "uniform", "low": THINK_S[0], "high": THINK_S[1]},
    "client_rtt_ms": CLIENT_RTT_MS,
    "client_retry_s": {"distribution": "uniform", "low": CLIENT_RETRY_S[0], "high": CLIENT_RETRY_S[1]},
    "answers": {"wrong": WRONG_RATE, "timeout": GIVE_UP_RATE},
    "event_source": {
        "poll_ms": POLL_MS,
        "cold_start_ms": COLD_START_MS,
        "invocation_overhead_ms": INVOKE_OVERHEAD_MS,
        "record_overhead_ms": RECORD_OVERHEAD_MS,
        "redis_call_ms": REDIS_CALL_MS,
    },
    "start_after_admitted_s": START_AFTER_ADMITTED_S,
    "question_duration_s": QUESTION_DURATION_S,
}


def model_parameters() -> dict[str, Any]:
    """MODEL plus what is read from the code under test (manifest, fan-out service)."""
    queue = manifest.queue(manifest.PUSHES_QUEUE)
    return {
        **MODEL,
        "fanout": {
            "batch_size": queue.batch_size,
            "max_concurrency": queue.max_concurrency,
            "post_threads": POST_THREADS,
            "pushes_per_second_per_invocation": PUSHES_PER_SECOND,
            "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS,
            "timeout_s": manifest.function("fanout").timeout_s,
            "memory_mb": manifest.function("fanout").memory_mb,
        },
    }


class TokenBucket:
    """A token bucket (`rate_per_s`, holding at most `burst`) on `bin_ms` bins, sound for takes
    booked out of time order: a take is granted only if every later bin still stays non-negative.
    Takes must not come before the last `prune(now)`."""

    def __init__(self, rate_per_s: float, burst: float, *, bin_ms: float = 1.0) -> None:
        self.per_bin = rate_per_s * bin_ms / 1000
        self.burst = float(burst)
        self.bin_ms = bin_ms
        self.base = 0
        self.base_level = self.burst
        """Level at the end of bin base - 1."""
        self.used: list[int] = []
        self.level: list[float] = []
        """Tokens left at the end of each bin (after its takes)."""
        self.granted = 0
        self.refused = 0

    def _index(self, t_ms: float) -> int:
        b = int(t_ms // self.bin_ms)
        if not self.used:
            self.base, self.base_level = b, self.burst
        while self.base + len(self.used) <= b:
            previous = self.level[-1] if self.level else self.base_level
            self.used.append(0)
            self.level.append(min(self.burst, previous + self.per_bin))
        return max(0, b - self.base)

    def take(self, t_ms: float) -> bool:
        i = self._index(t_ms)
        previous = self.level[i - 1] if i else self.base_level
        changed: list[float] = []
        for k in range(i, len(self.used)):
            value = min(self.burst, previous + self.per_bin) - self.used[k] - (k == i)
            if value < 0:
                self.refused += 1
                return False
            if k > i and value == self.level[k]:
                break
            changed.append(value)
            previous = value
        self.used[i] += 1
        self.level[i : i + len(changed)] = changed
        self.granted += 1
        return True

    def prune(self, now_ms: float) -> None:
        drop = int(now_ms // self.bin_ms) - 1 - self.base
        if drop > 1000 and drop < len(self.used):
            self.base_level = self.level[drop - 1]
            del self.used[:drop], self.level[:drop]
            self.base += drop


def admission_seconds(participants: int, rate_per_s: float = CONNECT_RPS, burst: float = CONNECT_BURST) -> float:
    """How long a connect quota needs to admit `participants` who all try at once (the lower bound)."""
    return max(0.0, (participants - burst) / rate_per_s)


@dataclass
class _Lane:
    now: float
    """ms"""


@dataclass
class _Container:
    """One fan-out function instance: its pusher and pace live as long as it does."""

    number: int
    service: FanOutService
    pusher: SimPusher
    pace: RateLimiter
    warm: bool = False


@dataclass
class Participant:
    number: int
    participant_id: str = ""
    connection_id: str = ""
    caller: Caller | None = None
    next_index: int = 0
    begun: bool = False
    admitted_at: float | None = None


@dataclass
class ModelRun:
    participants: int
    questions: int
    answers: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    pushes_by_type: Counter[str] = field(default_factory=Counter)
    pushes_by_phase: Counter[str] = field(default_factory=Counter)
    units_by_phase: Counter[str] = field(default_factory=Counter)
    connections_calls_per_s: Counter[int] = field(default_factory=Counter)
    account_calls_per_s: Counter[int] = field(default_factory=Counter)
    throttled_calls: int = 0
    """@connections calls answered 429 (each retry counted)."""
    client_throttled: int = 0
    connect_refused: int = 0
    report: DeliveryReport = field(default_factory=DeliveryReport)
    invocations: int = 0
    deliveries: int = 0
    invocation_ms: list[float] = field(default_factory=list)
    flush_requests: int = 0
    sqs_sends_by_producer: Counter[str] = field(default_factory=Counter)
    actions: dict[str, list[float]] = field(default_factory=dict)
    """route -> wall ms of each handler call (this machine), for the cost's Lambda time."""
    started_ms: float = 0.0
    admitted_all_ms: float = 0.0
    first_arrival_ms: float = 0.0
    completed_ms: float = 0.0
    not_started_by_push: int = 0
    published_pushes: int = 0
    completion_reason: str = ""
    wall_s: float = 0.0


class ModelConnections:
    """The `@connections` API as the model sees it (a boto client's two calls)."""

    def __init__(self, model: FanOutModel) -> None:
        self.model = model

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        model = self.model
        lane = model.lane
        t = lane.now
        model.run.connections_calls_per_s[int(t // 1000)] += 1
        granted = model.api_call(t)
        lane.now = t + model.latency_ms()
        if not granted:
            model.run.throttled_calls += 1
            error: Any = {
                "Error": {"Code": "LimitExceededException", "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": 429},
            }
            raise ClientError(error, "PostToConnection")
        model.delivered(ConnectionId, Data, lane.now)
        return {}

    def delete_connection(self, *, ConnectionId: str) -> dict[str, Any]:
        return {}


class _SimExecutor:
    """A thread pool of POST_THREADS virtual threads: each job goes to the thread free first."""

    def __init__(self, model: FanOutModel) -> None:
        self.model = model

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[Any]:
        model = self.model
        free = [model.cursor] * POST_THREADS
        results = []
        for job in jobs:
            model.lane = _Lane(heapq.heappop(free))
            results.append(fn(job))
            heapq.heappush(free, model.lane.now)
        model.send_end = max(free)
        return iter(results)


class SimPusher(ConnectionsPusher):
    """The real ConnectionsPusher (retries, pace, outcome sorting) on virtual threads and a model client."""

    def __init__(self, model: FanOutModel, pace: RateLimiter, rng: random.Random) -> None:
        super().__init__(
            cast(Any, ModelConnections(model)),
            max_workers=POST_THREADS,
            sleep=model.sleep,
            jitter=rng.random,
            pace=pace,
        )
        self.model = model

    def send(self, pushes: Sequence[Push]) -> SendReport:
        model = self.model
        model.lane, model.send_end = _Lane(model.cursor), None
        report = super().send(pushes)
        model.cursor = model.send_end if model.send_end is not None else max(model.cursor, model.lane.now)
        return report

    def _pool(self) -> Any:
        return _SimExecutor(self.model)


class _Jobs:
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def schedule_deadline(self, run_id: str, due_ms: int) -> None:
        self.sent["deadline"] += 1

    def send_completion_job(self, run_id: str) -> None:
        self.sent["completion"] += 1


class ModelQueue:
    """The pushes queue (publisher side: speedrun.fanout.publisher.FanOut), on the model's clock."""

    def __init__(self, model: FanOutModel) -> None:
        self.model = model
        self.pending: list[tuple[float, int, str]] = []
        self._order = itertools.count()

    def publish(self, run_id: str, pushes: Sequence[Push], *, attempt: int = 0, delay_s: int = 0) -> None:
        if not pushes:
            return
        self.model.run.published_pushes += len(pushes)
        bodies = [d.model_dump_json() for d in push_deliveries(run_id, pushes, attempt=attempt)]
        small = [b for b in bodies if len(b) * SQS_BATCH_ENTRIES <= 256 * 1024]
        sends = 1 if len(bodies) == 1 else len(bodies) - len(small) + math.ceil(len(small) / SQS_BATCH_ENTRIES)
        self.model.run.sqs_sends_by_producer[self.model.producer] += sends
        for body in bodies:
            self._enqueue(body, delay_s * 1000)

    def request_flush(self, run_id: str, delay_ms: int) -> None:
        self.model.run.flush_requests += 1
        self.model.run.sqs_sends_by_producer[self.model.producer] += 1
        self._enqueue(FlushDelivery(run_id=run_id).model_dump_json(), math.ceil(delay_ms / 1000) * 1000)

    def _enqueue(self, body: str, delay_ms: float) -> None:
        visible = self.model.queue_time() + delay_ms
        heapq.heappush(self.pending, (visible, next(self._order), body))
        self.model.schedule(visible + POLL_MS, "poll")

    def take(self, now: float, count: int) -> list[str]:
        bodies: list[str] = []
        while self.pending and self.pending[0][0] <= now and len(bodies) < count:
            bodies.append(heapq.heappop(self.pending)[2])
        return bodies


class FanOutModel:
    def __init__(self, redis_url: str, participants: int, questions: int, *, seed: int = 20261122) -> None:
        self.run = ModelRun(participants, questions)
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible model, not security)
        self.latency_rng = random.Random(seed + 1)  # noqa: S311
        self.clock = ManualClock(START_MS)
        self.now = 0.0
        """Simulated ms since the model's start (the engine's clock is START_MS + now)."""
        self.events: list[tuple[float, int, str, Any]] = []
        self._order = itertools.count()
        self.account = TokenBucket(ACCOUNT_RPS, ACCOUNT_BURST)
        self.connect_quota = TokenBucket(CONNECT_RPS, CONNECT_BURST)
        self.lane = _Lane(0.0)
        self.cursor = 0.0
        self.send_end: float | None = None
        self.in_invocation = False
        self.producer = "action"
        self.phase = "lobby"
        queue_spec = manifest.queue(manifest.PUSHES_QUEUE)
        self.batch_size = queue_spec.batch_size
        self.max_concurrency = queue_spec.max_concurrency or 1000
        pool = redis.ConnectionPool.from_url(redis_url, decode_responses=True)
        self.redis = CountingRedis(connection_pool=pool)
        self.fanout_redis = CountingRedis(connection_pool=pool)
        self.raw = redis.Redis.from_url(redis_url)
        self.engine = RunEngine(self.redis, clock=self.clock)
        self.fanout_engine = RunEngine(self.fanout_redis, clock=self.clock)
        self.queue = ModelQueue(self)
        self.jobs = _Jobs()
        # the speed-run function's own pushes and closes (replaced connections): none in this run
        self.service = SpeedRunService(self.engine, RecordingPusher(), cast(JobQueues, self.jobs), self.queue)
        self.free: list[_Container] = []
        self._busy = 0
        self._containers = 0
        self.counter = CountingPusher()  # sizes and types only (its send is not used to post)
        self.by_connection: dict[str, Participant] = {}
        self.players: list[Participant] = []
        self.frozen = make_questions(questions)
        self._admitted = 0
        """Participants whose `sync` was answered."""
        self._answers_logged = 0
        """`run.answers` at the last progress line."""
        self._progress: Callable[[str], None] = lambda _line: None

    # --- time -----------------------------------------------------------------------------------

    def schedule(self, at_ms: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(self.events, (at_ms, next(self._order), kind, payload))

    def sleep(self, seconds: float) -> None:
        self.lane.now += seconds * 1000

    def latency_ms(self) -> float:
        return self.latency_rng.lognormvariate(math.log(LATENCY_MEDIAN_MS), LATENCY_SIGMA)

    def queue_time(self) -> float:
        return self.cursor if self.in_invocation else self.now

    def api_call(self, t_ms: float) -> bool:
        """One call against the account throttle (counted in the account's per-second figures)."""
        self.run.account_calls_per_s[int(t_ms // 1000)] += 1
        return self.account.take(t_ms)

    def _set_engine_clock(self, t_ms: float) -> None:
        self.clock.now = START_MS + int(t_ms)

    # --- what reaches clients --------------------------------------------------------------------

    def delivered(self, connection_id: str, data: bytes, at_ms: float) -> None:
        run = self.run
        kind = _frame_type(data)
        run.pushes_by_type[kind] += 1
        run.pushes_by_phase[self.phase] += 1
        run.units_by_phase[self.phase] += message_units(len(data))
        if kind == "started":
            player = self.by_connection.get(connection_id)
            if player is not None and not player.begun:
                player.begun = True
                self.schedule(at_ms + CLIENT_RTT_MS / 2, "ask", player)

    # --- the fan-out function --------------------------------------------------------------------

    def _container(self) -> _Container:
        if self.free:
            return self.free.pop()
        self._containers += 1
        floor = [self.now]

        def pace_clock() -> float:
            # The limiter's lock serialises its callers: its clock never runs backwards, and a
            # virtual thread that finds it ahead has waited for it.
            t = max(floor[0], self.lane.now if self.in_invocation else self.now)
            self.lane.now = max(self.lane.now, t)
            floor[0] = t
            return t / 1000

        pace = RateLimiter(PUSHES_PER_SECOND, clock=pace_clock, sleep=self.sleep)
        pusher = SimPusher(self, pace, random.Random(self.rng.random()))  # noqa: S311
        service = FanOutService(self.fanout_engine, pusher, self.queue, jitter=self.rng.random)
        return _Container(self._containers, service, pusher, pace)

    def _poll(self) -> None:
        while self._busy < self.max_concurrency:
            bodies = self.queue.take(self.now, self.batch_size)
            if not bodies:
                return
            self._invoke(self._container(), bodies)

    def _invoke(self, container: _Container, bodies: list[str]) -> None:
        run = self.run
        self._busy += 1
        started = self.now
        self.in_invocation, self.producer = True, "fanout"
        self.cursor = started + (0.0 if container.warm else COLD_START_MS) + INVOKE_OVERHEAD_MS
        container.warm = True
        self._set_engine_clock(started)
        for body in bodies:
            delivery = parse_delivery(body)
            self.cursor += RECORD_OVERHEAD_MS + (REDIS_CALL_MS if isinstance(delivery, FlushDelivery) else 0.0)
            run.report.add(container.service.deliver(delivery))
            run.deliveries += 1
        self.in_invocation, self.producer = False, "action"
        run.invocations += 1
        run.invocation_ms.append(self.cursor - started)
        self.schedule(self.cursor, "invocation_end", container)

    # --- the clients --------------------------------------------------------------------------------

    def _handle(self, caller: Caller, action: str, body: dict[str, Any]) -> dict[str, Any]:
        self._set_engine_clock(self.now)
        started = time.perf_counter()
        reply = self.service.handle(caller, action, json.dumps({"action": action, **body}))
        self.run.actions.setdefault(action, []).append((time.perf_counter() - started) * 1000)
        if reply.get("type") == "error":
            self.run.errors[str(reply.get("code"))] += 1
        return reply

    def _client_call(self, kind: str, payload: Any) -> bool:
        """A client's API call: False (and tried again later) when the account throttle refuses it."""
        if self.api_call(self.now):
            return True
        self.run.client_throttled += 1
        self.schedule(self.now + self.rng.uniform(*CLIENT_RETRY_S) * 1000, kind, payload)
        return False

    def play(self, progress: Callable[[str], None] = lambda _line: None) -> ModelRun:
        """The run from its creation to its completion: every event in time order until none is left."""
        wall = time.perf_counter()
        self._progress = progress
        self._open_run()
        self._schedule_arrivals()
        handlers: dict[str, Callable[[Any], None]] = {
            "poll": self._on_poll,
            "invocation_end": self._on_invocation_end,
            "arrive": self._on_arrive,
            "connect": self._on_connect,
            "sync": self._on_sync,
            "start": self._on_start,
            "stragglers": self._on_stragglers,
            "ask": self._on_ask,
            "answer": self._on_answer,
        }
        while self.events:
            self.now, _order, kind, payload = heapq.heappop(self.events)
            handlers[kind](payload)
            self.account.prune(self.now)
        self.run.wall_s = time.perf_counter() - wall
        self._read_completion()
        return self.run

    def _open_run(self) -> None:
        """Create the run and connect its host (the first connect and API call of the run)."""
        self._set_engine_clock(0)
        config = run_config(
            max_participants=self.run.participants, duration_s=3600, question_duration_s=QUESTION_DURATION_S
        )
        created = self.engine.create_run(config, self.frozen)
        self.run_id, self.join_code = created.run_id, created.join_code
        self.host = Caller(created.run_id, HOST, None, "host-conn=")
        assert self.connect_quota.take(0) and self.api_call(0)
        assert self.service.connect(self.host)
        self.counter.host_connection = self.host.connection_id

    def _schedule_arrivals(self) -> None:
        """Participants arrive at the connect quota's rate, as a Poisson process."""
        t = 0.0
        for k in range(self.run.participants):
            t += self.rng.expovariate(CONNECT_RPS) * 1000
            if k == 0:
                self.run.first_arrival_ms = t
            player = Participant(k)
            self.players.append(player)
            self.schedule(t, "arrive", player)

    def _read_completion(self) -> None:
        export = self.engine.export(self.run_id)
        assert export is not None
        self.run.completion_reason = str(export.events[-1]["data"].get("reason", ""))
        self.export_events = export.events

    # --- the events: each scheduled kind's handler, its payload as scheduled ------------------------

    def _on_poll(self, _payload: None) -> None:
        self._poll()

    def _on_invocation_end(self, container: _Container) -> None:
        self._busy -= 1
        self.free.append(container)
        self._poll()

    def _on_arrive(self, player: Participant) -> None:
        if self._client_call("arrive", player):
            self._join(player)

    def _on_connect(self, player: Participant) -> None:
        if not self.connect_quota.take(self.now):
            self.run.connect_refused += 1
            self.schedule(self.now + self.rng.uniform(*CLIENT_RETRY_S) * 1000, "connect", player)
        elif self._client_call("connect", player):
            assert player.caller is not None
            self._set_engine_clock(self.now)
            assert self.service.connect(player.caller)
            player.admitted_at = self.now
            self.by_connection[player.connection_id] = player
            self.schedule(self.now + CLIENT_RTT_MS / 2, "sync", player)

    def _on_sync(self, player: Participant) -> None:
        """Admitted once its `sync` is answered; the host starts a while after the last one is."""
        if not self._client_call("sync", player):
            return
        assert player.caller is not None
        assert self._handle(player.caller, "sync", {})["type"] == "state"
        self._admitted += 1
        if self._admitted == self.run.participants:
            self.run.admitted_all_ms = max(p.admitted_at or 0 for p in self.players)
            self.schedule(self.now + START_AFTER_ADMITTED_S * 1000, "start")

    def _on_start(self, _payload: None) -> None:
        if self._client_call("start", None):
            self.phase = "start"
            self.run.started_ms = self.now
            assert self._handle(self.host, "start", {})["type"] == "started"
            self.phase = "game"
            self.schedule(self.now + NOT_STARTED_SYNC_S * 1000, "stragglers")

    def _on_stragglers(self, _payload: None) -> None:
        """Whoever was not told `started` by now begins anyway (counted)."""
        for player in self.players:
            if not player.begun:
                self.run.not_started_by_push += 1
                player.begun = True
                self.schedule(self.now, "ask", player)

    def _on_ask(self, player: Participant) -> None:
        if self._client_call("ask", player):
            self._ask(player)

    def _on_answer(self, player: Participant) -> None:
        if not self._client_call("answer", player):
            return
        self._answer(player)
        if self.run.answers - self._answers_logged >= 20_000:
            self._answers_logged = self.run.answers
            self._progress(f"fanout model {self.run.participants} x {self.run.questions}: {self.run.answers} answers")

    def _join(self, player: Participant) -> None:
        self._set_engine_clock(self.now)
        started = time.perf_counter()
        joined = self.engine.join(self.join_code, f"Player {player.number:05d}", None)
        self.producer = "signon"
        if joined.flush_in_ms is not None:
            self.queue.request_flush(joined.run_id, joined.flush_in_ms)
        self.producer = "action"
        self.run.actions.setdefault("join (sign-on)", []).append((time.perf_counter() - started) * 1000)
        player.participant_id = joined.participant_id
        player.connection_id = f"conn-{player.number:06d}="
        player.caller = Caller(self.run_id, PARTICIPANT, joined.participant_id, player.connection_id)
        self.schedule(self.now + CLIENT_RTT_MS, "connect", player)

    def _ask(self, player: Participant) -> None:
        assert player.caller is not None
        served = self._handle(player.caller, "question", {"index": player.next_index})
        if served.get("type") != "question":
            return  # not_running: the run is over for everyone
        think_ms = self.rng.uniform(*THINK_S) * 1000
        self.schedule(self.now + CLIENT_RTT_MS + think_ms, "answer", player)

    def _answer(self, player: Participant) -> None:
        assert player.caller is not None
        index = player.next_index
        roll = self.rng.random()
        body: dict[str, Any]
        if roll < GIVE_UP_RATE:
            action, body = "timeout", {"index": index}
        else:
            correct = self.frozen[index].correct
            selected = [(c + 1) % 4 for c in correct] if roll < GIVE_UP_RATE + WRONG_RATE else list(correct)
            action, body = "answer", {"index": index, "selected": selected}
        reply = self._handle(player.caller, action, body)
        if reply.get("type") != "answer_result":
            return
        self.run.answers += 1
        if reply.get("finished"):
            self.run.completed_ms = self.now
        player.next_index += 1
        if player.next_index < self.run.questions:
            self.schedule(self.now + CLIENT_RTT_MS, "ask", player)

    # --- the figures -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        run = self.run
        timeout_ms = manifest.function("fanout").timeout_s * 1000
        peak = max(run.connections_calls_per_s.values(), default=0)
        summary: dict[str, Any] = {
            "participants": run.participants,
            "questions": run.questions,
            "answers": run.answers,
            "completion_reason": run.completion_reason,
            "errors": dict(run.errors),
            "pushes_total": sum(run.pushes_by_type.values()),
            "pushes_per_answer": round(sum(run.pushes_by_type.values()) / max(1, run.answers), 3),
            "lobby_pushes": run.pushes_by_phase["lobby"],
            "pushes_by_phase": dict(run.pushes_by_phase),
            "pushes_by_type": dict(run.pushes_by_type),
            "published_pushes": run.published_pushes,
            "peak_connections_rps": peak,
            "peak_connections_share_of_throttle": round(peak / ACCOUNT_RPS, 3),
            "peak_account_rps": max(run.account_calls_per_s.values(), default=0),
            "throttled_calls": run.throttled_calls,
            "client_throttled_calls": run.client_throttled,
            "connects_refused": run.connect_refused,
            "requeued_pushes": run.report.requeued,
            "undelivered_pushes": run.report.undelivered + len(self.queue.pending),
            "gone_connections": run.report.gone,
            "not_started_by_push": run.not_started_by_push,
            "fanout_invocations": run.invocations,
            "fanout_deliveries": run.deliveries,
            "flush_requests": run.flush_requests,
            "pushes_queue_sends_by_producer": dict(run.sqs_sends_by_producer),
            "slowest_invocation_ms": round(max(run.invocation_ms, default=0.0), 1),
            "invocation_p50_ms": round(_percentile(run.invocation_ms, 50), 1),
            "invocation_timeout_ms": timeout_ms,
            "slowest_invocation_share_of_timeout": round(max(run.invocation_ms, default=0.0) / timeout_ms, 3),
            "seconds_to_admit_all": round((run.admitted_all_ms - run.first_arrival_ms) / 1000, 2),
            "seconds_to_admit_all_at_quota": round(admission_seconds(run.participants), 2),
            "simulated_game_s": round((run.completed_ms - run.started_ms) / 1000, 1),
            "model_wall_s": round(run.wall_s, 1),
        }
        summary["cost_usd"] = cost.run_cost(self._cost_input(summary))["total_dollars"]
        return summary

    def _cost_input(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The figures bench.cost.run_cost reads, from this model run."""
        run = self.run
        puts = run_puts(self.run_id, self.export_events)
        wru = sum(math.ceil(len(json.dumps(put.item)) / 1024) for put in puts)
        invocations = {name: len(times) for name, times in run.actions.items() if name != "join (sign-on)"}
        invocations["$connect"] = run.participants + 1
        actions = {
            name: {"count": len(times), "mean_ms": sum(times) / len(times)} for name, times in run.actions.items()
        }
        stats = self.raw.info("stats")
        return {
            "participants": run.participants,
            "answers": run.answers,
            "invocations": invocations,
            "actions": actions,
            "pushes_by_phase": dict(run.pushes_by_phase),
            "message_units_by_phase": dict(run.units_by_phase),
            "fanout_deliveries": run.deliveries,
            "fanout_batch_size": self.batch_size,
            "pushes_queue_sends_by_producer": dict(run.sqs_sends_by_producer),
            "simulated_game_s": summary["simulated_game_s"],
            "dynamodb_requests": {"BatchWriteItem": math.ceil(len(puts) / 25)},
            "dynamodb_wru": wru,
            "redis_calls_total": len(self.redis.commands) + len(self.fanout_redis.commands),
            "redis_script_calls": self.redis.commands.count("EVALSHA") + self.fanout_redis.commands.count("EVALSHA"),
            "redis_bytes_total": int(stats.get("total_net_input_bytes", 0))
            + int(stats.get("total_net_output_bytes", 0)),
            "sqs_requests": {"SendMessage": sum(self.jobs.sent.values())},
        }


def _frame_type(data: bytes) -> str:
    prefix = b'{"type":"'
    if data.startswith(prefix):
        return data[len(prefix) : data.index(b'"', len(prefix))].decode()
    return str(json.loads(data).get("type"))


def _percentile(samples: Sequence[float], pct: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def model_run(
    redis_url: str,
    participants: int,
    questions: int,
    *,
    seed: int = 20261122,
    progress: Callable[[str], None] = lambda _l: None,
) -> dict[str, Any]:
    """One model run on a fresh Redis database; its summary."""
    redis.Redis.from_url(redis_url).flushall()
    model = FanOutModel(redis_url, participants, questions, seed=seed)
    model.play(progress)
    return model.summary()


ACCEPTANCE = {
    "undelivered_pushes": "0 after retries",
    "peak_connections_share_of_throttle": "<= 0.5",
    "slowest_invocation_share_of_timeout": "<= 0.25",
    "everyone admitted": "at the connect quota",
}


def acceptance(run: dict[str, Any]) -> dict[str, bool]:
    return {
        "no_undelivered_pushes": run["undelivered_pushes"] == 0,
        "peak_connections_at_most_half_the_throttle": run["peak_connections_share_of_throttle"] <= 0.5,
        "no_invocation_over_a_quarter_of_its_timeout": run["slowest_invocation_share_of_timeout"] <= 0.25,
        "everyone_admitted": run["completion_reason"] == "all_finished" and run["not_started_by_push"] == 0,
    }


def measure(
    redis_url: str, sizes: Sequence[tuple[int, int]], progress: Callable[[str], None] = lambda _l: None
) -> dict[str, Any]:
    runs = []
    for participants, questions in sizes:
        progress(f"fanout model: {participants} x {questions}")
        summary = model_run(redis_url, participants, questions, progress=progress)
        summary["acceptance"] = acceptance(summary)
        progress(
            f"fanout model {participants} x {questions}: {summary['pushes_per_answer']} pushes/answer, peak "
            f"{summary['peak_connections_rps']} @connections/s, {summary['undelivered_pushes']} undelivered, "
            f"slowest invocation {summary['slowest_invocation_ms']} ms, {summary['model_wall_s']} s"
        )
        runs.append(summary)
    return {"model": model_parameters(), "acceptance_criteria": ACCEPTANCE, "runs": runs}
