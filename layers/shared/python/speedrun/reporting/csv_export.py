"""The results CSV: one row per participant per question, a header, csv-module quoting, UTF-8.

Every CSV the platform writes goes through `to_csv`, and every cell through `spreadsheet_safe`
(CSV/formula injection, OWASP): a text cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead of
evaluating it. Numbers (rank, scores, elapsed times, question index, points: values the platform
computed, never typed by anyone) are written as they are, so a `-5` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from speedrun.projections import CSV_COLUMNS

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


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: spreadsheet_safe(value) for column, value in row.items()} for row in rows)
    return buffer.getvalue()


def csv_filename(run_id: str) -> str:
    return f"speedrun-{run_id}-results.csv"
