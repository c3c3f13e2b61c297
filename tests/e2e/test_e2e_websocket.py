"""A complete speed-run against the running local stack, through the public contracts only: Cognito
sign-in via /cognito/, question-set upload, run creation, 5 participants joining and playing over
real WebSockets, the `completed` broadcast, then the durable results over HTTP once the reporter ran."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from local_stack.demo import RunOutcome, demo_question_set, play_run
from local_stack.process import RunningStack

PARTICIPANTS = 5
SCENARIO_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def outcome(local_stack: RunningStack) -> RunOutcome:
    async def scenario() -> RunOutcome:
        played = await play_run(
            local_stack.base_url, local_stack.host_username, local_stack.host_password, participants=PARTICIPANTS
        )
        for socket in [played.host, *played.players.values()]:
            await socket.close()
        return played

    try:
        return asyncio.run(asyncio.wait_for(scenario(), SCENARIO_TIMEOUT_S))
    except Exception as error:
        raise AssertionError(f"the run failed: {error}\n--- local stack output ---\n{local_stack.log()}") from error


QUESTION_COUNT = len(demo_question_set()["questions"])


@pytest.mark.e2e
def test_every_participant_answers_every_question_and_finishes(outcome: RunOutcome) -> None:
    assert len(outcome.players) == PARTICIPANTS
    for name, results in outcome.answer_results.items():
        assert [result["index"] for result in results] == list(range(QUESTION_COUNT)), name
        assert results[-1]["finished"] is True
        assert {result["outcome"] for result in results} <= {"correct", "incorrect", "timeout"}
        assert results[-1]["score"] == sum(result["points"] for result in results)


@pytest.mark.e2e
def test_everyone_receives_the_completed_broadcast_with_the_full_leaderboard(outcome: RunOutcome) -> None:
    assert outcome.completed["reason"] == "all_finished"
    board = outcome.completed["leaderboard"]
    assert sorted(entry["name"] for entry in board) == sorted(outcome.players)
    assert [entry["rank"] for entry in board] == list(range(1, PARTICIPANTS + 1))
    scores = [entry["score"] for entry in board]
    assert scores == sorted(scores, reverse=True)
    for name, socket in outcome.players.items():
        (completed,) = socket.received("completed")
        assert completed["reason"] == "all_finished", name
        final_score = outcome.answer_results[name][-1]["score"]
        assert next(entry["score"] for entry in completed["leaderboard"] if entry["name"] == name) == final_score


@pytest.mark.e2e
def test_the_host_saw_every_answer_and_every_participant_join(outcome: RunOutcome) -> None:
    assert len(outcome.host.notifications("participant_answered")) == PARTICIPANTS * QUESTION_COUNT
    assert sorted(item["name"] for item in outcome.host.notifications("participant_joined")) == sorted(outcome.players)
    assert len(outcome.host.notifications("participant_finished")) == PARTICIPANTS


@pytest.mark.e2e
def test_results_are_durable_and_reachable_over_http(outcome: RunOutcome) -> None:
    assert outcome.results.status == 200, outcome.results.body[:300]
    results = outcome.results.json()
    assert results["type"] == "results"
    assert results["speedrun_id"] == outcome.run_id
    assert len(results["questions"]) == QUESTION_COUNT
    for question in results["questions"]:
        answerers = question["correct_answerers"] + question["incorrect_answerers"] + question["timeout_answerers"]
        assert sorted(answerer["name"] for answerer in answerers) == sorted(outcome.players)


@pytest.mark.e2e
def test_results_download_as_csv(outcome: RunOutcome) -> None:
    assert outcome.csv.status == 200
    assert outcome.csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(outcome.csv.body.decode("utf-8-sig"))))
    assert rows, "the CSV has a header and rows"
    assert {name for row in rows for name in row.values()} >= set(outcome.players)
