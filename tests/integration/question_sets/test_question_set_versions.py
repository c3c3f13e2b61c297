"""Editable question sets through the HTTP function: replace (a new version), read the content back,
copy, delete; the owner's only. API Gateway v2 events in, moto DynamoDB and a store folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speedrun.adapters.tables import QuestionSetModel
from speedrun.errors import Conflict, NotFound
from speedrun.question_sets.models import MAX_FILE_BYTES, MAX_NAME_CHARS
from speedrun.question_sets.repository import CHANGED_WHILE_SAVING, DynamoQuestionSetRepository
from speedrun.question_sets.service import load_questions
from speedrun.question_sets.store import FolderQuestionStore
from tests.support.question_set_api import HOST, QuestionSetApi, question_set_api
from tests.support.question_sets import body_of, http_event, replace_event, sample_question, sample_set_json

OTHER_HOST = "host-2"
UNKNOWN_ID = "01" + "Z" * 24


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuestionSetApi]:
    with question_set_api(tmp_path / "question-sets", monkeypatch) as api:
        yield api


def set_file(questions: list[dict[str, Any]], name: str | None = None) -> bytes:
    return json.dumps({**({"name": name} if name else {}), "questions": questions}).encode()


def other_questions(count: int) -> list[dict[str, Any]]:
    return [{**sample_question(n, "music"), "text": f"Edited question {n}?"} for n in range(count)]


def metadata(api: QuestionSetApi, set_id: str) -> dict[str, Any]:
    response = api.get(f"/api/question-sets/{set_id}")
    assert response["statusCode"] == 200, response["body"]
    return dict(body_of(response))


def content(api: QuestionSetApi, set_id: str) -> dict[str, Any]:
    response = api.content(set_id)
    assert response["statusCode"] == 200, response["body"]
    return dict(body_of(response))


def not_found(set_id: str) -> dict[str, Any]:
    return {"error": {"code": "not_found", "message": f"question set {set_id} not found"}}


def item(set_id: str) -> QuestionSetModel:
    return QuestionSetModel.get(HOST, set_id, consistent_read=True)


# --- replace ---------------------------------------------------------------------------------------


def test_a_replace_saves_the_next_version_in_a_file_of_its_own(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(2))
    first = metadata(api, set_id)
    assert (first["version"], first["updated_at"]) == (1, first["created_at"])

    # A file that does not name itself (the earlier array format): the set keeps its name.
    response = api.replace(set_id, json.dumps(other_questions(3)).encode(), filename="ignored.json")
    assert response["statusCode"] == 200, response["body"]
    second = body_of(response)
    assert second == metadata(api, set_id)
    assert (second["id"], second["name"], second["created_at"]) == (set_id, "Sample", first["created_at"])
    assert (second["version"], second["question_count"], second["categories"]) == (2, 3, {"music": 3})
    assert second["updated_at"] >= first["created_at"]
    assert [q["text"] for q in content(api, set_id)["questions"]] == [f"Edited question {n}?" for n in range(3)]

    # The first version's file stays (a sign-on that read the item just before still finds it).
    [second_file] = [name for name in api.stored_files() if name != f"{set_id}.json"]
    assert second_file.startswith(f"{set_id}-v2-")
    assert f"{set_id}.json" in api.stored_files()
    saved = item(set_id)
    assert (saved.store_key, saved.version, saved.source_format) == (second_file, 2, "json_array")

    renamed = body_of(api.replace(set_id, set_file(other_questions(1)), name="  Form name  "))
    assert (renamed["name"], renamed["version"]) == ("Form name", 3)
    self_named = body_of(api.replace(set_id, set_file(other_questions(1), name="File name")))
    assert (self_named["name"], self_named["version"]) == ("File name", 4)
    assert len(api.stored_files()) == 4


def test_a_refused_replace_lists_every_problem_and_changes_nothing(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(2))
    before = (metadata(api, set_id), content(api, set_id), api.stored_files())
    questions = [sample_question(1), {**sample_question(2), "text": ""}, {**sample_question(3), "correct": [7]}]

    response = api.replace(set_id, set_file(questions))

    assert response["statusCode"] == 400
    assert body_of(response)["error"]["details"] == [
        {"question": 2, "field": "text", "reason": "must not be empty"},
        {"question": 3, "field": "correct", "reason": "7 is out of range: options are numbered 0..2"},
    ]
    assert (metadata(api, set_id), content(api, set_id), api.stored_files()) == before


@pytest.mark.parametrize(
    ("file_content", "named"),
    [
        (b"x" * (MAX_FILE_BYTES + 100 * 1024), "the request body has"),
        (b"[" + b" " * MAX_FILE_BYTES + b"]", f"the file has {MAX_FILE_BYTES + 2} bytes"),
    ],
    ids=["body-over-the-envelope", "file-just-over-4-mib"],
)
def test_a_replace_over_4_mib_is_413_and_changes_nothing(api: QuestionSetApi, file_content: bytes, named: str) -> None:
    set_id = api.uploaded(sample_set_json(2))
    before = (metadata(api, set_id), api.stored_files())
    response = api.replace(set_id, file_content)
    assert response["statusCode"] == 413
    assert body_of(response)["error"]["code"] == "too_large"
    assert named in body_of(response)["error"]["message"]
    assert (metadata(api, set_id), api.stored_files()) == before


def test_of_two_replaces_of_one_version_the_second_to_save_is_a_409(
    api: QuestionSetApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The later replace read version 1, then the other saved version 2 before its own update: the
    condition on the version it read refuses it, and its file is removed."""
    set_id = api.uploaded(sample_set_json(2))
    save = DynamoQuestionSetRepository.replace
    competing: list[dict[str, Any]] = []

    def other_change_first(repository: DynamoQuestionSetRepository, *args: Any, **kwargs: Any) -> None:
        # The first save lets the competing replace (which saves with the real method) go first.
        monkeypatch.setattr(DynamoQuestionSetRepository, "replace", save)
        competing.append(api.replace(set_id, set_file(other_questions(4), name="Winner")))
        save(repository, *args, **kwargs)

    monkeypatch.setattr(DynamoQuestionSetRepository, "replace", other_change_first)
    response = api.replace(set_id, set_file(other_questions(1), name="Loser"))

    assert response["statusCode"] == 409
    assert body_of(response)["error"] == {"code": "conflict", "message": CHANGED_WHILE_SAVING}
    [winner] = competing
    assert winner["statusCode"] == 200
    assert (metadata(api, set_id)["name"], metadata(api, set_id)["version"]) == ("Winner", 2)
    assert len(content(api, set_id)["questions"]) == 4
    assert api.stored_files() == sorted([f"{set_id}.json", item(set_id).store_key])


