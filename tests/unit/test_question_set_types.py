"""Question types in question-set files: choice, true_false, poll, numeric and order, in the JSON object
and array formats, CSV and the CSV columns in an .xlsx sheet; every problem located as for any field."""

from __future__ import annotations

import json
import math
from typing import Any, get_args

import pytest

from speedrun.errors import BadRequest, DomainError
from speedrun.question_sets.models import ParsedQuestionSet, Question, StoredQuestionSet, count_categories
from speedrun.question_sets.parsing import CSV_HEADER, parse_question_set
from speedrun.question_types import (
    MAX_NUMERIC_ABS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    OPTION_COUNTS,
    QUESTION_TYPES,
    TRUE_FALSE_OPTIONS,
    QuestionType,
    select_count,
)
from tests.support.question_sets import workbook_bytes


def typed(kind: Any, **fields: Any) -> dict[str, Any]:
    """A question of `kind` (None: no `type` key; any other value is written as it is)."""
    question: dict[str, Any] = {"category": "quiz", "text": "Which one?", **fields}
    if kind is not None:
        question["type"] = kind
    return question


def json_file(*questions: Any, as_array: bool = False) -> bytes:
    return json.dumps(list(questions) if as_array else {"questions": list(questions)}).encode()


def refusal(content: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_question_set(content)
    return caught.value


def problems(content: bytes) -> list[dict[str, Any]]:
    error = refusal(content)
    assert isinstance(error, BadRequest)
    assert error.details, error.message
    return list(error.details)


def answer_fields(question: Question) -> tuple[Any, ...]:
    return (question.type, question.options, question.correct, question.answer, question.tolerance)


# --- the model -------------------------------------------------------------------------------------


def test_the_types_and_their_option_counts_are_defined_once() -> None:
    assert QUESTION_TYPES == get_args(QuestionType) == ("choice", "true_false", "poll", "numeric", "order")
    assert OPTION_COUNTS == {
        "choice": (MIN_OPTIONS, MAX_OPTIONS),
        "true_false": (2, 2),
        "poll": (MIN_OPTIONS, MAX_OPTIONS),
        "numeric": (0, 0),
        "order": (3, 6),
    }
    assert TRUE_FALSE_OPTIONS == ("True", "False")


@pytest.mark.parametrize(
    ("kind", "options", "correct", "count"),
    [
        ("choice", 4, [0, 2], 2),
        ("true_false", 2, [1], 1),
        ("poll", 5, [], 1),
        ("numeric", 0, [], 0),
        ("order", 4, [3, 1, 0, 2], 4),
    ],
)
def test_the_select_count_of_each_type(kind: QuestionType, options: int, correct: list[int], count: int) -> None:
    assert select_count(kind, options, len(correct)) == count
    question = Question(type=kind, category="c", text="t", options=[str(n) for n in range(options)], correct=correct)
    assert question.select_count == count


def test_a_set_stored_before_types_reads_its_questions_as_choices() -> None:
    stored = StoredQuestionSet.model_validate(
        {
            "id": "01J0000000000000000000000A",
            "owner": "host-1",
            "name": "Old",
            "created_at": "2026-01-01T00:00:00Z",
            "source_format": "json",
            "categories": {"c": 1},
            "questions": [{"category": "c", "text": "t", "options": ["a", "b", "c"], "correct": [0, 2]}],
        }
    )
    [question] = stored.questions
    assert answer_fields(question) == ("choice", ["a", "b", "c"], [0, 2], None, None)
    assert question.select_count == 2
    assert count_categories(stored.questions) == {"c": 1}


# --- JSON: valid questions of each type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (typed(None, options=["a", "b"], correct=[1]), ("choice", ["a", "b"], [1], None, None)),
        (typed("choice", options=["a", "b", "c"], correct=[0, 2]), ("choice", ["a", "b", "c"], [0, 2], None, None)),
        (typed(" Choice ", options=["a", "b"], correct=[0], answer=None), ("choice", ["a", "b"], [0], None, None)),
        (typed("", options=["a", "b"], correct=[0], tolerance=None), ("choice", ["a", "b"], [0], None, None)),
        (typed("true_false", correct=True), ("true_false", ["True", "False"], [0], None, None)),
        (typed("true_false", correct=False), ("true_false", ["True", "False"], [1], None, None)),
        (typed("true_false", options=[], correct=[1]), ("true_false", ["True", "False"], [1], None, None)),
        (typed("TRUE_FALSE", options=["Yes", "No"], correct=[0]), ("true_false", ["Yes", "No"], [0], None, None)),
        (typed("poll", options=["a", "b"]), ("poll", ["a", "b"], [], None, None)),
        (
            typed("poll", options=[str(n) for n in range(8)], correct=[]),
            ("poll", [str(n) for n in range(8)], [], None, None),
        ),
        (typed("numeric", answer=42), ("numeric", [], [], 42.0, 0.0)),
        (typed("numeric", answer=-3.5, tolerance=0.25), ("numeric", [], [], -3.5, 0.25)),
        (typed("numeric", answer=0, tolerance=0, options=[], correct=[]), ("numeric", [], [], 0.0, 0.0)),
        (
            typed("numeric", answer=MAX_NUMERIC_ABS, tolerance=MAX_NUMERIC_ABS, option_images=[]),
            ("numeric", [], [], float(MAX_NUMERIC_ABS), float(MAX_NUMERIC_ABS)),
        ),
        (typed("numeric", answer=-MAX_NUMERIC_ABS), ("numeric", [], [], -float(MAX_NUMERIC_ABS), 0.0)),
        (typed("order", options=["a", "b", "c"]), ("order", ["a", "b", "c"], [0, 1, 2], None, None)),
        (typed("order", options=["a", "b", "c"], correct=[]), ("order", ["a", "b", "c"], [0, 1, 2], None, None)),
        (
            typed("order", options=["a", "b", "c", "d", "e", "f"], correct=[5, 3, 1, 0, 2, 4]),
            ("order", ["a", "b", "c", "d", "e", "f"], [5, 3, 1, 0, 2, 4], None, None),
        ),
    ],
)
def test_a_valid_question_of_each_type_parses_in_both_json_forms(question: dict[str, Any], expected: tuple) -> None:
    for as_array in (False, True):
        [parsed] = parse_question_set(json_file(question, as_array=as_array)).questions
        assert answer_fields(parsed) == expected


