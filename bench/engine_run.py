"""One speed-run of P participants x Q questions driven through the real WebSocket handler
(`lambdas.speedrun.handler`) in this process, protocol revision 2: a private real Redis behind a
counting, timing client, the fan-out function in this process (tests.support.fanout: the real
`FanOutService` on its own engine and Redis client, so its flushes are counted apart from the
actions), a counting `@connections` pusher the fan-out posts with, moto SQS/DynamoDB, and an
injected clock, so deadlines and the coalescing (host notifications, lobby updates, boards) follow
a simulated timeline, not this machine's speed.

After the run completes, the reporter makes it durable against moto with a DynamoDB request
counter. Everything measured is returned as an `EngineRun` (counts are exact; times are this run's).
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import redis

import lambdas.speedrun.handler as speedrun_lambda
from speedrun import manifest
from speedrun.adapters.connections import Push, SendReport, encode_message
from speedrun.adapters.queues import JobQueues
from speedrun.engine.frames import HOST_NOTIFICATIONS
from speedrun.engine.models import HOST, PARTICIPANT, FrozenQuestion, Joined
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.fanout.deliveries import push_deliveries
from speedrun.fanout.publisher import SQS_BATCH_ENTRIES
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.reporter import Reporter, process_completion_jobs, run_puts
from tests.support.durable_stores import durable_stores, poll_once
from tests.support.engine_harness import Client, CountingRedis, frame_event, handshake_event, make_questions, run_config
from tests.support.fakes import FakeLambdaContext
from tests.support.fanout import InProcessFanOut
from tests.support.played_run import START_MS, ManualClock

GAME_ACTIONS = ("question", "answer", "timeout")
JOIN = "join (sign-on)"
QUESTION_DURATION_S = 20
THINK_MS = (300, 19_000)
"""Each participant answers between 0.3 s and 19 s after the question was served (inside the 20 s)."""
JOIN_GAP_MS = 2
"""Simulated time between two joins (500 a second: API Gateway's new-connection quota)."""
MESSAGE_UNIT_BYTES = 32 * 1024
HOST_LIST_FIELDS = {message_type: list_field for _kind, message_type, list_field in HOST_NOTIFICATIONS}
"""Host notification type -> the field listing its items when it carries several."""
GIVE_UP_RATE = 0.1
WRONG_RATE = 0.3


class CountingPusher:
    """The `@connections` side, counted: calls (one per recipient per message on AWS), bytes, types.

    Messages are encoded once per distinct message object, as `ConnectionsPusher` does."""

    def __init__(self) -> None:
        self.pushes = 0
        self.bytes = 0
        self.message_units = 0
        """API Gateway bills WebSocket messages in 32 KB units."""
        self.by_type: Counter[str] = Counter()
        self.sizes_by_type: dict[str, tuple[int, int]] = {}
        """type -> (smallest, largest) encoded frame (a leaderboard: participants' top 10, the host's all)."""
        self.closed = 0
        self.host_items_by_type: Counter[str] = Counter()
        """Host notifications: the items they tell of (a coalesced one lists several)."""
        self.host_connection: str | None = None
        self.finished_connections: set[str] = set()
        """Connections of participants who have finished (the driver keeps it): the board's watchers."""
        self.boards_to_others = 0
        """Boards pushed to anyone but the host and the participants who have finished."""
        self.notifications_to_others = 0
        """Host notifications pushed to another connection than the host's."""
        self.lobby_messages: list[dict[str, Any]] = []
        """Each distinct lobby update (one object shared by its recipients)."""
        self._lobby_seen: set[int] = set()

    def send(self, pushes: Sequence[Push]) -> SendReport:
        sizes: dict[int, int] = {}
        for push in pushes:
            kind = str(push.message.get("type"))
            if kind in HOST_LIST_FIELDS:
                self.host_items_by_type[kind] += len(push.message.get(HOST_LIST_FIELDS[kind]) or [None])
                self.notifications_to_others += push.connection_id != self.host_connection
            elif kind == "lobby" and id(push.message) not in self._lobby_seen:
                self._lobby_seen.add(id(push.message))
                self.lobby_messages.append(push.message)
            elif kind == "leaderboard":
                watcher = push.connection_id == self.host_connection or push.connection_id in self.finished_connections
                self.boards_to_others += not watcher
            key = id(push.message)
            if key not in sizes:
                sizes[key] = len(encode_message(push.message))
                kind = str(push.message.get("type"))
                low, high = self.sizes_by_type.get(kind, (sizes[key], sizes[key]))
                self.sizes_by_type[kind] = (min(low, sizes[key]), max(high, sizes[key]))
            self.bytes += sizes[key]
            self.message_units += message_units(sizes[key])
            self.by_type[str(push.message.get("type"))] += 1
        self.pushes += len(pushes)
        return SendReport(sent=len(pushes), gone=[])

    def close(self, connection_id: str) -> None:
        self.closed += 1


def message_units(size: int) -> int:
    return max(1, math.ceil(size / MESSAGE_UNIT_BYTES))


class CountingFanOut(InProcessFanOut):
    """The in-process fan-out, also counting the pushes queue's SQS send requests as
    `speedrun.fanout.publisher.FanOutQueue` would make them (one SendMessage for a single delivery
    or a flush, SendMessageBatch of up to 10 small deliveries, large ones alone)."""

    def __init__(self, engine: RunEngine, pusher: CountingPusher, clock: Callable[[], int]) -> None:
        super().__init__(engine, pusher, clock)
        self.sqs_sends: Counter[str] = Counter()
        self.published_by_producer: Counter[str] = Counter()
        """SQS send requests by who made them: `action` (the speed-run function), `fanout` (requeues,
        next flushes), `signon` (a join's flush request)."""
        self.producer = "action"
        self.flushes_by_producer: Counter[str] = Counter()

    def publish(self, run_id: str, pushes: Sequence[Push], *, attempt: int = 0, delay_s: int = 0) -> None:
        self.published_pushes += len(pushes)
        bodies = [delivery.model_dump_json() for delivery in push_deliveries(run_id, pushes, attempt=attempt)]
        small = [body for body in bodies if len(body) * SQS_BATCH_ENTRIES <= 256 * 1024]
        requests = (
            {"SendMessage": 1}
            if len(bodies) == 1
            else {
                "SendMessage": len(bodies) - len(small),
                "SendMessageBatch": math.ceil(len(small) / SQS_BATCH_ENTRIES),
            }
        )
        self.sqs_sends.update(requests)
        self.published_by_producer[self.producer] += sum(requests.values())
        for body in bodies:
            self._enqueue(body, delay_s * 1000)

    def request_flush(self, run_id: str, delay_ms: int) -> None:
        self.sqs_sends["SendMessage"] += 1
        self.published_by_producer[self.producer] += 1
        self.flushes_by_producer[self.producer] += 1
        super().request_flush(run_id, delay_ms)

    def run_due(self) -> int:
        producer, self.producer = self.producer, "fanout"
        try:
            return super().run_due()
        finally:
            self.producer = producer


class TimedRedis(CountingRedis):
    """Counts every command (each one a network round trip) and times it, client side."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings_ns: list[int] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        started = time.perf_counter_ns()
        try:
            return super().execute_command(*args, **options)
        finally:
            self.timings_ns.append(time.perf_counter_ns() - started)


@dataclass
class ActionStats:
    latencies_ns: list[int] = field(default_factory=list)
    redis_calls: list[int] = field(default_factory=list)
    evalsha_ns: list[int] = field(default_factory=list)
    """Client-side time of the action's EVALSHA (its bare round trip, inside the same invocation)."""

    def summary(self) -> dict[str, Any]:
        return {
            "count": len(self.latencies_ns),
            "p50_ms": percentile_ms(self.latencies_ns, 50),
            "p99_ms": percentile_ms(self.latencies_ns, 99),
            "mean_ms": round(statistics.fmean(self.latencies_ns) / 1e6, 4),
            "redis_calls_min": min(self.redis_calls),
            "redis_calls_max": max(self.redis_calls),
            "redis_calls_mean": statistics.fmean(self.redis_calls),
            "evalsha_p50_ms": percentile_ms(self.evalsha_ns, 50) if self.evalsha_ns else None,
        }


def percentile_ms(samples_ns: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples_ns)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1] / 1e6, 4)


