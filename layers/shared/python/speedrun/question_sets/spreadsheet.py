"""An uploaded .xlsx workbook as text: every visible sheet's cells, read safely.

The zip is checked before openpyxl sees it (a zip bomb is refused on the sizes its directory declares,
which `zipfile` enforces while decompressing), and the rows and columns read are capped, because
openpyxl creates a cell for every row and column a sheet's dimension or row numbers claim.

openpyxl is imported inside `read_workbook` only: importing it takes ~0.2 s, which importing the upload
handler (every cold start of the question-set function) must not pay for JSON and CSV uploads. What the cells mean is
`speedrun.question_sets.parsing`'s concern.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from speedrun.question_sets.models import MAX_QUESTIONS

ZIP_MAGIC = b"PK\x03\x04"
WORKBOOK_PART = "xl/workbook.xml"
MAX_UNCOMPRESSED_BYTES = 8 * 1024 * 1024
"""All of a workbook's parts decompressed. 500 questions at every text limit, even in 3-byte
characters, stay under 6 MiB (a usual set: well under 1 MiB). The bound is memory: openpyxl holds up
to ~30x a part's XML (measured: a row of a million empty cells), so 8 MiB keeps the worst workbook
near 300 MB, within the question-set function's 512 MB."""
MAX_ROWS = 20 * MAX_QUESTIONS
"""Rows read from all sheets together, blank rows and title rows included."""
MAX_COLUMNS = 64
"""Columns read per row; the widest layout (the CSV columns with 8 options and every optional column) has 16."""


class WorkbookUnreadable(Exception):
    """The upload is a zip but cannot be read as a workbook; `reason` says why (a phrase)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Sheet:
    """One worksheet: `rows[i]` is spreadsheet row i + 1, its cells as text, trailing empty cells dropped."""

    title: str
    rows: list[list[str]]


def is_zip(content: bytes) -> bool:
    return content.startswith(ZIP_MAGIC)


def is_workbook(content: bytes) -> bool:
    """A zip that holds a workbook part, or one whose directory cannot be read (`read_workbook` says
    why): any other zip is not a spreadsheet (`speedrun.question_sets.attachments` opens it as a bundle)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return WORKBOOK_PART in archive.namelist()
    except Exception:  # zipfile raises several kinds for a malformed directory
        return True


def read_workbook(content: bytes) -> list[Sheet]:
    """The visible worksheets of an .xlsx file, in workbook order. Raises `WorkbookUnreadable`."""
    _check_archive(content)
    from openpyxl import load_workbook  # noqa: PLC0415 (cold start: see the module docstring)

    # openpyxl raises whatever its zip, XML and value parsers raise on a malformed part (KeyError,
    # ValueError, TypeError, XML errors, ...): any of them means the file is not a readable workbook.
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        raise WorkbookUnreadable(_describe(exc)) from None
    try:
        return _visible_sheets(workbook)
    except WorkbookUnreadable:
        raise
    except Exception as exc:
        raise WorkbookUnreadable(_describe(exc)) from None
    finally:
        workbook.close()


def _check_archive(content: bytes) -> None:
    # zipfile reports a malformed directory as BadZipFile, NotImplementedError (an unknown zip version),
    # ValueError, EOFError, ...: any of them means the upload is no zip archive to read.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except Exception as exc:
        raise WorkbookUnreadable(f"not a valid zip archive ({_describe(exc)})") from None
    if WORKBOOK_PART not in {entry.filename for entry in entries}:
        raise WorkbookUnreadable(f"a zip archive without {WORKBOOK_PART}, so not an Excel workbook")
    uncompressed = sum(entry.file_size for entry in entries)
    if uncompressed > MAX_UNCOMPRESSED_BYTES:
        raise WorkbookUnreadable(
            f"its parts hold {uncompressed} bytes uncompressed; at most {MAX_UNCOMPRESSED_BYTES} are read"
        )


def _visible_sheets(workbook: Any) -> list[Sheet]:
    sheets = []
    rows_left = MAX_ROWS
    for worksheet in workbook.worksheets:  # worksheets only: chartsheets hold no cells
        if worksheet.sheet_state != "visible":  # hidden helper sheets are not part of the quiz
            continue
        # One row past what is left tells "more rows" from "exactly as many".
        values = worksheet.iter_rows(max_row=rows_left + 1, max_col=MAX_COLUMNS, values_only=True)
        rows = [_trimmed([_cell_text(value) for value in row]) for row in values]
        if len(rows) > rows_left:
            raise WorkbookUnreadable(
                f"more than {MAX_ROWS} rows (sheet {worksheet.title!r} reaches past them); "
                f"a question set has at most {MAX_QUESTIONS} questions"
            )
        rows_left -= len(rows)
        sheets.append(Sheet(title=worksheet.title, rows=rows))
    return sheets


def _trimmed(cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _cell_text(value: Any) -> str:
    """A cell's value as the spreadsheet shows it (near enough for quiz text and option numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # option numbers typed as numbers may be stored as 2.0
    if isinstance(value, datetime) and value.time() == time():
        value = value.date()  # a date typed into a cell is stored as that day's midnight
    if isinstance(value, date | time):  # datetime included
        return value.isoformat()
    return str(value)


def _describe(exc: Exception) -> str:
    detail = str(exc).strip()[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
