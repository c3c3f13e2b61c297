"""SQS (FIFO completion queue): makes each completed run durable, then drops its live state."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.adapters.redis_client import redis_from_settings
from speedrun.engine.store import RunEngine
from speedrun.reporting.batch_writer import BatchWriter, dynamodb_client
from speedrun.reporting.live_runs import HostRunIndex
from speedrun.reporting.reporter import Reporter, process_completion_jobs
from speedrun.settings import get_settings
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()


@cache
def reporter() -> Reporter:
    settings = get_settings()
    redis = redis_from_settings(settings)
    return Reporter(RunEngine(redis), BatchWriter(dynamodb_client(settings)), host_index=HostRunIndex(redis))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    response = process_completion_jobs(event, reporter(), context)
    failed = len(response["batchItemFailures"])
    metrics.add_metric(name="CompletionJobsFailed", unit=MetricUnit.Count, value=failed)
    metrics.add_metric(name="CompletionJobsDone", unit=MetricUnit.Count, value=len(event["Records"]) - failed)
    return response
