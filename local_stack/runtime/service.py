"""The local Lambda service: every function's execution environments, on one event loop of their own.

Like Lambda, an invocation goes to a warm (idle) environment of its function when there is one, else
a new environment starts (a cold start), up to the function's cap: its reserved concurrency where the
template sets one, else `max_environments` (a local resource limit; Lambda's own is the account's
concurrency). Beyond the cap an invocation waits for an environment to become idle. An environment
that timed out, crashed or failed its init is discarded; the next invocation starts a fresh one.

Callers on other threads or loops (the gateway, queue pollers) use `invoke` (async) or `invoke_sync`.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from local_stack.runtime.artifacts import merged_layers
from local_stack.runtime.definitions import FunctionDefinition
from local_stack.runtime.environment import INIT_TIMEOUT_S, Environment, InitError, Invocation, Launch, Outcome, Report

logger = logging.getLogger("local_stack.runtime")

DEFAULT_MAX_ENVIRONMENTS = max(2, min(16, os.cpu_count() or 2))
"""Per function: each environment is a whole Python process and a burst of cold starts is CPU-bound
(about half a CPU-second each), so more environments than cores only add cold starts. Measured on 2
cores, 200 participants arriving 32 at a time (join, connect, sync): 2 environments a function
admitted 41..70 a second, 4 admitted 28..38 (docs/local-stack.md)."""
REPORTS_KEPT = 10_000


class FunctionError(Exception):
    """The function failed: Lambda's error payload (`errorType`, `errorMessage`, ...)."""

    def __init__(self, error: Mapping[str, object]) -> None:
        self.error = dict(error)
        self.error_type = str(self.error.get("errorType", ""))
        super().__init__(str(self.error.get("errorMessage", "")))


@dataclass(frozen=True)
class FunctionLog:
    function: str
    line: str


class FunctionPool:
    def __init__(self, service: LambdaService, definition: FunctionDefinition, environment: Mapping[str, str]) -> None:
        self.service = service
        self.definition = definition
        self.environment = dict(environment)
        self.opt_dir = merged_layers(definition.layer_dirs)
        cap = service.max_environments
        if definition.reserved_concurrency is not None:
            cap = min(cap, definition.reserved_concurrency)
        self.cap = max(1, cap)
        self.environments: set[Environment] = set()
        self._idle: list[Environment] = []
        self._changed = asyncio.Condition()
        self.cold_starts = 0

    async def _acquire(self) -> Environment:
        async with self._changed:
            while True:
                while self._idle:
                    environment = self._idle.pop()
                    if not environment.dead:
                        return environment
                    self.environments.discard(environment)
                if len(self.environments) < self.cap:
                    environment = self._new_environment()
                    self.environments.add(environment)
                    break
                await self._changed.wait()
        try:
            await environment.start()
        except BaseException:
            await self._discard(environment)
            raise
        return environment

    def _new_environment(self) -> Environment:
        self.cold_starts += 1
        return Environment(
            self.definition,
            opt_dir=self.opt_dir,
            environment=self.environment,
            launch=self.service.launch,
            on_report=self.service.record_report,
            on_log=self.service.record_log,
        )

    async def _release(self, environment: Environment) -> None:
        if environment.dead:
            await self._discard(environment)
            return
        async with self._changed:
            self._idle.append(environment)
            self._changed.notify()

    async def _discard(self, environment: Environment) -> None:
        await environment.close()
        async with self._changed:
            self.environments.discard(environment)
            self._changed.notify()

    async def invoke(self, payload: bytes) -> Outcome:
        environment = await self._acquire()
        try:
            try:
                await asyncio.wait_for(asyncio.shield(environment.ready), INIT_TIMEOUT_S + self.definition.timeout_s)
            except InitError as exc:
                environment.dead = True
                init_ms = environment.init_duration_ms or 0.0
                self.service.record_log(
                    self.definition.name,
                    f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: error"
                    f"\tError Type: {exc.error.get('errorType')}",
                )
                return Outcome(error=exc.error)
            except TimeoutError:
                environment.kill()
                return Outcome.failure(
                    "Runtime.InitTimeout", f"Init phase did not complete within {INIT_TIMEOUT_S:.0f} s"
                )
            return await environment.invoke(Invocation(payload))
        finally:
            await self._release(environment)

    async def warm(self) -> float:
        """Start one environment and wait for its init: the init duration (ms), or InitError."""
        environment = await self._acquire()
        try:
            return await asyncio.wait_for(asyncio.shield(environment.ready), INIT_TIMEOUT_S * 3)
        except (InitError, TimeoutError):
            environment.kill()
            raise
        finally:
            await self._release(environment)

    async def close(self) -> None:
        for environment in list(self.environments):
            await environment.close()
        self.environments.clear()
        self._idle.clear()


