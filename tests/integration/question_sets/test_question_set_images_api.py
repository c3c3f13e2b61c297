"""Question sets with images through the question-set function: image parts beside the set file, a
bundle (.zip), keys from `POST /api/images`; every refused image one more problem of the list, and
nothing stored unless the whole set passed."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speedrun.manifest import IMAGE_STORE_ENV
from speedrun.question_sets.image_service import default_image_service
from speedrun.question_sets.images import check_image
from speedrun.settings import get_settings
from tests.support.images import small_png
from tests.support.question_set_api import QuestionSetApi, question_set_api
from tests.support.question_sets import BOUNDARY, body_of, http_event

RED, BLUE = small_png((200, 30, 30)), small_png((30, 30, 200))


@pytest.fixture
def images_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "images"
    monkeypatch.setenv(IMAGE_STORE_ENV, folder.as_uri())
    get_settings.cache_clear()
    default_image_service.cache_clear()
    yield folder
    get_settings.cache_clear()
    default_image_service.cache_clear()


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, images_folder: Path) -> Iterator[QuestionSetApi]:
    with question_set_api(tmp_path / "sets", monkeypatch) as api:
        yield api


def stored_images(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def set_file(*questions: dict[str, Any]) -> bytes:
    return json.dumps({"name": "Colours", "questions": list(questions)}).encode()


def question(**extra: Any) -> dict[str, Any]:
    return {"category": "Art", "text": "Which colour is this?", "options": ["red", "blue"], "correct": [0], **extra}


def upload_with_parts(
    content: bytes, parts: dict[str, bytes], *, method: str = "POST", path: str = "/api/question-sets"
) -> dict[str, Any]:
    chunks = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="set.json"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + content
        + b"\r\n"
    ]
    for filename, data in parts.items():
        chunks.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="images"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return http_event(method, path, body=b"".join(chunks), content_type=f"multipart/form-data; boundary={BOUNDARY}")


def test_a_set_file_and_its_image_parts_in_one_request(api: QuestionSetApi, images_folder: Path) -> None:
    content = set_file(question(image="red.png"), question(option_images=["red.png", "blue.png"]))
    response = api.call(upload_with_parts(content, {"red.png": RED, "blue.png": BLUE}))
    assert response["statusCode"] == 201, response["body"]
    red, blue = check_image(RED).key, check_image(BLUE).key
    stored = body_of(api.content(body_of(response)["id"]))
    assert [(q["image"], q["option_images"]) for q in stored["questions"]] == [(red, None), (None, [red, blue])]
    assert stored_images(images_folder) == {red, blue}


def test_a_single_image_part_works_too(api: QuestionSetApi, images_folder: Path) -> None:
    response = api.call(upload_with_parts(set_file(question(image="red.png")), {"red.png": RED}))
    assert response["statusCode"] == 201, response["body"]
    assert stored_images(images_folder) == {check_image(RED).key}


def test_a_refused_image_is_listed_and_nothing_is_stored(api: QuestionSetApi, images_folder: Path) -> None:
    content = set_file(question(image="red.png"), question(image="notes.png"), question(image="missing.gif"))
    response = api.call(upload_with_parts(content, {"red.png": RED, "notes.png": b"just some text"}))
    assert response["statusCode"] == 400
    details = body_of(response)["error"]["details"]
    assert [(d["question"], d["field"]) for d in details] == [(2, "image"), (3, "image")]
    assert api.items() == [] and api.stored_files() == [] and stored_images(images_folder) == set()


def test_a_bundle_brings_the_set_file_and_its_images(api: QuestionSetApi, images_folder: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Colour quiz.json", json.dumps({"questions": [question(image="pictures/red.png")]}))
        archive.writestr("pictures/red.png", RED)
    response = api.upload(buffer.getvalue(), filename="bundle.zip")
    assert response["statusCode"] == 201, response["body"]
    assert body_of(response)["name"] == "Colour quiz"  # named after the set file in the bundle
    assert stored_images(images_folder) == {check_image(RED).key}


def test_the_editor_uploads_an_image_then_saves_the_set_by_key(api: QuestionSetApi, images_folder: Path) -> None:
    uploaded = api.call(
        http_event(
            "POST",
            "/api/images",
            body=_image_body(RED),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
    )
    assert uploaded["statusCode"] == 201, uploaded["body"]
    key = body_of(uploaded)["image"]
    set_id = api.uploaded(set_file(question(image=key)))
    content = api.content(set_id)
    assert body_of(content)["questions"][0]["image"] == key
    # The content, put back as it is, is the next version with the same image.
    replaced = api.replace(set_id, content["body"].encode())
    assert replaced["statusCode"] == 200, replaced["body"]
    assert body_of(api.content(set_id))["questions"][0]["image"] == key


def _image_body(data: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="red.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
