"""One execution environment: a process running AWS's runtime interface client on the function's assets.

The process is this machine's Python started with `-S -P` (no site-packages, no script folder), so
`sys.path` holds only what Lambda puts there, in Lambda's order: the task root (the function's code
asset), `/opt/python/lib/pythonX.Y/site-packages` and `/opt/python` (its merged layers), the
runtime's folder (awslambdaric and the AWS SDK), then the standard library. Its environment is
Lambda's reserved variables plus exactly the function's own (resolved locally).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from local_stack.runtime.definitions import FunctionDefinition
from local_stack.runtime.runtime_api import NextInvocation, RuntimeApiServer

logger = logging.getLogger("local_stack.runtime")

INIT_TIMEOUT_S = 10.0
"""Lambda's limit on an on-demand init phase."""
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
PYTHON_VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"
EXECUTION_ENV = "AWS_Lambda_python3.12"
"""What the deployed runtime reports (the layer is built for it); this machine's Python may differ."""
TRACE_HEADER = "Root=1-{epoch:08x}-{random};Parent={parent};Sampled=0"
"""No X-Ray daemon runs locally: every invocation is marked not sampled, so the SDK records nothing."""


@dataclass(frozen=True)
class Outcome:
    """What an invocation returned: a response payload, or a function error (Lambda's error shape)."""

    payload: bytes | None = None
    error: dict[str, object] | None = None

    @classmethod
    def failure(cls, error_type: str, message: str) -> Outcome:
        return cls(error={"errorType": error_type, "errorMessage": message})


