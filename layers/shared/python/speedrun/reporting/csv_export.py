"""The results CSV: one row per participant per question, a header, csv-module quoting, UTF-8."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from speedrun.projections import CSV_COLUMNS


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def csv_filename(run_id: str) -> str:
    return f"speedrun-{run_id}-results.csv"