@dataclass
class EngineRun:
    participants: int
    questions: int
    answers: int = 0
    """`answer` + `timeout` actions (every participant, every question)."""
    answer_results: int = 0
    errors: int = 0
    actions: dict[str, ActionStats] = field(default_factory=lambda: defaultdict(ActionStats))
    pushes_by_phase: dict[str, int] = field(default_factory=dict)
    bytes_by_phase: dict[str, int] = field(default_factory=dict)
    pushes_by_type: dict[str, int] = field(default_factory=dict)
    message_units_by_phase: dict[str, int] = field(default_factory=dict)
    frame_bytes_by_type: dict[str, tuple[int, int]] = field(default_factory=dict)
    redis_calls_total: int = 0
    redis_script_calls: int = 0
    redis_bytes_total: int = 0
    """Bytes into and out of Redis over the whole run (INFO stats), for the ECPU estimate."""
    game_seconds: float = 0.0
    """Wall time of the game phase (every question, answer and timeout, one after the other)."""
    simulated_game_ms: int = 0
    completion_reason: str = ""
    server_evalsha_calls: int = 0
    """`EVALSHA` calls Redis itself counted during the game phase (INFO commandstats)."""
    client_evalsha_calls: int = 0
    """`EVALSHA` calls the client sent during the game phase."""
    ping_ns: list[int] = field(default_factory=list)
    report_items: int = 0
    dynamodb_wru: int = 0
    """Write units of the reported items: 1 per started KB of each item (its JSON size, an upper estimate)."""
    dynamodb_requests: Counter[str] = field(default_factory=Counter)
    dynamodb_retries: int = 0
    report_seconds: float = 0.0
    report_error: str | None = None
    sqs_requests: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    """Handler invocations per route key (each one a Lambda invocation on AWS)."""
    fanout_deliveries: int = 0
    """Pushes-queue messages delivered (each one a fan-out Lambda record)."""
    fanout_batch_size: int = 1
    flush_requests: int = 0
    flush_requests_by_producer: dict[str, int] = field(default_factory=dict)
    pushes_queue_sends: dict[str, int] = field(default_factory=dict)
    pushes_queue_sends_by_producer: dict[str, int] = field(default_factory=dict)
    fanout_redis_calls: int = 0
    fanout_evalsha_calls_in_game: int = 0
    """`EVALSHA` calls the fan-out's engine sent during the game phase (flushes)."""
    fanout_undelivered: int = 0
    fanout_requeued: int = 0
    host_items_by_type: dict[str, int] = field(default_factory=dict)
    boards_to_others: int = 0
    notifications_to_others: int = 0
    joins: int = 0
    finishes: int = 0
    simulated_lobby_ms: int = 0
    lobby_updates: int = 0

    @property
    def fanout_invocations(self) -> int:
        return math.ceil(self.fanout_deliveries / self.fanout_batch_size)

    @property
    def total_pushes(self) -> int:
        return sum(self.pushes_by_phase.values())

    @property
    def pushes_queue_requests(self) -> dict[str, int]:
        """The pushes queue's SQS requests: the sends counted, and the event source's receive and
        delete of each fan-out invocation's batch (one ReceiveMessage, one DeleteMessageBatch)."""
        return {
            **self.pushes_queue_sends,
            "ReceiveMessage": self.fanout_invocations,
            "DeleteMessageBatch": self.fanout_invocations,
        }

    @property
    def naive_game_pushes(self) -> int:
        """The earlier protocol: every answer broadcast the leaderboard to every participant and the host."""
        return self.answers * (self.participants + 1)

    def summary(self) -> dict[str, Any]:
        game_pushes = self.pushes_by_phase.get("game", 0)
        answer = self.actions["answer"].summary()
        return {
            "participants": self.participants,
            "questions": self.questions,
            "answers": self.answers,
            "answer_results": self.answer_results,
            "errors": self.errors,
            "completion_reason": self.completion_reason,
            "game_seconds": round(self.game_seconds, 3),
            "simulated_game_s": round(self.simulated_game_ms / 1000, 1),
            "answers_per_second": round(self.answers / self.game_seconds, 1),
            "actions": {name: stats.summary() for name, stats in sorted(self.actions.items())},
            "redis_ping_p50_ms": percentile_ms(self.ping_ns, 50),
            "answer_handler_over_evalsha": round(answer["p50_ms"] / answer["evalsha_p50_ms"], 2),
            "server_evalsha_calls_in_game": self.server_evalsha_calls,
            "client_evalsha_calls_in_game": self.client_evalsha_calls,
            "pushes_by_phase": self.pushes_by_phase,
            "bytes_by_phase": self.bytes_by_phase,
            "pushes_by_type": self.pushes_by_type,
            "pushes_total": self.total_pushes,
            "pushes_total_per_answer": round(self.total_pushes / self.answers, 3),
            "host_items_by_type": self.host_items_by_type,
            "boards_to_others": self.boards_to_others,
            "notifications_to_others": self.notifications_to_others,
            "joins": self.joins,
            "finishes": self.finishes,
            "simulated_lobby_s": round(self.simulated_lobby_ms / 1000, 3),
            "lobby_updates": self.lobby_updates,
            "fanout_deliveries": self.fanout_deliveries,
            "fanout_batch_size": self.fanout_batch_size,
            "fanout_invocations": self.fanout_invocations,
            "fanout_undelivered": self.fanout_undelivered,
            "fanout_requeued": self.fanout_requeued,
            "fanout_redis_calls": self.fanout_redis_calls,
            "fanout_evalsha_calls_in_game": self.fanout_evalsha_calls_in_game,
            "flush_requests": self.flush_requests,
            "flush_requests_by_producer": self.flush_requests_by_producer,
            "pushes_queue_requests": self.pushes_queue_requests,
            "pushes_queue_sends_by_producer": self.pushes_queue_sends_by_producer,
            "message_units_by_phase": self.message_units_by_phase,
            "board_units_participant": message_units(self.frame_bytes_by_type.get("leaderboard", (0, 0))[0]),
            "board_units_host": message_units(self.frame_bytes_by_type.get("leaderboard", (0, 0))[1]),
            "frame_bytes_by_type": self.frame_bytes_by_type,
            "redis_calls_total": self.redis_calls_total,
            "redis_script_calls": self.redis_script_calls,
            "redis_bytes_total": self.redis_bytes_total,
            "pushes_per_answer": round(game_pushes / self.answers, 3),
            "pushes_per_answer_what": "game phase only; pushes_total_per_answer counts the lobby and start too",
            "bytes_per_answer": round(self.bytes_by_phase.get("game", 0) / self.answers, 1),
            "naive_game_pushes": self.naive_game_pushes,
            "naive_over_actual_total": round(self.naive_game_pushes / self.total_pushes, 2),
            "naive_over_actual_game": round(self.naive_game_pushes / game_pushes, 2),
            "invocations": dict(self.invocations),
            "report_items": self.report_items,
            "dynamodb_wru": self.dynamodb_wru,
            "dynamodb_requests": dict(self.dynamodb_requests),
            "dynamodb_retries": self.dynamodb_retries,
            "dynamodb_expected_batches": math.ceil(self.report_items / 25) if self.report_items else None,
            "report_seconds": round(self.report_seconds, 3),
            "report_error": self.report_error,
            "sqs_requests": dict(self.sqs_requests),
        }


