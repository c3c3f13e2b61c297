"""The question store: an EFS access point when deployed, a local folder otherwise.

A stored file never changes (a run keeps the questions it started with): each version of a set is a
file of its own, so the store only ever creates files, and removes them when their set is deleted.
Each write goes to a temp file in the same directory, is fsynced, then renamed into place: a reader
sees the whole file or no file, never half of one.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from speedrun.errors import Conflict, NotFound

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}\.json$")
"""Keys are flat file names the service derives from set ids; nothing from outside picks a path."""


class QuestionStore(Protocol):
    def create(self, key: str, data: bytes) -> None:
        """Store `data` under a new key; `Conflict` if the key exists."""

    def read(self, key: str) -> bytes:
        """The stored bytes; `NotFound` if there is no such key."""

    def delete(self, key: str) -> None:
        """Remove a key (a create whose metadata could not be saved, or a deleted set's); missing is fine."""

    def keys_starting(self, prefix: str) -> list[str]:
        """Every stored key that starts with `prefix`, sorted."""


class FolderQuestionStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"invalid question store key {key!r}")
        return self.root / key

    def create(self, key: str, data: bytes) -> None:
        final = self._path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        if final.exists():
            raise Conflict(f"question set file {key} already exists")
        handle, temp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, final)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._sync_directory()

    def _sync_directory(self) -> None:
        """Make the rename itself durable, not only the file's bytes."""
        descriptor = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"question set file {key} not found") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys_starting(self, prefix: str) -> list[str]:
        if not self.root.exists():
            return []
        # Temp files of writes in progress (`.incoming-*`) are not keys: only names the key pattern allows.
        with os.scandir(self.root) as entries:
            return sorted(entry.name for entry in entries if entry.name.startswith(prefix) and _KEY.match(entry.name))
