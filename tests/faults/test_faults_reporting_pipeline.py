"""Faults combined end to end: a run played through `lambdas.speedrun.handler` while 30 % of the
participants' connections answer 410 Gone to every push, its completion job on the (moto) FIFO
queue, then the reporter under DynamoDB throttling, 5xx and unprocessed items (first beyond its
retry budget, then within it), a crash between the writes and the Redis delete, a redelivered
message and a duplicate job. At the end the tables hold exactly the items of the run, once (full
scans compared with what the run's events make), and every answer acknowledged live is in the
results as it was acknowledged. The unit-level behaviour of each fault (retry counts, backoff,
DLQ) is `tests/integration/reporting/test_reporter_faults.py`; this is the whole path."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError

from speedrun import manifest
from speedrun.adapters import tables
from speedrun.engine.keys import run_keys
from speedrun.errors import NotFound
from speedrun.reporting.batch_writer import MAX_BATCH, BatchWriter
from speedrun.reporting.read_models import read_results_view
from speedrun.reporting.reporter import LiveRunExport, Reporter, process_completion_jobs, run_puts
from tests.support.durable_stores import MotoQueues, queue_depth, scan, sqs_event
from tests.support.durable_stores import client as aws_client
from tests.support.engine_harness import Client, EngineWorld

PARTICIPANTS = 30
QUESTIONS = 4
TABLES = (manifest.EVENTS, manifest.RUNS, manifest.RESULTS, manifest.PLAYER_GAMES)

pytestmark = pytest.mark.timeout(120)


class FaultyDynamoDB:
    """The moto client behind `batch_write_item` faults. `outage_after`: that many calls succeed,
    then every call is throttled. `script`: per call, in order, `throttle`, `5xx`, `unprocessed`
    (half the items written, the rest handed back) or `ok`; calls beyond the script are `ok`."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.outage_after: int | None = None
        self.script: list[str] = []
        self.faults = 0

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        fault = self.script.pop(0) if self.script else "ok"
        if self.outage_after is not None:
            fault = "ok" if self.outage_after > 0 else "throttle"
            self.outage_after -= 1
        if fault == "throttle":
            self.faults += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "BatchWriteItem")
        if fault == "5xx":
            self.faults += 1
            error: Any = {
                "Error": {"Code": "InternalServerError", "Message": "Internal server error"},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            }
            raise ClientError(error, "BatchWriteItem")
        if fault == "unprocessed":
            self.faults += 1
            table, requests = next(iter(RequestItems.items()))
            keep = requests[: len(requests) // 2]
            self.client.batch_write_item(RequestItems={**RequestItems, table: keep})
            return {"UnprocessedItems": {table: requests[len(requests) // 2 :]}}
        result: dict[str, Any] = self.client.batch_write_item(RequestItems=RequestItems)
        return result


class CrashingLiveRuns:
    """The engine, except that `drop` dies `crashes` times (the function crashed after the writes)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.crashes = 0

    def export(self, run_id: str) -> LiveRunExport | None:
        export: LiveRunExport | None = self.engine.export(run_id)
        return export

    def drop(self, run_id: str) -> None:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("the reporter crashed between the writes and the Redis delete")
        self.engine.drop(run_id)


def _play(world: EngineWorld) -> tuple[str, list[Client], set[str], dict[str, list[dict[str, Any]]]]:
    """The run, with 30 % of the participants' connections gone; what each participant was acknowledged."""
    run_id, code, host = world.create(questions=QUESTIONS, max_participants=PARTICIPANTS)
    players = [world.join(code, f"player {k}", f"handle-{k}" if k % 3 == 0 else None) for k in range(PARTICIPANTS)]
    gone = {player.connection_id for k, player in enumerate(players) if k % 10 in (1, 4, 7)}
    world.pusher.gone.update(gone)
    assert world.send(host, "start")["type"] == "started"
    acknowledged: dict[str, list[dict[str, Any]]] = {}
    for index in range(QUESTIONS):
        for k, player in enumerate(players):
            served = world.send(player, "question", index=index)
            assert served["type"] == "question", served
            world.clock.advance(300)  # answers spread over seconds: coalesced leaderboards go out meanwhile
            wrong = (index + k) % 4 == 0
            first = 1 if wrong else 0
            selected = list(range(first, first + served["select_count"]))
            if k == index:
                reply = world.send(player, "timeout", index=index)
            else:
                reply = world.send(player, "answer", index=index, selected=selected)
            assert reply["type"] == "answer_result", reply
            acknowledged.setdefault(player.participant_id or "", []).append(reply)
    return run_id, players, gone, acknowledged


def _normalised(items: Sequence[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def test_faults_end_to_end_lose_and_duplicate_nothing(redis_url: str, stores: MotoQueues) -> None:
    world = EngineWorld(redis_url, stores.sqs)
    run_id, players, gone, acknowledged = _play(world)
    world.settle()

    # 410 Gone: each gone connection was tried once, then forgotten; everyone else saw the broadcasts.
    assert world.pusher.gone_attempts == dict.fromkeys(gone, 1)
    registered = set(world.raw_redis.hvals(run_keys(run_id)[6]))
    assert {conn.encode() for conn in gone}.isdisjoint(registered)
    boarded = 0
    for player in players:
        kinds = [frame["type"] for frame in world.pusher.inbox.get(player.connection_id, [])]
        if player.connection_id in gone:
            assert "leaderboard" not in kinds and "completed" not in kinds
        else:
            assert kinds.count("completed") == 1
            boarded += "leaderboard" in kinds  # pushed boards reach those who finished before the end
    assert boarded > 0
    export = world.engine.export(run_id)
    assert export is not None and export.status == "completed"
    expected: dict[str, list[dict[str, Any]]] = {}
    for put in run_puts(run_id, export.events):
        expected.setdefault(put.table, []).append(put.item)

    queue_url = os.environ[manifest.queue_env(manifest.COMPLETION_QUEUE)]  # the engine world's queue
    dynamodb = FaultyDynamoDB(aws_client("dynamodb"))
    live = CrashingLiveRuns(world.engine)
    reporter = Reporter(live, BatchWriter(dynamodb, max_attempts=4, sleep=lambda _s: None))
    deliveries: list[dict[str, Any]] = []

    def deliver(*, delete: bool = True) -> dict[str, Any]:
        """One delivery of the next visible message; a failed one is made visible again at once."""
        messages = stores.sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"]).get("Messages", [])
        assert len(messages) == 1
        try:
            response = dict(process_completion_jobs(sqs_event(messages), reporter))
        except Exception as exc:  # every record failed: Powertools raises, Lambda fails the batch
            response = {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}], "raised": repr(exc)}
        receipt = messages[0]["ReceiptHandle"]
        if response["batchItemFailures"] or not delete:
            stores.sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        else:
            stores.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
        deliveries.append(response)
        return response

    # 1. DynamoDB goes down before the last batch: the retry budget runs out, the job fails, the
    #    live state stays, and the results API shows nothing rather than a part of the results.
    batches = math.ceil(sum(len(items) for items in expected.values()) / MAX_BATCH)
    dynamodb.outage_after = batches - 1
    assert deliver()["batchItemFailures"]
    assert world.engine.export(run_id) == export
    with pytest.raises(NotFound):
        read_results_view(run_id, None)

    # 2. Throttling, a 5xx and unprocessed items within the budget: every item is written, then the
    #    function crashes before deleting the live state: the job fails again, the state stays.
    dynamodb.outage_after = None
    dynamodb.script = ["throttle", "ok", "5xx", "unprocessed", "ok", "throttle", "unprocessed"]
    live.crashes = 1
    assert deliver()["batchItemFailures"]
    assert world.engine.export(run_id) == export

    # 3. The redelivery rewrites identical items and drops the live state; SQS then delivers the
    #    same message once more (its delete was lost): nothing left to do, nothing written twice.
    assert deliver(delete=False)["batchItemFailures"] == []
    assert world.engine.export(run_id) is None
    assert deliver()["batchItemFailures"] == []

    # 4. A duplicate job (the deadline timer re-sends it after the FIFO deduplication window).
    stores.sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps({"run_id": run_id}),
        MessageGroupId=run_id,
        MessageDeduplicationId=f"{run_id}-again",
    )
    assert deliver()["batchItemFailures"] == []
    assert queue_depth(stores.sqs, queue_url) == 0
    assert len(deliveries) == 5 and dynamodb.faults > 0

    # The tables hold exactly the run's items, once each: full scans against what its events make.
    for name in TABLES:
        assert _normalised(scan(name)) == _normalised(expected[tables.MODELS[name].Meta.table_name]), name
    for participant_id, replies in acknowledged.items():
        view = read_results_view(run_id, participant_id).model_dump(mode="json")
        assert [(q["index"], q["outcome"], q["points"]) for q in view["questions"]] == [
            (r["index"], r["outcome"], r["points"]) for r in replies
        ]
        assert view["score"] == replies[-1]["score"]
