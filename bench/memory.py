"""Memory sized by measurement (issue 16): the hot functions' duration against their memory size,
modelled from what one run measured, and the size their cost curve chooses.

Lambda gives a function CPU in proportion to its memory (FULL_VCPU_MB is one vCPU, a smaller size
a share of one); the local runtime runs every function process on a whole core of this machine, so
memory cannot be varied here. It is measured once and modelled:

- *Measured on the local runtime*: bench.load's scenario (P real WebSocket clients x Q questions)
  against the local stack in a child process, which runs every function from its synthesized
  assets through awslambdaric; per invocation its REPORT line, read from the stack's log, gives
  the Duration (wall) and the local runtime's `CPU Time` (user + system of the function's process).
- *Measured with the engine bench*: bench.engine_run's P x Q run, with the speed-run handler's own
  wall and thread CPU time per invocation in this process (the handler without the runtime client
  and the Runtime API around it).
- *Modelled*: per invocation, duration at M = cpu x max(1, FULL_VCPU_MB / M) + (wall - cpu): the
  CPU part stretched by the vCPU share, the rest (waiting on Redis, SQS, `@connections`, or a core
  of this busy machine) unchanged. Cost per million invocations at M: the request price plus
  M / 1024 x the mean billed duration (each rounded up to 1 ms) x the arm64 GB-second price
  (bench.cost.PRICES).
- *Chosen*: the cheapest M of MEMORY_SIZES_MB whose modelled p50 is within P50_WITHIN of the p50 at
  FULL_VCPU_MB (a whole vCPU: the measured wall time) and which holds MEMORY_HEADROOM x the largest
  Max Memory Used measured.
"""

from __future__ import annotations

import asyncio
import math
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from unittest import mock

import lambdas.speedrun.handler as speedrun_lambda
from bench import cost, engine_run, load
from local_stack.process import RunningStack, stack_process
from speedrun import manifest

HOT_FUNCTIONS = ("speedrun", "ws_authorizer", "signon", "fanout")
MEMORY_SIZES_MB = (128, 256, 512, 768, 1024, 1536, 1769, 2048)
FULL_VCPU_MB = 1769
"""The memory size at which Lambda gives a function one whole vCPU (AWS's documentation)."""
P50_WITHIN = 0.10
"""How much slower than on a whole vCPU the chosen size's modelled p50 may be."""
MEMORY_HEADROOM = 1.5
"""The chosen size holds this multiple of the largest Max Memory Used measured: that is this
machine's CPython on x86 playing one small run, not Lambda's arm64 Python playing a large one."""
LOG_QUIET_S = 1.0
"""The stack's log unchanged this long: the invocations after the scenario (the sockets'
`$disconnect`s) have reported."""
LOG_QUIET_TIMEOUT_S = 15.0
REPORT_LINE = re.compile(
    r"\[(?P<function>\w+)\] REPORT RequestId: \S+\tDuration: (?P<duration_ms>[\d.]+) ms\t"
    r".*?Max Memory Used: (?P<memory_mb>\d+) MB.*?\tCPU Time: (?P<cpu_ms>[\d.]+) ms"
)


@dataclass(frozen=True)
class Sample:
    """One invocation: its wall duration and the CPU time its process used (ms), its peak memory (MB)."""

    wall_ms: float
    cpu_ms: float
    max_memory_used_mb: int = 0


@dataclass(frozen=True)
class CurvePoint:
    """One memory size of a function's modelled curve."""

    memory_mb: int
    p50_ms: float
    p95_ms: float
    billed_ms_mean: float
    usd_per_million: float

    def summary(self) -> dict[str, Any]:
        return {
            "memory_mb": self.memory_mb,
            "p50_ms": round(self.p50_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "billed_ms_mean": round(self.billed_ms_mean, 3),
            "usd_per_million": round(self.usd_per_million, 4),
        }


def modelled_duration_ms(sample: Sample, memory_mb: int) -> float:
    """The invocation's duration at `memory_mb`: its CPU time at the vCPU share, the rest as measured."""
    return sample.cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb) + (sample.wall_ms - sample.cpu_ms)


