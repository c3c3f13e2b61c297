"""The results CSV: one row per participant per question (built from the read models, in rank
order), a header, csv-module quoting, UTF-8.

Every CSV the platform writes goes through `to_csv`, and every cell through `spreadsheet_safe`
(CSV/formula injection, OWASP): a text cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead of
evaluating it. Numbers (rank, scores, elapsed times, question index, points: values the platform
computed, never typed by anyone; a numeric answer's value, a number the engine validated) are
written as they are, so a `-5` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from speedrun.question_types import DEFAULT_QUESTION_TYPE
from speedrun.reporting.projections import answer_to, participant_results, run_summary

UNANSWERED = "unanswered"
"""CSV outcome of a question a participant never answered (the run ended first)."""

CSV_COLUMNS: tuple[str, ...] = (
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
    "question_type",
    "value",
)
"""One CSV row per participant per question. Option lists are 0-based indexes joined by `;` (an order
question's in order). Columns are only ever appended: consumers read them by position too."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is read as a formula (or as a formula after trimming) by spreadsheets."""


def spreadsheet_safe(value: Any) -> Any:
    """A cell value a spreadsheet will not evaluate: text starting with a formula trigger gets a
    leading `'` (the original text follows it, unchanged); any other value is returned as it is.

    Only `str` values are escaped: numbers (`int`, `float`, `Decimal`) are data the platform wrote,
    and `bool`/`None` are not text either.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_rows_from(summary: dict[str, Any], participants: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CSV's rows (keys = CSV_COLUMNS) from the two read models: one per participant per question."""
    rows = []
    for p in participants:
        for q in summary["questions"]:
            answer = answer_to(p, q["index"])
            rows.append(
                {
                    "run_id": summary["run_id"],
                    "run_name": summary["name"],
                    "rank": "" if p["rank"] is None else p["rank"],
                    "participant_id": p["participant_id"],
                    "name": p["name"],
                    "player_handle": p["player_handle"] or "",
                    "total_score": p["score"],
                    "total_elapsed_ms": p["elapsed_ms"],
                    "question_index": q["index"],
                    "category": q["category"],
                    "question": q["text"],
                    "correct_options": ";".join(str(i) for i in q["correct_options"]),
                    "selected": "" if answer is None else ";".join(str(i) for i in answer["selected"]),
                    "outcome": UNANSWERED if answer is None else answer["outcome"],
                    "points": 0 if answer is None else answer["points"],
                    "elapsed_ms": "" if answer is None else answer["elapsed_ms"],
                    # Summaries and results persisted before question types have neither.
                    "question_type": q.get("type", DEFAULT_QUESTION_TYPE),
                    "value": "" if answer is None or answer.get("value") is None else answer["value"],
                }
            )
    return rows


def csv_rows(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CSV's rows from a run's events: one per participant per question, in rank order."""
    return csv_rows_from(run_summary(events), participant_results(events))


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: spreadsheet_safe(value) for column, value in row.items()} for row in rows)
    return buffer.getvalue()


def csv_filename(run_id: str) -> str:
    return f"speedrun-{run_id}-results.csv"
