"""Pushing messages to WebSocket clients through API Gateway's `@connections` API.

One `@connections` call per recipient per message (architecture.md, limits; docs/signon-and-tokens.md): a batch is many
calls, sent in parallel on a bounded thread pool, optionally paced (`RateLimiter`). A stale
connection (410 Gone) is reported so the caller can forget it; throttling is retried with jittered
backoff; what still fails is reported as retryable (throttled, 5xx, network) or not, so one bad
connection never breaks a batch and the caller decides what to try again.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from speedrun.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

logger = Logger(child=True)

DEFAULT_MAX_WORKERS = 16
MAX_ATTEMPTS = 5
"""Attempts per call when throttled (the first one included)."""
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
GONE_CODES = frozenset({"GoneException"})
THROTTLING_CODES = frozenset({"LimitExceededException", "TooManyRequestsException", "ThrottlingException"})


@dataclass(frozen=True)
class Push:
    connection_id: str
    message: dict[str, Any]
    """Serialized to compact JSON once per distinct message object (a broadcast shares one)."""


@dataclass
class SendReport:
    sent: int
    gone: list[str]
    """Connection ids that answered 410 Gone: the client is no longer there."""
    failed: list[str] = field(default_factory=list)
    """Connection ids whose push failed for good (logged: refused, malformed); it did not reach them."""
    retryable: list[str] = field(default_factory=list)
    """Connection ids whose push was still throttled after every attempt, or met a 5xx or network
    error: worth sending again later."""
    throttled_calls: int = 0
    """Calls answered 429 / LimitExceededException (each retry counted)."""


class RateLimiter:
    """At most `rate_per_s` acquisitions a second after a first `burst`, shared by every thread of
    one process: the generic cell rate algorithm (a token bucket of `burst` tokens refilled at the
    rate, kept as the next acquisition's theoretical time), so a caller sleeps exactly until its slot."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate_per_s = rate_per_s
        self._interval = 1 / rate_per_s
        self._tolerance = ((burst if burst is not None else max(1.0, rate_per_s / 10)) - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._theoretical = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            theoretical = max(self._theoretical, now)
            self._theoretical = theoretical + self._interval
        wait = theoretical - self._tolerance - now
        if wait > 0:
            self._sleep(wait)


class Pusher(Protocol):
    def send(self, pushes: Sequence[Push]) -> SendReport:
        """Deliver every push (in parallel), wait for all, and report what happened."""
        ...

    def close(self, connection_id: str) -> bool | None:
        """Close a client's connection (DELETE @connections/{id}): True when closed, False when it
        answered 410 Gone (already gone, or not registered yet: API Gateway registers a connection
        only once its $connect has returned), None when the pusher cannot tell."""
        ...


class _Outcome(Enum):
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"
    RETRYABLE = "retryable"


def encode_message(message: Any) -> bytes:
    """A frame (or any JSON value in one) as the bytes sent: compact UTF-8."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


_client_lock = threading.Lock()
_default_client: ApiGatewayManagementApiClient | None = None


def connections_client() -> ApiGatewayManagementApiClient:
    """The process's `@connections` client (endpoint from `CONNECTIONS_URL`).

    Its pool is larger than any pusher's thread pool, and botocore's own retries are off: the
    pusher retries throttling itself, so attempts are bounded in one place.
    """
    global _default_client  # noqa: PLW0603 - one client (and connection pool) per container
    with _client_lock:
        if _default_client is None:
            _default_client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=get_settings().require("connections_url"),
                config=Config(
                    max_pool_connections=2 * DEFAULT_MAX_WORKERS,
                    retries={"total_max_attempts": 1},
                    connect_timeout=2,
                    read_timeout=5,
                ),
            )
        return _default_client


class ConnectionsPusher(Pusher):
    def __init__(
        self,
        client: ApiGatewayManagementApiClient | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        pace: RateLimiter | None = None,
    ) -> None:
        self._client = client
        self._max_workers = max_workers
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._jitter = jitter
        self._pace = pace
        self._throttled = 0
        self._throttled_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @property
    def client(self) -> ApiGatewayManagementApiClient:
        if self._client is None:
            self._client = connections_client()
        return self._client

    def send(self, pushes: Sequence[Push]) -> SendReport:
        if not pushes:
            return SendReport(sent=0, gone=[])
        encoded: dict[int, bytes] = {}
        for push in pushes:
            if id(push.message) not in encoded:
                encoded[id(push.message)] = encode_message(push.message)
        jobs = [(push.connection_id, encoded[id(push.message)]) for push in pushes]
        with self._throttled_lock:
            throttled_before = self._throttled
        if len(jobs) == 1:
            outcomes = [self._post(*jobs[0])]
        else:
            outcomes = list(self._pool().map(lambda job: self._post(*job), jobs))
        report = SendReport(sent=0, gone=[])
        for (connection_id, _), outcome in zip(jobs, outcomes, strict=True):
            if outcome is _Outcome.SENT:
                report.sent += 1
            elif outcome is _Outcome.GONE:
                report.gone.append(connection_id)
            elif outcome is _Outcome.RETRYABLE:
                report.retryable.append(connection_id)
            else:
                report.failed.append(connection_id)
        with self._throttled_lock:
            report.throttled_calls = self._throttled - throttled_before
        if report.failed or report.retryable:
            logger.warning(
                "pushes failed",
                extra={"failed": len(report.failed), "retryable": len(report.retryable), "of": len(jobs)},
            )
        return report

    def close(self, connection_id: str) -> bool:
        try:
            self._with_retries(lambda: self.client.delete_connection(ConnectionId=connection_id))
        except ClientError as exc:
            if not _is_gone(exc):
                raise
            return False
        return True

    def _post(self, connection_id: str, data: bytes) -> _Outcome:
        try:
            self._with_retries(lambda: self._paced_post(connection_id, data))
        except ClientError as exc:
            if _is_gone(exc):
                return _Outcome.GONE
            logger.warning("push failed", extra={"connection_id": connection_id, "code": _error_code(exc)})
            return _Outcome.RETRYABLE if _is_throttled(exc) or _is_server_error(exc) else _Outcome.FAILED
        except BotoCoreError as exc:
            logger.warning("push failed", extra={"connection_id": connection_id, "error": type(exc).__name__})
            return _Outcome.RETRYABLE
        return _Outcome.SENT

    def _paced_post(self, connection_id: str, data: bytes) -> None:
        if self._pace is not None:
            self._pace.acquire()
        self.client.post_to_connection(ConnectionId=connection_id, Data=data)

    def _with_retries(self, call: Callable[[], object]) -> None:
        """Run `call`, retrying throttling with exponential backoff and full jitter."""
        for attempt in range(self._max_attempts):
            try:
                call()
                return
            except ClientError as exc:
                if not _is_throttled(exc):
                    raise
                with self._throttled_lock:
                    self._throttled += 1
                if attempt == self._max_attempts - 1:
                    raise
                self._sleep(self._jitter() * min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="push")
            return self._executor


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_gone(exc: ClientError) -> bool:
    # The HTTP status too: a gateway that answers a bare 410 (no error body) means the same.
    return _error_code(exc) in GONE_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410


def _is_server_error(exc: ClientError) -> bool:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500


def _is_throttled(exc: ClientError) -> bool:
    return _error_code(exc) in THROTTLING_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 429