def usd_per_million(memory_mb: int, billed_ms_mean: float) -> float:
    """A million invocations of `billed_ms_mean` each at `memory_mb`, at bench.cost's arm64 prices."""
    request_usd, _what = cost.PRICES["lambda_request"]
    gb_second_usd, _what = cost.PRICES["lambda_gb_second"]
    return 1e6 * (request_usd + memory_mb / 1024 * billed_ms_mean / 1000 * gb_second_usd)


def _percentile_ms(values_ms: Sequence[float], pct: float) -> float:
    return engine_run.percentile_ms([round(value * 1e6) for value in values_ms], pct)


def curve_point(samples: Sequence[Sample], memory_mb: int) -> CurvePoint:
    durations = [modelled_duration_ms(sample, memory_mb) for sample in samples]
    billed_ms_mean = statistics.fmean(max(1, math.ceil(duration)) for duration in durations)  # billed per 1 ms
    return CurvePoint(
        memory_mb=memory_mb,
        p50_ms=_percentile_ms(durations, 50),
        p95_ms=_percentile_ms(durations, 95),
        billed_ms_mean=billed_ms_mean,
        usd_per_million=usd_per_million(memory_mb, billed_ms_mean),
    )


def chosen_memory_mb(points: Sequence[CurvePoint], *, least_memory_mb: float) -> int | None:
    """The cheapest size of `points` whose p50 is within P50_WITHIN of the p50 at FULL_VCPU_MB and
    which is at least `least_memory_mb` (the smaller of equally cheap ones); None if none is."""
    (whole_vcpu,) = (point for point in points if point.memory_mb == FULL_VCPU_MB)
    fits = [
        point
        for point in points
        if point.memory_mb >= least_memory_mb and point.p50_ms <= whole_vcpu.p50_ms * (1 + P50_WITHIN)
    ]
    if not fits:
        return None
    return min(fits, key=lambda point: (point.usd_per_million, point.memory_mb)).memory_mb


def _distribution(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": _percentile_ms(values_ms, 50),
        "p95": _percentile_ms(values_ms, 95),
        "mean": round(statistics.fmean(values_ms), 4),
    }


def function_summary(
    samples: Sequence[Sample], current_memory_mb: int, *, least_memory_mb: float | None = None
) -> dict[str, Any]:
    """What was measured of one function, its modelled curve, and the size chosen against its
    current one. `least_memory_mb` defaults to MEMORY_HEADROOM x the samples' largest Max Memory Used."""
    max_memory_used_mb = max(sample.max_memory_used_mb for sample in samples)
    if least_memory_mb is None:
        least_memory_mb = MEMORY_HEADROOM * max_memory_used_mb
    points = [curve_point(samples, memory_mb) for memory_mb in MEMORY_SIZES_MB]
    chosen = chosen_memory_mb(points, least_memory_mb=least_memory_mb)
    return {
        "invocations": len(samples),
        "wall_ms": _distribution([sample.wall_ms for sample in samples]),
        "cpu_ms": _distribution([sample.cpu_ms for sample in samples]),
        "cpu_over_wall": round(sum(s.cpu_ms for s in samples) / sum(s.wall_ms for s in samples), 3),
        "max_memory_used_mb": max_memory_used_mb,
        "least_memory_mb": round(least_memory_mb),
        "curve": [point.summary() for point in points],
        "current_memory_mb": current_memory_mb,
        "current": curve_point(samples, current_memory_mb).summary(),
        "chosen_memory_mb": chosen,
        "chosen": curve_point(samples, chosen).summary() if chosen is not None else None,
    }


def parse_reports(log: str) -> dict[str, list[Sample]]:
    """Every REPORT line of the local runtime (with its `CPU Time`) in `log`, by function."""
    samples: dict[str, list[Sample]] = defaultdict(list)
    for found in REPORT_LINE.finditer(log):
        samples[found["function"]].append(
            Sample(float(found["duration_ms"]), float(found["cpu_ms"]), int(found["memory_mb"]))
        )
    return dict(samples)


