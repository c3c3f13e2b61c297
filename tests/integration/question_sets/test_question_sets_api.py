"""The question-set HTTP function end to end: API Gateway v2 events in, moto DynamoDB and a store folder."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speedrun.errors import NotFound, Unavailable
from speedrun.question_sets.models import MAX_FILE_BYTES, XLSX_MEDIA_TYPE
from speedrun.question_sets.repository import DynamoQuestionSetRepository
from speedrun.question_sets.service import load_questions
from tests.support.question_set_api import QuestionSetApi, question_set_api
from tests.support.question_sets import (
    BOUNDARY,
    body_of,
    http_event,
    sample_question,
    sample_set_json,
    workbook_bytes,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuestionSetApi]:
    with question_set_api(tmp_path / "question-sets", monkeypatch) as api:
        yield api


def assert_nothing_stored(api: QuestionSetApi) -> None:
    assert api.stored_files() == []
    assert api.items() == []


def valid_json_question(**overrides: Any) -> dict[str, Any]:
    return {**sample_question(1), **overrides}


CSV_MISSING_CORRECT = b"category,question,option_1,option_2\r\ngeo,Capital of France?,Paris,Lyon\r\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
XLSX_EMPTY_QUESTION = workbook_bytes(
    {"Geo": [["category", "question", "option_1", "option_2", "correct"], ["geo", "", "Lima", "Cusco", 1]]}
)
OPENTDB_BAD_ENTRY = json.dumps(
    {"response_code": 0, "results": [{"type": "boolean", "category": "c", "question": "q?", "correct_answer": "Yes"}]}
).encode()


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "status", "named"),
    [
        (sample_set_json(3)[:50], 400, "invalid JSON"),
        (json.dumps({"questions": [valid_json_question(options=["alone"], correct=[0])]}).encode(), 400, "options"),
        (json.dumps({"questions": [valid_json_question(correct=[3])]}).encode(), 400, "out of range"),
        (json.dumps({"questions": [valid_json_question(options=["x", "y", "x"])]}).encode(), 400, "duplicate option"),
        (json.dumps({"questions": [valid_json_question(text="")]}).encode(), 400, "text: must not be empty"),
        (CSV_MISSING_CORRECT, 400, "missing column(s): correct"),
        (b"[" + b" " * (5 * 1024 * 1024) + b"]", 413, "4 MiB"),
        (PNG, 400, "not a UTF-8 text file"),
        (json.dumps({"name": "no questions"}).encode(), 400, '"questions"'),
        (XLSX_EMPTY_QUESTION, 400, "first: sheet 'Geo' row 2, question: must not be empty"),
        (zip_of({"readme.txt": b"hello"}), 400, "not an Excel workbook"),
        (zip_of({"xl/workbook.xml": b"<workbook/>", "xl/big.xml": b"\0" * (40 * 1024 * 1024)}), 400, "uncompressed"),
        (OPENTDB_BAD_ENTRY, 400, "must be True or False"),
    ],
    ids=[
        "truncated-json",
        "one-option",
        "correct-out-of-range",
        "duplicate-options",
        "empty-text",
        "csv-missing-header-column",
        "5-mib",
        "png",
        "object-without-questions",
        "xlsx-empty-question",
        "zip-not-a-workbook",
        "zip-bomb",
        "opentdb-bad-entry",
    ],
)
def test_a_refused_upload_names_the_problem_and_stores_nothing(
    api: QuestionSetApi, content: bytes, status: int, named: str
) -> None:
    response = api.upload(content)
    assert response["statusCode"] == status
    error = body_of(response)["error"]
    assert named in error["message"]
    assert error["code"] == ("too_large" if status == 413 else "bad_request")
    assert_nothing_stored(api)


def test_a_refusal_lists_every_problem_with_its_question_number(api: QuestionSetApi) -> None:
    questions = [valid_json_question(), valid_json_question(text=""), valid_json_question(correct=[7], category="")]
    response = api.upload(json.dumps({"questions": questions}).encode())
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["details"] == [
        {"question": 2, "field": "text", "reason": "must not be empty"},
        {"question": 3, "field": "category", "reason": "must not be empty"},
        {"question": 3, "field": "correct", "reason": "7 is out of range: options are numbered 0..2"},
    ]
    assert_nothing_stored(api)


def test_a_valid_500_question_set_round_trips(api: QuestionSetApi) -> None:
    content = sample_set_json(500, categories=("geography", "History", "science", "GEOGRAPHY"))
    response = api.upload(content, filename="big.json")
    assert response["statusCode"] == 201
    created = body_of(response)
    assert created["question_count"] == 500
    assert created["categories"] == {"geography": 250, "History": 125, "science": 125}
    assert created["name"] == "Sample"

    fetched = api.get(f"/api/question-sets/{created['id']}")
    assert fetched["statusCode"] == 200
    assert body_of(fetched) == created
    assert "correct" not in fetched["body"]

    stored = load_questions("host-1", created["id"])
    source = json.loads(content)["questions"]
    assert [q.correct for q in stored.questions] == [q["correct"] for q in source]
    assert [q.text for q in stored.questions] == [q["text"] for q in source]
    assert api.stored_files() == [f"{created['id']}.json"]
    [item] = api.items()
    assert (item.owner, item.store_key, item.source_format, item.size_bytes) == (
        "host-1",
        f"{created['id']}.json",
        "json",
        len(content),
    )


def test_501_questions_are_refused_naming_the_limit(api: QuestionSetApi) -> None:
    response = api.upload(sample_set_json(501))
    assert response["statusCode"] == 400
    assert "at most 500" in body_of(response)["error"]["message"]
    assert_nothing_stored(api)


def test_the_earlier_array_format_is_accepted(api: QuestionSetApi) -> None:
    earlier = [
        {"category": "Science", "question": "H2O is?", "options": ["water", "salt"], "answers": [0]},
        {"category": "science", "question": "Noble gases?", "options": ["He", "O", "Ne"], "answers": [0, 2]},
    ]
    response = api.upload(json.dumps(earlier).encode(), filename="legacy-set.json")
    assert response["statusCode"] == 201
    created = body_of(response)
    assert (created["name"], created["question_count"], created["categories"]) == ("legacy-set", 2, {"Science": 2})
    assert load_questions("host-1", created["id"]).questions[1].correct == [0, 2]


def test_a_csv_set_is_accepted_and_the_form_name_wins(api: QuestionSetApi) -> None:
    content = "\ufeffcategory,question,option_1,option_2,option_3,correct\r\nGeo,Capital of Peru?,Lima,Cusco,,1\r\n"
    response = api.upload(content.encode(), filename="peru.csv", name="South America")
    assert response["statusCode"] == 201
    assert body_of(response)["name"] == "South America"
    assert api.items()[0].source_format == "csv"


@pytest.mark.parametrize(
    ("file_name", "source_format", "content_type"),
    [
        ("kahoot-template.xlsx", "kahoot_xlsx", XLSX_MEDIA_TYPE),
        ("generic.xlsx", "xlsx", XLSX_MEDIA_TYPE),
        ("opentdb.json", "opentdb", "application/json"),
    ],
)
def test_each_import_format_is_accepted_as_browsers_send_it(
    api: QuestionSetApi, file_name: str, source_format: str, content_type: str
) -> None:
    content = (EXAMPLES / file_name).read_bytes()
    response = api.upload(content, filename=file_name, content_type=content_type)
    assert response["statusCode"] == 201, response["body"]
    created = body_of(response)
    assert created["name"] == Path(file_name).stem
    [item] = api.items()
    assert (item.source_format, item.size_bytes) == (source_format, len(content))
    stored = load_questions("host-1", created["id"])
    assert created["question_count"] == len(stored.questions) >= 10
    assert len(created["categories"]) >= 3


def test_an_imported_kahoot_sheet_keeps_its_answers_and_the_sheet_title_as_category(api: QuestionSetApi) -> None:
    rows: list[list[Any]] = [
        ["Quiz template"],
        [],
        [
            "",
            "Question - max 120 characters",
            "Answer 1",
            "Answer 2",
            "Answer 3",
            "Answer 4",
            "Time limit (sec)",
            "Correct answer(s)",
        ],
        [1, "Noble gases? (pick two)", "Helium", "Oxygen", "Neon", "", 30, "1,3"],
    ]
    response = api.upload(workbook_bytes({"Chemistry": rows}), filename="kahoot.xlsx", content_type=XLSX_MEDIA_TYPE)
    assert response["statusCode"] == 201
    assert body_of(response)["categories"] == {"Chemistry": 1}
    [question] = load_questions("host-1", body_of(response)["id"]).questions
    assert (question.options, question.correct) == (["Helium", "Oxygen", "Neon"], [0, 2])


def test_an_opentdb_reply_is_stored_with_its_entities_decoded(api: QuestionSetApi) -> None:
    document = {
        "response_code": 0,
        "results": [
            {
                "type": "multiple",
                "difficulty": "easy",
                "category": "Art",
                "question": "Who painted &quot;The Starry Night&quot;?",
                "correct_answer": "Vincent van Gogh",
                "incorrect_answers": ["Claude Monet", "Paul C&eacute;zanne", "Edvard Munch"],
            }
        ],
    }
    response = api.upload(json.dumps(document).encode(), filename="trivia.json")
    assert response["statusCode"] == 201
    [question] = load_questions("host-1", body_of(response)["id"]).questions
    assert question.text == 'Who painted "The Starry Night"?'
    assert question.options == ["Claude Monet", "Edvard Munch", "Paul Cézanne", "Vincent van Gogh"]
    assert question.correct == [3]


def test_a_refused_workbook_lists_every_problem_with_its_sheet_and_row(api: QuestionSetApi) -> None:
    header = ["category", "question", "option_1", "option_2", "correct"]
    content = workbook_bytes({"Geo": [header, ["geo", "Fine?", "a", "b", 1], ["geo", "", "a", "a", 3]]})
    response = api.upload(content, filename="set.xlsx", content_type=XLSX_MEDIA_TYPE)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["details"] == [
        {"sheet": "Geo", "row": 3, "field": "question", "reason": "must not be empty"},
        {"sheet": "Geo", "row": 3, "field": "options", "reason": "duplicate option 'a' (option_1 and option_2)"},
        {"sheet": "Geo", "row": 3, "field": "correct", "reason": "3 is out of range: options are numbered 1..2"},
    ]
    assert_nothing_stored(api)


def test_the_listing_pages_newest_first_and_only_shows_the_callers_sets(api: QuestionSetApi) -> None:
    ids = [body_of(api.upload(sample_set_json(2), name=f"set {n}"))["id"] for n in range(5)]
    api.upload(sample_set_json(1), sub="host-2")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/question-sets", query=query)
        assert response["statusCode"] == 200
        page = body_of(response)
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(ids, reverse=True)
    default_page = body_of(api.get("/api/question-sets"))
    assert [item["name"] for item in default_page["items"]] == [f"set {n}" for n in reversed(range(5))]
    assert default_page["next_cursor"] is None


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": "bogus!"}])
def test_a_bad_limit_or_cursor_is_a_bad_request(api: QuestionSetApi, query: dict[str, str]) -> None:
    response = api.get("/api/question-sets", query=query)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "bad_request"


def test_another_owners_set_unknown_and_malformed_ids_are_not_found(api: QuestionSetApi) -> None:
    set_id = body_of(api.upload(sample_set_json(2)))["id"]
    for sub, path_id in [("host-2", set_id), ("host-1", "01" + "Z" * 24), ("host-1", "..%2Fetc")]:
        response = api.get(f"/api/question-sets/{path_id}", sub=sub)
        assert response["statusCode"] == 404
        assert body_of(response)["error"]["code"] == "not_found"
    with pytest.raises(NotFound):
        load_questions("host-2", set_id)


def test_an_unsigned_caller_is_unauthorized(api: QuestionSetApi) -> None:
    response = api.call(http_event("GET", "/api/question-sets", sub=None))
    assert response["statusCode"] == 401


def test_a_failed_metadata_write_removes_the_stored_file(api: QuestionSetApi, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_add(*_args: Any, **_kwargs: Any) -> None:
        raise Unavailable("could not save the question set; try again")

    monkeypatch.setattr(DynamoQuestionSetRepository, "add", failing_add)
    response = api.upload(sample_set_json(3))
    assert response["statusCode"] == 503
    assert_nothing_stored(api)


def test_a_multipart_body_without_the_file_field_is_a_bad_request(api: QuestionSetApi) -> None:
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--{BOUNDARY}--\r\n'.encode()
    event = http_event(
        "POST", "/api/question-sets", body=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    response = api.call(event)
    assert response["statusCode"] == 400
    assert "file" in body_of(response)["error"]["message"]
    assert_nothing_stored(api)


def test_a_name_field_that_is_not_utf8_is_a_bad_request(api: QuestionSetApi) -> None:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'.encode()
        + b"\xff\xfe\r\n"
        + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="s.json"\r\n\r\n'.encode()
        + sample_set_json(1)
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    event = http_event(
        "POST", "/api/question-sets", body=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    response = api.call(event)
    assert response["statusCode"] == 400
    assert "not UTF-8" in body_of(response)["error"]["message"]
    assert_nothing_stored(api)


def test_a_file_just_over_4_mib_inside_an_allowed_body_is_413_from_the_route(api: QuestionSetApi) -> None:
    response = api.upload(b"[" + b" " * MAX_FILE_BYTES + b"]")
    assert response["statusCode"] == 413
    assert f"the file has {MAX_FILE_BYTES + 2} bytes" in body_of(response)["error"]["message"]
    assert_nothing_stored(api)
