"""Images attached to a question-set upload: bundles (.zip) opened safely, and a question's `image`
reference resolved to a stored key, every refusal one more located problem of the list."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from speedrun.adapters.image_store import FolderImageStore
from speedrun.errors import BadRequest
from speedrun.question_sets.attachments import MAX_BUNDLE_ENTRIES, UploadImages, unpack
from speedrun.question_sets.images import MAX_IMAGE_BYTES, check_image
from speedrun.question_sets.parsing import parse_question_set


def png(color: str = "red", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def question(**extra: Any) -> dict[str, Any]:
    return {"category": "Art", "text": "Which colour?", "options": ["red", "blue"], "correct": [0], **extra}


def set_file(*questions: dict[str, Any]) -> bytes:
    return json.dumps({"name": "Colours", "questions": list(questions)}).encode()


def bundle(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def problems(excinfo: pytest.ExceptionInfo[BadRequest]) -> list[dict[str, Any]]:
    return list(excinfo.value.details)


@pytest.fixture
def store(tmp_path: Path) -> FolderImageStore:
    return FolderImageStore(tmp_path / "images")


def test_an_attached_image_is_checked_and_stored_only_once_the_set_passed(store: FolderImageStore) -> None:
    images = UploadImages({"red.png": png("red"), "unused.png": b"not even an image"}, store)
    parsed = parse_question_set(set_file(question(image="red.png")), images=images)
    key = check_image(png("red")).key
    assert parsed.questions[0].image == key
    assert not store.exists(key)  # not yet: the service stores after the whole set passed
    images.store_checked()
    assert store.exists(key)
    assert list(images.checked) == [key]  # the unused attachment was neither checked nor stored


def test_option_images_follow_the_options_and_a_reused_file_is_one_image(store: FolderImageStore) -> None:
    images = UploadImages({"red.png": png("red"), "blue.png": png("blue")}, store)
    parsed = parse_question_set(
        set_file(question(image="red.png", option_images=["red.png", "blue.png"]), question(option_images=[None, ""])),
        images=images,
    )
    red, blue = check_image(png("red")).key, check_image(png("blue")).key
    assert parsed.questions[0].option_images == [red, blue]
    assert parsed.questions[1].option_images is None  # no option has one
    assert set(images.checked) == {red, blue}


def test_a_stored_key_is_used_as_it_is_and_an_unknown_one_is_a_problem(store: FolderImageStore) -> None:
    checked = check_image(png("green"))
    store.put(checked.key, checked.data, checked.media_type)
    missing = "0" * 64 + ".png"
    with pytest.raises(BadRequest) as refused:
        parse_question_set(
            set_file(question(image=checked.key), question(image=missing)), images=UploadImages({}, store)
        )
    (problem,) = problems(refused)
    assert (problem["question"], problem["field"]) == (2, "image")
    assert missing in problem["reason"] and "POST /api/images" in problem["reason"]
    parsed = parse_question_set(set_file(question(image=checked.key)), images=UploadImages({}, store))
    assert parsed.questions[0].image == checked.key


def test_every_refused_image_is_listed_where_it_is_used(store: FolderImageStore) -> None:
    """A text file named .png is refused by content; a PNG named .jpg is fine; shapes are checked."""
    attached = {
        "fake.png": b"hello, not an image",
        "real.jpg": png("blue"),
        "big.png": b"\x89PNG" + bytes(MAX_IMAGE_BYTES),
    }
    rows = "\n".join(
        [
            "category,question,option_1,option_2,correct,image",
            "Art,One?,a,b,1,fake.png",
            "Art,Two?,a,b,1,real.jpg",
            "Art,Three?,a,b,1,big.png",
            "Art,Four?,a,b,1,nowhere.gif",
        ]
    )
    with pytest.raises(BadRequest) as refused:
        parse_question_set(rows.encode(), images=UploadImages(attached, store))
    found = {(p["line"], p["field"]): p["reason"] for p in problems(refused)}
    assert set(found) == {(2, "image"), (4, "image"), (5, "image")}
    assert "fake.png" in found[(2, "image")] and "not a PNG, JPEG, WebP or GIF image" in found[(2, "image")]
    assert f"at most {MAX_IMAGE_BYTES} bytes" in found[(4, "image")]
    with pytest.raises(BadRequest) as shapes:
        parse_question_set(
            set_file(question(image=7), question(option_images=["x.png"]), question(option_images="x.png")),
            images=UploadImages({}, store),
        )
    assert [(p["question"], p["field"]) for p in problems(shapes)] == [
        (1, "image"),
        (2, "option_images"),
        (3, "option_images"),
    ]


def test_without_a_resolver_an_image_reference_is_refused() -> None:
    with pytest.raises(BadRequest) as refused:
        parse_question_set(set_file(question(image="red.png")))
    assert [(p["question"], p["field"]) for p in problems(refused)] == [(1, "image")]


def test_a_bundle_holds_the_set_file_and_its_images_by_path_or_bare_name(store: FolderImageStore) -> None:
    content = bundle(
        {
            "quiz/colours.json": set_file(question(image="pics/red.png"), question(image="blue.png")),
            "quiz/pics/red.png": png("red"),
            "quiz/other/blue.png": png("blue"),
            "__MACOSX/quiz/._colours.json": b"resource fork",
            "quiz/.DS_Store": b"finder",
        }
    )
    upload = unpack(content, "bundle.zip", {})
    assert upload.filename == "colours.json"
    assert set(upload.attached) == {"quiz/pics/red.png", "quiz/other/blue.png"}
    with pytest.raises(BadRequest) as refused:  # "pics/red.png" is not the entry's path
        parse_question_set(upload.set_file, images=UploadImages(upload.attached, store))
    assert [(p["question"], p["field"]) for p in problems(refused)] == [(1, "image")]
    fixed = bundle(
        {
            "colours.json": set_file(question(image="pics/red.png"), question(image="blue.png")),
            "pics/red.png": png("red"),
            "./other/blue.png": png("blue"),
        }
    )
    upload = unpack(fixed, "bundle.zip", {})
    parsed = parse_question_set(upload.set_file, images=UploadImages(upload.attached, store))
    assert [q.image for q in parsed.questions] == [check_image(png("red")).key, check_image(png("blue")).key]


def test_an_ambiguous_bare_name_asks_for_the_path(store: FolderImageStore) -> None:
    upload = unpack(
        bundle({"set.json": set_file(question(image="red.png")), "a/red.png": png(), "b/red.png": png("blue")}),
        None,
        {},
    )
    with pytest.raises(BadRequest) as refused:
        parse_question_set(upload.set_file, images=UploadImages(upload.attached, store))
    assert "use the path in the zip" in problems(refused)[0]["reason"]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (
            {"red.png": png()},
            "not an Excel workbook (no xl/workbook.xml), and not a bundle: a bundle holds exactly one",
        ),
        ({"a.json": b"{}", "b.csv": b"x"}, "exactly one .json, .csv or .xlsx set file (found: a.json, b.csv)"),
        ({"set.json": b"{}", "huge.png": bytes(MAX_IMAGE_BYTES + 1)}, f"at most {MAX_IMAGE_BYTES}"),
        ({"set.json": b"{}", **{f"{n}.png": b"" for n in range(MAX_BUNDLE_ENTRIES)}}, "at most 1000 files"),
    ],
)
def test_a_bundle_that_cannot_be_used_is_refused_on_its_directory(files: dict[str, bytes], reason: str) -> None:
    with pytest.raises(BadRequest) as refused:
        unpack(bundle(files), "bundle.zip", {})
    (problem,) = problems(refused)
    assert problem["field"] == "file" and reason in problem["reason"]


def test_a_bundle_and_image_parts_together_are_refused() -> None:
    with pytest.raises(BadRequest, match="not both"):
        unpack(bundle({"set.json": b"{}"}), "bundle.zip", {"red.png": png()})


def test_a_workbook_and_a_plain_file_pass_through(tmp_path: Path) -> None:
    workbook = bundle({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"})
    assert unpack(workbook, "quiz.xlsx", {}).set_file == workbook
    plain = unpack(b"category,question", "quiz.csv", {"red.png": b"x"})
    assert (plain.set_file, plain.filename, dict(plain.attached)) == (
        b"category,question",
        "quiz.csv",
        {"red.png": b"x"},
    )