def _quiet_log(stack: RunningStack) -> str:
    """The stack's log once it has stopped growing (or after LOG_QUIET_TIMEOUT_S)."""
    deadline = time.monotonic() + LOG_QUIET_TIMEOUT_S
    text = stack.log()
    while time.monotonic() < deadline:
        time.sleep(LOG_QUIET_S)
        latest = stack.log()
        if latest == text:
            break
        text = latest
    return text


def measure_local_stack(
    participants: int, questions: int, progress: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, list[Sample]]]:
    """bench.load's scenario against a fresh local stack logging its REPORT lines (log level info):
    the scenario's summary, and every invocation's sample by function."""
    with stack_process("--no-samples", "--log-level", "info") as stack:
        progress(f"memory: local stack up at {stack.base_url}")
        # bench.load's own scenario, on a stack started here (load.measure starts one logging warnings only)
        scenario = load._scenario(stack, participants, questions, progress)
        outcome = asyncio.run(asyncio.wait_for(scenario, load.SCENARIO_TIMEOUT_S))
        log = _quiet_log(stack)
    return outcome.summary(), parse_reports(log)


def measure_engine(redis_url: str, participants: int, questions: int, progress: Callable[[str], None]) -> list[Sample]:
    """bench.engine_run's run with each speed-run handler invocation's wall and thread CPU time."""
    samples: list[Sample] = []
    handler = speedrun_lambda.handler

    def timed(event: dict[str, Any], context: Any) -> Any:
        cpu_started, wall_started = time.thread_time_ns(), time.perf_counter_ns()
        try:
            return handler(event, context)
        finally:
            wall_ns, cpu_ns = time.perf_counter_ns() - wall_started, time.thread_time_ns() - cpu_started
            samples.append(Sample(wall_ms=wall_ns / 1e6, cpu_ms=cpu_ns / 1e6))

    with mock.patch.object(speedrun_lambda, "handler", timed):
        engine_run.play_engine_run(redis_url, participants, questions, report=False, progress=progress)
    return samples


def measure(redis_url: str, participants: int, questions: int, progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"memory: {participants} x {questions} against the local stack, REPORT lines with CPU time")
    scenario, reported = measure_local_stack(participants, questions, progress)
    functions = {
        name: function_summary(reported[name], manifest.function(name).memory_mb)
        for name in HOT_FUNCTIONS
        if reported.get(name)
    }
    progress(f"memory: {participants} x {questions} through the speed-run handler in this process (engine bench)")
    engine_samples = measure_engine(redis_url, participants, questions, progress)
    engine = function_summary(
        engine_samples,
        manifest.function("speedrun").memory_mb,
        least_memory_mb=functions["speedrun"]["least_memory_mb"] if "speedrun" in functions else 0,
    )
    request_usd, request_what = cost.PRICES["lambda_request"]
    gb_second_usd, gb_second_what = cost.PRICES["lambda_gb_second"]
    return {
        "run": {"participants": participants, "questions": questions},
        "model": {
            "duration": "cpu_ms * max(1, full_vcpu_mb / memory_mb) + (wall_ms - cpu_ms), per invocation",
            "full_vcpu_mb": FULL_VCPU_MB,
            "memory_sizes_mb": list(MEMORY_SIZES_MB),
            "rule": (
                f"the cheapest size whose modelled p50 is within {P50_WITHIN:.0%} of the p50 at {FULL_VCPU_MB} MB"
                f" and at least {MEMORY_HEADROOM} x the largest Max Memory Used"
            ),
        },
        "prices": {
            "date": cost.PRICES_DATE,
            "note": cost.PRICES_NOTE,
            "lambda_request": {"usd": request_usd, "what": request_what},
            "lambda_gb_second": {"usd": gb_second_usd, "what": gb_second_what},
        },
        "load": scenario,
        "functions": functions,
        "other_functions_invocations": {
            name: len(samples) for name, samples in sorted(reported.items()) if name not in HOT_FUNCTIONS
        },
        "engine_speedrun": engine,
    }