def test_the_select_count_follows_the_type_of_a_parsed_question() -> None:
    parsed = parse_question_set(
        json_file(
            typed("choice", options=["a", "b", "c"], correct=[0, 1]),
            typed("true_false", correct=True),
            typed("poll", options=["a", "b", "c"]),
            typed("numeric", answer=1),
            typed("order", options=["a", "b", "c", "d"]),
        )
    )
    assert [q.select_count for q in parsed.questions] == [2, 1, 1, 0, 4]


# --- JSON: the rules of each type --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # type
        (
            typed("multiple", options=["a", "b"], correct=[0]),
            [("type", "must be one of choice, true_false, poll, numeric, order (got 'multiple')")],
        ),
        (
            typed(3, options=["a", "b"], correct=[0]),
            [("type", "must be a string (choice, true_false, poll, numeric, order), not a number")],
        ),
        (
            typed(True, options=["a", "b"], correct=[0]),
            [("type", "must be a string (choice, true_false, poll, numeric, order), not a boolean")],
        ),
        (
            typed(["poll"], options=["a", "b"]),
            [("type", "must be a string (choice, true_false, poll, numeric, order), not an array")],
        ),
        # choice: as before types, and no number
        (
            typed("choice", options=["a", "b"], correct=[0], answer=3),
            [("answer", "only numeric questions have an answer")],
        ),
        (
            typed(None, options=["a", "b"], correct=[0], tolerance=0),
            [("tolerance", "only numeric questions have a tolerance")],
        ),
        (typed("choice", options=["a"], correct=[0]), [("options", "must have 2 to 8 options (has 1)")]),
        # true_false
        (typed("true_false"), [("correct", "is required: true, false, [0] or [1]")]),
        (
            typed("true_false", correct=[0, 1]),
            [("correct", "a true_false question has one correct option: true, false, [0] or [1]")],
        ),
        (typed("true_false", correct=[2]), [("correct", "2 is out of range: options are numbered 0..1")]),
        (typed("true_false", correct=[]), [("correct", "at least one correct option is required")]),
        (typed("true_false", correct="true"), [("correct", "must be true, false, [0] or [1]")]),
        (typed("true_false", correct=1), [("correct", "must be true, false, [0] or [1]")]),
        (typed("true_false", correct=[True]), [("correct", "must be true, false, [0] or [1]")]),
        (
            typed("true_false", options=["a", "b", "c"], correct=[0]),
            [("options", "true_false questions need exactly 2 options (has 3)")],
        ),
        (
            typed("true_false", options=["Yes"], correct=[0]),
            [("options", "true_false questions need exactly 2 options (has 1)")],
        ),
        (
            typed("true_false", options=["Yes", "Yes"], correct=[0]),
            [("options", "duplicate option 'Yes' (options[0] and options[1])")],
        ),
        (typed("true_false", correct=True, answer=1), [("answer", "only numeric questions have an answer")]),
        # poll
        (typed("poll", options=["a", "b"], correct=[0]), [("correct", "a poll has no correct answer")]),
        (typed("poll", options=["a", "b"], correct=True), [("correct", "a poll has no correct answer")]),
        (typed("poll", options=["a", "b"], answers=[1]), [("answers", "a poll has no correct answer")]),
        (typed("poll", options=["a"]), [("options", "poll questions need 2 to 8 options (has 1)")]),
        (
            typed("poll", options=[str(n) for n in range(9)]),
            [("options", "poll questions need 2 to 8 options (has 9)")],
        ),
        (typed("poll"), [("options", "is required")]),
        (typed("poll", options=["a", "b"], tolerance=1), [("tolerance", "only numeric questions have a tolerance")]),
        # numeric
        (typed("numeric"), [("answer", "is required: the correct number")]),
        (typed("numeric", answer=""), [("answer", "is required: the correct number")]),
        (typed("numeric", answer=1, options=["a", "b"]), [("options", "numeric questions take no options")]),
        (
            typed("numeric", answer=1, correct=[0]),
            [("correct", "a numeric question has no correct option: its correct number is `answer`")],
        ),
        (typed("numeric", answer=True), [("answer", "must be a number, not a boolean")]),
        (typed("numeric", answer="42"), [("answer", "must be a number, not a string")]),
        (typed("numeric", answer=[42]), [("answer", "must be a number, not an array")]),
        (typed("numeric", answer={"value": 42}), [("answer", "must be a number, not an object")]),
        (typed("numeric", answer=math.inf), [("answer", "must be a finite number")]),
        (typed("numeric", answer=-math.inf), [("answer", "must be a finite number")]),
        (typed("numeric", answer=math.nan), [("answer", "must be a finite number")]),
        (typed("numeric", answer=MAX_NUMERIC_ABS + 1), [("answer", "must be between -1000000000 and 1000000000")]),
        (typed("numeric", answer=-1e10), [("answer", "must be between -1000000000 and 1000000000")]),
        (typed("numeric", answer=10**400), [("answer", "must be between -1000000000 and 1000000000")]),
        (typed("numeric", answer=1, tolerance=-0.5), [("tolerance", "must be between 0 and 1000000000")]),
        (typed("numeric", answer=1, tolerance=2e9), [("tolerance", "must be between 0 and 1000000000")]),
        (typed("numeric", answer=1, tolerance=False), [("tolerance", "must be a number, not a boolean")]),
        (typed("numeric", answer=1, tolerance="1"), [("tolerance", "must be a number, not a string")]),
        (typed("numeric", answer=1, tolerance=math.inf), [("tolerance", "must be a finite number")]),
        (
            typed("numeric", answer=1, option_images=["a.png"]),
            [("option_images", "must have one entry per option (0), has 1")],
        ),
        # order
        (typed("order", options=["a", "b"]), [("options", "order questions need 3 to 6 options (has 2)")]),
        (
            typed("order", options=[str(n) for n in range(7)]),
            [("options", "order questions need 3 to 6 options (has 7)")],
        ),
        (typed("order"), [("options", "is required")]),
        (
            typed("order", options=["a", "b", "c"], correct=[0, 1]),
            [("correct", "must name every option once, in the correct order (0..2 in some order; got [0, 1])")],
        ),
        (
            typed("order", options=["a", "b", "c"], correct=[0, 0, 1]),
            [("correct", "must name every option once, in the correct order (0..2 in some order; got [0, 0, 1])")],
        ),
        (
            typed("order", options=["a", "b", "c"], correct=[1, 2, 3]),
            [("correct", "must name every option once, in the correct order (0..2 in some order; got [1, 2, 3])")],
        ),
        (
            typed("order", options=["a", "b", "c"], correct=True),
            [("correct", "must be a list of 0-based option indexes (integers)")],
        ),
        (
            typed("order", options=["a", "b", "c"], correct=[0.0, 1, 2]),
            [("correct", "must be a list of 0-based option indexes (integers)")],
        ),
        (typed("order", options=["a", "b", "c"], answer=1), [("answer", "only numeric questions have an answer")]),
    ],
)
def test_each_type_rule_is_enforced_with_the_question_number(question: dict[str, Any], expected: list[tuple]) -> None:
    assert [(p["question"], p["field"], p["reason"]) for p in problems(json_file(question))] == [
        (1, field, reason) for field, reason in expected
    ]


