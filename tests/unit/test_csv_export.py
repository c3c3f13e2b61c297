"""The results CSV neutralises spreadsheet formulas (CSV injection, issue 12 item 3) in text cells,
through the real export (`csv_rows` -> `to_csv`), read back as a spreadsheet would
(the csv module), and leaves ordinary values and numbers unchanged."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from speedrun.reporting.csv_export import FORMULA_TRIGGERS, csv_rows, spreadsheet_safe, to_csv
from tests.support.simulated_run import simulate_run
from tests.support.typed_run import NUMERIC, typed_run

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _events_with(name: str, question_text: str) -> list[dict[str, Any]]:
    """A simulated run whose first participant is called `name` and whose first question reads `question_text`."""
    events = simulate_run(participants=3, questions=2)
    for event in events:
        if event["type"] == "participant_joined" and event["data"]["participant_id"] == "p001":
            event["data"]["name"] = name
        if event["type"] == "run_created":
            event["data"]["questions"][0]["text"] = question_text
    return events


def test_the_six_triggers_are_the_owasp_ones():
    assert set(FORMULA_TRIGGERS) == set(PREFIXES)


@pytest.mark.parametrize("prefix", PREFIXES, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_a_formula_in_a_nickname_or_question_text_is_read_back_as_text(prefix):
    name = prefix + 'HYPERLINK("//x","y")'
    question = prefix + "cmd|' /C calc'!A0, and more"
    rows = _read(to_csv(csv_rows(_events_with(name, question))))

    mine = [row for row in rows if row["participant_id"] == "p001"]
    assert len(mine) == 2
    for row in mine:
        # What the spreadsheet gets: a quote, then the text exactly as typed.
        assert row["name"] == "'" + name
    first_question = [row for row in rows if row["question_index"] == "0"]
    assert len(first_question) == 3
    for row in first_question:
        assert row["question"] == "'" + question
    assert not any(cell.startswith(FORMULA_TRIGGERS) for row in rows for cell in row.values())


def test_every_text_column_is_escaped():
    events = simulate_run(participants=2, questions=1)
    rows = csv_rows(events)
    text_columns = [column for column, value in rows[0].items() if isinstance(value, str)]
    assert {"run_name", "name", "category", "question"} <= set(text_columns)
    hostile = [{**row, **{column: "=1+1" for column in text_columns}} for row in rows]
    for row in _read(to_csv(hostile)):
        for column in text_columns:
            assert row[column] == "'=1+1"


def test_ordinary_values_are_unchanged():
    events = simulate_run(participants=4, questions=3, unanswered_last=1, kicked=(2,))
    rows = csv_rows(events)
    assert _read(to_csv(rows)) == [{key: str(value) for key, value in row.items()} for row in rows]

    harmless = ["Ada", "a=b", "x-y", "1+1", "ada@example", "'already quoted", " =leading space", "Näme, 1", "5"]
    for value in harmless:
        parsed = _read(to_csv(csv_rows(_events_with(value, value))))
        assert {row["name"] for row in parsed if row["participant_id"] == "p001"} == {value}
        assert {row["question"] for row in parsed if row["question_index"] == "0"} == {value}


def test_numbers_are_data_and_are_left_alone():
    rows = csv_rows(simulate_run(participants=1, questions=1))
    row = {**rows[0], "total_score": -5, "points": Decimal("-5"), "elapsed_ms": -1.5, "rank": 1}
    parsed = _read(to_csv([row]))[0]
    assert (parsed["total_score"], parsed["points"], parsed["elapsed_ms"], parsed["rank"]) == ("-5", "-5", "-1.5", "1")
    # The same characters typed as text are not data: a nickname "-5" is escaped.
    assert _read(to_csv([{**row, "name": "-5"}]))[0]["name"] == "'-5"


@pytest.mark.parametrize("value", [-5, 0, 3.5, Decimal("-2"), None, True, "", "plain"])
def test_spreadsheet_safe_leaves_non_triggers_alone(value):
    assert spreadsheet_safe(value) is value


@pytest.mark.parametrize("prefix", PREFIXES)
def test_spreadsheet_safe_prefixes_a_quote(prefix):
    assert spreadsheet_safe(prefix + "x") == "'" + prefix + "x"


def test_a_negative_numeric_answer_stays_a_number():
    """`value` is a number the engine validated, like points: a `-3` answered is written `-3`."""
    events = typed_run()
    for event in events:
        data = event["data"]
        if event["type"] == "answer_scored" and data["index"] == NUMERIC and data["participant_id"] == "p002":
            data["value"] = -3
    parsed = {(row["participant_id"], row["question_index"]): row for row in _read(to_csv(csv_rows(events)))}
    assert parsed["p002", str(NUMERIC)]["value"] == "-3"
    assert parsed["p001", str(NUMERIC)]["value"] == "41.5"
    assert parsed["p003", str(NUMERIC)]["value"] == ""
    assert parsed["p002", str(NUMERIC)]["question_type"] == "numeric"
    assert list(parsed["p002", str(NUMERIC)])[-2:] == ["question_type", "value"]
