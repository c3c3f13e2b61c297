"""Reporter under faults: throttled batch writes fail the job (live state kept) until the DLQ; a
redrive after the fault clears completes it exactly; unprocessed items are retried and counted."""

from __future__ import annotations

import json
import math
from typing import Any

import boto3
from botocore.exceptions import ClientError

import lambdas.reporter.handler as reporter_lambda
from speedrun import manifest
from speedrun.adapters.queues import JobQueues
from speedrun.engine.store import RunEngine
from speedrun.reporting import projections, views
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.read_models import read_results_view, read_summary
from speedrun.reporting.reporter import Reporter, process_completion_jobs, run_puts
from speedrun.settings import get_settings
from tests.support.durable_stores import MotoQueues, poll_once, queue_depth, scan
from tests.support.durable_stores import client as shared_client
from tests.support.fakes import FakeLambdaContext, RecordingPusher
from tests.support.played_run import ManualClock, PlayedRun, play_run


def _play(engine: RunEngine, stores: MotoQueues) -> PlayedRun:
    assert isinstance(engine.clock, ManualClock)
    return play_run(engine, engine.clock, RecordingPusher(), JobQueues(stores.sqs), participants=10, question_count=5)


class FlakyDynamoDB:
    """The real client, except `batch_write_item`: throttled from the 2nd batch of a run on while
    `throttle` is set; with `leave_unprocessed`, the first attempt of every batch (of its first
    table, when it holds more than one item) leaves that table's last item unprocessed."""

    def __init__(self, client: Any, *, throttle: bool = False, leave_unprocessed: bool = False) -> None:
        self.client = client
        self.throttle = throttle
        self.leave_unprocessed = leave_unprocessed
        self.calls = 0
        self.throttled = 0
        self._seen_batches: set[str] = set()

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        self.calls += 1
        fingerprint = json.dumps(RequestItems, sort_keys=True)
        first_batch = any(
            request["PutRequest"]["Item"].get("seq") == {"N": "1"}
            for requests in RequestItems.values()
            for request in requests
        )
        if self.throttle and not first_batch:
            self.throttled += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "BatchWriteItem")
        table, requests = next(iter(RequestItems.items()))
        if self.leave_unprocessed and len(requests) > 1 and fingerprint not in self._seen_batches:
            self._seen_batches.add(fingerprint)
            self.client.batch_write_item(RequestItems={**RequestItems, table: requests[:-1]})
            return {"UnprocessedItems": {table: requests[-1:]}}
        result: dict[str, Any] = self.client.batch_write_item(RequestItems=RequestItems)
        return result


def _live_keys(engine: RunEngine, run_id: str) -> list[str]:
    return sorted(key for key in engine.redis.scan_iter() if run_id in key)


def test_throttling_fails_the_job_to_the_dlq_and_a_redrive_completes_it(engine, stores):
    played = _play(engine, stores)
    export_before = engine.export(played.run_id)
    assert export_before is not None
    keys_before = _live_keys(engine, played.run_id)
    sleeps: list[float] = []
    flaky = FlakyDynamoDB(shared_client("dynamodb"), throttle=True)
    reporter = Reporter(engine, BatchWriter(flaky, max_attempts=3, sleep=sleeps.append))
    url, dlq = stores.urls[manifest.COMPLETION_QUEUE], stores.dlq_urls[manifest.COMPLETION_QUEUE]
    max_receives = manifest.queue(manifest.COMPLETION_QUEUE).max_receive_count

    deliveries = 0
    for _ in range(max_receives + 2):
        deliveries += poll_once(stores.sqs, url, lambda e: process_completion_jobs(e, reporter), 1)
        # The live state stays intact through every failed attempt.
        assert _live_keys(engine, played.run_id) == keys_before
        assert engine.export(played.run_id) == export_before

    assert deliveries == max_receives
    assert queue_depth(stores.sqs, url) == 0
    assert queue_depth(stores.sqs, dlq) == 1
    assert flaky.throttled == deliveries * 3  # every attempt of the 2nd batch, bounded
    assert len(sleeps) == deliveries * 2
    assert all(0 <= delay <= 2.0 for delay in sleeps)

    # The fault clears; the DLQ is redriven (a new deduplication id: the FIFO queue remembers the first).
    flaky.throttle = False
    message = stores.sqs.receive_message(QueueUrl=dlq)["Messages"][0]
    stores.sqs.send_message(
        QueueUrl=url, MessageBody=message["Body"], MessageGroupId=played.run_id, MessageDeduplicationId="redrive-1"
    )
    stores.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    assert poll_once(stores.sqs, url, lambda e: process_completion_jobs(e, reporter), 1) == 1

    assert queue_depth(stores.sqs, url) == 0
    assert _live_keys(engine, played.run_id) == []
    events = export_before.events
    assert read_summary(played.run_id) == projections.run_summary(events)
    assert read_results_view(played.run_id, None) == views.results_view(events, None)
    for caller in played.participants:
        pid = caller.participant_id
        assert read_results_view(played.run_id, pid) == views.results_view(events, pid)
    handles = sum(1 for handle in played.handles.values() if handle)
    assert len(scan(manifest.EVENTS)) == len(events) + handles
    assert len(scan(manifest.RESULTS)) == 10
    assert len(scan(manifest.PLAYER_GAMES)) == handles


def test_unprocessed_items_are_retried_and_every_request_is_a_batch_write(engine, stores):
    played = _play(engine, stores)
    export = engine.export(played.run_id)
    assert export is not None
    items = len(run_puts(played.run_id, export.events))
    client = boto3.client("dynamodb", region_name="us-east-1")  # its own: it gets a counting hook
    operations: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: operations.append(model.name))
    flaky = FlakyDynamoDB(client, leave_unprocessed=True)
    writer = BatchWriter(flaky, sleep=lambda _s: None)

    assert Reporter(engine, writer).report(played.run_id).persisted_now

    batches = math.ceil(items / 25)
    assert writer.stats.calls == flaky.calls == batches * 2  # each batch: one partial write, one retry
    assert writer.stats.retries == batches
    assert set(operations) == {"BatchWriteItem"}
    assert len(operations) == batches * 2
    assert len(scan(manifest.RESULTS)) == 10
    assert engine.export(played.run_id) is None


def test_reporter_lambda_handler_reports_a_queued_run(engine, stores, redis_url, monkeypatch):
    played = _play(engine, stores)
    monkeypatch.setenv(manifest.REDIS_URL_ENV, redis_url)
    get_settings.cache_clear()
    reporter_lambda.reporter.cache_clear()
    try:
        handler = lambda event: reporter_lambda.handler(event, FakeLambdaContext())  # noqa: E731
        assert poll_once(stores.sqs, stores.urls[manifest.COMPLETION_QUEUE], handler, 1) == 1
    finally:
        get_settings.cache_clear()
        reporter_lambda.reporter.cache_clear()
    assert read_summary(played.run_id)["status"] == "completed"
    assert engine.export(played.run_id) is None
    assert queue_depth(stores.sqs, stores.urls[manifest.COMPLETION_QUEUE]) == 0
