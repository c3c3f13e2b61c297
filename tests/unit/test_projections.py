"""Projections of run events (docs/events.md) into the summary, results, CSV rows and player games."""

from __future__ import annotations

import pytest

from speedrun.errors import NotFound
from speedrun.events import player_event_seq
from speedrun.reporting import csv_export, projections, views
from tests.support.simulated_run import simulate_run


def _answers(events, pid):
    return {
        e["data"]["index"]: e["data"]
        for e in events
        if e["type"] == "answer_scored" and e["data"]["participant_id"] == pid
    }


def _leaderboard(events):
    return next(e for e in events if e["type"] == "run_completed")["data"]["leaderboard"]


def test_summary_counts_status_and_questions_with_correct_options():
    events = simulate_run(participants=6, questions=4, kicked=(2,))
    summary = projections.run_summary(events)
    scored = [e for e in events if e["type"] == "answer_scored"]
    assert summary["status"] == "completed"
    assert summary["participant_count"] == 5
    assert summary["kicked_count"] == 1
    assert summary["finished_count"] == 5
    assert summary["answer_count"] == len(scored)
    assert summary["correct_answer_count"] == sum(1 for e in scored if e["data"]["outcome"] == "correct")
    assert summary["message_count"] == 1
    assert summary["question_count"] == 4
    assert [q["correct_options"] for q in summary["questions"]] == [[0], [1], [2], [3]]
    assert summary["completion_reason"] == "all_finished"
    assert summary["completed_at"].endswith("Z")
    assert summary["leaderboard"] == _leaderboard(events)


def test_summary_status_follows_the_run_lifecycle():
    events = simulate_run()
    created_only = events[:1]
    started = [e for e in events if e["type"] in ("run_created", "run_started")]
    assert projections.run_summary(created_only)["status"] == "lobby"
    assert projections.run_summary(started)["status"] == "running"


def test_events_are_folded_in_seq_order_whatever_the_list_order():
    events = simulate_run(participants=4, questions=3)
    assert projections.participant_results(list(reversed(events))) == projections.participant_results(events)


def test_participant_results_match_what_each_participant_was_told():
    events = simulate_run(participants=8, questions=5)
    board = {entry["participant_id"]: entry for entry in _leaderboard(events)}
    rows = projections.participant_results(events)
    assert [row["rank"] for row in rows] == list(range(1, 9))
    for row in rows:
        told = _answers(events, row["participant_id"])
        assert row["score"] == board[row["participant_id"]]["score"]
        assert row["elapsed_ms"] == board[row["participant_id"]]["elapsed_ms"]
        assert [a["index"] for a in row["answers"]] == sorted(told)
        for answer in row["answers"]:
            scored = told[answer["index"]]
            assert (answer["outcome"], answer["points"], answer["elapsed_ms"], answer["selected"]) == (
                scored["outcome"],
                scored["points"],
                scored["elapsed_ms"],
                scored["selected"],
            )
            assert answer["served_at"] is not None


def test_kicked_participants_have_no_rank_and_come_last():
    events = simulate_run(participants=4, questions=2, kicked=(1,))
    rows = projections.participant_results(events)
    assert rows[-1]["participant_id"] == "p001"
    assert rows[-1]["kicked"] is True
    assert rows[-1]["rank"] is None
    assert [row["rank"] for row in rows[:-1]] == [1, 2, 3]


def test_ranks_are_computed_by_the_protocol_rule_before_completion():
    events = [e for e in simulate_run(participants=6, questions=3) if e["type"] != "run_completed"]
    completed = simulate_run(participants=6, questions=3)
    live = {row["participant_id"]: row["rank"] for row in projections.participant_results(events)}
    final = {row["participant_id"]: row["rank"] for row in projections.participant_results(completed)}
    assert live == final


def test_host_results_view_lists_answerers_by_outcome():
    events = simulate_run(participants=6, questions=3)
    view = views.results_view(events, None).model_dump(mode="json")
    assert view["type"] == "results"
    assert view["speedrun_id"] == "RUNAAAAAAAAA"
    assert view["leaderboard"] == _leaderboard(events)
    for q in view["questions"]:
        scored = [e["data"] for e in events if e["type"] == "answer_scored" and e["data"]["index"] == q["index"]]
        for outcome in ("correct", "incorrect", "timeout"):
            expected = sorted(d["participant_id"] for d in scored if d["outcome"] == outcome)
            assert sorted(p["participant_id"] for p in q[f"{outcome}_answerers"]) == expected
        assert "selected" not in q


def test_participant_results_view_is_their_own_answers():
    events = simulate_run(participants=5, questions=3, unanswered_last=1)
    board = {entry["participant_id"]: entry for entry in _leaderboard(events)}
    view = views.results_view(events, "p005").model_dump(mode="json")
    told = _answers(events, "p005")
    assert view["score"] == board["p005"]["score"]
    assert view["rank"] == board["p005"]["rank"]
    assert [q["outcome"] for q in view["questions"]] == [told[0]["outcome"], told[1]["outcome"], None]
    assert view["questions"][2]["selected"] is None
    assert view["questions"][2]["points"] == 0
    assert "correct_answerers" not in view["questions"][0]


def test_unknown_participant_is_not_found():
    with pytest.raises(NotFound):
        views.results_view(simulate_run(), "nobody")


def test_csv_rows_one_per_participant_per_question():
    events = simulate_run(participants=4, questions=3, unanswered_last=1)
    rows = csv_export.csv_rows(events)
    assert len(rows) == 12
    assert all(tuple(row) == csv_export.CSV_COLUMNS for row in rows)
    last = [row for row in rows if row["participant_id"] == "p004"]
    assert [row["outcome"] for row in last][-1] == csv_export.UNANSWERED
    assert last[-1]["elapsed_ms"] == ""
    told = _answers(events, "p001")
    first = [row for row in rows if row["participant_id"] == "p001"]
    assert [row["points"] for row in first] == [told[i]["points"] for i in range(3)]


def test_player_games_only_for_handles_and_game_completed_event_is_deterministic():
    events = simulate_run(participants=6, questions=2, handles_every=2, kicked=(4,))
    games = projections.player_games(events)
    assert sorted(g["handle"] for g in games) == ["player-2", "player-6"]
    first = projections.game_completed_event(games[0])
    again = projections.game_completed_event(projections.player_games(events)[0])
    assert first == again
    assert first["aggregate_id"] == f"player#{games[0]['handle']}"
    assert first["data"] == {"run_id": "RUNAAAAAAAAA", "score": games[0]["score"], "rank": games[0]["rank"]}


def test_player_games_empty_until_completed():
    events = [e for e in simulate_run() if e["type"] != "run_completed"]
    assert projections.player_games(events) == []


def test_player_event_seq_orders_by_time_and_is_stable():
    assert player_event_seq(1000, "a") == player_event_seq(1000, "a")
    assert player_event_seq(1000, "zzz") < player_event_seq(1001, "a")


def test_events_without_run_created_are_refused():
    with pytest.raises(ValueError, match="run_created"):
        projections.run_summary(
            [{"seq": 1, "type": "run_started", "at": 1, "data": {"started_at": 1, "ends_at": None}}]
        )
