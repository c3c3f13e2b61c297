"""The read side of question types and run options (issue 15): summaries, the `results` views, the
CSV and player games of a run with every question type (`tests.support.typed_run`), under speed and
accuracy scoring; and runs whose events predate types and options, which read as before."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from speedrun.events import EXTRA_TIME_GRANTED
from speedrun.reporting import csv_export, projections, views
from tests.support.simulated_run import simulate_run
from tests.support.typed_run import CHOICE, NUMERIC, ORDER, ORDER_CORRECT, POLL, TRUE_FALSE, typed_run

RANKS = {
    ("speed", True): ["p001", "p004", "p003", "p002"],
    ("accuracy", True): ["p001", "p004", "p003", "p002"],
    # Bo and Cy tie at 2,000: join order, not Cy's shorter time.
    ("accuracy", False): ["p001", "p004", "p002", "p003"],
}
OPTIONS = pytest.mark.parametrize(("scoring", "speed_tiebreak"), list(RANKS))


def _ids(people: list[dict[str, Any]]) -> list[str]:
    return [p["participant_id"] for p in people]


def _host_view(events: list[dict[str, Any]]) -> dict[str, Any]:
    return views.results_view(events, None).model_dump(mode="json")


def test_summary_questions_name_their_type_and_correct_answer():
    summary = projections.run_summary(typed_run())
    by_index = {q["index"]: q for q in summary["questions"]}
    assert [q["type"] for q in summary["questions"]] == ["choice", "true_false", "poll", "numeric", "order"]
    assert [by_index[i]["correct_options"] for i in range(5)] == [[1, 3], [1], [], [], ORDER_CORRECT]
    assert [by_index[i]["select_count"] for i in range(5)] == [2, 1, 1, 0, 4]
    assert (by_index[NUMERIC]["correct_value"], by_index[NUMERIC]["tolerance"]) == (42.5, 2.5)
    for index in (CHOICE, TRUE_FALSE, POLL, ORDER):
        assert (by_index[index]["correct_value"], by_index[index]["tolerance"]) == (None, None)
    served = views.SpeedRunSummary.model_validate({**summary, "persisted": True}).model_dump(mode="json")
    assert served["questions"] == summary["questions"]


def test_an_order_questions_correct_options_keep_their_order_a_sets_are_sorted():
    events = typed_run()
    events[0]["data"]["questions"][CHOICE]["correct"] = [3, 1]
    events[0]["data"]["questions"][ORDER]["correct"] = [2, 0, 3, 1]
    view = _host_view(events)
    assert view["questions"][CHOICE]["correct_options"] == [1, 3]
    assert view["questions"][ORDER]["correct_options"] == [2, 0, 3, 1]
    rows = [row for row in csv_export.csv_rows(events) if row["question_index"] == ORDER]
    assert {row["correct_options"] for row in rows} == {"2;0;3;1"}


@OPTIONS
def test_the_summary_config_names_the_run_options(scoring, speed_tiebreak):
    summary = projections.run_summary(typed_run(scoring=scoring, speed_tiebreak=speed_tiebreak))
    config = views.SpeedRunSummary.model_validate({**summary, "persisted": True}).config
    assert (config.scoring, config.speed_tiebreak, config.show_explanations) == (scoring, speed_tiebreak, True)
    assert config.question_duration_s == 20


def test_an_untimed_run_says_so():
    events = typed_run(scoring="accuracy", question_duration_s=None)
    summary = projections.run_summary(events)
    assert summary["config"]["question_duration_s"] is None
    assert views.SpeedRunSummary.model_validate({**summary, "persisted": True}).config.question_duration_s is None
    # Untimed, Cy's two give-ups cost the time taken (40 s each): Bo (76 s) is ahead of Cy (82 s) now.
    assert _ids(projections.participant_results(events)) == ["p001", "p004", "p002", "p003"]


def test_host_results_count_choices_list_values_and_poll_answerers():
    view = _host_view(typed_run())
    choice, true_false, poll, numeric, order = view["questions"]
    assert [q["type"] for q in view["questions"]] == ["choice", "true_false", "poll", "numeric", "order"]
    # Cy chose {3, 1}: the same options as everyone else.
    assert choice["option_counts"] == [0, 4, 0, 4]
    # Cy timed out: counted nowhere.
    assert true_false["option_counts"] == [1, 2]
    assert poll["option_counts"] == [1, 0, 2]
    assert numeric["option_counts"] is None
    assert order["option_counts"] is None
    assert numeric["values"] == [41.5, 42.5, 50.0]
    assert [q["values"] for q in (choice, true_false, poll, order)] == [None] * 4
    assert (numeric["correct_value"], numeric["tolerance"]) == (42.5, 2.5)
    # Answerers in rank order (Ada, Di, Cy, Bo).
    assert _ids(poll["answered_answerers"]) == ["p001", "p004", "p002"]
    assert _ids(poll["timeout_answerers"]) == ["p003"]
    assert poll["correct_answerers"] == poll["incorrect_answerers"] == []
    assert [q["answered_answerers"] for q in (choice, true_false, numeric, order)] == [[]] * 4
    assert _ids(numeric["correct_answerers"]) == ["p001", "p004"]
    assert _ids(numeric["incorrect_answerers"]) == ["p002"]
    assert _ids(order["correct_answerers"]) == ["p001", "p003", "p002"]
    assert _ids(order["incorrect_answerers"]) == ["p004"]


def test_participant_results_carry_the_value_and_the_order_answered():
    events = typed_run()
    ada = views.results_view(events, "p001").model_dump(mode="json")["questions"]
    cy = views.results_view(events, "p003").model_dump(mode="json")["questions"]
    di = views.results_view(events, "p004").model_dump(mode="json")["questions"]
    assert (ada[NUMERIC]["value"], ada[NUMERIC]["outcome"], ada[NUMERIC]["points"]) == (41.5, "correct", 720)
    assert (ada[NUMERIC]["selected"], ada[NUMERIC]["correct_value"], ada[NUMERIC]["tolerance"]) == ([], 42.5, 2.5)
    assert (cy[NUMERIC]["value"], cy[NUMERIC]["outcome"]) == (None, "timeout")
    assert (ada[POLL]["outcome"], ada[POLL]["points"], ada[POLL]["selected"]) == ("answered", 0, [2])
    assert (di[ORDER]["selected"], di[ORDER]["outcome"]) == ([1, 0, 3, 2], "incorrect")
    assert di[ORDER]["correct_options"] == ORDER_CORRECT
    assert [q["value"] for q in ada if q["index"] != NUMERIC] == [None] * 4


@OPTIONS
def test_ranks_follow_the_run_options_with_or_without_the_final_board(scoring, speed_tiebreak):
    completed = typed_run(scoring=scoring, speed_tiebreak=speed_tiebreak)
    running = typed_run(scoring=scoring, speed_tiebreak=speed_tiebreak, completed=False)
    board = next(e for e in completed if e["type"] == "run_completed")["data"]["leaderboard"]
    assert _ids(board) == RANKS[scoring, speed_tiebreak]
    for events in (completed, running):
        rows = projections.participant_results(events)
        assert [(row["participant_id"], row["rank"]) for row in rows] == list(
            zip(RANKS[scoring, speed_tiebreak], range(1, 5), strict=True)
        )
        assert [row["elapsed_ms"] for row in rows] == [entry["elapsed_ms"] for entry in board]
    assert views.results_view(running, "p003").rank == RANKS[scoring, speed_tiebreak].index("p003") + 1


def test_only_correct_answers_count_as_correct():
    events = typed_run(scoring="accuracy")
    summary = projections.run_summary(events)
    # choice 4, true/false 2, numeric 2, order 3: the three poll answers are not correct answers.
    assert (summary["answer_count"], summary["correct_answer_count"]) == (20, 11)
    rows = {row["participant_id"]: row for row in projections.participant_results(events)}
    assert {pid: (row["answered"], row["correct_count"]) for pid, row in rows.items()} == {
        "p001": (5, 4),
        "p002": (5, 2),
        "p003": (5, 2),
        "p004": (5, 3),
    }
    games = {game["handle"]: game for game in projections.player_games(events)}
    assert {handle: (g["correct_count"], g["rank"], g["score"]) for handle, g in games.items()} == {
        "ada-1": (4, 1, 3800),
        "di-4": (3, 2, 3000),
    }


def test_extra_time_granted_changes_nothing_the_read_side_shows():
    events = typed_run()
    assert any(e["type"] == EXTRA_TIME_GRANTED for e in events)
    without = [e for e in events if e["type"] != EXTRA_TIME_GRANTED]
    assert projections.run_summary(without) == projections.run_summary(events)
    assert projections.participant_results(without) == projections.participant_results(events)


def test_csv_has_the_question_type_and_value_after_the_existing_columns():
    assert csv_export.CSV_COLUMNS[:16] == (
        "run_id",
        "run_name",
        "rank",
        "participant_id",
        "name",
        "player_handle",
        "total_score",
        "total_elapsed_ms",
        "question_index",
        "category",
        "question",
        "correct_options",
        "selected",
        "outcome",
        "points",
        "elapsed_ms",
    )
    assert csv_export.CSV_COLUMNS[16:] == ("question_type", "value")
    rows = {(row["participant_id"], row["question_index"]): row for row in csv_export.csv_rows(typed_run())}
    assert [rows["p001", i]["question_type"] for i in range(5)] == ["choice", "true_false", "poll", "numeric", "order"]
    assert [rows[pid, NUMERIC]["value"] for pid in ("p001", "p002", "p003", "p004")] == [41.5, 50, "", 42.5]
    assert {rows["p001", i]["value"] for i in (CHOICE, TRUE_FALSE, POLL, ORDER)} == {""}
    assert (rows["p001", NUMERIC]["selected"], rows["p001", NUMERIC]["correct_options"]) == ("", "")
    assert (rows["p004", ORDER]["selected"], rows["p004", ORDER]["correct_options"]) == ("1;0;3;2", "1;3;0;2")
    assert (rows["p002", POLL]["outcome"], rows["p002", POLL]["points"]) == ("answered", 0)


def _typed_as_choice(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    typed = copy.deepcopy(events)
    for question in typed[0]["data"]["questions"]:
        question["type"] = "choice"
    return typed


def test_events_written_before_types_read_as_choice_questions():
    events = simulate_run(participants=5, questions=4, kicked=(2,), unanswered_last=1)
    assert all("type" not in q for q in events[0]["data"]["questions"])
    assert "scoring" not in events[0]["data"]["config"]
    typed = _typed_as_choice(events)
    assert projections.run_summary(events) == projections.run_summary(typed)
    assert projections.participant_results(events) == projections.participant_results(typed)
    assert csv_export.csv_rows(events) == csv_export.csv_rows(typed)
    for pid in (None, "p001", "p005"):
        assert views.results_view(events, pid) == views.results_view(typed, pid)

    view = _host_view(events)
    for q in view["questions"]:
        assert (q["type"], q["correct_value"], q["tolerance"], q["values"], q["answered_answerers"]) == (
            "choice",
            None,
            None,
            None,
            [],
        )
        scored = [e["data"] for e in events if e["type"] == "answer_scored" and e["data"]["index"] == q["index"]]
        assert q["option_counts"] == [sum(i in d["selected"] for d in scored) for i in range(len(q["options"]))]
    assert {row["question_type"] for row in csv_export.csv_rows(events)} == {"choice"}
    assert {row["value"] for row in csv_export.csv_rows(events)} == {""}
    # A run created before the options was a speed run with the time tiebreak and no explanations.
    assert {k: projections.run_summary(events)["config"][k] for k in projections.OLDER_RUN_OPTIONS} == {
        "scoring": "speed",
        "speed_tiebreak": True,
        "show_explanations": False,
    }


def test_a_summary_persisted_before_types_is_served_as_choice():
    """The read models of a run reported before types: no question `type`, `correct_value`,
    `tolerance`, no config options, no answer `value`."""
    events = simulate_run(participants=3, questions=2)
    summary = projections.run_summary(events)
    participants = projections.participant_results(events)
    old_summary = {
        **summary,
        "config": {k: v for k, v in summary["config"].items() if k not in projections.OLDER_RUN_OPTIONS},
        "questions": [
            {k: v for k, v in q.items() if k not in ("type", "correct_value", "tolerance")}
            for q in summary["questions"]
        ],
    }
    old_participants = [
        {**p, "answers": [{k: v for k, v in a.items() if k != "value"} for a in p["answers"]]} for p in participants
    ]
    assert views.host_results_from(old_summary, old_participants) == views.host_results_from(summary, participants)
    assert views.participant_results_from(old_summary, old_participants, "p002") == views.participant_results_from(
        summary, participants, "p002"
    )
    assert csv_export.csv_rows_from(old_summary, old_participants) == csv_export.csv_rows_from(summary, participants)
    served = views.SpeedRunSummary.model_validate({**old_summary, "persisted": True}).model_dump(mode="json")
    assert served == views.SpeedRunSummary.model_validate({**summary, "persisted": True}).model_dump(mode="json")