def test_every_problem_of_a_question_is_reported_options_first_then_correct_answer_and_tolerance() -> None:
    question = typed("numeric", options=["a"], correct=[0], answer=True, tolerance=-1)
    assert [(p["field"], p["reason"]) for p in problems(json_file(question))] == [
        ("options", "numeric questions take no options"),
        ("correct", "a numeric question has no correct option: its correct number is `answer`"),
        ("answer", "must be a number, not a boolean"),
        ("tolerance", "must be between 0 and 1000000000"),
    ]


def test_with_an_unknown_type_the_other_fields_are_still_checked() -> None:
    assert [(p["field"], p["reason"]) for p in problems(json_file(typed("quiz", category="", correct=[9])))] == [
        ("type", "must be one of choice, true_false, poll, numeric, order (got 'quiz')"),
        ("category", "must not be empty"),
    ]


def test_problems_of_questions_of_every_type_are_reported_together() -> None:
    error = refusal(
        json_file(
            typed("true_false", correct=True),
            typed("poll", options=["a", "b"], correct=[1]),
            typed("numeric"),
            typed("order", options=["a", "b"]),
        )
    )
    assert error.details == [
        {"question": 2, "field": "correct", "reason": "a poll has no correct answer"},
        {"question": 3, "field": "answer", "reason": "is required: the correct number"},
        {"question": 4, "field": "options", "reason": "order questions need 3 to 6 options (has 2)"},
    ]


