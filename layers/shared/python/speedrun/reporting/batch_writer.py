"""Batched DynamoDB writes: `batch_write_item`, 25 requests per call, `UnprocessedItems` and
throttling retried with exponential backoff and full jitter, bounded; then `WriteIncomplete`.

The reporter raises so its queue message is retried (then lands in the DLQ) rather than dropping
the live state of a run whose durable copy is incomplete (architecture rule 4).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from speedrun.settings import Settings, get_settings

MAX_BATCH = 25
"""DynamoDB's limit of write requests per `BatchWriteItem` call."""

_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
    }
)


class WriteIncomplete(RuntimeError):
    """Some items could not be written within the retry budget."""


@dataclass(frozen=True)
class PutRequest:
    table: str
    item: dict[str, Any]
    """Low-level attribute values (`{"name": {"S": "..."}}`), e.g. a pynamodb model's `serialize()`."""


@dataclass
class WriteStats:
    calls: int = 0
    retries: int = 0
    items: int = 0


def _fingerprint(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, default=str)


class BatchWriter:
    def __init__(
        self,
        client: Any,
        *,
        max_attempts: int = 8,
        base_delay_s: float = 0.05,
        max_delay_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - backoff jitter, not a secret
        self.stats = WriteStats()

    def put_all(self, requests: Iterable[PutRequest]) -> WriteStats:
        """Write every item; raises WriteIncomplete (nothing is rolled back: writes are idempotent puts).

        Identical requests are written once (DynamoDB refuses a batch holding one key twice)."""
        pending = list({(put.table, _fingerprint(put.item)): put for put in requests}.values())
        for start in range(0, len(pending), MAX_BATCH):
            self._write_batch(pending[start : start + MAX_BATCH])
        self.stats.items += len(pending)
        return self.stats

    def _write_batch(self, batch: Sequence[PutRequest]) -> None:
        request_items: dict[str, list[dict[str, Any]]] = {}
        for put in batch:
            request_items.setdefault(put.table, []).append({"PutRequest": {"Item": put.item}})
        for attempt in range(self._max_attempts):
            if attempt:
                self.stats.retries += 1
                self._backoff(attempt)
            self.stats.calls += 1
            try:
                response = self._client.batch_write_item(RequestItems=request_items)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in _THROTTLING_CODES:
                    raise
                continue
            request_items = response.get("UnprocessedItems") or {}
            if not request_items:
                return
        left = sum(len(items) for items in request_items.values())
        raise WriteIncomplete(f"{left} item(s) still unwritten after {self._max_attempts} attempts")

    def _backoff(self, attempt: int) -> None:
        ceiling = min(self._max_delay_s, self._base_delay_s * 2 ** (attempt - 1))
        self._sleep(self._rng.uniform(0, ceiling))


def dynamodb_client(settings: Settings | None = None, *, endpoint_url: str | None = None) -> Any:
    """A low-level DynamoDB client for batched writes (`endpoint_url` overrides the configured one)."""
    settings = settings or get_settings()
    return boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=endpoint_url or settings.aws_endpoint_url
    )