class _Driver:
    """Feeds API Gateway-shaped WebSocket events to the handler and records what each one cost; the
    fan-out then posts what is due (the frame's broadcasts, flushes due by now)."""

    def __init__(self, run: EngineRun, redis_client: TimedRedis, clock: ManualClock, fanout: CountingFanOut) -> None:
        self.run = run
        self.redis = redis_client
        self.clock = clock
        self.fanout = fanout
        self.context = FakeLambdaContext()
        self._connections = 0

    def new_client(self, run_id: str, role: str, participant_id: str | None, name: str) -> Client:
        self._connections += 1
        return Client(run_id, role, participant_id, f"conn-{self._connections:06d}=", name)

    def invoke(
        self, client: Client, route_key: str, body: dict[str, Any] | None = None, *, post: bool = True
    ) -> dict[str, Any]:
        """One event through the handler; then (`post`) the fan-out posts what is due."""
        now = self.clock()
        if body is None:
            event = handshake_event(client, route_key, now)
        else:
            event = frame_event(client, route_key, now, json.dumps(body))
        first_command = len(self.redis.commands)
        started = time.perf_counter_ns()
        response = speedrun_lambda.handler(event, self.context)
        self._record(route_key, time.perf_counter_ns() - started, first_command)
        self.run.invocations[route_key] += 1
        if body is None:
            reply = dict(response)
        else:
            reply = json.loads(response["body"])
            if reply.get("type") == "error":
                self.run.errors += 1
        if post:
            self.fanout.run_due()
        return reply

    def join(self, engine: RunEngine, join_code: str, number: int) -> Joined:
        """Sign-on's side of a join (an HTTP function, not driven here): the script, then the flush
        the run asked for."""
        first_command = len(self.redis.commands)
        started = time.perf_counter_ns()
        joined = engine.join(join_code, f"Player {number:05d}", f"player-{number}" if number % 2 else None)
        if joined.flush_in_ms is not None:
            self.fanout.producer = "signon"
            try:
                self.fanout.request_flush(joined.run_id, joined.flush_in_ms)
            finally:
                self.fanout.producer = "action"
        self._record(JOIN, time.perf_counter_ns() - started, first_command)
        self.fanout.run_due()
        return joined

    def settle(self) -> int:
        """Advance the clock to each pending delivery (the coalesced pushes' flushes) until none is left."""
        return self.fanout.settle(self.clock.advance_to)

    def _record(self, action: str, elapsed_ns: int, first_command: int) -> None:
        stats = self.run.actions[action]
        stats.latencies_ns.append(elapsed_ns)
        stats.redis_calls.append(len(self.redis.commands) - first_command)
        commands = zip(self.redis.commands[first_command:], self.redis.timings_ns[first_command:], strict=True)
        stats.evalsha_ns.extend(ns for command, ns in commands if command == "EVALSHA")


