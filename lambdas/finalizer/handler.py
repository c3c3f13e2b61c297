"""SQS (deadlines queue): completes a run whose deadline passed while nobody acted, so an idle run
still completes; a message that is not yet due is delayed again (SQS delays are at most 15 min)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Json

from speedrun.engine.service import service_from_settings
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()


class Deadline(BaseModel):
    run_id: str
    due_ms: int


class DeadlineRecord(SqsRecordModel):
    body: Json[Deadline]


processor = BatchProcessor(event_type=EventType.SQS, model=DeadlineRecord)


def on_deadline(record: DeadlineRecord) -> None:
    service_from_settings().finalize(record.body.run_id, record.body.due_ms)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=on_deadline, processor=processor, context=context)
