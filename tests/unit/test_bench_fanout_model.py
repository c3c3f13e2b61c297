"""The fan-out model's pieces (bench.fanout): its throttle bucket, the connect quota's admission
time, and a small run through the real engine and fan-out service on the test Redis."""

from __future__ import annotations

import pytest
import redis

from bench import fanout
from bench.fanout import TokenBucket, admission_seconds

FIELDS = (
    "participants",
    "questions",
    "pushes_total",
    "pushes_per_answer",
    "lobby_pushes",
    "peak_connections_rps",
    "throttled_calls",
    "undelivered_pushes",
    "slowest_invocation_ms",
    "invocation_timeout_ms",
    "seconds_to_admit_all",
    "cost_usd",
)


def test_the_bucket_refuses_once_its_burst_is_spent_and_refills_at_its_rate() -> None:
    bucket = TokenBucket(10_000, 5_000)
    assert all(bucket.take(0.0) for _ in range(5_000))
    assert not bucket.take(0.0)  # 429
    assert bucket.take(1.0)  # 1 ms later: 10 tokens more
    assert sum(bucket.take(1.0) for _ in range(20)) == 9
    assert (bucket.granted, bucket.refused) == (5_010, 12)


def test_the_bucket_keeps_later_takes_valid_when_an_earlier_one_is_booked_after_them() -> None:
    bucket = TokenBucket(1_000, 2)  # one token a ms, at most 2
    assert bucket.take(0.0)
    assert bucket.take(10.0) and bucket.take(10.0)  # bin 10 drains the bucket
    # Booked after them but earlier in time: one fits (bin 10 refills a token), ...
    assert bucket.take(9.0)
    # ... a second would leave bin 10's takes short, so it is refused.
    assert not bucket.take(9.0)
    assert bucket.take(11.0)
    assert min(bucket.level) >= 0


def test_a_sustained_overload_is_throttled_to_the_rate() -> None:
    bucket = TokenBucket(10_000, 5_000)
    granted = sum(bucket.take(ms / 20) for ms in range(20 * 1000 * 2))  # 20,000 a second for 2 s
    assert 5_000 + 20_000 - 20 <= granted <= 5_000 + 20_000


def test_admission_at_the_connect_quota() -> None:
    assert admission_seconds(500) == 0  # the burst
    assert admission_seconds(10_000) == pytest.approx(19.0)
    quota = TokenBucket(500, 500)
    admitted = [t for t in range(0, 30_000) if quota.take(float(t))]  # one try a ms for 30 s
    assert 500 + 500 * 30 - 2 <= len(admitted) <= 500 + 500 * 30


def test_a_small_run_delivers_everything_and_reports_every_field(redis_server_url: str) -> None:
    redis.Redis.from_url(redis_server_url).flushall()
    run = fanout.model_run(redis_server_url, 50, 2, seed=7)
    for name in FIELDS:
        assert name in run, name
    assert run["completion_reason"] == "all_finished"
    assert run["answers"] == 100
    assert run["undelivered_pushes"] == 0
    assert run["errors"] == {}
    assert run["pushes_by_type"]["started"] == 50
    assert run["pushes_by_type"]["completed"] == 51
    assert run["throttled_calls"] == 0
    assert 0 < run["slowest_invocation_ms"] < run["invocation_timeout_ms"] / 4
    assert all(fanout.acceptance(run).values())
    # Deterministic: the same seed plays the same run.
    redis.Redis.from_url(redis_server_url).flushall()
    again = fanout.model_run(redis_server_url, 50, 2, seed=7)
    assert {k: again[k] for k in FIELDS if k != "cost_usd"} == {k: run[k] for k in FIELDS if k != "cost_usd"}
