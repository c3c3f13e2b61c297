"""The question-set shapes at the edges: what a parsed question is, what is stored, what the API returns.

Every text a file brings (category, text, options, explanation, name) is valid Unicode: the models
refuse a lone surrogate (`speedrun.text.UnicodeModel`), and the parser reports one as a problem."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from speedrun.question_types import DEFAULT_QUESTION_TYPE, MAX_NUMERIC_ABS, QuestionType, select_count
from speedrun.text import UnicodeModel

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Lambda's 6 MB synchronous payload, after base64 (4/3) and the multipart envelope, leaves 4 MiB."""
MAX_QUESTIONS = 500
MAX_CATEGORY_CHARS = 40
MAX_TEXT_CHARS = 500
MAX_OPTION_CHARS = 200
MAX_EXPLANATION_CHARS = 500
MAX_NAME_CHARS = 100
FIRST_VERSION = 1


SourceFormat = Literal["json", "json_array", "csv", "opentdb", "xlsx", "kahoot_xlsx"]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_MEDIA_TYPES = ("application/json", "text/csv", XLSX_MEDIA_TYPE)
"""What an upload may be; the format is told by content, so a part's own Content-Type is not checked."""


class Question(UnicodeModel):
    """One question of a set, in the JSON upload format; `type` says how it is answered (the parser,
    `speedrun.question_sets.parsing`, has applied the rules of its type)."""

    model_config = ConfigDict(frozen=True)

    type: QuestionType = Field(
        default=DEFAULT_QUESTION_TYPE,
        description="`choice` (the default: what a question without a type is), `true_false`, `poll`, `numeric` "
        "or `order`.",
    )
    category: str = Field(description="As written in the file; categories compare case-insensitively.")
    text: str = Field(description="The question as participants read it.")
    options: list[str] = Field(
        description="choice and poll: 2..8; true_false: 2 (`True`, `False` unless the file names them); order: "
        "3..6, as written; numeric: none."
    )
    correct: list[int] = Field(
        description="0-based option indexes. choice: the correct options (as many as a participant selects); "
        "true_false: `[0]` or `[1]`; order: every option's index once, in the correct order; poll and numeric: "
        "empty."
    )
    explanation: str | None = Field(default=None, description="Why the answer is what it is (null: none).")
    image: str | None = Field(
        default=None,
        description="The key of the question's image (what `POST /api/images` answers; served at `/images/<key>`).",
    )
    option_images: list[str | None] | None = Field(
        default=None,
        description="One image key (or null) per option, in the options' order; null when no option has one.",
    )
    answer: float | None = Field(
        default=None,
        description=f"numeric only: the correct number (finite, at most {MAX_NUMERIC_ABS:,} in size); null otherwise.",
    )
    tolerance: float | None = Field(
        default=None,
        description="numeric only: how far from `answer` a value still counts as correct (0 or more, 0: only "
        f"`answer` itself; at most {MAX_NUMERIC_ABS:,}); null otherwise.",
    )

    @property
    def select_count(self) -> int:
        return select_count(self.type, len(self.options), len(self.correct))


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
    version: int = Field(
        description="1 at upload, one more at each replace (`PUT`); a run plays the version it was opened from."
    )
    updated_at: str = Field(description="ISO-8601, server clock: when this version was saved (`created_at` for 1).")


class QuestionSetPage(BaseModel):
    items: list[QuestionSetMetadata]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ImageMetadata(BaseModel):
    """`POST /api/images`: a stored image, as a question set refers to it (`image`) and the site serves it."""

    image: str = Field(
        description="The image's key: the SHA-256 of the stored bytes and the format's extension (nothing about "
        "the question or its answer)."
    )
    url: str = Field(description="Where the site serves it, same origin (`/images/<key>`), cacheable for a year.")
    media_type: str = Field(description="image/png, image/jpeg, image/webp or image/gif (told by content).")
    width: int = Field(description="Pixels, upright (the EXIF orientation applied).")
    height: int
    bytes: int = Field(description="Size of the stored image, re-encoded without metadata.")


class StoredQuestionSet(UnicodeModel):
    """One version of a stored set with its questions (correct answers included): what sign-on
    freezes into a run. Files written before sets had versions read as version 1, saved when created."""

    id: str
    owner: str
    name: str
    created_at: str
    version: int = FIRST_VERSION
    updated_at: str
    source_format: SourceFormat
    categories: dict[str, int]
    questions: list[Question]

    @model_validator(mode="before")
    @classmethod
    def _written_before_versions(cls, data: Any) -> Any:
        if isinstance(data, dict) and "updated_at" not in data:
            return {**data, "updated_at": data.get("created_at")}
        return data

    @property
    def metadata(self) -> QuestionSetMetadata:
        return QuestionSetMetadata(
            id=self.id,
            name=self.name,
            question_count=len(self.questions),
            categories=self.categories,
            created_at=self.created_at,
            version=self.version,
            updated_at=self.updated_at,
        )

    @property
    def content(self) -> QuestionSetContent:
        return QuestionSetContent(id=self.id, version=self.version, name=self.name, questions=self.questions)


class QuestionSetContent(BaseModel):
    """A set's questions with their answers, in the JSON upload format (`question-set.md`): a file of
    this body, uploaded or `PUT` back, gives the same questions (the parser ignores `id` and `version`)."""

    id: str
    version: int
    name: str
    questions: list[Question] = Field(
        description="`correct` holds 0-based option indexes; `type`, `answer` and `tolerance` as uploaded."
    )


class CopyRequest(UnicodeModel):
    """`POST /api/question-sets/{set_id}/copy`: the body, when sent, names the copy (without a body the
    copy is named after the set, with " (copy)")."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, description="1..100 characters after trimming.")


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
