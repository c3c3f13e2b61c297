"""Question-set use cases: upload (validate, store immutably, record metadata), list, read, load."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath

from speedrun import clock, cursors
from speedrun.errors import BadRequest, DomainError, NotFound
from speedrun.question_sets.models import (
    MAX_NAME_CHARS,
    QuestionSetMetadata,
    QuestionSetPage,
    StoredQuestionSet,
    count_categories,
)
from speedrun.question_sets.parsing import parse_question_set
from speedrun.question_sets.repository import DynamoQuestionSetRepository, QuestionSetRecord, QuestionSetRepository
from speedrun.question_sets.store import FolderQuestionStore, QuestionStore
from speedrun.settings import Settings, get_settings

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
UNTITLED = "Untitled question set"
NOT_OUR_CURSOR = "not a cursor this API returned"

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SET_ID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def new_set_id(at_ms: int) -> str:
    """ULID-like: 10 base32 chars of epoch ms then 16 of randomness, so ids sort by creation time."""
    value = (at_ms << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class QuestionSetService:
    def __init__(
        self,
        store: QuestionStore,
        repository: QuestionSetRepository,
        *,
        now_ms: Callable[[], int] = clock.now_ms,
    ) -> None:
        self.store = store
        self.repository = repository
        self.now_ms = now_ms

    @classmethod
    def from_settings(cls, settings: Settings) -> QuestionSetService:
        return cls(FolderQuestionStore(settings.require("question_store_path")), DynamoQuestionSetRepository())

    def upload(self, owner: str, content: bytes, *, filename: str | None, name: str | None) -> QuestionSetMetadata:
        """Validate and store a set. Nothing is stored unless every question passes every rule."""
        chosen_name = _form_name(name)
        parsed = parse_question_set(content)
        created_ms = self.now_ms()
        set_id = new_set_id(created_ms)
        stored = StoredQuestionSet(
            id=set_id,
            owner=owner,
            name=chosen_name or parsed.name or _name_from_filename(filename) or UNTITLED,
            created_at=clock.iso_from_ms(created_ms),
            source_format=parsed.source_format,
            categories=count_categories(parsed.questions),
            questions=parsed.questions,
        )
        key = f"{set_id}.json"
        self.store.create(key, stored.model_dump_json().encode())
        try:
            self.repository.add(stored, store_key=key, size_bytes=len(content))
        except BaseException:
            # A set is stored whole or not at all: no file without its metadata item.
            self.store.delete(key)
            raise
        return stored.metadata

    def list_sets(self, owner: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> QuestionSetPage:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequest(
                f"limit must be 1..{MAX_PAGE_SIZE}",
                details=[{"field": "limit", "reason": f"must be 1..{MAX_PAGE_SIZE}"}],
            )
        before = decode_cursor(cursor) if cursor else None
        records = self.repository.newest_first(owner, limit=limit + 1, before_set_id=before)
        page = records[:limit]
        next_cursor = encode_cursor(page[-1].set_id) if len(records) > limit else None
        return QuestionSetPage(items=[_metadata(record) for record in page], next_cursor=next_cursor)

    def get(self, owner: str, set_id: str) -> QuestionSetMetadata:
        return _metadata(self._record(owner, set_id))

    def load(self, owner: str, set_id: str) -> StoredQuestionSet:
        record = self._record(owner, set_id)
        try:
            data = self.store.read(record.store_key)
        except NotFound:
            raise DomainError(f"question set {set_id} has metadata but no stored file") from None
        return StoredQuestionSet.model_validate_json(data)

    def _record(self, owner: str, set_id: str) -> QuestionSetRecord:
        # Someone else's set and no set at all look the same: a host cannot probe others' ids.
        record = self.repository.get(owner, set_id) if SET_ID_PATTERN.match(set_id) else None
        if record is None:
            raise NotFound(f"question set {set_id} not found")
        return record


def _metadata(record: QuestionSetRecord) -> QuestionSetMetadata:
    return QuestionSetMetadata(
        id=record.set_id,
        name=record.name,
        question_count=record.question_count,
        categories=record.categories,
        created_at=record.created_at,
    )


def _form_name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    stripped = name.strip()
    if len(stripped) > MAX_NAME_CHARS:
        raise BadRequest(
            f"name must be at most {MAX_NAME_CHARS} characters",
            details=[{"field": "name", "reason": f"must be at most {MAX_NAME_CHARS} characters (has {len(stripped)})"}],
        )
    return stripped


def _name_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    # Browsers send a bare name, but old ones sent the client's full (possibly Windows) path.
    stem = PurePosixPath(PureWindowsPath(filename).name).stem.strip()
    return stem[:MAX_NAME_CHARS] or None


def encode_cursor(last_set_id: str) -> str:
    return cursors.encode_cursor({"set_id": last_set_id})


def decode_cursor(cursor: str) -> str:
    key = cursors.decode_cursor(cursor, unreadable=NOT_OUR_CURSOR)
    set_id = key.get("set_id") if isinstance(key, dict) else None
    if not isinstance(set_id, str) or not SET_ID_PATTERN.match(set_id):
        raise cursors.invalid_cursor(NOT_OUR_CURSOR)
    return set_id


@cache
def default_service() -> QuestionSetService:
    """The service over the configured question store and table (built on first use, then reused)."""
    return QuestionSetService.from_settings(get_settings())


def load_questions(owner: str, set_id: str, *, service: QuestionSetService | None = None) -> StoredQuestionSet:
    """A stored set with every question and its correct answers. `NotFound` if unknown or not `owner`'s."""
    return (service or default_service()).load(owner, set_id)
