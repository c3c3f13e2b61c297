"""Handing broadcasts to the fan-out function: the pushes queue (SQS), as the CDK app and the local
stack both wire it (manifest.PUSHES_QUEUE)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import boto3

from speedrun import manifest
from speedrun.adapters.connections import Push
from speedrun.fanout.deliveries import FlushDelivery, push_deliveries
from speedrun.settings import Settings, get_settings

SQS_BATCH_ENTRIES = 10
SQS_MAX_DELAY_S = 900


class FanOut(Protocol):
    def publish(self, run_id: str, pushes: Sequence[Push], *, attempt: int = 0, delay_s: int = 0) -> None:
        """Hand `pushes` to the fan-out function; returns without waiting for any of them."""
        ...

    def request_flush(self, run_id: str, delay_ms: int) -> None:
        """Ask the fan-out function to send the run's coalesced pushes after `delay_ms`."""
        ...


class PublishFailed(Exception):
    """SQS refused some of the deliveries (after one retry of just those)."""


class FanOutQueue(FanOut):
    def __init__(self, client: Any = None, *, settings: Settings | None = None) -> None:
        """The SQS client and the queue's URL are resolved on first use: a function that never
        broadcasts in an invocation does not pay for them."""
        self._given_client = client
        self._settings = settings
        self._sqs: Any = None
        self._queue_url: str | None = None

    @property
    def _client(self) -> Any:
        if self._sqs is None:
            settings = self._settings or get_settings()
            self._sqs = self._given_client or boto3.client(
                "sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
            )
        return self._sqs

    @property
    def _url(self) -> str:
        if self._queue_url is None:
            self._queue_url = (self._settings or get_settings()).queue_url(manifest.PUSHES_QUEUE)
        return self._queue_url

    def publish(self, run_id: str, pushes: Sequence[Push], *, attempt: int = 0, delay_s: int = 0) -> None:
        if not pushes:
            return
        bodies = [delivery.model_dump_json() for delivery in push_deliveries(run_id, pushes, attempt=attempt)]
        if len(bodies) == 1:
            self._client.send_message(QueueUrl=self._url, MessageBody=bodies[0], DelaySeconds=_delay(delay_s))
            return
        # Each body is at most DELIVERY_MAX_BYTES, so a batch request of them could pass SQS's
        # 256 KiB per request only when small: batch the small ones, send the large ones alone.
        small = [body for body in bodies if len(body) * SQS_BATCH_ENTRIES <= 256 * 1024]
        for body in bodies:
            if body not in small:
                self._client.send_message(QueueUrl=self._url, MessageBody=body, DelaySeconds=_delay(delay_s))
        for first in range(0, len(small), SQS_BATCH_ENTRIES):
            self._send_batch(small[first : first + SQS_BATCH_ENTRIES], delay_s)

    def request_flush(self, run_id: str, delay_ms: int) -> None:
        body = FlushDelivery(run_id=run_id).model_dump_json()
        # SQS delays are whole seconds: rounded up, so a flush never comes before it is due.
        self._client.send_message(QueueUrl=self._url, MessageBody=body, DelaySeconds=_delay(math.ceil(delay_ms / 1000)))

    def _send_batch(self, bodies: list[str], delay_s: int) -> None:
        entries = [
            {"Id": str(k), "MessageBody": body, "DelaySeconds": _delay(delay_s)} for k, body in enumerate(bodies)
        ]
        for _attempt in range(2):
            reply = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed = {failure["Id"] for failure in reply.get("Failed", [])}
            if not failed:
                return
            entries = [entry for entry in entries if entry["Id"] in failed]
        raise PublishFailed(f"{len(entries)} of {len(bodies)} deliveries were not queued")


def _delay(seconds: int) -> int:
    return max(0, min(SQS_MAX_DELAY_S, int(seconds)))