# --- JSON: wrong JSON types in every new field ---------------------------------------------------------

ANY_JSON = [None, True, False, 0, 1, -1, 2.5, 1e300, "", "x", "0", [], [0], [True], [0, 1, 2], ["a"], {}, {"a": 1}]
"""A value of every JSON type (and a few that look like indexes or numbers)."""
BASES = {
    "choice": typed("choice", options=["a", "b", "c"], correct=[0]),
    "true_false": typed("true_false", correct=True),
    "poll": typed("poll", options=["a", "b", "c"]),
    "numeric": typed("numeric", answer=1, tolerance=0.5),
    "order": typed("order", options=["a", "b", "c"], correct=[2, 1, 0]),
}


@pytest.mark.parametrize("kind", list(BASES))
@pytest.mark.parametrize("field", ["type", "options", "correct", "answer", "tolerance", "option_images"])
def test_any_json_value_in_a_typed_field_parses_or_is_a_bad_request_naming_problems(kind: str, field: str) -> None:
    """Fuzz-ish: never another exception, and a refusal lists located problems (one of them the field)."""
    for value in ANY_JSON:
        question = {**BASES[kind], field: value}
        for as_array in (False, True):
            try:
                parsed = parse_question_set(json_file(question, as_array=as_array))
            except BadRequest as refused:
                assert refused.details, (field, value)
                assert all(p["question"] == 1 and p["field"] and p["reason"] for p in refused.details)
                if (
                    field != "type"
                ):  # a wrong type's problem is the type's; other fields are checked as far as they can be
                    assert field in {p["field"].split("[")[0] for p in refused.details}, (kind, field, value)
            else:
                assert isinstance(parsed, ParsedQuestionSet)
                [question_parsed] = parsed.questions
                assert question_parsed.type in QUESTION_TYPES


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [("true_false", "correct", value) for value in ["true", 1, 0, 2.5, {}, [True], [0, 1], [2], [-1], [0.0], ["0"]]]
    + [("poll", "correct", value) for value in [True, False, 0, [0], [0, 1], "1", {}]]
    + [("numeric", "correct", value) for value in [True, 0, [0], "x", {}]]
    + [("order", "correct", value) for value in [True, 0, [0], [0, 1], [0, 1, 1], [0, 1, 2, 3], "0,1,2", [0.0, 1, 2]]]
    + [("numeric", "answer", value) for value in [True, False, "42", [42], {}, math.nan, math.inf, 1e10]]
    + [("numeric", "tolerance", value) for value in [True, "1", [1], {}, -0.5, math.nan, math.inf, 2e9]]
    + [
        (kind, "answer", value)
        for kind in ("choice", "true_false", "poll", "order")
        for value in [0, 1.5, True, "x", [1], {}]
    ]
    + [(kind, "tolerance", value) for kind in ("choice", "true_false", "poll", "order") for value in [0, True, "x"]]
    + [("true_false", "options", value) for value in [["a", "b", "c"], "ab", {}, 5, [1, 2], [True, False], ["a", ""]]]
    + [("numeric", "options", value) for value in [["a"], ["a", "b"], "a", {}, 3, [None]]]
    + [
        ("order", "options", value)
        for value in [["a", "b"], [str(n) for n in range(7)], "abc", [1, 2, 3], ["a", "a", "b"]]
    ]
    + [("poll", "options", value) for value in [["a"], [str(n) for n in range(9)], "ab", None]]
    + [
        (kind, "type", value)
        for kind in BASES
        for value in [True, 0, 1.5, [kind], {kind: kind}, "boolean", "multiple_choice"]
    ],
)
def test_a_wrong_value_in_a_typed_field_is_a_bad_request_naming_the_field(kind: str, field: str, value: Any) -> None:
    details = problems(json_file({**BASES[kind], field: value}))
    assert all(p["question"] == 1 for p in details)
    assert field in {p["field"].split("[")[0] for p in details}, details  # `options[1]` is an option's field