@dataclass(frozen=True)
class Report:
    """Lambda's REPORT line of one invocation, and the local runtime's own measurement of it."""

    function: str
    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    error_type: str | None
    cpu_time_ms: float | None
    """Local extension: the CPU time (user + system, all threads) the function's process used
    between handing out the invocation and receiving its response; None where it cannot be read."""

    @property
    def billed_duration_ms(self) -> int:
        return max(1, int(-(-self.duration_ms // 1)))

    def line(self) -> str:
        text = (
            f"REPORT RequestId: {self.request_id}\tDuration: {self.duration_ms:.2f} ms\t"
            f"Billed Duration: {self.billed_duration_ms} ms\tMemory Size: {self.memory_mb} MB\t"
            f"Max Memory Used: {self.max_memory_used_mb} MB"
        )
        if self.init_duration_ms is not None:
            text += f"\tInit Duration: {self.init_duration_ms:.2f} ms"
        return text

    def local_line(self) -> str:
        """The line the local runtime logs: Lambda's fields, then its own (`CPU Time`), which Lambda's
        REPORT lines do not have (on Lambda the CPU a function gets depends on its memory size)."""
        if self.cpu_time_ms is None:
            return self.line()
        return f"{self.line()}\tCPU Time: {self.cpu_time_ms:.2f} ms"


@dataclass
class Invocation:
    payload: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    done: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    delivered_at: float | None = None
    cpu_at_delivery_ns: int | None = None
    """The process's CPU time when the invocation was handed out (Report.cpu_time_ms)."""
    cpu_time_ms: float | None = None

    def finish(self, outcome: Outcome) -> bool:
        if self.done.done():
            return False
        self.done.set_result(outcome)
        return True


@dataclass(frozen=True)
class Launch:
    """How every environment of every function is started (shared by the functions of one stack)."""

    runtime_dir: Path
    region: str
    function_name_prefix: str
    account_id: str
    python: str = field(default_factory=lambda: getattr(sys, "_base_executable", sys.executable))

    def function_name(self, name: str) -> str:
        return f"{self.function_name_prefix}-{name}"


PYTHON_FLAGS = ("-S", "-P")
"""No site-packages, no script folder on `sys.path`: only what Lambda puts there."""


def lambda_variables(
    definition: FunctionDefinition,
    *,
    opt_dir: Path,
    launch: Launch,
    function_environment: Mapping[str, str],
    runtime_api: str,
    log_stream_id: str,
) -> dict[str, str]:
    """Lambda's reserved variables, then the function's own (they cannot override reserved ones)."""
    task_root = str(definition.code_dir)
    python_path = [
        task_root,
        str(opt_dir / "python" / "lib" / PYTHON_VERSION / "site-packages"),
        str(opt_dir / "python"),
        str(launch.runtime_dir),
    ]
    function_name = launch.function_name(definition.name)
    reserved = {
        "_HANDLER": definition.handler,
        "AWS_EXECUTION_ENV": EXECUTION_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(definition.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(tz=UTC):%Y/%m/%d}/[$LATEST]{log_stream_id}",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_REGION": launch.region,
        "AWS_DEFAULT_REGION": launch.region,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": str(launch.runtime_dir),
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(python_path),
        "TZ": ":UTC",
    }
    return {**function_environment, **reserved}


def _iso_now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _max_rss_mb(pid: int) -> int:
    """The process's peak resident memory (Lambda's `Max Memory Used`)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _process_cpu_clock(pid: int) -> int | None:
    """The CPU-time clock of process `pid` (clock_getcpuclockid(3): user + system time of all its
    threads, read with clock_gettime to the nanosecond; Linux lets a process read another's). None
    where the C library lacks it."""
    clock = ctypes.c_int()  # clockid_t
    try:
        failed = ctypes.CDLL(None).clock_getcpuclockid(pid, ctypes.byref(clock))
    except (OSError, AttributeError):
        return None
    return None if failed else clock.value


class Environment:
    """One process of one function; serves one invocation at a time."""

    def __init__(
        self,
        definition: FunctionDefinition,
        *,
        opt_dir: Path,
        environment: Mapping[str, str],
        launch: Launch,
        on_report: Callable[[Report], None],
        on_log: Callable[[str, str], None],
    ) -> None:
        self.definition = definition
        self.opt_dir = opt_dir
        self.function_environment = dict(environment)
        self.launch = launch
        self.on_report = on_report
        self.on_log = on_log
        self.id = uuid.uuid4().hex[:12]
        self.api = RuntimeApiServer(self)
        self.process: asyncio.subprocess.Process | None = None
        self.ready: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        """Resolves with the init duration (ms) when the runtime first asks for an invocation."""
        self.dead = False
        self.init_duration_ms: float | None = None
        self._reported_init = False
        self._started_at = 0.0
        self._cpu_clock: int | None = None
        self._inbox: asyncio.Queue[Invocation] = asyncio.Queue(maxsize=1)
        self._current: Invocation | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def function_name(self) -> str:
        return self.launch.function_name(self.definition.name)

    def variables(self, runtime_api: str) -> dict[str, str]:
        return lambda_variables(
            self.definition,
            opt_dir=self.opt_dir,
            launch=self.launch,
            function_environment=self.function_environment,
            runtime_api=runtime_api,
            log_stream_id=self.id,
        )

    async def start(self) -> None:
        runtime_api = await self.api.start()
        self._started_at = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            self.launch.python,
            *PYTHON_FLAGS,
            "-m",
            "awslambdaric",
            self.definition.handler,
            cwd=self.definition.code_dir,
            env=self.variables(runtime_api),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._cpu_clock = _process_cpu_clock(self.process.pid)
        self._tasks = [asyncio.create_task(self._forward_output()), asyncio.create_task(self._watch_exit())]

    # --- the runtime client's requests (RuntimeApiHandler) ---

    async def next_invocation(self) -> NextInvocation:
        if not self.ready.done():
            self.init_duration_ms = (time.monotonic() - self._started_at) * 1000
            self.ready.set_result(self.init_duration_ms)
        invocation = await self._inbox.get()
        self._current = invocation
        invocation.cpu_at_delivery_ns = self._cpu_time_ns()
        invocation.delivered_at = time.monotonic()
        deadline_ms = int(time.time() * 1000) + self.definition.timeout_s * 1000
        trace = TRACE_HEADER.format(epoch=int(time.time()), random=uuid.uuid4().hex[:24], parent=uuid.uuid4().hex[:16])
        headers = [
            ("lambda-runtime-aws-request-id", invocation.request_id),
            ("lambda-runtime-deadline-ms", str(deadline_ms)),
            (
                "lambda-runtime-invoked-function-arn",
                f"arn:aws:lambda:{self.launch.region}:{self.launch.account_id}:function:{self.function_name}",
            ),
            ("lambda-runtime-trace-id", trace),
        ]
        return NextInvocation(invocation.request_id, invocation.payload, headers)

    def invocation_response(self, request_id: str, body: bytes) -> bool:
        if len(body) > RESPONSE_LIMIT_BYTES:
            message = (
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size (6291556 bytes)."
            )
            return self._complete(request_id, Outcome.failure("Function.ResponseSizeTooLarge", message))
        return self._complete(request_id, Outcome(payload=body))

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        try:
            error = json.loads(body)
        except ValueError:
            error = {"errorType": error_type or "Runtime.Unknown", "errorMessage": body.decode(errors="replace")}
        return self._complete(request_id, Outcome(error=error if isinstance(error, dict) else {"errorMessage": error}))

    def init_error(self, body: bytes, error_type: str | None) -> None:
        try:
            error = json.loads(body)
        except ValueError:
            error = {"errorType": error_type or "Runtime.Unknown", "errorMessage": body.decode(errors="replace")}
        self.init_duration_ms = (time.monotonic() - self._started_at) * 1000
        if not self.ready.done():
            self.ready.set_exception(InitError(error))

    # --- invocations ---

    async def invoke(self, invocation: Invocation) -> Outcome:
        """Run one invocation (the environment is ready); kill the process when it times out."""
        await self._inbox.put(invocation)
        timeout_s = self.definition.timeout_s
        try:
            outcome = await asyncio.wait_for(asyncio.shield(invocation.done), timeout=timeout_s + 0.05)
        except TimeoutError:
            message = f"{_iso_now()} {invocation.request_id} Task timed out after {float(timeout_s):.2f} seconds"
            self.on_log(self.definition.name, message)
            self.kill()
            outcome = Outcome.failure("Sandbox.Timedout", message)
            invocation.finish(outcome)
        self._current = None
        self._report(invocation, outcome)
        return outcome

    def _complete(self, request_id: str, outcome: Outcome) -> bool:
        current = self._current
        if current is None or current.request_id != request_id:
            return False
        cpu_now_ns = self._cpu_time_ns()
        if cpu_now_ns is not None and current.cpu_at_delivery_ns is not None:
            current.cpu_time_ms = (cpu_now_ns - current.cpu_at_delivery_ns) / 1e6
        current.finish(outcome)
        return True

    def _cpu_time_ns(self) -> int | None:
        if self._cpu_clock is None:
            return None
        try:
            return time.clock_gettime_ns(self._cpu_clock)
        except OSError:  # the process has exited
            return None

    def _report(self, invocation: Invocation, outcome: Outcome) -> None:
        delivered = invocation.delivered_at or time.monotonic()
        init_ms = None
        if not self._reported_init:
            self._reported_init = True
            init_ms = self.init_duration_ms
        self.on_report(
            Report(
                function=self.definition.name,
                request_id=invocation.request_id,
                duration_ms=(time.monotonic() - delivered) * 1000,
                memory_mb=self.definition.memory_mb,
                max_memory_used_mb=_max_rss_mb(self.process.pid) if self.process else 0,
                init_duration_ms=init_ms,
                error_type=str(outcome.error.get("errorType")) if outcome.error else None,
                cpu_time_ms=invocation.cpu_time_ms,
            )
        )

    # --- the process ---

    def kill(self) -> None:
        self.dead = True
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    async def close(self) -> None:
        self.kill()
        if self.process is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.process.wait(), timeout=5)
        await self.api.close()
        for task in self._tasks:
            task.cancel()

    async def _forward_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line:
                self.on_log(self.definition.name, line)

    async def _watch_exit(self) -> None:
        assert self.process is not None
        status = await self.process.wait()
        self.dead = True
        if not self.ready.done():
            self.ready.set_exception(
                InitError(
                    {
                        "errorType": "Runtime.ExitError",
                        "errorMessage": f"Runtime exited with error: exit status {status}",
                    }
                )
            )
        current = self._current
        if current is not None:
            reason = (
                f"signal: {signal.Signals(-status).name.lower().removeprefix('sig')}"
                if status < 0
                else f"exit status {status}"
            )
            current.finish(
                Outcome.failure(
                    "Runtime.ExitError",
                    f"RequestId: {current.request_id} Error: Runtime exited with error: {reason}",
                )
            )
        await self.api.close()


class InitError(RuntimeError):
    """The environment's init phase failed (the error the runtime client posted to /init/error)."""

    def __init__(self, error: dict[str, object]) -> None:
        super().__init__(str(error.get("errorMessage", "")))
        self.error = error
