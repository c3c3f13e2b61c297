"""Reading an uploaded question set: bytes -> validated questions, or every problem found.

The format is told by content, not by file name: a zip is an .xlsx workbook (Kahoot!'s template or
the CSV columns, told apart by the header row); text starting with `{` is the JSON object format, or
Open Trivia DB's reply when it has a `results` list and no `questions`; `[` the earlier tools' bare
array; anything else CSV. A file with any invalid question is refused whole, and the refusal lists
every problem (JSON: 1-based question number; CSV: line number; .xlsx: sheet and row).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from speedrun.errors import BadRequest, TooLarge
from speedrun.question_sets.models import (
    MAX_CATEGORY_CHARS,
    MAX_EXPLANATION_CHARS,
    MAX_FILE_BYTES,
    MAX_NAME_CHARS,
    MAX_OPTION_CHARS,
    MAX_QUESTIONS,
    MAX_TEXT_CHARS,
    ParsedQuestionSet,
    Problem,
    Question,
)
from speedrun.question_sets.spreadsheet import Sheet, WorkbookUnreadable, is_zip, read_workbook
from speedrun.question_types import (
    DEFAULT_QUESTION_TYPE,
    MAX_NUMERIC_ABS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    OPTION_COUNTS,
    QUESTION_TYPES,
    TRUE_FALSE_OPTIONS,
    QuestionType,
)
from speedrun.text import lone_surrogate_problem

NOT_TEXT = "not a UTF-8 text file: upload a question set as JSON, CSV or an .xlsx workbook"
CSV_FIELD_LIMIT = MAX_FILE_BYTES
"""csv's default field limit (128 KiB) is below the file limit; a field this big fails its own rule."""
MAX_IMAGE_REFERENCE_CHARS = 255
"""An image reference is a file name attached to the upload or a stored image's key (69 characters)."""


class ImageRefused(Exception):
    """An image reference names no usable image; `reason` says why (a phrase, for the problem list)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImageResolver(Protocol):
    """Turns a question's image reference into an image key (`speedrun.question_sets.attachments`)."""

    def resolve(self, reference: str) -> str:
        """The key of the image `reference` names; raises `ImageRefused`."""
        ...


class _NoImages:
    def resolve(self, reference: str) -> str:
        raise ImageRefused("images are accepted only with an upload to the question-set routes")


NO_IMAGES: ImageResolver = _NoImages()


