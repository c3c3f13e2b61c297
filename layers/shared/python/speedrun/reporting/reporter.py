"""The reporter: makes a completed run durable, then drops its live state (architecture rule 4).

Every write is an idempotent put with a deterministic key, so a redelivered job (a crash after the
writes, before the drop) rewrites identical items and then finishes the drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field

from speedrun.events import run_aggregate
from speedrun.reporting.batch_writer import BatchWriter, PutRequest
from speedrun.reporting.event_store import event_put
from speedrun.reporting.listing import created_ms_of_events, host_of_events
from speedrun.reporting.live_runs import HostRunIndex
from speedrun.reporting.read_models import run_read_model_puts

logger = Logger(child=True)


class CompletionJob(BaseModel):
    """The completion queue's message body."""

    model_config = ConfigDict(extra="ignore")
    run_id: str = Field(min_length=1, max_length=64)


class LiveRunExport(Protocol):
    @property
    def run_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def events(self) -> list[dict[str, Any]]: ...


class LiveRuns(Protocol):
    """The part of `speedrun.engine.RunEngine` the reporter uses."""

    def export(self, run_id: str) -> LiveRunExport | None: ...
    def drop(self, run_id: str) -> None: ...


class RunNotCompleted(RuntimeError):
    """A completion job for a run that is still live and not completed: retried, then the DLQ."""


@dataclass(frozen=True)
class ReportOutcome:
    run_id: str
    persisted_now: bool
    """False when the run had no live state left (an earlier delivery persisted and dropped it)."""
    items: int = 0


def run_puts(run_id: str, events: Sequence[dict[str, Any]]) -> list[PutRequest]:
    """Every item a completed run is made of: its events, then its read models."""
    aggregate = run_aggregate(run_id)
    return [event_put(aggregate, event) for event in events] + run_read_model_puts(events)


class Reporter:
    def __init__(self, live: LiveRuns, writer: BatchWriter, *, host_index: HostRunIndex | None = None) -> None:
        """`host_index`: the per-host index of live runs (`speedrun.reporting.live_runs`), from which a
        run is removed once durable; without it the listing skips and removes the member lazily."""
        self._live = live
        self._writer = writer
        self._host_index = host_index

    def report(self, run_id: str) -> ReportOutcome:
        export = self._live.export(run_id)
        if export is None:
            logger.info("run already persisted", extra={"run_id": run_id})
            return ReportOutcome(run_id, persisted_now=False)
        if export.status != "completed":
            raise RunNotCompleted(f"run {run_id} is {export.status}, not completed")
        puts = run_puts(run_id, export.events)
        self._writer.put_all(puts)
        if self._host_index is not None:
            # Before the drop, so a failure here is retried with the live state still there.
            events = export.events
            self._host_index.remove(host_of_events(events), run_id, created_ms_of_events(events))
        # Only now: a failed write above leaves the live state (and the message) for a retry.
        self._live.drop(run_id)
        logger.info("run persisted", extra={"run_id": run_id, "items": len(puts)})
        return ReportOutcome(run_id, persisted_now=True, items=len(puts))


def process_completion_jobs(
    event: dict[str, Any], reporter: Reporter, context: Any = None
) -> PartialItemFailureResponse:
    """Report every job of an SQS (FIFO) batch; failed ones (and the rest of their batch) come back
    as `batchItemFailures`, so only they are redelivered."""

    def record_handler(record: SQSRecord) -> ReportOutcome:
        return reporter.report(CompletionJob.model_validate_json(record.body).run_id)

    return process_partial_response(event, record_handler, SqsFifoPartialProcessor(), context)
