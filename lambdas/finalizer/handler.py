"""SQS (deadlines queue): completes a run whose deadline passed while nobody acted, so an idle run
still completes; a message that is not yet due is delayed again (SQS delays are at most 15 min)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from speedrun.engine.service import service_from_settings
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()


class Deadline(BaseModel):
    run_id: str
    due_ms: int


# Records as Powertools' data classes, the body validated by its model: the parser's record models
# would import every event model Powertools has (~75 ms of each cold start).
processor = BatchProcessor(event_type=EventType.SQS)


def on_deadline(record: SQSRecord) -> None:
    deadline = Deadline.model_validate_json(record.body)
    service_from_settings().finalize(deadline.run_id, deadline.due_ms)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=on_deadline, processor=processor, context=context)
