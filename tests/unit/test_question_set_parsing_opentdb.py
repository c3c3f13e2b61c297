"""Open Trivia DB replies: told from the JSON format by `results`, HTML entities decoded, options in a
deterministic order that does not give the answer away, every entry's problems located."""

from __future__ import annotations

import json
from typing import Any

import pytest

from speedrun.errors import DomainError
from speedrun.question_sets.models import MAX_QUESTIONS
from speedrun.question_sets.parsing import parse_question_set


def entry(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "multiple",
        "difficulty": "easy",
        "category": "Science &amp; Nature",
        "question": "Which gas do plants take in for photosynthesis?",
        "correct_answer": "Carbon dioxide",
        "incorrect_answers": ["Oxygen", "Nitrogen", "Hydrogen"],
    }
    item.update(overrides)
    return {key: value for key, value in item.items() if value is not ...}


def reply(*results: Any, **fields: Any) -> bytes:
    return json.dumps({"response_code": 0, "results": list(results), **fields}).encode()


def refusal(content: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_question_set(content)
    return caught.value


def test_a_reply_parses_with_options_sorted_and_the_correct_one_found() -> None:
    parsed = parse_question_set(reply(entry()))
    assert parsed.source_format == "opentdb"
    assert parsed.name is None
    [question] = parsed.questions
    assert question.category == "Science & Nature"
    assert question.options == ["Carbon dioxide", "Hydrogen", "Nitrogen", "Oxygen"]
    assert question.options[question.correct[0]] == "Carbon dioxide"
    assert question.explanation is None


def test_the_order_is_case_insensitive_and_the_same_whatever_the_answers_order() -> None:
    first = parse_question_set(reply(entry(correct_answer="beta", incorrect_answers=["Gamma", "alpha", "Delta"])))
    second = parse_question_set(reply(entry(correct_answer="beta", incorrect_answers=["Delta", "Gamma", "alpha"])))
    assert first.questions == second.questions
    assert first.questions[0].options == ["alpha", "beta", "Delta", "Gamma"]
    assert first.questions[0].correct == [1]


def test_html_entities_are_decoded_in_every_text() -> None:
    [question] = parse_question_set(
        reply(
            entry(
                category="Entertainment: Japanese Anime &amp; Manga",
                question="Who said &quot;I&#039;ll be back&quot; &ndash; and where?",
                correct_answer="Caf&eacute;",
                incorrect_answers=["&lt;b&gt;", "Fish &amp; Chips", "&#x263A;"],
            )
        )
    ).questions
    assert question.category == "Entertainment: Japanese Anime & Manga"
    assert question.text == 'Who said "I\'ll be back" – and where?'  # noqa: RUF001 (the decoded &ndash;)
    assert set(question.options) == {"Café", "<b>", "Fish & Chips", "☺"}
    assert question.options[question.correct[0]] == "Café"


def test_a_boolean_question_is_a_true_false_question_with_the_options_true_and_false() -> None:
    parsed = parse_question_set(
        reply(
            entry(type="boolean", correct_answer="False", incorrect_answers=["True"]),
            entry(type="boolean", correct_answer="True", incorrect_answers=["False"]),
            entry(),
        )
    )
    assert [(q.type, q.options, q.correct) for q in parsed.questions[:2]] == [
        ("true_false", ["True", "False"], [1]),
        ("true_false", ["True", "False"], [0]),
    ]
    assert parsed.questions[2].type == "choice"  # `multiple`


def test_a_reply_without_response_code_is_read_and_an_error_reply_is_refused() -> None:
    assert len(parse_question_set(json.dumps({"results": [entry()]}).encode()).questions) == 1
    error = refusal(reply(entry(), response_code=5))
    assert error.details == [{"field": "response_code", "reason": "must be 0 (got 5)"}]
    assert "response_code 5" in error.message


def test_an_object_with_questions_is_the_json_format_even_with_results() -> None:
    document = {"results": [entry()], "questions": []}
    assert refusal(json.dumps(document).encode()).message == "the set has no questions"
    assert refusal(json.dumps({"results": "nope"}).encode()).details == [
        {"field": "questions", "reason": 'missing: expected {"questions": [...]}'}
    ]


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        (entry(question=""), "question", "must not be empty"),
        (entry(question=...), "question", "is required"),
        (entry(category="c" * 41), "category", "must be at most 40 characters (has 41)"),
        (entry(correct_answer=...), "correct_answer", "is required"),
        (entry(correct_answer=7), "correct_answer", "must be a string, not a number"),
        (entry(incorrect_answers=...), "incorrect_answers", "is required"),
        (entry(incorrect_answers="Oxygen"), "incorrect_answers", "must be an array of strings"),
        (entry(incorrect_answers=[]), "incorrect_answers", "must have 2 to 8 options (has 1)"),
        (entry(incorrect_answers=["Oxygen", ""]), "incorrect_answers[1]", "must not be empty"),
        (
            entry(incorrect_answers=[f"gas {n}" for n in range(8)]),
            "incorrect_answers",
            "must have 2 to 8 options (has 9)",
        ),
        (
            entry(correct_answer="Fish &amp; Chips", incorrect_answers=["Fish & Chips"]),
            "incorrect_answers",
            "duplicate option 'Fish & Chips' (correct_answer and incorrect_answers[0])",
        ),
        (entry(type="open"), "type", "must be one of 'multiple', 'boolean' (got 'open')"),
        (
            entry(type="boolean", correct_answer="Maybe"),
            "correct_answer",
            "must be True or False in a boolean question (got 'Maybe')",
        ),
    ],
)
def test_each_entry_rule_is_enforced_with_the_question_number(item: dict[str, Any], field: str, reason: str) -> None:
    assert refusal(reply(entry(), item)).details == [{"question": 2, "field": field, "reason": reason}]


def test_every_problem_of_every_entry_is_reported() -> None:
    error = refusal(reply(entry(), "not an entry", entry(question="", type="open"), entry()))
    assert error.details == [
        {"question": 2, "field": "question", "reason": "must be an object, not a string"},
        {"question": 3, "field": "question", "reason": "must not be empty"},
        {"question": 3, "field": "type", "reason": "must be one of 'multiple', 'boolean' (got 'open')"},
    ]
    assert error.message.startswith("invalid question set (3 problems); first: question 2, question:")


def test_an_empty_or_oversized_reply_is_refused_with_the_limit() -> None:
    assert refusal(reply()).message == "the set has no questions"
    assert "at most 500" in refusal(reply(*[entry()] * (MAX_QUESTIONS + 1))).message
