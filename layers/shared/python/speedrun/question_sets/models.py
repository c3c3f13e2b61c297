"""The question-set shapes at the edges: what a parsed question is, what is stored, what the API returns.

Every text a file brings (category, text, options, explanation, name) is valid Unicode: the models
refuse a lone surrogate (`speedrun.text.UnicodeModel`), and the parser reports one as a problem."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from speedrun.text import UnicodeModel

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Lambda's 6 MB synchronous payload, after base64 (4/3) and the multipart envelope, leaves 4 MiB."""
MAX_QUESTIONS = 500
MAX_CATEGORY_CHARS = 40
MAX_TEXT_CHARS = 500
MIN_OPTIONS = 2
MAX_OPTIONS = 8
MAX_OPTION_CHARS = 200
MAX_EXPLANATION_CHARS = 500
MAX_NAME_CHARS = 100

SourceFormat = Literal["json", "json_array", "csv", "opentdb", "xlsx", "kahoot_xlsx"]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_MEDIA_TYPES = ("application/json", "text/csv", XLSX_MEDIA_TYPE)
"""What an upload may be; the format is told by content, so a part's own Content-Type is not checked."""


class Question(UnicodeModel):
    """One validated question. `correct` holds 0-based option indexes; its length is the select count."""

    model_config = ConfigDict(frozen=True)

    category: str
    """As written in the file; compare with `fold_category`."""
    text: str
    options: list[str]
    correct: list[int]
    explanation: str | None = None

    @property
    def select_count(self) -> int:
        return len(self.correct)


class ParsedQuestionSet(UnicodeModel):
    """A file that passed every rule: its questions and, if the file named itself, that name."""

    name: str | None
    source_format: SourceFormat
    questions: list[Question]


class QuestionSetMetadata(BaseModel):
    """What the HTTP API shows of a set: never the questions or their correct answers."""

    id: str = Field(description="Time-ordered set id (newer ids sort after older ones).")
    name: str
    question_count: int
    categories: dict[str, int] = Field(description="Category (as first written) -> number of questions.")
    created_at: str = Field(description="ISO-8601, server clock.")


class QuestionSetPage(BaseModel):
    items: list[QuestionSetMetadata]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class StoredQuestionSet(UnicodeModel):
    """A stored set with its questions (correct answers included): what sign-on freezes into a run."""

    id: str
    owner: str
    name: str
    created_at: str
    source_format: SourceFormat
    categories: dict[str, int]
    questions: list[Question]

    @property
    def metadata(self) -> QuestionSetMetadata:
        return QuestionSetMetadata(
            id=self.id,
            name=self.name,
            question_count=len(self.questions),
            categories=self.categories,
            created_at=self.created_at,
        )


class Problem(BaseModel):
    """One reason a file was refused; `question` (1-based, JSON), `line` (CSV) or `sheet` and `row`
    (.xlsx: the sheet's title and the row number the spreadsheet shows) say where."""

    question: int | None = None
    line: int | None = None
    sheet: str | None = None
    row: int | None = None
    field: str
    reason: str

    def as_detail(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    @property
    def location(self) -> str:
        """Where the problem is, as a message names it."""
        if self.question:
            return f"question {self.question}"
        if self.line:
            return f"line {self.line}"
        if self.sheet is not None:
            return f"sheet {self.sheet!r}" + (f" row {self.row}" if self.row else "")
        return "file"


def fold_category(category: str) -> str:
    """Categories are case-insensitive: compare (and count) them folded."""
    return category.strip().casefold()


def count_categories(questions: list[Question]) -> dict[str, int]:
    """Questions per category, counted folded and displayed as first written."""
    display: dict[str, str] = {}
    counts: dict[str, int] = {}
    for question in questions:
        folded = fold_category(question.category)
        shown = display.setdefault(folded, question.category)
        counts[shown] = counts.get(shown, 0) + 1
    return counts
