"""The local stack's queue consumers behave like Lambda's SQS event source mappings: SQS events,
partial batch failures, redelivery after the visibility timeout, DLQ redrive, FIFO attributes and
delayed (deadline) messages."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from local_stack.stack import LocalStack
from tests.integration.local_stack.local_stack_handlers import recorder
from tests.integration.local_stack.local_stack_spec import JOBS_QUEUE, MAX_RECEIVE_COUNT, ORDERED_QUEUE, spec_stack

WAIT_S = 30.0


@pytest.fixture(scope="module")
def stack(redis_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with spec_stack(redis_server_url, tmp_path_factory.mktemp("web")) as running:
        yield running


@pytest.fixture
def sqs(stack: LocalStack) -> Any:
    recorder.clear()
    return boto3.client("sqs", endpoint_url=stack.environment["AWS_ENDPOINT_URL"], region_name="us-east-1")


def _eventually(condition: Callable[[], Any]) -> Any:
    """Poll a condition (bounded); the pollers deliver asynchronously."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _bodies(function: str) -> list[dict[str, Any]]:
    return [json.loads(record["body"]) for event in recorder.received(function) for record in event["Records"]]


def test_partial_batch_failures_are_redelivered_then_moved_to_the_dlq(stack: LocalStack, sqs: Any) -> None:
    queue = stack.queues[JOBS_QUEUE]
    sqs.send_message_batch(
        QueueUrl=queue.url,
        Entries=[
            {"Id": "1", "MessageBody": json.dumps({"n": 1})},
            {"Id": "2", "MessageBody": json.dumps({"n": 2, "fail": True})},
            {"Id": "3", "MessageBody": json.dumps({"n": 3})},
        ],
    )

    def dead_letters() -> list[dict[str, Any]]:
        reply = sqs.receive_message(QueueUrl=queue.dead_letter_url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
        return list(reply.get("Messages", []))

    (dead,) = _eventually(dead_letters)
    assert json.loads(dead["Body"]) == {"n": 2, "fail": True}
    deliveries = [body["n"] for body in _bodies("flaky_consumer")]
    assert sorted(deliveries) == [1, 2, 2, 3], "successes once, the failure maxReceiveCount times"
    assert deliveries.count(2) == MAX_RECEIVE_COUNT
    receive_counts = [
        record["attributes"]["ApproximateReceiveCount"]
        for event in recorder.received("flaky_consumer")
        for record in event["Records"]
        if json.loads(record["body"])["n"] == 2
    ]
    assert receive_counts == ["1", "2"]
    for event in recorder.received("flaky_consumer"):
        parsed = SqsModel.model_validate(event)
        assert all(record.eventSourceARN == queue.arn for record in parsed.Records)
    empty = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert empty["ApproximateNumberOfMessages"] == "0"
    assert empty["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_fifo_records_carry_group_and_deduplication_ids_and_keep_order(stack: LocalStack, sqs: Any) -> None:
    queue = stack.queues[ORDERED_QUEUE]
    for n in range(4):
        sqs.send_message(
            QueueUrl=queue.url,
            MessageBody=json.dumps({"n": n}),
            MessageGroupId="run-a",
            MessageDeduplicationId=f"job-{n}",
        )
    _eventually(lambda: len(_bodies("fifo_recorder")) >= 4)
    assert [body["n"] for body in _bodies("fifo_recorder")] == [0, 1, 2, 3]
    records = [record for event in recorder.received("fifo_recorder") for record in event["Records"]]
    for event in recorder.received("fifo_recorder"):
        SqsModel.model_validate(event)
    assert {record["attributes"]["MessageGroupId"] for record in records} == {"run-a"}
    assert [record["attributes"]["MessageDeduplicationId"] for record in records] == [f"job-{n}" for n in range(4)]
    assert all(record["attributes"]["SequenceNumber"] for record in records)


def test_a_delayed_message_is_delivered_once_due(stack: LocalStack, sqs: Any) -> None:
    queue = stack.queues[JOBS_QUEUE]
    sent_ms = time.time_ns() // 1_000_000
    sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"n": 42}), DelaySeconds=1)
    (event,) = _eventually(lambda: recorder.received("flaky_consumer"))
    (record,) = event["Records"]
    assert json.loads(record["body"]) == {"n": 42}
    first_received_ms = int(record["attributes"]["ApproximateFirstReceiveTimestamp"])
    assert first_received_ms >= sent_ms + 1000, "not delivered before its delay"


def test_every_queue_has_a_poller_invoking_its_consumer(stack: LocalStack) -> None:
    assert {name: poller.consumer.name for name, poller in stack.pollers.items()} == {
        JOBS_QUEUE: "flaky_consumer",
        ORDERED_QUEUE: "fifo_recorder",
    }
    redrive = {name: json.loads(queue_attributes(stack, name)["RedrivePolicy"]) for name in stack.queues}
    assert {name: policy["maxReceiveCount"] for name, policy in redrive.items()} == {
        JOBS_QUEUE: MAX_RECEIVE_COUNT,
        ORDERED_QUEUE: MAX_RECEIVE_COUNT,
    }
    assert queue_attributes(stack, ORDERED_QUEUE)["FifoQueue"] == "true"


def queue_attributes(stack: LocalStack, name: str) -> dict[str, str]:
    sqs: Any = boto3.client("sqs", endpoint_url=stack.environment["AWS_ENDPOINT_URL"], region_name="us-east-1")
    return dict(sqs.get_queue_attributes(QueueUrl=stack.queues[name].url, AttributeNames=["All"])["Attributes"])
