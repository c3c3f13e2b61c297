"""A run of every question type played through the real engine (`RunEngine` + `SpeedRunService`, the
test Redis) with a participant given extra time, then reported: the durable results say what each
participant was told live (`answer_result`), and the views built from the live events and from the
read models are the same."""

from __future__ import annotations

import json
from typing import Any

import pytest

from speedrun.adapters.queues import JobQueues
from speedrun.engine.models import HOST, PARTICIPANT, Caller
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.events import EXTRA_TIME_GRANTED
from speedrun.reporting import csv_export, views
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.read_models import read_csv_rows, read_player_games, read_results_view
from speedrun.reporting.reporter import Reporter
from tests.support.durable_stores import MotoQueues, client, durable_stores
from tests.support.engine_harness import run_config
from tests.support.fakes import RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.played_run import ManualClock
from tests.support.typed_run import EXTRA_TIME, HANDLES, NAMES, NUMERIC, PLAYS, QUESTIONS, TIMEOUT, frozen


@pytest.fixture
def stores():
    with durable_stores() as queues:
        yield queues


def _play(
    engine: RunEngine, stores: MotoQueues, scoring: str, speed_tiebreak: bool
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The typed run's plays through the engine: the run id, each participant's `answer_result`s and
    the `completed` frame the host was pushed (the final board)."""
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    pusher = RecordingPusher()
    fanout = InProcessFanOut(engine, pusher, clock)
    service = SpeedRunService(engine, pusher, JobQueues(stores.sqs), fanout)
    config = run_config(
        name="Every type, live",
        question_set_id="set-types",
        question_set_version=3,
        duration_s=3600,
        max_participants=100,
        chat=False,
        scoring=scoring,
        speed_tiebreak=speed_tiebreak,
    )
    created = engine.create_run(config, [frozen(q) for q in QUESTIONS])
    host = Caller(created.run_id, HOST, None, "conn-host")
    assert service.connect(host)
    callers: dict[str, Caller] = {}
    for key, name in NAMES.items():
        joined = engine.join(created.join_code, name, HANDLES.get(key))
        callers[key] = Caller(created.run_id, PARTICIPANT, joined.participant_id, f"conn-{key}")
        assert service.connect(callers[key])
    for key, multiplier in EXTRA_TIME.items():
        grant = {"action": "extra_time", "participant_id": callers[key].participant_id, "multiplier": multiplier}
        assert service.handle(host, "extra_time", json.dumps(grant))["type"] == "extra_time"
    assert service.handle(host, "start", json.dumps({"action": "start"}))["type"] == "started"
    told: dict[str, list[dict[str, Any]]] = {key: [] for key in NAMES}
    for question in QUESTIONS:
        index = question["index"]
        for caller in callers.values():
            served = service.handle(caller, "question", json.dumps({"action": "question", "index": index}))
            assert served["type"] == "question", served
        served_at = clock.now
        plans = sorted(((PLAYS[key][index][1], key) for key in NAMES), key=lambda plan: plan[0])
        for elapsed, key in plans:
            clock.advance_to(served_at + elapsed)
            answer = PLAYS[key][index][0]
            if answer is TIMEOUT:
                body: dict[str, Any] = {"action": "timeout", "index": index}
            elif question["type"] == "numeric":
                body = {"action": "answer", "index": index, "value": answer}
            else:
                body = {"action": "answer", "index": index, "selected": answer}
            reply = service.handle(callers[key], str(body["action"]), json.dumps(body))
            assert reply["type"] == "answer_result", reply
            told[key].append(reply)
            fanout.run_due()
        clock.advance(1000)
    fanout.settle(clock.advance_to)
    ids = {key: str(caller.participant_id) for key, caller in callers.items()}
    (completed,) = pusher.frames_to(host.connection_id, "completed")
    return created.run_id, {ids[key]: replies for key, replies in told.items()}, completed


@pytest.mark.parametrize(("scoring", "speed_tiebreak"), [("speed", True), ("accuracy", True), ("accuracy", False)])
def test_a_typed_run_is_reported_as_participants_were_told(engine, stores, scoring, speed_tiebreak):
    run_id, told, completed = _play(engine, stores, scoring, speed_tiebreak)
    final = {entry["participant_id"]: entry for entry in completed["leaderboard"]}
    export = engine.export(run_id)
    assert export is not None and export.status == "completed"
    events = export.events
    assert any(event["type"] == EXTRA_TIME_GRANTED for event in events)
    live_host = views.results_view(events, None)
    live_csv = csv_export.csv_rows(events)
    Reporter(engine, BatchWriter(client("dynamodb"))).report(run_id)

    assert read_results_view(run_id, None) == live_host
    assert read_csv_rows(run_id) == live_csv
    for participant_id, replies in told.items():
        mine = read_results_view(run_id, participant_id)
        assert isinstance(mine, views.ParticipantResults)
        assert mine == views.results_view(events, participant_id)
        for question, reply in zip(mine.questions, replies, strict=True):
            assert question.type == reply["question_type"]
            assert (question.outcome, question.points) == (reply["outcome"], reply["points"])
            assert question.correct_options == reply["correct_options"]
            if question.type == "numeric":
                assert (question.correct_value, question.tolerance) == (reply["correct_value"], reply["tolerance"])
                assert question.value == reply["value"]
        assert (mine.score, mine.rank, mine.elapsed_ms) == (
            final[participant_id]["score"],
            final[participant_id]["rank"],
            final[participant_id]["elapsed_ms"],
        )

    # The typed run's board (tests.support.typed_run): without the tiebreak Bo (joined 2nd) is ahead of Cy.
    expected = ["Ada", "Di", "Cy", "Bo"] if speed_tiebreak else ["Ada", "Di", "Bo", "Cy"]
    assert [entry["name"] for entry in completed["leaderboard"]] == expected
    questions = read_results_view(run_id, None).model_dump(mode="json")["questions"]
    assert [q["type"] for q in questions] == ["choice", "true_false", "poll", "numeric", "order"]
    assert questions[NUMERIC]["values"] == [41.5, 42.5, 50.0]
    assert questions[2]["option_counts"] == [1, 0, 2]
    for handle in HANDLES.values():
        (game,) = read_player_games(handle, 10, None).items
        assert game.question_count == len(QUESTIONS)
