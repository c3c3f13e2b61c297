"""Every SQS queue of `manifest.QUEUES`, each with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import names
from speedrun import manifest


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in manifest.QUEUES:
            # FIFO queues deduplicate by the producer's MessageDeduplicationId, not by content.
            fifo = True if spec.fifo else None
            dead_letters = sqs.Queue(
                self,
                names.dlq_id(spec.name),
                fifo=fifo,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.seconds(manifest.DLQ_RETENTION_S),
            )
            visibility_timeout_s = manifest.visibility_timeout_s(manifest.queue_consumer(spec.name))
            self.queues[spec.name] = sqs.Queue(
                self,
                names.queue_id(spec.name),
                fifo=fifo,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=Duration.seconds(visibility_timeout_s),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=spec.max_receive_count),
            )
            self.dead_letter_queues[spec.name] = dead_letters
