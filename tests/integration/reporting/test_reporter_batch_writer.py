"""BatchWriter against a scripted client: chunking, retry of unprocessed items and throttling with
bounded jittered backoff, other errors raised at once, identical requests written once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError

from speedrun.reporting.batch_writer import MAX_BATCH, BatchWriter, PutRequest, WriteIncomplete


class ScriptedClient:
    """Answers each `batch_write_item` with the next scripted outcome: "ok", "throttle", "error",
    or "half" (the second half of the request comes back unprocessed)."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.requests: list[dict[str, list[dict[str, Any]]]] = []

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        step = self.script.pop(0) if self.script else "ok"
        if step == "throttle":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "BatchWriteItem")
        if step == "error":
            raise ClientError({"Error": {"Code": "ValidationException"}}, "BatchWriteItem")
        if step == "half":
            table, items = next(iter(RequestItems.items()))
            return {"UnprocessedItems": {table: items[len(items) // 2 :]}}
        return {"UnprocessedItems": {}}


def _puts(count: int, table: str = "events") -> list[PutRequest]:
    return [PutRequest(table, {"aggregate_id": {"S": "run#R"}, "seq": {"N": str(n)}}) for n in range(count)]


def _sent(client: ScriptedClient) -> int:
    return sum(len(items) for request in client.requests for items in request.values())


def test_items_are_chunked_by_25_across_tables():
    client = ScriptedClient([])
    stats = BatchWriter(client, sleep=lambda _s: None).put_all(_puts(60) + _puts(3, table="runs"))
    assert [sum(len(v) for v in r.values()) for r in client.requests] == [25, 25, 13]
    assert set(client.requests[-1]) == {"events", "runs"}
    assert (stats.calls, stats.retries, stats.items) == (3, 0, 63)
    assert MAX_BATCH == 25


def test_unprocessed_items_and_throttling_are_retried_with_bounded_jittered_backoff():
    client = ScriptedClient(["half", "throttle", "ok", "ok"])
    sleeps: list[float] = []
    writer = BatchWriter(client, base_delay_s=0.1, max_delay_s=0.15, sleep=sleeps.append, rng=random.Random(1))
    stats = writer.put_all(_puts(30))
    # batch 1: half written, then a throttled retry, then the rest; batch 2: at once.
    assert [sum(len(v) for v in r.values()) for r in client.requests] == [25, 13, 13, 5]
    assert (stats.calls, stats.retries) == (4, 2)
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1
    assert 0 <= sleeps[1] <= 0.15


def test_gives_up_after_max_attempts():
    client = ScriptedClient(["ok"] + ["throttle"] * 10)
    with pytest.raises(WriteIncomplete, match="5 item"):
        BatchWriter(client, max_attempts=4, sleep=lambda _s: None).put_all(_puts(30))
    assert len(client.requests) == 1 + 4


def test_other_errors_are_raised_at_once():
    client = ScriptedClient(["error"])
    with pytest.raises(ClientError):
        BatchWriter(client, sleep=lambda _s: None).put_all(_puts(3))
    assert len(client.requests) == 1


def test_identical_requests_are_written_once():
    client = ScriptedClient([])
    BatchWriter(client, sleep=lambda _s: None).put_all(_puts(3) + _puts(3))
    assert _sent(client) == 3
