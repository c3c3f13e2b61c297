"""The question store folder: whole files only, never overwritten, keys confined to the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from speedrun.errors import Conflict, NotFound
from speedrun.question_sets.store import FolderQuestionStore


def test_create_then_read_returns_the_bytes_and_leaves_no_temp_file(tmp_path: Path) -> None:
    store = FolderQuestionStore(tmp_path / "sets")
    store.create("01ABC.json", b'{"questions": []}')
    assert store.read("01ABC.json") == b'{"questions": []}'
    assert [p.name for p in (tmp_path / "sets").iterdir()] == ["01ABC.json"]


def test_an_existing_set_is_never_overwritten(tmp_path: Path) -> None:
    store = FolderQuestionStore(tmp_path)
    store.create("01ABC.json", b"first")
    with pytest.raises(Conflict):
        store.create("01ABC.json", b"second")
    assert store.read("01ABC.json") == b"first"
    assert len(list(tmp_path.iterdir())) == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FolderQuestionStore(tmp_path)

    def failing_replace(_src: str, _dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("speedrun.question_sets.store.os.replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        store.create("01ABC.json", b"data")
    assert list(tmp_path.iterdir()) == []


def test_reading_or_deleting_a_missing_key(tmp_path: Path) -> None:
    store = FolderQuestionStore(tmp_path)
    with pytest.raises(NotFound):
        store.read("01ABC.json")
    store.delete("01ABC.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["../escape.json", "a/b.json", "set.txt", ".json", ""])
def test_keys_cannot_leave_the_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="invalid question store key"):
        FolderQuestionStore(tmp_path).create(key, b"x")