def _network_bytes(raw: redis.Redis) -> int:
    stats = raw.info("stats")
    # Missing from the embedded fakeredis fallback (no redis-server binary): then counted as 0.
    return int(stats.get("total_net_input_bytes", 0)) + int(stats.get("total_net_output_bytes", 0))


def _counted(client: Any, counter: Counter[str]) -> Any:
    client.meta.events.register("before-call.*.*", lambda model, **_: counter.update([model.name]))
    return client


@contextmanager
def _handler_service(service: SpeedRunService) -> Iterator[None]:
    # Patched once for the whole run (not per invocation): the handler finds this process's service.
    with mock.patch.object(speedrun_lambda, "service_from_settings", lambda: service):
        yield


@dataclass
class _EnginePlay:
    """One run's pieces wired together, and its phases (open, lobby, start, game) as steps, each
    leaving its counts in `run`."""

    run: EngineRun
    clock: ManualClock
    redis_client: TimedRedis
    fanout_redis: CountingRedis
    """The fan-out function is a process of its own: its Redis calls (flushes) are counted apart."""
    raw: redis.Redis
    pusher: CountingPusher
    engine: RunEngine
    fanout: CountingFanOut
    service: SpeedRunService
    driver: _Driver
    frozen: list[FrozenQuestion]
    rng: random.Random
    progress: Callable[[str], None]
    run_id: str = ""
    join_code: str = ""
    host: Client | None = None
    players: list[Client] = field(default_factory=list)
    _phase_start: tuple[int, int, int] = (0, 0, 0)
    """The pusher's (pushes, bytes, message units) when the current phase began."""

    @classmethod
    def wire(
        cls,
        run: EngineRun,
        pool: redis.ConnectionPool,
        raw: redis.Redis,
        *,
        seed: int,
        progress: Callable[[str], None],
    ) -> _EnginePlay:
        """The handler's service on the timed Redis, the fan-out on its own; call inside `durable_stores`."""
        clock = ManualClock(START_MS)
        redis_client = TimedRedis(connection_pool=pool)
        fanout_redis = CountingRedis(connection_pool=pool)
        pusher = CountingPusher()
        sqs = _counted(boto3.client("sqs", region_name="us-east-1"), run.sqs_requests)
        engine = RunEngine(redis_client, clock=clock)
        fanout = CountingFanOut(RunEngine(fanout_redis, clock=clock), pusher, clock)
        return cls(
            run=run,
            clock=clock,
            redis_client=redis_client,
            fanout_redis=fanout_redis,
            raw=raw,
            pusher=pusher,
            engine=engine,
            fanout=fanout,
            service=SpeedRunService(engine, pusher, JobQueues(sqs, clock=clock), fanout),
            driver=_Driver(run, redis_client, clock, fanout),
            frozen=make_questions(run.questions),
            rng=random.Random(seed),  # noqa: S311 (a reproducible workload, not security)
            progress=progress,
        )

    def open_run(self) -> None:
        """Create the run and connect its host; the lobby phase counts from here."""
        config = run_config(
            max_participants=self.run.participants, duration_s=3600, question_duration_s=QUESTION_DURATION_S
        )
        created = self.engine.create_run(config, self.frozen)
        self.run_id, self.join_code = created.run_id, created.join_code
        self.host = self.driver.new_client(created.run_id, HOST, None, "host")
        assert self.driver.invoke(self.host, "$connect")["statusCode"] == 200
        self.pusher.host_connection = self.host.connection_id
        self._phase_start = self._pusher_counts()

    def fill_lobby(self) -> None:
        """Each participant joins and connects at once, JOIN_GAP_MS apart; then the lobby's last
        coalesced pushes are settled."""
        run, clock = self.run, self.clock
        lobby_from = clock()
        for k in range(run.participants):
            joined = self.driver.join(self.engine, self.join_code, k)
            run.joins += 1
            player = self.driver.new_client(self.run_id, PARTICIPANT, joined.participant_id, joined.name)
            self.players.append(player)
            assert self.driver.invoke(player, "$connect")["statusCode"] == 200
            clock.advance(JOIN_GAP_MS)
            if (k + 1) % 500 == 0:
                self.progress(f"joined {k + 1}/{run.participants}")
        self.driver.settle()
        run.simulated_lobby_ms = clock() - lobby_from
        run.lobby_updates = len(self.pusher.lobby_messages)
        self._close_phase("lobby")

    def start(self) -> None:
        assert self.host is not None
        assert self.driver.invoke(self.host, "start", {"action": "start"})["type"] == "started"
        self._close_phase("start")

    def play_game(self) -> None:
        """Every question, answered by every participant; then the flushes still pending after the
        run completed. Redis's command stats are reset first, so they count the game alone."""
        run = self.run
        self.raw.config_resetstat()
        first_game_command = len(self.redis_client.commands)
        first_fanout_command = len(self.fanout_redis.commands)
        game_started, simulated_start = time.perf_counter(), self.clock()
        for question in self.frozen:
            self._play_question(question)
            self.progress(f"question {question.index + 1}/{run.questions}: {run.answers} answers")
        self.driver.settle()
        run.game_seconds = time.perf_counter() - game_started
        run.simulated_game_ms = self.clock() - simulated_start
        run.client_evalsha_calls = self.redis_client.commands[first_game_command:].count("EVALSHA")
        run.fanout_evalsha_calls_in_game = self.fanout_redis.commands[first_fanout_command:].count("EVALSHA")
        run.server_evalsha_calls = int(self.raw.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
        self._close_phase("game")

    def _play_question(self, question: FrozenQuestion) -> None:
        """Every participant is served the question, then answers after its think time, earliest first."""
        served_from = self.clock()
        plans = []
        for player in self.players:
            served = self.driver.invoke(player, "question", {"action": "question", "index": question.index})
            assert served["type"] == "question", served
            self.clock.advance(1)
            plans.append((self.rng.randrange(*THINK_MS), self.rng.random(), player))
        for think_ms, roll, player in sorted(plans, key=lambda plan: plan[0]):
            self.clock.now = max(self.clock.now, served_from + think_ms)
            self._answer(player, _answer_body(question, roll))
        self.clock.advance(1_000)
        self.driver.fanout.run_due()

    def _answer(self, player: Client, body: dict[str, Any]) -> None:
        reply = self.driver.invoke(player, body["action"], body, post=False)
        self.run.answers += 1
        self.run.answer_results += reply["type"] == "answer_result"
        if reply.get("finished"):  # a watcher of the board from now on
            self.run.finishes += 1
            self.pusher.finished_connections.add(player.connection_id)
        self.driver.fanout.run_due()

    def count_deliveries(self) -> None:
        """The pusher's, the fan-out's and the Redis clients' totals over the whole run."""
        run, pusher, fanout = self.run, self.pusher, self.fanout
        commands, fanout_commands = self.redis_client.commands, self.fanout_redis.commands
        run.pushes_by_type = dict(pusher.by_type)
        run.frame_bytes_by_type = dict(pusher.sizes_by_type)
        run.host_items_by_type = dict(pusher.host_items_by_type)
        run.boards_to_others = pusher.boards_to_others
        run.notifications_to_others = pusher.notifications_to_others
        run.redis_calls_total = len(commands) + len(fanout_commands)
        run.redis_script_calls = commands.count("EVALSHA") + fanout_commands.count("EVALSHA")
        run.fanout_redis_calls = len(fanout_commands)
        run.fanout_deliveries = fanout.deliveries
        run.fanout_undelivered = fanout.report.undelivered
        run.fanout_requeued = fanout.report.requeued
        run.flush_requests = fanout.flush_requests
        run.flush_requests_by_producer = dict(fanout.flushes_by_producer)
        run.pushes_queue_sends = dict(fanout.sqs_sends)
        run.pushes_queue_sends_by_producer = dict(fanout.published_by_producer)

    def read_completion(self) -> None:
        export = self.engine.export(self.run_id)
        assert export is not None and export.events[-1]["type"] == "run_completed"
        self.run.completion_reason = str(export.events[-1]["data"]["reason"])

    def time_pings(self, count: int = 200) -> None:
        """Bare Redis round trips, the floor an action's EVALSHA is compared with."""
        for _ in range(count):
            started = time.perf_counter_ns()
            self.raw.ping()
            self.run.ping_ns.append(time.perf_counter_ns() - started)

    def _pusher_counts(self) -> tuple[int, int, int]:
        return self.pusher.pushes, self.pusher.bytes, self.pusher.message_units

    def _close_phase(self, name: str) -> None:
        pushes, sent_bytes, units = self._pusher_counts()
        pushes_before, bytes_before, units_before = self._phase_start
        self.run.pushes_by_phase[name] = pushes - pushes_before
        self.run.bytes_by_phase[name] = sent_bytes - bytes_before
        self.run.message_units_by_phase[name] = units - units_before
        self._phase_start = (pushes, sent_bytes, units)


def _answer_body(question: FrozenQuestion, roll: float) -> dict[str, Any]:
    """A give-up (`timeout`), a wrong or a right answer, by the participant's roll."""
    if roll < GIVE_UP_RATE:
        return {"action": "timeout", "index": question.index}
    wrong = roll < GIVE_UP_RATE + WRONG_RATE
    selected = [(c + 1) % 4 for c in question.correct] if wrong else list(question.correct)
    return {"action": "answer", "index": question.index, "selected": selected}


def play_engine_run(
    redis_url: str,
    participants: int,
    questions: int,
    *,
    seed: int = 20261122,
    report: bool = True,
    progress: Callable[[str], None] = lambda _line: None,
) -> EngineRun:
    """Create, fill, start and play a run to completion through the handler, the fan-out posting
    after each invocation, then (with `report`) make it durable with the reporter.

    Each participant joins (sign-on: the script, then the flush it asks for) and connects at once,
    JOIN_GAP_MS apart; the lobby's coalesced pushes are settled before the host starts, and
    everything pending (the last flushes) once the run has completed."""
    run = EngineRun(participants, questions, fanout_batch_size=manifest.queue(manifest.PUSHES_QUEUE).batch_size)
    pool = redis.ConnectionPool.from_url(redis_url, decode_responses=True)
    raw = redis.Redis.from_url(redis_url)
    with durable_stores() as stores:
        play = _EnginePlay.wire(run, pool, raw, seed=seed, progress=progress)
        with _handler_service(play.service):
            play.open_run()
            network_before = _network_bytes(raw)
            play.fill_lobby()
            play.start()
            play.play_game()
            run.redis_bytes_total = _network_bytes(raw) - network_before
        play.count_deliveries()
        play.read_completion()
        play.time_pings()
        if report:
            progress("reporting the run (DynamoDB on moto)")
            _report(run, play.engine, stores, play.run_id)
    pool.disconnect()
    raw.close()
    return run


def _report(run: EngineRun, engine: RunEngine, stores: Any, run_id: str) -> None:
    """The reporter on the queued completion job, against moto, every DynamoDB request counted."""
    export = engine.export(run_id)
    assert export is not None
    puts = run_puts(run_id, export.events)
    run.report_items = len(puts)
    run.dynamodb_wru = sum(math.ceil(len(json.dumps(put.item)) / 1024) for put in puts)
    dynamodb = _counted(boto3.client("dynamodb", region_name="us-east-1"), run.dynamodb_requests)
    writer = BatchWriter(dynamodb)
    reporter = Reporter(engine, writer)
    url = stores.urls[manifest.COMPLETION_QUEUE]
    started = time.perf_counter()
    response: dict[str, Any] = {}

    def consume(event: dict[str, Any]) -> Any:
        try:
            response.update(process_completion_jobs(event, reporter))
        except Exception as exc:  # every record failed: recorded, and the job goes back on the queue
            run.report_error = f"{type(exc).__name__}: {str(exc)[:300]}"
            raise
        return response

    received = poll_once(stores.sqs, url, consume, 1)
    run.report_seconds = time.perf_counter() - started
    run.dynamodb_retries = writer.stats.retries
    if received != 1:
        run.report_error = f"{received} completion jobs queued, expected 1"
    elif run.report_error is None and engine.export(run_id) is not None:
        run.report_error = "the reporter did not persist the run (the job failed; live state kept)"