def test_the_repository_saves_a_version_only_over_the_one_it_read(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(2))
    next_version = load_questions(HOST, set_id).model_copy(update={"version": 2, "name": "v2"})
    repository = DynamoQuestionSetRepository()
    repository.replace(next_version, store_key="a.json", size_bytes=1, read_version=1)
    with pytest.raises(Conflict):
        repository.replace(next_version, store_key="b.json", size_bytes=1, read_version=1)
    assert (item(set_id).version, item(set_id).store_key) == (2, "a.json")
    # A deleted set is not brought back by a replace that read it before the delete.
    repository.remove(HOST, set_id)
    with pytest.raises(Conflict):
        repository.replace(
            next_version.model_copy(update={"version": 3}), store_key="c.json", size_bytes=1, read_version=2
        )
    assert api.items() == []


def test_a_set_stored_before_versions_is_version_1_and_can_be_replaced(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(2))
    legacy = item(set_id)
    legacy.update(actions=[QuestionSetModel.version.remove(), QuestionSetModel.updated_at.remove()])
    file = api.store / f"{set_id}.json"
    stored = json.loads(file.read_bytes())
    file.write_text(json.dumps({key: value for key, value in stored.items() if key not in ("version", "updated_at")}))

    shown = metadata(api, set_id)
    assert (shown["version"], shown["updated_at"]) == (1, shown["created_at"])
    assert load_questions(HOST, set_id).version == 1
    assert content(api, set_id)["version"] == 1
    assert body_of(api.replace(set_id, set_file(other_questions(1))))["version"] == 2