# --- CSV -------------------------------------------------------------------------------------------------

TYPED_HEADER = "type,category,question,option_1,option_2,option_3,option_4,correct,answer,tolerance,explanation"


def csv_file(*rows: str, header: str = TYPED_HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (",geo,Q?,a,b,c,,2,,,", ("choice", ["a", "b", "c"], [1], None, None)),
        ("choice,geo,Q?,a,b,c,,1;3,,,", ("choice", ["a", "b", "c"], [0, 2], None, None)),
        ("true_false,geo,Q?,,,,,true,,,", ("true_false", ["True", "False"], [0], None, None)),
        ("True_False,geo,Q?,,,,,FALSE,,,", ("true_false", ["True", "False"], [1], None, None)),
        ("true_false,geo,Q?,,,,,2,,,", ("true_false", ["True", "False"], [1], None, None)),
        ("true_false,geo,Q?,Yes,No,,,1,,,", ("true_false", ["Yes", "No"], [0], None, None)),
        ("poll,geo,Q?,a,b,c,d,,,,", ("poll", ["a", "b", "c", "d"], [], None, None)),
        ("numeric,geo,Q?,,,,,,42,,", ("numeric", [], [], 42.0, 0.0)),
        ("numeric,geo,Q?,,,,,, -3.5 ,0.25,", ("numeric", [], [], -3.5, 0.25)),
        ("numeric,geo,Q?,,,,,,1e3,.5,", ("numeric", [], [], 1000.0, 0.5)),
        ("numeric,geo,Q?,,,,,,+7.,0,", ("numeric", [], [], 7.0, 0.0)),
        ("order,geo,Q?,a,b,c,d,,,,", ("order", ["a", "b", "c", "d"], [0, 1, 2, 3], None, None)),
        ("order,geo,Q?,a,b,c,d,3;1;4;2,,,", ("order", ["a", "b", "c", "d"], [2, 0, 3, 1], None, None)),
    ],
)
def test_a_valid_csv_row_of_each_type(row: str, expected: tuple) -> None:
    [parsed] = parse_question_set(csv_file(row)).questions
    assert answer_fields(parsed) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("quiz,geo,Q?,a,b,,,1,,,", [("type", "must be one of choice, true_false, poll, numeric, order (got 'quiz')")]),
        ("choice,geo,Q?,a,b,,,1,5,,", [("answer", "only numeric questions have an answer")]),
        ("choice,geo,Q?,a,b,,,1,,0,", [("tolerance", "only numeric questions have a tolerance")]),
        ("true_false,geo,Q?,,,,,,,,", [("correct", "is required: 1 or true (the first option), 2 or false")]),
        ("true_false,geo,Q?,,,,,yes,,,", [("correct", "must be 1 or true (the first option), 2 or false (got 'yes')")]),
        ("true_false,geo,Q?,,,,,3,,,", [("correct", "3 is out of range: options are numbered 1..2")]),
        (
            "true_false,geo,Q?,,,,,1;2,,,",
            [("correct", "a true_false question has one correct option: 1 or true (the first option), 2 or false")],
        ),
        ("true_false,geo,Q?,Yes,,,,1,,,", [("options", "true_false questions need exactly 2 options (has 1)")]),
        ("true_false,geo,Q?,a,b,c,,1,,,", [("options", "true_false questions need exactly 2 options (has 3)")]),
        ("poll,geo,Q?,a,b,,,1,,,", [("correct", "a poll has no correct answer")]),
        ("poll,geo,Q?,a,,,,,,,", [("options", "poll questions need 2 to 8 options (has 1)")]),
        ("numeric,geo,Q?,,,,,,,,", [("answer", "is required: the correct number")]),
        ("numeric,geo,Q?,,,,,,,1,", [("answer", "is required: the correct number")]),
        ("numeric,geo,Q?,a,,,,,1,,", [("options", "numeric questions take no options")]),
        (
            "numeric,geo,Q?,,,,,1,1,,",
            [("correct", "a numeric question has no correct option: its correct number is `answer`")],
        ),
        ("numeric,geo,Q?,,,,,,abc,,", [("answer", "must be a number such as 42, -3.5 or 1e6 (got 'abc')")]),
        ("numeric,geo,Q?,,,,,,TRUE,,", [("answer", "must be a number such as 42, -3.5 or 1e6 (got 'TRUE')")]),
        ('numeric,geo,Q?,,,,,,"3,5",,', [("answer", "must be a number such as 42, -3.5 or 1e6 (got '3,5')")]),
        ("numeric,geo,Q?,,,,,,1_000,,", [("answer", "must be a number such as 42, -3.5 or 1e6 (got '1_000')")]),
        (
            "numeric,geo,Q?,,,,,,nan,inf,",
            [
                ("answer", "must be a number such as 42, -3.5 or 1e6 (got 'nan')"),
                ("tolerance", "must be a number such as 42, -3.5 or 1e6 (got 'inf')"),
            ],
        ),
        ("numeric,geo,Q?,,,,,,1e999,,", [("answer", "must be a finite number")]),
        ("numeric,geo,Q?,,,,,,1000000001,,", [("answer", "must be between -1000000000 and 1000000000")]),
        ("numeric,geo,Q?,,,,,,1,-1,", [("tolerance", "must be between 0 and 1000000000")]),
        ("order,geo,Q?,a,b,,,,,,", [("options", "order questions need 3 to 6 options (has 2)")]),
        (
            "order,geo,Q?,a,b,c,,1;2,,,",
            [("correct", "must name every option once, in the correct order (1..3 in some order; got [1, 2])")],
        ),
        (
            "order,geo,Q?,a,b,c,,1;1;2,,,",
            [("correct", "must name every option once, in the correct order (1..3 in some order; got [1, 1, 2])")],
        ),
        (
            "order,geo,Q?,a,b,c,,1-2-3,,,",
            [
                (
                    "correct",
                    "must be the option numbers in the correct order, separated by ';', such as 2;1;3 (got '1-2-3')",
                )
            ],
        ),
        ("order,geo,Q?,a,,c,,,,,", [("option_2", "must not be empty")]),
    ],
)
def test_each_type_rule_is_enforced_in_csv_with_the_line_number(row: str, expected: list[tuple]) -> None:
    found = problems(csv_file("choice,geo,Fine?,a,b,,,1,,,", row))
    assert [(p["line"], p["field"], p["reason"]) for p in found] == [(3, field, reason) for field, reason in expected]


