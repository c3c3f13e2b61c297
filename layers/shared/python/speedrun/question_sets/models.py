"""The question-set shapes at the edges: what a parsed question is, what is stored, what the API returns.

Every text a file brings (category, text, options, explanation, name) is valid Unicode: the models
refuse a lone surrogate (`speedrun.text.UnicodeModel`), and the parser reports one as a problem."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
FIRST_VERSION = 1

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
    image: str | None = None
    """The key of the question's image in the image store (`manifest.image_url` makes its URL)."""
    option_images: list[str | None] | None = None
    """One image key (or None) per option, in the options' order; None when no option has one."""

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
    questions: list[Question] = Field(description="`correct` holds 0-based option indexes.")


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
