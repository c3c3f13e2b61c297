"""Durable results: the reporter, the event store, the run read models and their readers."""

from __future__ import annotations

from typing import Any

import boto3

from speedrun.reporting.batch_writer import BatchWriter, PutRequest, WriteIncomplete
from speedrun.reporting.read_models import read_csv_rows, read_player_games, read_results_view, read_summary
from speedrun.reporting.reporter import (
    CompletionJob,
    Reporter,
    ReportOutcome,
    RunNotCompleted,
    process_completion_jobs,
)
from speedrun.settings import Settings, get_settings

__all__ = [
    "BatchWriter",
    "CompletionJob",
    "PutRequest",
    "ReportOutcome",
    "Reporter",
    "RunNotCompleted",
    "WriteIncomplete",
    "dynamodb_client",
    "process_completion_jobs",
    "read_csv_rows",
    "read_player_games",
    "read_results_view",
    "read_summary",
]


def dynamodb_client(settings: Settings | None = None, *, endpoint_url: str | None = None) -> Any:
    """A low-level DynamoDB client for batched writes (`endpoint_url` overrides the configured one)."""
    settings = settings or get_settings()
    return boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=endpoint_url or settings.aws_endpoint_url
    )
