"""SQS (FIFO players queue): applies each player command once (idempotent by kind, handle, owner and request id)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.adapters.tables import IdempotencyModel
from speedrun.players.worker import PlayerWorker, idempotency_config, make_idempotent_apply, process_player_commands
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
config = idempotency_config()


@cache
def apply_once() -> Any:
    persistence = DynamoDBPersistenceLayer(table_name=IdempotencyModel.Meta.table_name)
    return make_idempotent_apply(PlayerWorker(), persistence, config)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    config.register_lambda_context(context)
    response = process_player_commands(event, apply_once(), context)
    failed = len(response["batchItemFailures"])
    metrics.add_metric(name="PlayerCommandsFailed", unit=MetricUnit.Count, value=failed)
    metrics.add_metric(name="PlayerCommandsDone", unit=MetricUnit.Count, value=len(event["Records"]) - failed)
    return response
