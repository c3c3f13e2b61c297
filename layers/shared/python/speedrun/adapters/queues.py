"""Job queues (SQS): completion jobs, run deadlines, player commands. Messages are JSON.

Queue URLs come from the environment (`QUEUE_URL_<NAME>`, see `speedrun.manifest.queue_env`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import boto3

from speedrun import manifest
from speedrun.clock import now_ms
from speedrun.settings import Settings, get_settings

MAX_DELAY_S = 900
"""SQS caps a message delay at 15 minutes; longer deadlines hop: the finalizer re-schedules."""


class JobQueues:
    def __init__(
        self,
        client: Any = None,
        *,
        settings: Settings | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        settings = settings or get_settings()
        self._client = client or boto3.client(
            "sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
        )
        self._settings = settings
        self._clock = clock

    def send_completion_job(self, run_id: str) -> None:
        """One job per completed run: the FIFO queue drops duplicates (deduplication id = run id)."""
        self._client.send_message(
            QueueUrl=self._settings.queue_url(manifest.COMPLETION_QUEUE),
            MessageBody=json.dumps({"run_id": run_id}),
            MessageGroupId=run_id,
            MessageDeduplicationId=run_id,
        )

    def schedule_deadline(self, run_id: str, due_ms: int) -> None:
        """Deliver `{"run_id", "due_ms"}` to the finalizer at `due_ms` (or 15 min later, whichever is first)."""
        remaining_s = math.ceil((due_ms - self._clock()) / 1000)
        self._client.send_message(
            QueueUrl=self._settings.queue_url(manifest.DEADLINES_QUEUE),
            MessageBody=json.dumps({"run_id": run_id, "due_ms": due_ms}),
            DelaySeconds=max(0, min(MAX_DELAY_S, remaining_s)),
        )

    def send_player_command(self, handle: str, deduplication_id: str, body: dict[str, Any]) -> None:
        """Player commands apply in order per handle, once per deduplication id (`PlayerCommand.deduplication_id`)."""
        self._client.send_message(
            QueueUrl=self._settings.queue_url(manifest.PLAYERS_QUEUE),
            MessageBody=json.dumps(body),
            MessageGroupId=handle,
            MessageDeduplicationId=deduplication_id,
        )