def test_the_new_columns_are_optional_any_case_and_any_order() -> None:
    header = "Tolerance,CORRECT,category,question,option_1,option_2,option_3,Answer,Type"
    parsed = parse_question_set(csv_file(",2,geo,Q?,a,b,,,", "0.5,,geo,N?,,,,12,numeric", header=header))
    assert [answer_fields(q) for q in parsed.questions] == [
        ("choice", ["a", "b"], [1], None, None),
        ("numeric", [], [], 12.0, 0.5),
    ]
    untyped = parse_question_set(csv_file("geo,Q?,a,b,1", header="category,question,option_1,option_2,correct"))
    assert untyped.questions[0].type == "choice"


def test_the_expected_header_names_the_new_columns() -> None:
    error = refusal(csv_file("geo,Q?,a,b,1", header="category,question,option_1,option_2,correct,kind"))
    assert CSV_HEADER in error.message
    assert all(column in CSV_HEADER for column in ("[,type]", "[,answer]", "[,tolerance]"))
    assert error.details == [{"line": 1, "field": "header", "reason": "unknown column 'kind'"}]


def test_option_numbers_too_long_to_be_numbers_are_a_problem_not_a_crash() -> None:
    digits = "1" * 5000
    found = problems(csv_file(f"choice,geo,Q?,a,b,,,{digits},,,"))
    assert [(p["field"], p["reason"][:50]) for p in found] == [
        ("correct", "must be option numbers separated by ';' such as 2 "),
    ]
    header = f"category,question,option_1,option_2,option_{digits},correct"
    assert refusal(csv_file("geo,Q?,a,b,c,1", header=header)).details[0]["field"] == "header"


