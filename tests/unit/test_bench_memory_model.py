"""The memory-sizing model (bench.memory) on fixed numbers: the duration at a memory size, the cost
per million invocations, the chosen-size rule, and reading the local runtime's REPORT lines."""

from __future__ import annotations

import pytest

from bench import cost
from bench.memory import (
    FULL_VCPU_MB,
    MEMORY_SIZES_MB,
    CurvePoint,
    Sample,
    chosen_memory_mb,
    curve_point,
    function_summary,
    modelled_duration_ms,
    parse_reports,
    usd_per_million,
)
from local_stack.runtime.environment import Report


def _curve(samples: list[Sample]) -> list[CurvePoint]:
    return [curve_point(samples, memory_mb) for memory_mb in MEMORY_SIZES_MB]


def test_the_cpu_part_stretches_by_the_vcpu_share_and_the_rest_does_not() -> None:
    sample = Sample(wall_ms=10.0, cpu_ms=4.0)
    assert modelled_duration_ms(sample, FULL_VCPU_MB) == pytest.approx(10.0)
    assert modelled_duration_ms(sample, 2048) == pytest.approx(10.0)  # no faster beyond one vCPU
    assert modelled_duration_ms(sample, 128) == pytest.approx(4.0 * FULL_VCPU_MB / 128 + 6.0)
    assert modelled_duration_ms(Sample(wall_ms=10.0, cpu_ms=0.0), 128) == pytest.approx(10.0)


def test_threads_busier_than_the_wall_clock_share_one_vcpu_below_it() -> None:
    # 80 ms of CPU in 50 ms of wall time (threads on two cores): at half a vCPU, 160 ms of CPU take
    # 80 ms more than the measured 50 ms.
    sample = Sample(wall_ms=50.0, cpu_ms=80.0)
    assert modelled_duration_ms(sample, FULL_VCPU_MB) == pytest.approx(50.0)
    assert modelled_duration_ms(sample, 884) == pytest.approx(80.0 * FULL_VCPU_MB / 884 - 30.0)


def test_cost_per_million_is_the_request_price_plus_the_gb_seconds() -> None:
    request_usd, gb_second_usd = cost.PRICES["lambda_request"][0], cost.PRICES["lambda_gb_second"][0]
    assert usd_per_million(1024, 1.0) == pytest.approx(1e6 * request_usd + 1e6 * 0.001 * gb_second_usd)
    assert usd_per_million(512, 4.0) == pytest.approx(1e6 * request_usd + 1e6 * 0.5 * 0.004 * gb_second_usd)


def test_each_invocation_is_billed_in_whole_milliseconds() -> None:
    point = curve_point([Sample(wall_ms=0.4, cpu_ms=0.0), Sample(wall_ms=2.1, cpu_ms=0.0)], FULL_VCPU_MB)
    assert point.billed_ms_mean == 2.0  # 1 ms and 3 ms
    assert point.usd_per_million == pytest.approx(usd_per_million(FULL_VCPU_MB, 2.0))


def test_a_cpu_bound_function_gets_a_whole_vcpu() -> None:
    # p50 at M is 1769 / M ms: within 10 % of 1 ms only from 1,608 MB; 2,048 MB costs more for the same
    assert chosen_memory_mb(_curve([Sample(wall_ms=1.0, cpu_ms=1.0)] * 3), least_memory_mb=0) == FULL_VCPU_MB


def test_a_waiting_function_gets_the_smallest_size_that_holds_its_memory() -> None:
    points = _curve([Sample(wall_ms=10.0, cpu_ms=0.0)] * 3)
    assert chosen_memory_mb(points, least_memory_mb=0) == 128
    assert chosen_memory_mb(points, least_memory_mb=150) == 256
    assert chosen_memory_mb(points, least_memory_mb=4096) is None


def test_a_mixed_function_gets_the_cheapest_size_within_ten_percent() -> None:
    # 1 ms of CPU in 10 ms: 768 MB is 11.3 ms (> 11), 1,024 MB 10.73 ms, the cheapest of those within
    points = _curve([Sample(wall_ms=10.0, cpu_ms=1.0)] * 5)
    assert [round(point.p50_ms, 2) for point in points[3:5]] == [11.3, 10.73]
    assert chosen_memory_mb(points, least_memory_mb=0) == 1024


def test_the_summary_counts_the_invocations_and_keeps_headroom_over_the_memory_used() -> None:
    samples = [Sample(wall_ms=10.0, cpu_ms=0.0, max_memory_used_mb=used) for used in (80, 90, 100)]
    summary = function_summary(samples, 512)
    assert summary["invocations"] == 3
    assert (summary["max_memory_used_mb"], summary["least_memory_mb"]) == (100, 150)
    assert (summary["current_memory_mb"], summary["chosen_memory_mb"]) == (512, 256)
    assert [point["memory_mb"] for point in summary["curve"]] == list(MEMORY_SIZES_MB)
    assert summary["chosen"]["usd_per_million"] < summary["current"]["usd_per_million"]


def test_the_local_runtimes_report_lines_are_read_with_their_cpu_time() -> None:
    def logged(function: str, duration_ms: float, cpu_ms: float | None, init_ms: float | None = None) -> str:
        report = Report(function, "id-1", duration_ms, 512, 71, init_ms, None, cpu_ms)
        return f"2026-12-03 08:00:00,000 INFO local_stack.runtime: [{function}] {report.local_line()}"

    log = "\n".join(
        [
            logged("speedrun", 2.5, 1.25, init_ms=420.0),
            "2026-12-03 08:00:00,001 INFO local_stack.lambda.speedrun: START RequestId: id-1",
            logged("speedrun", 1.75, 0.5),
            logged("ws_authorizer", 5.0, 1.0),
            logged("fanout", 9.0, None),  # no CPU time (not Linux): not a sample
        ]
    )
    assert parse_reports(log) == {
        "speedrun": [Sample(2.5, 1.25, 71), Sample(1.75, 0.5, 71)],
        "ws_authorizer": [Sample(5.0, 1.0, 71)],
    }