class LambdaService:
    """Every function of a stack, each in its own execution environments (processes)."""

    def __init__(
        self,
        definitions: Mapping[str, FunctionDefinition],
        environments: Mapping[str, Mapping[str, str]],
        *,
        launch: Launch,
        max_environments: int = DEFAULT_MAX_ENVIRONMENTS,
    ) -> None:
        self.definitions = dict(definitions)
        self._environments = environments
        self.launch = launch
        self.max_environments = max_environments
        self.reports: collections.deque[Report] = collections.deque(maxlen=REPORTS_KEPT)
        self.logs: collections.deque[FunctionLog] = collections.deque(maxlen=REPORTS_KEPT)
        self.pools: dict[str, FunctionPool] = {}
        self.in_flight = 0
        """Invocations accepted and not yet answered (tests wait for a quiet stack with it)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="lambda-service", daemon=True)
        self._thread.start()
        started.wait()
        self._submit(self._create_pools()).result()

    async def _create_pools(self) -> None:
        for name, definition in self.definitions.items():
            self.pools[name] = FunctionPool(self, definition, self._environments[name])

    def warm_all(self) -> dict[str, float | Exception]:
        """One environment per function, started together: each one's init duration (ms) or its error."""

        async def warm() -> dict[str, float | Exception]:
            names = list(self.pools)
            results = await asyncio.gather(*(self.pools[name].warm() for name in names), return_exceptions=True)
            return {
                name: result if isinstance(result, float | Exception) else RuntimeError(str(result))
                for name, result in zip(names, results, strict=True)
            }

        return self._submit(warm()).result()

    def cold_start(self, name: str) -> float:
        """Start a fresh environment of `name`, wait for its init, discard it: the init duration (ms)."""

        async def once() -> float:
            pool = self.pools[name]
            environment = pool._new_environment()
            await environment.start()
            try:
                return await asyncio.wait_for(asyncio.shield(environment.ready), INIT_TIMEOUT_S * 3)
            finally:
                await environment.close()

        return float(self._submit(once()).result())

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            for pool in self.pools.values():
                await pool.close()

        try:
            self._submit(close()).result(timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
            self._loop = None

    def _submit(self, coroutine: Any) -> Future[Any]:
        if self._loop is None:
            raise RuntimeError("the Lambda service is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    # --- invocations ---

    def has(self, name: str) -> bool:
        return name in self.definitions

    async def invoke(self, name: str, event: Any) -> Any:
        """Invoke from any event loop: the function's result (parsed JSON), or FunctionError."""
        outcome = await asyncio.wrap_future(self._submit(self._counted(name, _encode(event))))
        return _decode(outcome)

    def invoke_sync(self, name: str, event: Any) -> Any:
        return _decode(self._submit(self._counted(name, _encode(event))).result())

    async def _counted(self, name: str, payload: bytes) -> Outcome:
        self.in_flight += 1
        try:
            return await self.pools[name].invoke(payload)
        finally:
            self.in_flight -= 1

    # --- what the environments report ---

    def record_report(self, report: Report) -> None:
        self.reports.append(report)
        logger.info("[%s] %s", report.function, report.local_line())

    def record_log(self, function: str, line: str) -> None:
        self.logs.append(FunctionLog(function, line))
        noteworthy = (
            line.startswith(("[ERROR]", "[WARNING]", "Traceback", "INIT_REPORT"))
            or "Task timed out" in line
            or '"level":"ERROR"' in line
            or '"level":"WARNING"' in line
        )
        logging.getLogger(f"local_stack.lambda.{function}").log(
            logging.WARNING if noteworthy else logging.INFO, "%s", line
        )


def _encode(event: Any) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def _decode(outcome: Outcome) -> Any:
    if outcome.error is not None:
        raise FunctionError(outcome.error)
    if not outcome.payload:
        return None
    return json.loads(outcome.payload)