# --- .xlsx: the CSV columns in a sheet -------------------------------------------------------------------

SHEET_HEADER = ["type", "category", "question", "option_1", "option_2", "option_3", "correct", "answer", "tolerance"]


def sheet_file(*rows: list[Any]) -> bytes:
    return workbook_bytes({"Quiz": [["All question types"], [], SHEET_HEADER, *rows]})


def test_a_sheet_holds_questions_of_every_type_with_typed_cells() -> None:
    parsed = parse_question_set(
        sheet_file(
            ["choice", "geo", "Capital of Peru?", "Lima", "Cusco", None, 1],
            ["true_false", "geo", "Lima is on the coast.", None, None, None, True],
            ["true_false", "geo", "Cusco is the capital.", "Yes", "No", None, 2],
            ["poll", "geo", "Best city?", "Lima", "Cusco", "Arequipa"],
            ["numeric", "geo", "Lima's population (millions)?", None, None, None, None, 10.9, 0.5],
            ["numeric", "geo", "Lima's founding year?", None, None, None, None, 1535],
            ["order", "geo", "North to south?", "Tumbes", "Lima", "Tacna", "1;2;3"],
            ["order", "geo", "South to north?", "Tumbes", "Lima", "Tacna", "3;2;1"],
        )
    )
    assert parsed.source_format == "xlsx"
    assert [answer_fields(q) for q in parsed.questions] == [
        ("choice", ["Lima", "Cusco"], [0], None, None),
        ("true_false", ["True", "False"], [0], None, None),
        ("true_false", ["Yes", "No"], [1], None, None),
        ("poll", ["Lima", "Cusco", "Arequipa"], [], None, None),
        ("numeric", [], [], 10.9, 0.5),
        ("numeric", [], [], 1535.0, 0.0),
        ("order", ["Tumbes", "Lima", "Tacna"], [0, 1, 2], None, None),
        ("order", ["Tumbes", "Lima", "Tacna"], [2, 1, 0], None, None),
    ]


