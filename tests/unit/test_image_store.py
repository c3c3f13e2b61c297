"""The image store's keys and its folder implementation (the local stack's); where the store is, from
the settings. The S3 implementation is tested against moto (tests/integration/question_sets/test_images_api.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from speedrun.adapters.image_store import (
    CACHE_CONTROL,
    MEDIA_TYPES,
    FolderImageStore,
    S3ImageStore,
    content_key,
    image_store_from_settings,
    media_type_of,
)
from speedrun.errors import NotFound
from speedrun.settings import MissingSetting, Settings

DATA = b"\x89PNG\r\n\x1a\n stored bytes"
KEY = content_key(DATA, "png")


def test_a_key_is_the_sha256_of_the_bytes_and_the_extension() -> None:
    assert content_key(DATA, "png") == f"{hashlib.sha256(DATA).hexdigest()}.png"
    assert media_type_of(KEY) == "image/png"
    assert {media_type_of(content_key(DATA, extension)) for extension in MEDIA_TYPES} == set(MEDIA_TYPES.values())
    with pytest.raises(ValueError, match="not an image extension"):
        content_key(DATA, "svg")


@pytest.mark.parametrize(
    "not_a_key",
    ["../secret.png", KEY.upper(), KEY + "/x", KEY.replace(".png", ".svg"), "a" * 63 + ".png", ".png", ""],
)
def test_only_a_content_key_is_a_key(not_a_key: str) -> None:
    with pytest.raises(ValueError, match="invalid image key"):
        media_type_of(not_a_key)


def test_the_cache_control_says_a_year_and_immutable() -> None:
    assert CACHE_CONTROL == "public, max-age=31536000, immutable"


def test_the_folder_store_keeps_one_file_per_key_and_a_second_put_changes_nothing(tmp_path: Path) -> None:
    store = FolderImageStore(tmp_path / "images")
    assert not store.exists(KEY)
    store.put(KEY, DATA, "image/png")
    assert store.exists(KEY)
    assert store.path_of(KEY).read_bytes() == DATA
    modified = store.path_of(KEY).stat().st_mtime_ns
    store.put(KEY, DATA, "image/png")
    assert store.path_of(KEY).stat().st_mtime_ns == modified
    assert sorted(path.name for path in (tmp_path / "images").iterdir()) == [KEY]


def test_the_folder_store_refuses_a_media_type_its_key_does_not_name(tmp_path: Path) -> None:
    store = FolderImageStore(tmp_path)
    with pytest.raises(ValueError, match="is not of type image/gif"):
        store.put(KEY, DATA, "image/gif")
    assert list(tmp_path.iterdir()) == []


def test_nothing_but_a_stored_key_is_reachable_in_the_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("not an image")
    store = FolderImageStore(tmp_path / "images")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "notes.png").write_bytes(DATA)
    for name in ("../secret.txt", "notes.png", KEY, "..", ""):
        with pytest.raises(NotFound):
            store.path_of(name)
        assert not store.exists(name)


def test_the_settings_name_a_bucket_or_a_folder(tmp_path: Path) -> None:
    s3 = image_store_from_settings(Settings(image_store_url="s3://speedrun-images-1"))
    assert isinstance(s3, S3ImageStore)
    assert s3.bucket == "speedrun-images-1"
    folder = image_store_from_settings(Settings(image_store_url=(tmp_path / "with space").as_uri()))
    assert isinstance(folder, FolderImageStore)
    assert folder.root == tmp_path / "with space"


@pytest.mark.parametrize("url", ["speedrun-images", "s3://", "file://", "https://example.test/images"])
def test_a_store_url_that_names_neither_is_refused_at_start(url: str) -> None:
    with pytest.raises(ValueError, match="IMAGE_STORE_URL must be"):
        image_store_from_settings(Settings(image_store_url=url))


def test_a_function_without_the_setting_fails_naming_the_variable() -> None:
    with pytest.raises(MissingSetting, match="IMAGE_STORE_URL"):
        image_store_from_settings(Settings(image_store_url=None))
