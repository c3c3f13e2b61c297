"""SQS (pushes queue): posts each delivery's pushes to `@connections`, or answers a run's flush
(speedrun.fanout.service). A record that fails (Redis unreachable for a flush, a malformed body)
is reported as a batch item failure: SQS delivers it again, then moves it to the dead-letter queue."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.adapters.connections import ConnectionsPusher, RateLimiter
from speedrun.adapters.redis_client import redis_from_settings
from speedrun.engine.store import RunEngine
from speedrun.fanout.deliveries import parse_delivery
from speedrun.fanout.publisher import FanOutQueue
from speedrun.fanout.service import POST_THREADS, PUSHES_PER_SECOND, DeliveryReport, FanOutService
from speedrun.settings import get_settings
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()


# Records as Powertools' data classes, each body validated by its pydantic model: the parser's
# record models would import every event model Powertools has (~75 ms of each cold start).
processor = BatchProcessor(event_type=EventType.SQS)
invocation = DeliveryReport()


@cache
def fanout() -> FanOutService:
    settings = get_settings()
    pusher = ConnectionsPusher(max_workers=POST_THREADS, pace=RateLimiter(PUSHES_PER_SECOND))
    return FanOutService(RunEngine(redis_from_settings(settings)), pusher, FanOutQueue(settings=settings))


def on_delivery(record: SQSRecord) -> None:
    invocation.add(fanout().deliver(parse_delivery(record.body)))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    global invocation  # noqa: PLW0603 - this invocation's totals, reported as its metrics
    invocation = DeliveryReport()
    response = process_partial_response(event=event, record_handler=on_delivery, processor=processor, context=context)
    metrics.add_metric(name="PushesSent", unit=MetricUnit.Count, value=invocation.sent)
    metrics.add_metric(name="PushesRequeued", unit=MetricUnit.Count, value=invocation.requeued)
    metrics.add_metric(name="PushesUndelivered", unit=MetricUnit.Count, value=invocation.undelivered)
    metrics.add_metric(name="ConnectionsGone", unit=MetricUnit.Count, value=invocation.gone)
    metrics.add_metric(name="PushesThrottled", unit=MetricUnit.Count, value=invocation.throttled_calls)
    return response
