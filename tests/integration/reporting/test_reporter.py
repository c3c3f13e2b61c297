"""The reporter: a completed run made durable (event store, summary, results, player games) and its
live state dropped; redelivery rewrites the same items; DynamoDB requests are batched."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import boto3

from speedrun import manifest
from speedrun.adapters.queues import JobQueues
from speedrun.adapters.tables import EventModel
from speedrun.engine.store import RunEngine
from speedrun.events import run_aggregate
from speedrun.reporting import views
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.csv_export import to_csv
from speedrun.reporting.read_models import read_csv_rows, read_player_games, read_results_view, read_summary
from speedrun.reporting.reporter import Reporter, process_completion_jobs, run_puts
from tests.support.durable_stores import MotoQueues, poll_once, queue_depth, scan, scan_all, sqs_event
from tests.support.durable_stores import client as shared_client
from tests.support.fakes import RecordingPusher
from tests.support.played_run import ManualClock, PlayedRun, play_run

ALL_TABLES = (manifest.EVENTS, manifest.RUNS, manifest.RESULTS, manifest.PLAYER_GAMES)


def _counted_client() -> tuple[Any, list[str]]:
    client = boto3.client("dynamodb", region_name="us-east-1")  # its own: it gets a counting hook
    operations: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: operations.append(model.name))
    return client, operations


def _play(engine: RunEngine, stores: MotoQueues, participants: int, question_count: int) -> PlayedRun:
    assert isinstance(engine.clock, ManualClock)
    return play_run(
        engine,
        engine.clock,
        RecordingPusher(),
        JobQueues(stores.sqs),
        participants=participants,
        question_count=question_count,
    )


def _live_keys(engine: RunEngine, run_id: str) -> list[str]:
    return [key for key in engine.redis.scan_iter() if run_id in key]


def test_completed_50_by_10_run_is_reported_as_participants_were_told(engine, stores):
    played = _play(engine, stores, participants=50, question_count=10)
    export = engine.export(played.run_id)
    assert export is not None and export.status == "completed"
    expected_items = len(run_puts(played.run_id, export.events))
    client, operations = _counted_client()
    reporter = Reporter(engine, BatchWriter(client))

    received = poll_once(
        stores.sqs, stores.urls[manifest.COMPLETION_QUEUE], lambda e: process_completion_jobs(e, reporter), 1
    )

    assert received == 1
    assert queue_depth(stores.sqs, stores.urls[manifest.COMPLETION_QUEUE]) == 0
    # Batched: only BatchWriteItem, ceil(items / 25) of them (moto never leaves items unprocessed).
    assert set(operations) == {"BatchWriteItem"}
    assert len(operations) == math.ceil(expected_items / 25) == reporter._writer.stats.calls
    # The live state is gone, the durable copy is complete.
    assert engine.export(played.run_id) is None
    assert _live_keys(engine, played.run_id) == []
    assert len(scan(manifest.EVENTS)) == len(export.events) + 25  # + one game_completed per handle

    board = {entry["participant_id"]: entry for entry in played.completed["leaderboard"]}
    assert len(board) == 50
    summary = read_summary(played.run_id)
    assert (summary["status"], summary["participant_count"], summary["question_count"]) == ("completed", 50, 10)
    assert summary["answer_count"] == 500
    for caller in played.participants:
        pid = caller.participant_id or ""
        view = read_results_view(played.run_id, pid).model_dump(mode="json")
        told_live = played.answer_results[pid]
        assert [(q["outcome"], q["points"]) for q in view["questions"]] == [
            (r["outcome"], r["points"]) for r in told_live
        ]
        assert [q["correct_options"] for q in view["questions"]] == [r["correct_options"] for r in told_live]
        assert view["score"] == told_live[-1]["score"] == board[pid]["score"]
        assert view["rank"] == board[pid]["rank"]
        assert view["elapsed_ms"] == board[pid]["elapsed_ms"]

    host_view = read_results_view(played.run_id, None).model_dump(mode="json")
    assert host_view == views.results_view(export.events, None).model_dump(mode="json")
    for question in host_view["questions"]:
        index = question["index"]
        correct = {pid for pid, told in played.answer_results.items() if told[index]["outcome"] == "correct"}
        assert {p["participant_id"] for p in question["correct_answerers"]} == correct

    rows = list(csv.DictReader(io.StringIO(to_csv(read_csv_rows(played.run_id)))))
    assert len(rows) == 500
    for row in rows:
        answer = played.answer_results[row["participant_id"]][int(row["question_index"])]
        assert (row["outcome"], int(row["points"])) == (answer["outcome"], answer["points"])
        assert int(row["rank"]) == board[row["participant_id"]]["rank"]

    for pid, handle in played.handles.items():
        if handle is None:
            continue
        games = read_player_games(handle, 10, None).model_dump(mode="json")["items"]
        assert [(g["run_id"], g["score"], g["rank"]) for g in games] == [
            (played.run_id, board[pid]["score"], board[pid]["rank"])
        ]


class _DropAfter:
    """The engine, except that the first `skip` drops do nothing (deliveries that overlapped)."""

    def __init__(self, engine: RunEngine, *, skip: int = 0, crash: int = 0) -> None:
        self.engine, self.skip, self.crash = engine, skip, crash

    def export(self, run_id: str) -> Any:
        return self.engine.export(run_id)

    def drop(self, run_id: str) -> None:
        if self.crash:
            self.crash -= 1
            raise RuntimeError("crashed after the writes, before the drop")
        if self.skip:
            self.skip -= 1
            return
        self.engine.drop(run_id)


def _job_event(stores: MotoQueues) -> dict[str, Any]:
    message = stores.sqs.receive_message(QueueUrl=stores.urls[manifest.COMPLETION_QUEUE], AttributeNames=["All"])
    return sqs_event(message["Messages"])


def test_same_job_delivered_three_times_gives_identical_tables(engine, stores):
    played = _play(engine, stores, participants=8, question_count=4)
    event = _job_event(stores)
    reporter = Reporter(_DropAfter(engine, skip=2), BatchWriter(shared_client("dynamodb")))

    assert process_completion_jobs(event, reporter) == {"batchItemFailures": []}
    first = scan_all(ALL_TABLES)
    assert engine.export(played.run_id) is not None
    for _ in range(2):
        assert process_completion_jobs(event, reporter) == {"batchItemFailures": []}
    assert scan_all(ALL_TABLES) == first
    assert _live_keys(engine, played.run_id) == []
    # A fourth delivery finds no live state: acknowledged, nothing written.
    assert process_completion_jobs(event, reporter) == {"batchItemFailures": []}
    assert scan_all(ALL_TABLES) == first


def test_crash_after_writes_before_drop_is_finished_by_redelivery(engine, stores):
    played = _play(engine, stores, participants=6, question_count=3)
    reporter = Reporter(_DropAfter(engine, crash=1), BatchWriter(shared_client("dynamodb")))
    url = stores.urls[manifest.COMPLETION_QUEUE]

    assert poll_once(stores.sqs, url, lambda e: process_completion_jobs(e, reporter), 1) == 1
    assert engine.export(played.run_id) is not None  # the crash left the live state
    after_crash = scan_all(ALL_TABLES)
    assert queue_depth(stores.sqs, url) == 1

    assert poll_once(stores.sqs, url, lambda e: process_completion_jobs(e, reporter), 1) == 1
    assert queue_depth(stores.sqs, url) == 0
    assert scan_all(ALL_TABLES) == after_crash
    assert EventModel.count(run_aggregate(played.run_id)) == len(
        [e for e in after_crash[manifest.EVENTS] if e["aggregate_id"]["S"].startswith("run#")]
    )
    assert _live_keys(engine, played.run_id) == []
