"""Question-set files in JSON: the object format, the earlier array format, and every field rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from speedrun.errors import BadRequest, DomainError, TooLarge
from speedrun.question_sets.models import MAX_FILE_BYTES, MAX_QUESTIONS
from speedrun.question_sets.parsing import parse_question_set


def valid_question(**overrides: Any) -> dict[str, Any]:
    question: dict[str, Any] = {
        "category": "geography",
        "text": "Which city is the capital of Australia?",
        "options": ["Sydney", "Canberra", "Melbourne", "Perth"],
        "correct": [1],
        "explanation": "Canberra was chosen as a compromise in 1908.",
    }
    question.update(overrides)
    return {key: value for key, value in question.items() if value is not ...}


def encode(document: Any) -> bytes:
    return json.dumps(document).encode()


def refusal(content: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_question_set(content)
    return caught.value


def problems_of_one(question: dict[str, Any]) -> list[dict[str, Any]]:
    error = refusal(encode({"questions": [question]}))
    assert isinstance(error, BadRequest)
    assert error.details
    return list(error.details)


def test_a_valid_object_set_parses_with_its_name_and_0_based_correct_options() -> None:
    parsed = parse_question_set(encode({"name": " Capitals ", "questions": [valid_question()]}))
    assert parsed.name == "Capitals"
    assert parsed.source_format == "json"
    [question] = parsed.questions
    assert question.options[question.correct[0]] == "Canberra"
    assert question.select_count == 1
    assert question.explanation == "Canberra was chosen as a compromise in 1908."


def test_the_earlier_array_format_with_question_and_answers_keys_is_accepted() -> None:
    earlier = [
        {"category": "science", "question": "H2O is?", "options": ["water", "salt"], "answers": [0]},
        {"category": "science", "question": "Noble gases?", "options": ["He", "O", "Ne"], "answers": [0, 2]},
    ]
    parsed = parse_question_set(encode(earlier))
    assert parsed.source_format == "json_array"
    assert parsed.name is None
    assert [q.text for q in parsed.questions] == ["H2O is?", "Noble gases?"]
    assert parsed.questions[1].correct == [0, 2]


def test_a_utf8_bom_is_tolerated() -> None:
    parsed = parse_question_set(b"\xef\xbb\xbf" + encode({"questions": [valid_question(text="Ça va?")]}))
    assert parsed.questions[0].text == "Ça va?"


def test_an_object_without_questions_is_refused_naming_the_field() -> None:
    error = refusal(encode({"name": "no questions here"}))
    assert error.status == 400
    assert "questions" in error.message
    assert error.details == [{"field": "questions", "reason": 'missing: expected {"questions": [...]}'}]


def test_questions_that_are_not_an_array_are_refused() -> None:
    error = refusal(encode({"questions": {"a": 1}}))
    assert error.details == [{"field": "questions", "reason": "must be an array, not an object"}]


def test_truncated_json_is_refused_with_the_position_of_the_error() -> None:
    text = json.dumps({"questions": [valid_question()]})
    error = refusal(text[:40].encode())
    assert error.status == 400
    assert "invalid JSON" in error.message
    assert "line 1 column" in error.message
    assert error.details[0]["field"] == "file"


def test_deeply_nested_json_is_refused_not_crashed() -> None:
    error = refusal(b"[" * 100_000 + b"]" * 100_000)
    assert error.status == 400
    assert "invalid JSON" in error.message


def test_an_empty_set_is_refused() -> None:
    error = refusal(encode({"questions": []}))
    assert error.message == "the set has no questions"


def test_more_than_500_questions_are_refused_with_the_limit_in_the_message() -> None:
    error = refusal(encode({"questions": [valid_question()] * (MAX_QUESTIONS + 1)}))
    assert error.status == 400
    assert "at most 500" in error.message
    assert "501" in error.message


def test_exactly_500_questions_are_accepted() -> None:
    assert len(parse_question_set(encode({"questions": [valid_question()] * MAX_QUESTIONS})).questions) == 500


def test_a_file_over_4_mib_is_too_large_before_it_is_read() -> None:
    error = refusal(b"{" + b" " * MAX_FILE_BYTES + b"}")
    assert isinstance(error, TooLarge)
    assert error.status == 413
    assert "4 MiB" in error.message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "contains NUL bytes"),
        (b'{"questions": [\xff\xfe]}', "invalid UTF-8 at byte 15"),
    ],
)
def test_binary_content_is_not_a_utf8_text_file(content: bytes, reason: str) -> None:
    error = refusal(content)
    assert error.message.startswith("not a UTF-8 text file")
    assert error.details == [{"field": "file", "reason": reason}]


def test_a_blank_file_is_refused_as_empty() -> None:
    assert refusal(b" \n\t ").message == "the file is empty"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"category": ""}, "category", "must not be empty"),
        ({"category": "   "}, "category", "must not be empty"),
        ({"category": ...}, "category", "is required"),
        ({"category": "c" * 41}, "category", "must be at most 40 characters (has 41)"),
        ({"category": 7}, "category", "must be a string, not a number"),
        ({"text": ""}, "text", "must not be empty"),
        ({"text": "t" * 501}, "text", "must be at most 500 characters (has 501)"),
        ({"text": ...}, "text", "is required"),
        ({"options": ["only one"], "correct": [0]}, "options", "must have 2 to 8 options (has 1)"),
        ({"options": [str(n) for n in range(9)]}, "options", "must have 2 to 8 options (has 9)"),
        ({"options": ["a", "b", "a"]}, "options", "duplicate option 'a' (options[0] and options[2])"),
        ({"options": ["a", ""]}, "options[1]", "must not be empty"),
        ({"options": ["a", "o" * 201]}, "options[1]", "must be at most 200 characters (has 201)"),
        ({"options": ["a", 2]}, "options[1]", "must be a string, not a number"),
        ({"options": "a,b"}, "options", "must be an array of strings"),
        ({"options": ...}, "options", "is required"),
        ({"correct": [4]}, "correct", "4 is out of range: options are numbered 0..3"),
        ({"correct": [-1]}, "correct", "-1 is out of range: options are numbered 0..3"),
        ({"correct": []}, "correct", "at least one correct option is required"),
        ({"correct": [1, 1]}, "correct", "correct options must be distinct (got [1, 1])"),
        ({"correct": [True]}, "correct", "must be a list of 0-based option indexes (integers)"),
        ({"correct": [1.0]}, "correct", "must be a list of 0-based option indexes (integers)"),
        ({"correct": 1}, "correct", "must be a list of 0-based option indexes (integers)"),
        ({"correct": ...}, "correct", "is required: a list of 0-based option indexes"),
        ({"explanation": "e" * 501}, "explanation", "must be at most 500 characters (has 501)"),
        ({"explanation": 5}, "explanation", "must be a string, not a number"),
        ({"question": "spelled twice"}, "question", "give either 'text' or 'question', not both"),
    ],
)
def test_each_field_rule_is_enforced(overrides: dict[str, Any], field: str, reason: str) -> None:
    assert problems_of_one(valid_question(**overrides)) == [{"question": 1, "field": field, "reason": reason}]


def test_limits_are_inclusive() -> None:
    question = valid_question(
        category="c" * 40,
        text="t" * 500,
        options=[f"{n}" + "o" * 199 for n in range(8)],
        correct=list(range(8)),
        explanation="e" * 500,
    )
    [parsed] = parse_question_set(encode({"questions": [question]})).questions
    assert parsed.select_count == 8


def test_an_empty_or_null_explanation_is_no_explanation() -> None:
    parsed = parse_question_set(encode([valid_question(explanation=""), valid_question(explanation=None)]))
    assert [q.explanation for q in parsed.questions] == [None, None]


def test_every_problem_of_every_question_is_reported_with_its_question_number() -> None:
    questions = [
        valid_question(),
        valid_question(options=["same", "same"], correct=[0]),
        "not an object",
        valid_question(),
        valid_question(category="", text="", correct=[9]),
    ]
    error = refusal(encode({"questions": questions}))
    assert error.details == [
        {"question": 2, "field": "options", "reason": "duplicate option 'same' (options[0] and options[1])"},
        {"question": 3, "field": "question", "reason": "must be an object, not a string"},
        {"question": 5, "field": "category", "reason": "must not be empty"},
        {"question": 5, "field": "text", "reason": "must not be empty"},
        {"question": 5, "field": "correct", "reason": "9 is out of range: options are numbered 0..3"},
    ]
    assert error.message.startswith("invalid question set (5 problems); first: question 2, options:")


def test_a_name_that_is_too_long_is_reported_with_the_questions_problems() -> None:
    error = refusal(encode({"name": "n" * 101, "questions": [valid_question(text="")]}))
    assert error.details == [
        {"field": "name", "reason": "must be at most 100 characters (has 101)"},
        {"question": 1, "field": "text", "reason": "must not be empty"},
    ]


def test_whitespace_around_values_is_trimmed() -> None:
    [question] = parse_question_set(
        encode([valid_question(category=" geo ", text=" Q? ", options=[" a ", "b "], correct=[0])])
    ).questions
    assert (question.category, question.text, question.options) == ("geo", "Q?", ["a", "b"])


def test_with_no_options_only_the_options_problem_is_reported() -> None:
    assert problems_of_one(valid_question(options=[], correct=[0])) == [
        {"question": 1, "field": "options", "reason": "must have 2 to 8 options (has 0)"}
    ]