class QuestionSetInvalid(BadRequest):
    """The file was read but breaks the rules; `details` lists every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        super().__init__(
            f"invalid question set ({count}); first: {first.location}, {first.field}: {first.reason}",
            details=[problem.as_detail() for problem in problems],
        )


def parse_question_set(content: bytes, *, images: ImageResolver = NO_IMAGES) -> ParsedQuestionSet:
    """Validate an uploaded file; `images` resolves its questions' image references (a refused
    reference is one more problem). Raises `TooLarge` or `BadRequest` (details = every problem)."""
    if len(content) > MAX_FILE_BYTES:
        raise TooLarge(
            f"the file has {len(content)} bytes; a question set may have at most {MAX_FILE_BYTES} bytes (4 MiB)"
        )
    if is_zip(content):
        return _parse_workbook(content, images)
    text = decode_text(content)
    start = text.lstrip()[:1]
    if start == "{":
        document = _load_json(text)
        if isinstance(document.get("results"), list) and "questions" not in document:
            return _parse_opentdb(document)
        return _parse_json_object(document, images)
    if start == "[":
        return _parse_json_array(_load_json(text), images)
    return _parse_csv(text, images)


def decode_text(content: bytes) -> str:
    """The file as text: UTF-8 (BOM tolerated), no NUL bytes, not blank."""
    if b"\x00" in content:
        raise _file_problem(NOT_TEXT, "contains NUL bytes")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_problem(NOT_TEXT, f"invalid UTF-8 at byte {exc.start}") from None
    if not text.strip():
        raise _file_problem("the file is empty", "empty")
    return text


def _file_problem(message: str, reason: str) -> BadRequest:
    return BadRequest(message, details=[Problem(field="file", reason=reason).as_detail()])


def _too_many(count: int) -> BadRequest:
    return BadRequest(
        f"the set has {count} questions; a question set may have at most {MAX_QUESTIONS}",
        details=[Problem(field="questions", reason=f"at most {MAX_QUESTIONS} questions (found {count})").as_detail()],
    )


def _no_questions() -> BadRequest:
    return BadRequest(
        "the set has no questions",
        details=[Problem(field="questions", reason="at least 1 question is required").as_detail()],
    )


# --- rules shared by every format ------------------------------------------------------------


@dataclass
class _Checker:
    """Collects the problems of one question, located by question number, CSV line or sheet and row."""

    where: dict[str, Any]
    images: ImageResolver = NO_IMAGES
    problems: list[Problem] = field(default_factory=list)

    def add(self, field_name: str, reason: str) -> None:
        self.problems.append(Problem(field=field_name, reason=reason, **self.where))

    def text(self, value: Any, field_name: str, max_chars: int, *, required: bool = True) -> str | None:
        if value is None or (not required and value == ""):
            if required:
                self.add(field_name, "is required")
            return None
        if not isinstance(value, str):
            self.add(field_name, f"must be a string, not {_json_type(value)}")
            return None
        problem = lone_surrogate_problem(value)
        if problem is not None:
            self.add(field_name, problem)
            return None
        stripped = value.strip()
        if not stripped:
            if required:
                self.add(field_name, "must not be empty")
            return None
        if len(stripped) > max_chars:
            self.add(field_name, f"must be at most {max_chars} characters (has {len(stripped)})")
            return None
        return stripped

    def options(
        self, values: list[Any], label: Callable[[int], str], list_field: str, kind: QuestionType = "choice"
    ) -> list[str] | None:
        low, high = OPTION_COUNTS[kind]
        counted = low <= len(values) <= high
        if not counted:
            self.add(list_field, _option_count_reason(kind, len(values)))
        cleaned = [self.text(value, label(index), MAX_OPTION_CHARS) for index, value in enumerate(values)]
        first_seen: dict[str, int] = {}
        for index, option in enumerate(cleaned):
            if option is None:
                continue
            if option in first_seen:
                self.add(list_field, f"duplicate option {option!r} ({label(first_seen[option])} and {label(index)})")
            else:
                first_seen[option] = index
        if any(option is None for option in cleaned) or not counted:
            return None
        return [option for option in cleaned if option is not None]

    def image(self, value: Any, field_name: str) -> str | None:
        """The key of the image a reference names (None: no image)."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.add(field_name, f"must be a string (an image's file name or key), not {_json_type(value)}")
            return None
        reference = self.text(value, field_name, MAX_IMAGE_REFERENCE_CHARS, required=False)
        if reference is None:
            return None
        try:
            return self.images.resolve(reference)
        except ImageRefused as refused:
            self.add(field_name, refused.reason)
            return None

    def option_images(self, value: Any, option_count: int | None) -> list[str | None] | None:
        """One image key (or None) per option; None when no option has an image."""
        if value is None:
            return None
        if not isinstance(value, list):
            self.add("option_images", f"must be an array (one entry per option), not {_json_type(value)}")
            return None
        if option_count is not None and len(value) != option_count:
            self.add("option_images", f"must have one entry per option ({option_count}), has {len(value)}")
            return None
        keys = [self.image(reference, f"option_images[{index}]") for index, reference in enumerate(value)]
        return keys if any(keys) else None

    def correct(self, indexes: list[int], option_count: int | None, field_name: str, *, one_based: bool) -> None:
        """Rules on the (0-based) indexes: 1..option_count of them, distinct, each naming an option."""
        shown = [index + 1 for index in indexes] if one_based else indexes
        if not indexes:
            self.add(field_name, "at least one correct option is required")
        if len(set(indexes)) != len(indexes):
            self.add(field_name, f"correct options must be distinct (got {shown})")
        if option_count:  # with no options at all there is no range to name; the options problem says it
            low, high = (1, option_count) if one_based else (0, option_count - 1)
            for index, number in zip(indexes, shown, strict=True):
                if not 0 <= index < option_count:
                    self.add(field_name, f"{number} is out of range: options are numbered {low}..{high}")

    def number(self, value: float, field_name: str, low: int) -> float | _Refused:
        """A number in low..MAX_NUMERIC_ABS (a JSON integer of any size is compared before it is a float)."""
        if isinstance(value, float) and not math.isfinite(value):
            self.add(field_name, "must be a finite number")
            return REFUSED
        if not low <= value <= MAX_NUMERIC_ABS:
            self.add(field_name, f"must be between {low} and {MAX_NUMERIC_ABS}")
            return REFUSED
        return float(value)


def _option_count_reason(kind: QuestionType, count: int) -> str:
    low, high = OPTION_COUNTS[kind]
    if kind == "choice":  # a file without types reads as it did before them
        return f"must have {low} to {high} options (has {count})"
    counts = f"exactly {low}" if low == high else f"{low} to {high}"
    return f"{kind} questions need {counts} options (has {count})"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --- question types: the rules of each type, whatever the format wrote -----------------------------


class _Refused(Enum):
    """A field whose problem is reported already (None is a field left out)."""

    REFUSED = "refused"


REFUSED = _Refused.REFUSED
_TYPE_NAMES: dict[str, QuestionType] = {kind: kind for kind in QUESTION_TYPES}
_NO_CORRECT: dict[QuestionType, str] = {
    "poll": "a poll has no correct answer",
    "numeric": "a numeric question has no correct option: its correct number is `answer`",
}


@dataclass(frozen=True)
class _Format:
    """How a format writes a question's answer fields: how its problems name them, and how to read them."""

    option: Callable[[int], str]
    """The field of one option, by its 0-based index."""
    correct: str
    one_based: bool
    """`correct` numbers the options from 1."""
    correct_example: str
    true_false_example: str
    read_correct: Callable[[Any, str, QuestionType, _Checker], list[int] | _Refused | None]
    """`correct` given as 0-based indexes ([] an empty list, None none given)."""
    read_number: Callable[[Any, str, _Checker], float | _Refused]
    """`answer` or `tolerance`, as given (a number, not yet checked against the limits)."""
    options: str = "options"


@dataclass(frozen=True)
class _Given:
    """A question's answer fields as its file holds them; `options` is None when left out, REFUSED
    when it is no list (reported)."""

    options: list[Any] | _Refused | None
    correct: Any
    answer: Any
    tolerance: Any


@dataclass(frozen=True)
class _AnswerKey:
    """What a question of its type holds besides its text: valid by the rules of the type."""

    type: QuestionType
    options: list[str]
    correct: list[int]
    answer: float | None
    tolerance: float | None

    def question(self, category: str, text: str, explanation: str | None, **images: Any) -> Question:
        """The question this key answers, with the fields every type shares (`image`, `option_images`)."""
        return Question(
            type=self.type,
            category=category,
            text=text,
            options=self.options,
            correct=self.correct,
            explanation=explanation,
            answer=self.answer,
            tolerance=self.tolerance,
            **images,
        )


def _question_type(value: Any, checker: _Checker) -> QuestionType | _Refused:
    """`type`: one of QUESTION_TYPES, any letter case; absent or empty is a choice."""
    if value is None:
        return DEFAULT_QUESTION_TYPE
    if not isinstance(value, str):
        checker.add("type", f"must be a string ({', '.join(QUESTION_TYPES)}), not {_json_type(value)}")
        return REFUSED
    name = value.strip().casefold()
    if not name:
        return DEFAULT_QUESTION_TYPE
    kind = _TYPE_NAMES.get(name)
    if kind is None:
        checker.add("type", f"must be one of {', '.join(QUESTION_TYPES)} (got {value.strip()!r})")
        return REFUSED
    return kind


def _is_left_out(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _answer_key(kind: QuestionType, given: _Given, fmt: _Format, checker: _Checker) -> _AnswerKey | None:
    """The options, correct answer and number of a question by the rules of its type (None: a problem,
    reported). Problems come in the order options, correct, answer, tolerance."""
    before = len(checker.problems)
    options = _typed_options(kind, given.options, fmt, checker)
    correct = _typed_correct(kind, given.correct, _option_count(kind, given.options), fmt, checker)
    answer = _numeric_field(given.answer, "answer", kind, fmt, checker)
    tolerance = _numeric_field(given.tolerance, "tolerance", kind, fmt, checker)
    if kind == "numeric" and answer is None:
        checker.add("answer", "is required: the correct number")
    if len(checker.problems) != before or options is None or correct is None:
        return None
    if isinstance(answer, _Refused) or isinstance(tolerance, _Refused):  # reported: a problem
        return None
    if kind == "numeric" and tolerance is None:
        tolerance = 0.0
    return _AnswerKey(type=kind, options=options, correct=correct, answer=answer, tolerance=tolerance)


def _numeric_field(
    value: Any, field_name: str, kind: QuestionType, fmt: _Format, checker: _Checker
) -> float | _Refused | None:
    """`answer` or `tolerance`, which only numeric questions have (None: left out)."""
    if _is_left_out(value):
        return None
    if kind != "numeric":
        checker.add(
            field_name, f"only numeric questions have {'an answer' if field_name == 'answer' else 'a tolerance'}"
        )
        return REFUSED
    number = fmt.read_number(value, field_name, checker)
    if number is REFUSED:
        return REFUSED
    return checker.number(number, field_name, 0 if field_name == "tolerance" else -MAX_NUMERIC_ABS)


def _option_count(kind: QuestionType | _Refused, options: list[Any] | _Refused | None) -> int | None:
    """How many options the question has as written (None: not known), true/false's default included."""
    if kind == "true_false" and not options:
        return len(TRUE_FALSE_OPTIONS)
    if kind == "numeric":
        return 0
    return len(options) if isinstance(options, list) else None


def _typed_options(
    kind: QuestionType, raw: list[Any] | _Refused | None, fmt: _Format, checker: _Checker
) -> list[str] | None:
    if raw is REFUSED:
        return None
    if kind == "numeric":
        if raw:
            checker.add(fmt.options, "numeric questions take no options")
            return None
        return []
    if kind == "true_false" and not raw:
        return list(TRUE_FALSE_OPTIONS)
    if raw is None:
        checker.add(fmt.options, "is required")
        return None
    return checker.options(raw, fmt.option, fmt.options, kind)


def _typed_correct(
    kind: QuestionType, value: Any, option_count: int | None, fmt: _Format, checker: _Checker
) -> list[int] | None:
    if kind in _NO_CORRECT:
        if _is_left_out(value) or value == []:
            return []
        checker.add(fmt.correct, _NO_CORRECT[kind])
        return None
    correct = fmt.read_correct(value, fmt.correct, kind, checker)
    if correct is REFUSED:
        return None
    if kind == "order":
        return _order_correct(correct, option_count, fmt, checker)
    if correct is None:
        example = fmt.true_false_example if kind == "true_false" else fmt.correct_example
        checker.add(fmt.correct, f"is required: {example}")
        return None
    before = len(checker.problems)
    checker.correct(correct, option_count, fmt.correct, one_based=fmt.one_based)
    if kind == "true_false" and len(correct) > 1:
        checker.add(fmt.correct, f"a true_false question has one correct option: {fmt.true_false_example}")
    return correct if len(checker.problems) == before else None


def _order_correct(
    correct: list[int] | None, option_count: int | None, fmt: _Format, checker: _Checker
) -> list[int] | None:
    """The correct order: the options as written, or each option's index once in the order given."""
    if not option_count:  # no options to order: their own problem says so
        return None
    if not correct:
        return list(range(option_count))
    if sorted(correct) != list(range(option_count)):
        first = 1 if fmt.one_based else 0
        shown = [index + first for index in correct]
        checker.add(
            fmt.correct,
            f"must name every option once, in the correct order ({first}..{option_count - 1 + first} "
            f"in some order; got {shown})",
        )
        return None
    return correct


# --- JSON --------------------------------------------------------------------------------------


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno} (character {exc.pos})"
        raise _file_problem(f"invalid JSON: {reason}", reason) from None
    except RecursionError:
        raise _file_problem("invalid JSON: nested too deeply", "nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise _file_problem(f"invalid JSON: {exc}", str(exc)) from None


def _parse_json_object(document: dict[str, Any], images: ImageResolver) -> ParsedQuestionSet:
    if "questions" not in document:
        raise BadRequest(
            'the JSON object has no "questions" array',
            details=[Problem(field="questions", reason='missing: expected {"questions": [...]}').as_detail()],
        )
    questions = document["questions"]
    if not isinstance(questions, list):
        raise BadRequest(
            f'"questions" must be an array, not {_json_type(questions)}',
            details=[Problem(field="questions", reason=f"must be an array, not {_json_type(questions)}").as_detail()],
        )
    name_checker = _Checker(where={})
    name = name_checker.text(document.get("name"), "name", MAX_NAME_CHARS, required=False)
    return _parse_json_questions(questions, "json", name_checker.problems, name, _json_question, images=images)


def _parse_json_array(document: list[Any], images: ImageResolver) -> ParsedQuestionSet:
    return _parse_json_questions(document, "json_array", [], None, _json_question, images=images)


def _parse_json_questions(
    items: list[Any],
    source_format: str,
    problems: list[Problem],
    name: str | None,
    read_question: Callable[[Any, _Checker], Question | None],
    *,
    images: ImageResolver,
) -> ParsedQuestionSet:
    """Every item read by `read_question`, each located by its 1-based number."""
    if not items:
        raise _no_questions()
    if len(items) > MAX_QUESTIONS:
        raise _too_many(len(items))
    questions = []
    for number, item in enumerate(items, start=1):
        checker = _Checker(where={"question": number}, images=images)
        question = read_question(item, checker)
        problems.extend(checker.problems)
        if question is not None:
            questions.append(question)
    if problems:
        raise QuestionSetInvalid(problems)
    return ParsedQuestionSet.model_validate({"name": name, "source_format": source_format, "questions": questions})


def _spelling(item: dict[str, Any], checker: _Checker, *names: str) -> tuple[str, Any]:
    """The one key (of alternative spellings) a question uses for a field."""
    present = [name for name in names if name in item]
    if len(present) > 1:
        checker.add(present[1], f"give either {' or '.join(repr(n) for n in names)}, not both")
    key = present[0] if present else names[0]
    return key, item.get(key)


def _json_question(item: Any, checker: _Checker) -> Question | None:
    if not isinstance(item, dict):
        checker.add("question", f"must be an object, not {_json_type(item)}")
        return None
    kind = _question_type(item.get("type"), checker)
    category = checker.text(item.get("category"), "category", MAX_CATEGORY_CHARS)
    text_key, text_value = _spelling(item, checker, "text", "question")
    text = checker.text(text_value, text_key, MAX_TEXT_CHARS)
    explanation = checker.text(item.get("explanation"), "explanation", MAX_EXPLANATION_CHARS, required=False)
    raw_options = item.get("options")
    options: list[Any] | _Refused | None = raw_options
    if raw_options is not None and not isinstance(raw_options, list):
        checker.add("options", "must be an array of strings")
        options = REFUSED
    correct_key, raw_correct = _spelling(item, checker, "correct", "answers")
    key = None
    if kind is not REFUSED:
        given = _Given(options=options, correct=raw_correct, answer=item.get("answer"), tolerance=item.get("tolerance"))
        key = _answer_key(kind, given, _json_format(correct_key), checker)
    image = checker.image(item.get("image"), "image")
    option_images = checker.option_images(item.get("option_images"), _option_count(kind, options))
    if checker.problems or category is None or text is None or key is None:
        return None
    return key.question(category, text, explanation, image=image, option_images=option_images)


_JSON_TRUE_FALSE = "true, false, [0] or [1]"


def _json_format(correct_key: str) -> _Format:
    return _Format(
        option=lambda index: f"options[{index}]",
        correct=correct_key,
        one_based=False,
        correct_example="a list of 0-based option indexes",
        true_false_example=_JSON_TRUE_FALSE,
        read_correct=_json_correct,
        read_number=_json_number,
    )


def _json_correct(value: Any, field_name: str, kind: QuestionType, checker: _Checker) -> list[int] | _Refused | None:
    """0-based option indexes (None: not given); a true/false question may say `true` or `false`."""
    if value is None:
        return None
    if kind == "true_false" and isinstance(value, bool):
        return [0] if value else [1]
    # bool is a subclass of int in Python, but `true` is not an option index.
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        example = _JSON_TRUE_FALSE if kind == "true_false" else "a list of 0-based option indexes (integers)"
        checker.add(field_name, f"must be {example}")
        return REFUSED
    return value


def _json_number(value: Any, field_name: str, checker: _Checker) -> float | _Refused:
    # bool is a subclass of int in Python, but `true` is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        checker.add(field_name, f"must be a number, not {_json_type(value)}")
        return REFUSED
    return value


# --- Open Trivia DB ------------------------------------------------------------------------------

OPENTDB_TYPES = ("multiple", "boolean")


def _parse_opentdb(document: dict[str, Any]) -> ParsedQuestionSet:
    """Open Trivia DB's API reply (default encoding: HTML entities), as saved from opentdb.com/api.php."""
    response_code = document.get("response_code", 0)
    if response_code != 0:
        raise BadRequest(
            f"Open Trivia DB answered with response_code {response_code!r}, not with questions",
            details=[Problem(field="response_code", reason=f"must be 0 (got {response_code!r})").as_detail()],
        )
    # Open Trivia DB's questions have no images.
    return _parse_json_questions(document["results"], "opentdb", [], None, _opentdb_question, images=NO_IMAGES)


def _unescaped(value: Any) -> Any:
    return html.unescape(value) if isinstance(value, str) else value


def _opentdb_question(item: Any, checker: _Checker) -> Question | None:
    if not isinstance(item, dict):
        checker.add("question", f"must be an object, not {_json_type(item)}")
        return None
    category = checker.text(_unescaped(item.get("category")), "category", MAX_CATEGORY_CHARS)
    text = checker.text(_unescaped(item.get("question")), "question", MAX_TEXT_CHARS)
    kind = item.get("type")
    answer: tuple[list[str], list[int]] | None = None
    if kind == "multiple":
        answer = _opentdb_multiple(item, checker)
    elif kind == "boolean":
        answer = _opentdb_boolean(item, checker)
    else:
        checker.add("type", f"must be one of {', '.join(map(repr, OPENTDB_TYPES))} (got {kind!r})")
    if checker.problems or category is None or text is None or answer is None:
        return None
    options, correct = answer
    question_type: QuestionType = "true_false" if kind == "boolean" else "choice"
    return Question(type=question_type, category=category, text=text, options=options, correct=correct)


def _opentdb_multiple(item: dict[str, Any], checker: _Checker) -> tuple[list[str], list[int]] | None:
    """The correct and incorrect answers, sorted (case-insensitively): an order that does not tell
    which one is correct, the same for the same file."""
    incorrect = item.get("incorrect_answers")
    if not isinstance(incorrect, list):
        checker.add("incorrect_answers", "is required" if incorrect is None else "must be an array of strings")
        return None
    answers = [_unescaped(item.get("correct_answer")), *map(_unescaped, incorrect)]

    def label(index: int) -> str:
        return "correct_answer" if index == 0 else f"incorrect_answers[{index - 1}]"

    cleaned = checker.options(answers, label, "incorrect_answers")
    if cleaned is None:
        return None
    options = sorted(cleaned, key=lambda option: (option.casefold(), option))
    return options, [options.index(cleaned[0])]


def _opentdb_boolean(item: dict[str, Any], checker: _Checker) -> tuple[list[str], list[int]] | None:
    """A true/false question: always the options True, False; `correct_answer` says which
    (`incorrect_answers` is the other)."""
    answer = checker.text(_unescaped(item.get("correct_answer")), "correct_answer", MAX_OPTION_CHARS)
    if answer is None:
        return None
    folded = [option.casefold() for option in TRUE_FALSE_OPTIONS]
    if answer.casefold() not in folded:
        checker.add("correct_answer", f"must be True or False in a boolean question (got {answer!r})")
        return None
    return list(TRUE_FALSE_OPTIONS), [folded.index(answer.casefold())]


# --- CSV ---------------------------------------------------------------------------------------

_REQUIRED_COLUMNS = ("category", "question", "correct")
_OPTIONAL_COLUMNS = ("explanation", "image", "type", "answer", "tolerance")
CSV_HEADER = "category,question,option_1,...,option_N,correct[,explanation][,image][,type][,answer][,tolerance]"
_NUMBER_PATTERN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number as a cell writes it (ASCII; no `inf`, `nan` or `1_000`, which Python's float() would take)."""
_OPTION_NUMBER = re.compile(r"[0-9]{1,9}")
"""An option number in a header or a `correct` cell (ASCII digits: str.isdigit() also accepts superscripts,
which int() refuses; at most 9 of them, as int() refuses more than 4,300)."""
_CSV_TRUE_FALSE = "1 or true (the first option), 2 or false"


@dataclass(frozen=True)
class _CsvLayout:
    """Where each column is in a CSV file, from its header row."""

    columns: dict[str, int]
    option_columns: list[int]
    unnamed_columns: list[int]
    """Spreadsheets export trailing empty header cells; such columns must stay empty."""


def _parse_csv(text: str, images: ImageResolver) -> ParsedQuestionSet:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    questions: list[Question] = []
    try:
        header = next(reader)
        layout = _csv_layout(header)
        rows: list[tuple[int, list[str]]] = []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _file_problem(f"invalid CSV at line {reader.line_num}: {exc}", f"line {reader.line_num}: {exc}") from None
    if not rows:
        raise _no_questions()
    if len(rows) > MAX_QUESTIONS:
        raise _too_many(len(rows))
    for line, row in rows:
        checker = _Checker(where={"line": line}, images=images)
        question = _csv_question(row, layout, len(header), checker)
        problems.extend(checker.problems)
        if question is not None:
            questions.append(question)
    if problems:
        raise QuestionSetInvalid(problems)
    return ParsedQuestionSet.model_validate({"name": None, "source_format": "csv", "questions": questions})


def _csv_layout(header: list[str]) -> _CsvLayout:
    reasons: list[str] = []
    layout = _table_layout(header, reasons)
    if layout is None:
        raise BadRequest(
            f"invalid CSV header: {reasons[0]}; expected {CSV_HEADER}",
            details=[Problem(line=1, field="header", reason=reason).as_detail() for reason in reasons],
        )
    return layout


def _table_layout(header: list[str], reasons: list[str]) -> _CsvLayout | None:
    """The CSV format's columns as a header row names them (in a CSV file or a sheet), or None with
    what is wrong added to `reasons`."""
    before = len(reasons)
    columns, options, unnamed = _header_columns(header, reasons)
    reasons.extend(_missing_header_columns(columns, options))
    if len(reasons) != before:
        return None
    return _CsvLayout(columns=columns, option_columns=[options[n] for n in sorted(options)], unnamed_columns=unnamed)


def _header_columns(header: list[str], reasons: list[str]) -> tuple[dict[str, int], dict[int, int], list[int]]:
    """The positions of the header's named columns, of its option columns (by option number) and of
    its unnamed cells; a repeated or unknown name is added to `reasons`."""
    columns: dict[str, int] = {}
    options: dict[int, int] = {}
    unnamed: list[int] = []
    for position, name in enumerate(cell.strip().casefold() for cell in header):
        number = _option_number(name)
        if not name:
            unnamed.append(position)
        elif name in columns or (number is not None and number in options):
            reasons.append(f"column {name!r} appears more than once")
        elif number is not None:
            options[number] = position
        elif name in _REQUIRED_COLUMNS or name in _OPTIONAL_COLUMNS:
            columns[name] = position
        else:
            reasons.append(f"unknown column {header[position].strip()!r}")
    return columns, options, unnamed


def _missing_header_columns(columns: dict[str, int], options: dict[int, int]) -> list[str]:
    """What the header lacks: a required column, option columns numbered 1..N without gaps, or N in range."""
    reasons = []
    missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
    if missing:
        reasons.append(f"missing column(s): {', '.join(missing)}")
    option_count = len(options)
    if sorted(options) != list(range(1, option_count + 1)):
        reasons.append(f"option columns must be option_1..option_N without gaps (found {sorted(options)})")
    if not MIN_OPTIONS <= option_count <= MAX_OPTIONS:
        reasons.append(f"needs {MIN_OPTIONS} to {MAX_OPTIONS} option columns option_1..option_N (has {option_count})")
    return reasons


def _option_number(name: str) -> int | None:
    prefix = "option_"
    suffix = name[len(prefix) :]
    if name.startswith(prefix) and _OPTION_NUMBER.fullmatch(suffix):
        return int(suffix)
    return None


def _csv_question(row: list[str], layout: _CsvLayout, width: int, checker: _Checker) -> Question | None:
    if len(row) > width and any(cell.strip() for cell in row[width:]):
        checker.add("row", f"has {len(row)} cells but the header has {width} columns")
    cells = row + [""] * (width - len(row))
    for position in layout.unnamed_columns:
        if cells[position].strip():
            checker.add("row", f"has a value in column {position + 1}, which has no name in the header")

    def cell(column: str) -> str:
        position = layout.columns.get(column)
        return cells[position] if position is not None else ""

    kind = _question_type(cell("type"), checker)
    category = checker.text(cell("category"), "category", MAX_CATEGORY_CHARS)
    text = checker.text(cell("question"), "question", MAX_TEXT_CHARS)
    explanation = checker.text(cell("explanation"), "explanation", MAX_EXPLANATION_CHARS, required=False)

    raw_options = [cells[position] for position in layout.option_columns]
    while raw_options and not raw_options[-1].strip():  # fewer options than columns: trailing cells empty
        raw_options.pop()
    key = None
    if kind is not REFUSED:
        given = _Given(options=raw_options, correct=cell("correct"), answer=cell("answer"), tolerance=cell("tolerance"))
        key = _answer_key(kind, given, _CSV_FORMAT, checker)
    image = checker.image(cell("image"), "image")
    if checker.problems or category is None or text is None or key is None:
        return None
    return key.question(category, text, explanation, image=image)


def _csv_correct(value: str, field_name: str, kind: QuestionType, checker: _Checker) -> list[int] | _Refused | None:
    """`correct` as spreadsheet users write it: 1-based option numbers separated by `;` (None: empty);
    a true/false question may say `true` or `false`."""
    text = value.strip()
    if not text:
        return None
    if kind == "true_false" and text.casefold() in ("true", "false"):
        return [0] if text.casefold() == "true" else [1]
    parts = [part.strip() for part in text.split(";")]
    if not all(_OPTION_NUMBER.fullmatch(part) for part in parts):
        example = {
            "true_false": _CSV_TRUE_FALSE,
            "order": "the option numbers in the correct order, separated by ';', such as 2;1;3",
        }.get(kind, "option numbers separated by ';' such as 2 or 1;3")
        checker.add(field_name, f"must be {example} (got {text!r})")
        return REFUSED
    return [int(part) - 1 for part in parts]


def _cell_number(value: str, field_name: str, checker: _Checker) -> float | _Refused:
    text = value.strip()
    if not _NUMBER_PATTERN.fullmatch(text):
        checker.add(field_name, f"must be a number such as 42, -3.5 or 1e6 (got {text!r})")
        return REFUSED
    return float(text)


_CSV_FORMAT = _Format(
    option=lambda index: f"option_{index + 1}",
    correct="correct",
    one_based=True,
    correct_example="option numbers such as 2 or 1;3",
    true_false_example=_CSV_TRUE_FALSE,
    read_correct=_csv_correct,
    read_number=_cell_number,
)


# --- .xlsx workbooks -----------------------------------------------------------------------------

HEADER_SEARCH_ROWS = 20
"""A sheet's header row is looked for in its first rows: Kahoot's template has title rows above it."""
KAHOOT_HEADER = "Question, Answer 1, ..., Answer N, Time limit (sec), Correct answer(s)"
KAHOOT_CORRECT = "correct answer(s)"
KAHOOT_DEFAULT_CATEGORY = "General"
_QUESTION_CELL = re.compile(r"question\b")
_KAHOOT_ANSWER_CELL = re.compile(r"answer\s*([0-9]+)\b")
_KAHOOT_ROLES = {"question": _QUESTION_CELL, KAHOOT_CORRECT: re.compile(r"correct answer")}
"""Kahoot's one-of-a-kind columns and how their header cells begin (casefolded)."""
_UNTITLED_SHEET = re.compile(r"(sheet\s*[0-9]*)?")
"""Titles spreadsheets give a new sheet ('Sheet1'; Kahoot's template: 'Sheet 1'), which name no category."""


@dataclass(frozen=True)
class _KahootLayout:
    """Where Kahoot's columns are, from its header row. Other columns are not read: the template
    numbers its rows in column A, and a question set has no per-question time (the run sets it)."""

    question: int
    answers: list[int]
    """Positions of Answer 1..N."""
    correct: int


@dataclass(frozen=True)
class _SheetTable:
    """A sheet with a valid header row: the 1-based row number of that header and how to read the rows."""

    sheet: Sheet
    header_row: int
    layout: _CsvLayout | _KahootLayout

    @property
    def layout_name(self) -> str:
        return "Kahoot" if isinstance(self.layout, _KahootLayout) else "CSV columns"

    def question_rows(self) -> list[tuple[int, list[str]]]:
        """The rows below the header that hold anything the layout reads, with their row numbers."""
        below = enumerate(self.sheet.rows[self.header_row :], start=self.header_row + 1)
        return [(number, cells) for number, cells in below if self._has_content(cells)]

    def _has_content(self, cells: list[str]) -> bool:
        if isinstance(self.layout, _KahootLayout):
            read = [self.layout.question, self.layout.correct, *self.layout.answers]
            return any(position < len(cells) and cells[position].strip() for position in read)
        return any(cell.strip() for cell in cells)


def _parse_workbook(content: bytes, images: ImageResolver) -> ParsedQuestionSet:
    try:
        sheets = read_workbook(content)
    except WorkbookUnreadable as exc:
        raise _file_problem(f"cannot read the file as an .xlsx workbook: {exc.reason}", exc.reason) from None
    header_problems: list[Problem] = []
    tables = [table for sheet in sheets if (table := _sheet_table(sheet, header_problems)) is not None]
    _check_one_layout(tables, header_problems)
    if header_problems:
        first = header_problems[0]
        raise BadRequest(
            f"invalid spreadsheet header in {first.location}: {first.reason}; expected a header row "
            f"{CSV_HEADER} or Kahoot's {KAHOOT_HEADER}",
            details=[problem.as_detail() for problem in header_problems],
        )
    rows = [(table, number, cells) for table in tables for number, cells in table.question_rows()]
    if not rows:
        raise _no_questions()
    if len(rows) > MAX_QUESTIONS:
        raise _too_many(len(rows))
    problems: list[Problem] = []
    questions: list[Question] = []
    for table, number, cells in rows:
        checker = _Checker(where={"sheet": table.sheet.title, "row": number}, images=images)
        if isinstance(table.layout, _KahootLayout):
            question = _kahoot_question(cells, table.layout, _sheet_category(table.sheet.title), checker)
        else:
            header_width = len(table.sheet.rows[table.header_row - 1])
            question = _csv_question(cells, table.layout, header_width, checker)
        problems.extend(checker.problems)
        if question is not None:
            questions.append(question)
    if problems:
        raise QuestionSetInvalid(problems)
    source_format = "kahoot_xlsx" if isinstance(tables[0].layout, _KahootLayout) else "xlsx"
    return ParsedQuestionSet.model_validate({"name": None, "source_format": source_format, "questions": questions})


def _sheet_table(sheet: Sheet, problems: list[Problem]) -> _SheetTable | None:
    """The sheet's header row and layout; None for an empty sheet, or with the reasons in `problems`."""
    if not any(sheet.rows):
        return None
    header_row = next(
        (
            number
            for number, cells in enumerate(sheet.rows[:HEADER_SEARCH_ROWS], start=1)
            if any(_QUESTION_CELL.match(cell.strip().casefold()) for cell in cells)
        ),
        None,
    )
    if header_row is None:
        reason = f"no header row (a row with a question column) in the first {HEADER_SEARCH_ROWS} rows"
        problems.append(Problem(sheet=sheet.title, field="header", reason=reason))
        return None
    header = sheet.rows[header_row - 1]
    reasons: list[str] = []
    kahoot = any(_KAHOOT_ANSWER_CELL.match(cell.strip().casefold()) for cell in header)
    layout = _kahoot_layout(header, reasons) if kahoot else _table_layout(header, reasons)
    problems.extend(Problem(sheet=sheet.title, row=header_row, field="header", reason=reason) for reason in reasons)
    return _SheetTable(sheet=sheet, header_row=header_row, layout=layout) if layout is not None else None


def _check_one_layout(tables: list[_SheetTable], problems: list[Problem]) -> None:
    """A workbook is Kahoot's template or the CSV columns, not both: its format is one of the two."""
    for table in tables[1:]:
        if table.layout_name != tables[0].layout_name:
            reason = (
                f"has the {table.layout_name} layout but sheet {tables[0].sheet.title!r} has the "
                f"{tables[0].layout_name} layout: use one layout per workbook"
            )
            problems.append(Problem(sheet=table.sheet.title, row=table.header_row, field="header", reason=reason))


def _kahoot_layout(header: list[str], reasons: list[str]) -> _KahootLayout | None:
    """Kahoot's columns as its header row names them ('Question - max 120 characters', 'Answer 1 - ...',
    'Correct answer(s) - ...'), or None with what is wrong added to `reasons`."""
    before = len(reasons)
    named: dict[str, int] = {}
    answers: dict[int, int] = {}
    for position, cell in enumerate(header):
        name = cell.strip().casefold()
        answer = _KAHOOT_ANSWER_CELL.match(name)
        role = next((role for role, cell_start in _KAHOOT_ROLES.items() if cell_start.match(name)), None)
        if answer is not None:
            number = int(answer.group(1))
            if number in answers:
                reasons.append(f"more than one column for answer {number}")
            answers.setdefault(number, position)
        elif role is not None:
            if role in named:
                reasons.append(f"more than one {role} column")
            named.setdefault(role, position)
    missing = [role for role in _KAHOOT_ROLES if role not in named]
    if missing:
        reasons.append(f"missing column(s): {', '.join(missing)}")
    if sorted(answers) != list(range(1, len(answers) + 1)):
        reasons.append(f"answer columns must be Answer 1..Answer N without gaps (found {sorted(answers)})")
    if not MIN_OPTIONS <= len(answers) <= MAX_OPTIONS:
        reasons.append(f"needs {MIN_OPTIONS} to {MAX_OPTIONS} answer columns Answer 1..Answer N (has {len(answers)})")
    if len(reasons) != before:
        return None
    return _KahootLayout(
        question=named["question"], answers=[answers[n] for n in sorted(answers)], correct=named[KAHOOT_CORRECT]
    )


def _sheet_category(title: str) -> str:
    """Kahoot's rows name no category: the sheet's title is theirs, unless it is a new sheet's default."""
    return KAHOOT_DEFAULT_CATEGORY if _UNTITLED_SHEET.fullmatch(title.strip().casefold()) else title


def _kahoot_question(cells: list[str], layout: _KahootLayout, category: str, checker: _Checker) -> Question | None:
    def cell(position: int) -> str:
        return cells[position] if position < len(cells) else ""

    checked_category = checker.text(category, "category", MAX_CATEGORY_CHARS)
    text = checker.text(cell(layout.question), "question", MAX_TEXT_CHARS)
    # The options are the answers filled in: Kahoot lets a question use 2 of its 4 answer cells.
    filled = [(n, cell(position)) for n, position in enumerate(layout.answers, start=1) if cell(position).strip()]
    options = checker.options([answer for _, answer in filled], lambda index: f"answer {filled[index][0]}", "answers")
    correct = _kahoot_correct(cell(layout.correct), [number for number, _ in filled], len(layout.answers), checker)
    if checker.problems or checked_category is None or text is None or options is None or correct is None:
        return None
    return Question(category=checked_category, text=text, options=options, correct=correct)


def _kahoot_correct(value: str, filled: list[int], answer_columns: int, checker: _Checker) -> list[int] | None:
    """`Correct answer(s)` as Kahoot writes it: answer numbers separated by `,`, each naming a filled
    answer; the indexes returned count the filled answers only, as the options do."""
    parts = [part.strip() for part in value.split(",")] if value.strip() else []
    if not parts:
        checker.add(KAHOOT_CORRECT, "is required: answer numbers such as 1 or 1,3")
        return None
    if not all(_OPTION_NUMBER.fullmatch(part) for part in parts):
        checker.add(KAHOOT_CORRECT, f"must be answer numbers separated by ',' such as 1 or 1,3 (got {value.strip()!r})")
        return None
    numbers = [int(part) for part in parts]
    before = len(checker.problems)
    checker.correct([number - 1 for number in numbers], answer_columns, KAHOOT_CORRECT, one_based=True)
    for number in numbers:
        if 1 <= number <= answer_columns and number not in filled:
            checker.add(KAHOOT_CORRECT, f"answer {number} is empty")
    return [filled.index(number) for number in numbers] if len(checker.problems) == before else None