def test_each_type_rule_is_enforced_in_a_sheet_with_its_title_and_row() -> None:
    error = refusal(
        sheet_file(
            ["true_false", "geo", "Q?", None, None, None, "maybe"],
            ["poll", "geo", "Q?", "a", "b", None, 1],
            ["numeric", "geo", "Q?", None, None, None, None, True],
            ["numeric", "geo", "Q?", None, None, None, None, 1, -2],
            ["numeric", "geo", "Q?", "a", None, None, None, "ten"],
            ["order", "geo", "Q?", "a", "b", None],
            ["order", "geo", "Q?", "a", "b", "c", "1;2"],
            ["choice", "geo", "Q?", "a", "b", None, 1, 5],
            ["chioce", "geo", "Q?", "a", "b", None, 1],
        )
    )
    assert [(p["sheet"], p["row"], p["field"], p["reason"]) for p in error.details or []] == [
        ("Quiz", 4, "correct", "must be 1 or true (the first option), 2 or false (got 'maybe')"),
        ("Quiz", 5, "correct", "a poll has no correct answer"),
        ("Quiz", 6, "answer", "must be a number such as 42, -3.5 or 1e6 (got 'TRUE')"),
        ("Quiz", 7, "tolerance", "must be between 0 and 1000000000"),
        ("Quiz", 8, "options", "numeric questions take no options"),
        ("Quiz", 8, "answer", "must be a number such as 42, -3.5 or 1e6 (got 'ten')"),
        ("Quiz", 9, "options", "order questions need 3 to 6 options (has 2)"),
        ("Quiz", 10, "correct", "must name every option once, in the correct order (1..3 in some order; got [1, 2])"),
        ("Quiz", 11, "answer", "only numeric questions have an answer"),
        ("Quiz", 12, "type", "must be one of choice, true_false, poll, numeric, order (got 'chioce')"),
    ]


def test_kahoots_template_stays_choice_only() -> None:
    header = ["", "Question - max 120 characters", "Answer 1", "Answer 2", "Time limit (sec)", "Correct answer(s)"]
    parsed = parse_question_set(workbook_bytes({"Sheet1": [header, [1, "Q?", "True", "False", 20, 1]]}))
    assert parsed.source_format == "kahoot_xlsx"
    assert answer_fields(parsed.questions[0]) == ("choice", ["True", "False"], [0], None, None)


# --- the content round trip ------------------------------------------------------------------------------

ONE_OF_EACH = {
    "choice": typed("choice", options=["a", "b", "c"], correct=[2, 0], explanation="Because."),
    "true_false": typed("true_false", correct=False),
    "true_false_named": typed("true_false", options=["Yes", "No"], correct=[0]),
    "poll": typed("poll", options=["a", "b", "c"]),
    "numeric": typed("numeric", answer=8848.86, tolerance=150),
    "numeric_exact": typed("numeric", answer=-7),
    "order": typed("order", options=["a", "b", "c", "d"], correct=[3, 1, 0, 2]),
    "order_as_written": typed("order", options=["a", "b", "c"]),
}


@pytest.mark.parametrize("name", list(ONE_OF_EACH))
def test_the_content_of_a_stored_set_uploads_again_to_the_same_questions(name: str) -> None:
    parsed = parse_question_set(json_file(ONE_OF_EACH[name]))
    stored = StoredQuestionSet(
        id="01J0000000000000000000000A",
        owner="host-1",
        name="Round trip",
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
        source_format=parsed.source_format,
        categories=count_categories(parsed.questions),
        questions=parsed.questions,
    )
    downloaded = stored.content.model_dump_json().encode()
    again = parse_question_set(downloaded)
    assert again.questions == stored.questions
    assert again.name == "Round trip"
    # and the stored file itself reads back the same
    assert StoredQuestionSet.model_validate_json(stored.model_dump_json()).questions == stored.questions
