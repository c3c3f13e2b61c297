"""Queue consumers that behave like Lambda's SQS event source mappings.

Per queue, as many poller threads as its event source may run invocations at once (the QueueSpec's
`max_concurrency`, else one) long-poll moto SQS (batch size from the QueueSpec), build the SQS
event, invokes the consuming function, deletes the records it did not report in
`batchItemFailures` (ReportBatchItemFailures), and leaves the failures to reappear after the
visibility timeout; SQS itself moves a message to the dead-letter queue after maxReceiveCount.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from local_stack import events
from local_stack.aws import LocalQueue
from local_stack.runtime.service import FunctionError, LambdaService
from speedrun.manifest import FunctionSpec

logger = logging.getLogger("local_stack.queues")

DEFAULT_WAIT_S = 1
"""Long-poll wait: a delayed (deadline) message is delivered within about a second of becoming visible."""


def failed_message_ids(result: Any, records: list[dict[str, Any]]) -> set[str]:
    """The partial batch response; a malformed one fails the whole batch, as Lambda does."""
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return {record["messageId"] for record in records}
    ids: set[str] = set()
    known = {record["messageId"] for record in records}
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in known:
            return known
        ids.add(identifier)
    return ids


class QueuePoller:
    def __init__(
        self,
        queue: LocalQueue,
        consumer: FunctionSpec,
        lambdas: LambdaService,
        sqs: Any,
        *,
        region: str,
        wait_s: int = DEFAULT_WAIT_S,
    ) -> None:
        self.queue = queue
        self.consumer = consumer
        self.lambdas = lambdas
        self.sqs = sqs
        self.region = region
        self.wait_s = wait_s
        self.invocations = 0
        self._count_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"poller-{queue.spec.name}-{k}", daemon=True)
            for k in range(queue.spec.max_concurrency or 1)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.wait_s + 10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("queue %s: polling failed", self.queue.spec.name)
                self._stop.wait(self.wait_s)

    def poll_once(self) -> int:
        """Receive one batch and deliver it; returns how many messages were received."""
        reply = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=min(10, self.queue.spec.batch_size),
            WaitTimeSeconds=self.wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = reply.get("Messages", [])
        if not messages:
            return 0
        event = events.sqs_event(messages, source_arn=self.queue.arn, region=self.region)
        records = event["Records"]
        with self._count_lock:
            self.invocations += 1
        try:
            result = self.lambdas.invoke_sync(self.consumer.name, event)
        except FunctionError as exc:
            # A failed invocation fails the whole batch: every message reappears after the visibility timeout.
            logger.warning("queue %s: %s failed: %s %s", self.queue.spec.name, self.consumer.name, exc.error_type, exc)
            return len(messages)
        failed = failed_message_ids(result, records)
        done = [
            {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
            for index, record in enumerate(records)
            if record["messageId"] not in failed
        ]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=done)
        return len(messages)