# --- content ---------------------------------------------------------------------------------------


def test_the_content_put_back_unchanged_gives_the_same_questions(api: QuestionSetApi) -> None:
    questions = [
        sample_question(0, "Geography"),
        {**sample_question(1, "history"), "options": ["a", "b", "c", "d"], "correct": [3, 1]},
        {key: value for key, value in sample_question(2, "Science").items() if key != "explanation"},
    ]
    set_id = api.uploaded(set_file(questions, name="Round trip"))
    before = content(api, set_id)
    assert (before["id"], before["version"], before["name"]) == (set_id, 1, "Round trip")
    assert [q["correct"] for q in before["questions"]] == [[0], [3, 1], [2]]
    assert before["questions"][2]["explanation"] is None
    assert [q.model_dump() for q in load_questions(HOST, set_id).questions] == before["questions"]

    response = api.replace(set_id, json.dumps(before).encode(), filename="downloaded.json")
    assert response["statusCode"] == 200, response["body"]
    after = content(api, set_id)
    assert (after["version"], after["name"], after["questions"]) == (2, "Round trip", before["questions"])


# --- copy ------------------------------------------------------------------------------------------


def test_a_copy_is_a_new_independent_set_with_the_same_questions(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(3))
    api.replace(set_id, set_file(other_questions(2)))
    source = metadata(api, set_id)

    response = api.copy(set_id)
    assert response["statusCode"] == 201, response["body"]
    copy = body_of(response)
    assert copy == metadata(api, copy["id"])
    assert copy["id"] != set_id
    assert (copy["name"], copy["version"], copy["updated_at"]) == ("Sample (copy)", 1, copy["created_at"])
    assert (copy["question_count"], copy["categories"]) == (source["question_count"], source["categories"])
    assert content(api, copy["id"])["questions"] == content(api, set_id)["questions"]
    assert f"{copy['id']}.json" in api.stored_files()

    copied_questions = content(api, copy["id"])["questions"]
    api.replace(set_id, set_file(other_questions(5)))
    assert content(api, copy["id"])["questions"] == copied_questions
    assert api.delete(set_id)["statusCode"] == 204
    assert content(api, copy["id"])["questions"] == copied_questions
    assert metadata(api, copy["id"])["version"] == 1


def test_a_copy_takes_a_name_and_the_default_name_fits_the_limit(api: QuestionSetApi) -> None:
    long_name = "n" * (MAX_NAME_CHARS - 3)
    set_id = api.uploaded(set_file([sample_question(1)], name=long_name))
    assert body_of(api.copy(set_id))["name"] == f"{long_name} (c"
    assert body_of(api.copy(set_id, body={"name": "  Night quiz  "}))["name"] == "Night quiz"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * (MAX_NAME_CHARS + 1)}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({}, "name"),
        ({"name": "x", "title": "x"}, "title"),
    ],
)
def test_a_bad_copy_name_is_a_bad_request_and_copies_nothing(
    api: QuestionSetApi, body: dict[str, Any], field: str
) -> None:
    set_id = api.uploaded(sample_set_json(1))
    files = api.stored_files()
    response = api.copy(set_id, body=body)
    assert response["statusCode"] == 400
    assert [detail["field"] for detail in body_of(response)["error"]["details"]] == [field]
    assert (api.stored_files(), len(api.items())) == (files, 1)


# --- delete ----------------------------------------------------------------------------------------


