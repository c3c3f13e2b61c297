"""Moto-backed durable stores for the reporting and players tests: every table (from the pynamodb
models), the three queues with their DLQs, and helpers to scan tables and play an SQS consumer."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from local_stack.aws import create_queues
from speedrun import manifest
from speedrun.adapters import tables
from speedrun.adapters.tokens import RunTokens, SecretsManagerKeys, ensure_token_secret

READ_MODEL_TABLES = (
    manifest.RUNS,
    manifest.RESULTS,
    manifest.PLAYER_GAMES,
    manifest.PLAYERS,
    manifest.PLAYER_PROGRESS,
)


@dataclass
class MotoQueues:
    """What `durable_stores` yields: moto's SQS client, and each queue's URL and its DLQ's, by name."""

    sqs: Any
    urls: dict[str, str]
    dlq_urls: dict[str, str]


@cache
def client(service: str) -> Any:
    """One boto3 client per service for the whole session (creating one costs a third of a second;
    moto intercepts a client whenever a mock is active, whenever the client was made)."""
    return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]


def moto_run_tokens(secret_id: str) -> RunTokens:
    """Run tokens signed with a key secret created in moto's Secrets Manager (under `durable_stores`)."""
    ensure_token_secret(secret_id, client=client("secretsmanager"))
    return RunTokens(SecretsManagerKeys(secret_id, client=client("secretsmanager")))


@contextmanager
def durable_stores() -> Iterator[MotoQueues]:
    """Moto for the whole context: tables created, queues created (as the local stack creates them,
    from the manifest) and their URLs in the environment."""
    with mock_aws():
        tables.create_all()
        sqs = client("sqs")
        queues = create_queues(sqs, manifest.QUEUES, manifest.FUNCTIONS, visibility_override_s=30)
        urls = {name: queue.url for name, queue in queues.items()}
        environment = {manifest.queue_env(name): url for name, url in urls.items()}
        with mock.patch.dict(os.environ, environment):
            yield MotoQueues(sqs, urls, {name: queue.dead_letter_url for name, queue in queues.items()})


def scan(logical_table: str) -> list[dict[str, Any]]:
    """Every item of a table (low-level attribute values), in key order, for whole-table comparisons."""
    dynamodb = client("dynamodb")
    name = tables.MODELS[logical_table].Meta.table_name
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def scan_all(logical_tables: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    return {name: scan(name) for name in logical_tables}


def wipe(logical_table: str) -> None:
    model = tables.MODELS[logical_table]
    with model.batch_write() as batch:
        for item in model.scan():
            batch.delete(item)


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda event the SQS event source mapping builds from received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": message.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "MessageGroupId": message.get("Attributes", {}).get("MessageGroupId", ""),
                },
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def poll_once(sqs: Any, queue_url: str, handler: Callable[[dict[str, Any]], Any], batch_size: int) -> int:
    """One receive -> invoke -> delete round of an event source mapping with partial batch responses.

    A handler that raises fails the whole batch, as Lambda does. Failed messages are made visible
    again at once (instead of waiting for the visibility timeout), so the receive count, and the
    move to the DLQ, advance one step per round. Returns how many messages were received.
    """
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])
    if not messages:
        return 0
    try:
        response = handler(sqs_event(messages))
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    except Exception:  # the function failed as a whole (Powertools raises when every record failed)
        failed = {message["MessageId"] for message in messages}
    for message in messages:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
