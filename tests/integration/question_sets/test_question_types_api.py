"""Question types through the HTTP function: a set of every type is uploaded, read back as content,
put back and uploaded again unchanged, and a set breaking a type's rules is refused with nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speedrun.question_sets.service import load_questions
from speedrun.question_types import QUESTION_TYPES
from tests.support.question_set_api import HOST, QuestionSetApi, question_set_api
from tests.support.question_sets import body_of

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
ONE_OF_EACH: dict[str, dict[str, Any]] = {
    "choice": {"options": ["Lima", "Cusco", "Quito"], "correct": [0, 2]},
    "true_false": {"correct": False},
    "true_false_named": {"type": "true_false", "options": ["Yes", "No"], "correct": [1]},
    "poll": {"options": ["Lima", "Cusco", "Quito"]},
    "numeric": {"answer": 8848.86, "tolerance": 150},
    "numeric_exact": {"type": "numeric", "answer": -40},
    "order": {"options": ["Tumbes", "Lima", "Tacna", "Puno"], "correct": [3, 1, 0, 2]},
    "order_as_written": {"type": "order", "options": ["Tumbes", "Lima", "Tacna"]},
}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuestionSetApi]:
    with question_set_api(tmp_path / "question-sets", monkeypatch) as api:
        yield api


def one_question_set(name: str) -> bytes:
    question = {
        "type": name,
        "category": "Peru",
        "text": f"A {name} question?",
        "explanation": "Because.",
        **ONE_OF_EACH[name],
    }
    return json.dumps({"name": f"One {name}", "questions": [question]}).encode()


def content(api: QuestionSetApi, set_id: str) -> dict[str, Any]:
    response = api.content(set_id)
    assert response["statusCode"] == 200, response["body"]
    return dict(body_of(response))


@pytest.mark.parametrize("name", list(ONE_OF_EACH))
def test_the_content_of_a_set_of_each_type_put_back_or_uploaded_again_gives_the_same_questions(
    api: QuestionSetApi, name: str
) -> None:
    set_id = api.uploaded(one_question_set(name))
    before = content(api, set_id)
    [question] = before["questions"]
    assert question["type"] == ONE_OF_EACH[name].get("type", name)
    assert [q.model_dump() for q in load_questions(HOST, set_id).questions] == before["questions"]

    response = api.replace(set_id, json.dumps(before).encode(), filename="downloaded.json")
    assert response["statusCode"] == 200, response["body"]
    after = content(api, set_id)
    assert (after["version"], after["questions"]) == (2, before["questions"])

    copy_id = api.uploaded(json.dumps(after).encode(), filename="downloaded.json")
    assert content(api, copy_id)["questions"] == before["questions"]


def test_the_examples_of_every_type_upload_as_json_and_csv_to_the_same_content(api: QuestionSetApi) -> None:
    from_json = content(api, api.uploaded((EXAMPLES / "all-question-types.json").read_bytes()))
    from_csv = content(api, api.uploaded((EXAMPLES / "all-question-types.csv").read_bytes(), filename="types.csv"))
    assert from_json["name"] == "All question types"
    assert from_csv["questions"] == from_json["questions"]
    assert sorted({q["type"] for q in from_json["questions"]}) == sorted(QUESTION_TYPES)
    numeric = [q for q in from_json["questions"] if q["type"] == "numeric"]
    assert [(q["options"], q["correct"], q["answer"], q["tolerance"]) for q in numeric] == [
        ([], [], 100, 0),
        ([], [], 8848.86, 150),
    ]
    assert all(q["answer"] is None and q["tolerance"] is None for q in from_json["questions"] if q["type"] != "numeric")


def test_a_set_breaking_a_type_rule_is_refused_with_every_problem_and_nothing_stored(api: QuestionSetApi) -> None:
    questions = [
        {"type": "poll", "category": "c", "text": "Q?", "options": ["a", "b"], "correct": [0]},
        {"type": "numeric", "category": "c", "text": "Q?", "answer": "ten"},
        {"type": "order", "category": "c", "text": "Q?", "options": ["a", "b"]},
        {"type": "essay", "category": "c", "text": "Q?"},
    ]
    response = api.upload(json.dumps({"questions": questions}).encode())
    assert response["statusCode"] == 400
    error = body_of(response)["error"]
    assert error["code"] == "bad_request"
    assert error["details"] == [
        {"question": 1, "field": "correct", "reason": "a poll has no correct answer"},
        {"question": 2, "field": "answer", "reason": "must be a number, not a string"},
        {"question": 3, "field": "options", "reason": "order questions need 3 to 6 options (has 2)"},
        {
            "question": 4,
            "field": "type",
            "reason": "must be one of choice, true_false, poll, numeric, order (got 'essay')",
        },
    ]
    assert (api.stored_files(), api.items()) == ([], [])