def test_a_deleted_set_is_gone_with_every_version_file(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(2))
    for count in (3, 4):
        assert api.replace(set_id, set_file(other_questions(count)))["statusCode"] == 200
    # What a replace that died between its file and its metadata leaves behind goes too.
    (api.store / f"{set_id}-v4-0badf11e.json").write_bytes(b"{}")
    kept = api.uploaded(sample_set_json(1))
    assert len(api.stored_files()) == 5

    response = api.delete(set_id)

    assert response["statusCode"] == 204
    assert not response.get("body")
    assert api.stored_files() == [f"{kept}.json"]
    assert [stored.set_id for stored in api.items()] == [kept]
    for answer in (
        api.get(f"/api/question-sets/{set_id}"),
        api.content(set_id),
        api.replace(set_id, sample_set_json(1)),
        api.copy(set_id),
        api.delete(set_id),
    ):
        assert answer["statusCode"] == 404
        assert body_of(answer) == not_found(set_id)
    assert api.stored_files() == [f"{kept}.json"]
    assert [item["id"] for item in body_of(api.get("/api/question-sets"))["items"]] == [kept]


# --- ownership -------------------------------------------------------------------------------------


def test_another_host_gets_404_on_every_route_and_changes_nothing(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(2))
    before = (metadata(api, set_id), content(api, set_id), api.stored_files())
    for answer in (
        api.content(set_id, sub=OTHER_HOST),
        api.replace(set_id, set_file(other_questions(1), name="Taken"), sub=OTHER_HOST),
        api.delete(set_id, sub=OTHER_HOST),
        api.copy(set_id, sub=OTHER_HOST),
        api.copy(set_id, sub=OTHER_HOST, body={"name": "Mine now"}),
    ):
        assert answer["statusCode"] == 404
        # The same reply as for an id nobody has: a host cannot tell another's set from none.
        assert body_of(answer) == not_found(set_id)
    assert (metadata(api, set_id), content(api, set_id), api.stored_files()) == before
    assert body_of(api.get("/api/question-sets", sub=OTHER_HOST))["items"] == []
    assert len(api.items()) == 1


@pytest.mark.parametrize("set_id", [UNKNOWN_ID, "not-a-set-id"])
def test_unknown_and_malformed_ids_are_404_on_every_route(api: QuestionSetApi, set_id: str) -> None:
    for answer in (
        api.content(set_id),
        api.replace(set_id, sample_set_json(1)),
        api.delete(set_id),
        api.copy(set_id),
    ):
        assert answer["statusCode"] == 404
        assert body_of(answer) == not_found(set_id)
    assert (api.stored_files(), api.items()) == ([], [])


def test_the_new_routes_need_a_signed_in_host(api: QuestionSetApi) -> None:
    set_id = api.uploaded(sample_set_json(1))
    for event in (
        http_event("GET", f"/api/question-sets/{set_id}/content", sub=None),
        replace_event(set_id, sample_set_json(3), sub=None),
        http_event("DELETE", f"/api/question-sets/{set_id}", sub=None),
        http_event("POST", f"/api/question-sets/{set_id}/copy", sub=None),
    ):
        response = api.call(event)
        assert response["statusCode"] == 401, event["routeKey"]
    assert (metadata(api, set_id)["version"], len(api.items()), len(api.stored_files())) == (1, 1, 1)


def test_a_set_deleted_between_reading_its_item_and_its_file_is_not_found(
    api: QuestionSetApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-on (or a copy) that read the item just before a delete: a 404, as after the delete."""
    set_id = api.uploaded(sample_set_json(2))
    read = FolderQuestionStore.read

    def deleted_first(store: FolderQuestionStore, key: str) -> bytes:
        monkeypatch.setattr(FolderQuestionStore, "read", read)
        assert api.delete(set_id)["statusCode"] == 204
        return read(store, key)

    monkeypatch.setattr(FolderQuestionStore, "read", deleted_first)
    with pytest.raises(NotFound):
        load_questions(HOST, set_id)
    assert api.stored_files() == []
