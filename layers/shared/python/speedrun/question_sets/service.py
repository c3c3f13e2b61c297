"""Question-set use cases: upload (validate, store immutably, record metadata), replace (a new
version), copy, delete, list, read, load.

Every version is a file of its own that never changes: a replace writes the next version's file,
then moves the metadata item to it, so a run opened from the previous version (whose sign-on read
the item just before) still finds its file. Old versions' files stay until the set is deleted."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath

from speedrun import clock, cursors
from speedrun.adapters.image_store import ImageStore, image_store_from_settings
from speedrun.errors import BadRequest, DomainError, NotFound
from speedrun.question_sets.attachments import UploadImages, unpack
from speedrun.question_sets.models import (
    FIRST_VERSION,
    MAX_NAME_CHARS,
    ParsedQuestionSet,
    QuestionSetContent,
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
COPY_SUFFIX = " (copy)"
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
        images: ImageStore | None = None,
        now_ms: Callable[[], int] = clock.now_ms,
    ) -> None:
        """`images`: where the images of uploaded sets go; None (a function without the image store,
        such as sign-on, which only loads sets): a set file that names an image is refused."""
        self.store = store
        self.repository = repository
        self.images = images
        self.now_ms = now_ms

    @classmethod
    def from_settings(cls, settings: Settings) -> QuestionSetService:
        images = image_store_from_settings(settings) if settings.image_store_url else None
        return cls(
            FolderQuestionStore(settings.require("question_store_path")), DynamoQuestionSetRepository(), images=images
        )

    def _parse(
        self, content: bytes, filename: str | None, attached: Mapping[str, bytes]
    ) -> tuple[ParsedQuestionSet, str | None]:
        """The upload's set (a bundle opened) with its image references resolved, and the file name
        that names it; the images it brings are stored once every question passed every rule."""
        upload = unpack(content, filename, attached)
        if self.images is None:
            return parse_question_set(upload.set_file), upload.filename
        images = UploadImages(upload.attached, self.images)
        parsed = parse_question_set(upload.set_file, images=images)
        images.store_checked()
        return parsed, upload.filename

    def upload(
        self,
        owner: str,
        content: bytes,
        *,
        filename: str | None,
        name: str | None,
        attached: Mapping[str, bytes] | None = None,
    ) -> QuestionSetMetadata:
        """Validate and store a set (`content`: a set file or a bundle; `attached`: image files by name).
        Nothing is stored unless every question passes every rule."""
        chosen_name = _form_name(name)
        parsed, filename = self._parse(content, filename, attached or {})
        created_ms = self.now_ms()
        created_at = clock.iso_from_ms(created_ms)
        stored = StoredQuestionSet(
            id=new_set_id(created_ms),
            owner=owner,
            name=chosen_name or parsed.name or _name_from_filename(filename) or UNTITLED,
            created_at=created_at,
            updated_at=created_at,
            source_format=parsed.source_format,
            categories=count_categories(parsed.questions),
            questions=parsed.questions,
        )
        self._add(stored, size_bytes=len(content))
        return stored.metadata

    def replace(
        self,
        owner: str,
        set_id: str,
        content: bytes,
        *,
        name: str | None,
        attached: Mapping[str, bytes] | None = None,
    ) -> QuestionSetMetadata:
        """The set's next version, from a file validated exactly like an upload. The name is the form's,
        else the file's own, else the set's as it was. Nothing changes unless every question passes
        every rule and no other change was saved since this one read the set (`Conflict`)."""
        record = self._record(owner, set_id)
        chosen_name = _form_name(name)
        parsed, _filename = self._parse(content, None, attached or {})
        stored = StoredQuestionSet(
            id=record.set_id,
            owner=owner,
            name=chosen_name or parsed.name or record.name,
            created_at=record.created_at,
            version=record.version + 1,
            updated_at=clock.iso_from_ms(self.now_ms()),
            source_format=parsed.source_format,
            categories=count_categories(parsed.questions),
            questions=parsed.questions,
        )
        # Unique per attempt: a racing replace of the same version, or one that died between its file
        # and its metadata, never holds the name the next attempt needs.
        key = f"{set_id}-v{stored.version}-{secrets.token_hex(4)}.json"
        self._save(
            stored,
            key,
            lambda: self.repository.replace(
                stored, store_key=key, size_bytes=len(content), read_version=record.version
            ),
        )
        return stored.metadata

    def copy(self, owner: str, set_id: str, *, name: str | None) -> QuestionSetMetadata:
        """A new set (version 1) with the questions of the set's current version; `name` is already
        validated (`CopyRequest`), the default is the set's name and " (copy)"."""
        record = self._record(owner, set_id)
        source = self._read(record)
        created_ms = self.now_ms()
        created_at = clock.iso_from_ms(created_ms)
        stored = source.model_copy(
            update={
                "id": new_set_id(created_ms),
                "name": name or f"{source.name}{COPY_SUFFIX}"[:MAX_NAME_CHARS].rstrip(),
                "created_at": created_at,
                "version": FIRST_VERSION,
                "updated_at": created_at,
            }
        )
        self._add(stored, size_bytes=record.size_bytes)
        return stored.metadata

    def delete(self, owner: str, set_id: str) -> None:
        """The item first, so no run can be opened from the set any more, then every version's file
        (and any a failed replace left behind). Runs opened from it keep playing and keep their
        results: their questions were frozen at sign-on."""
        self._record(owner, set_id)
        self.repository.remove(owner, set_id)
        # Set ids have one length, so the keys starting with this id are this set's and no other's.
        for key in self.store.keys_starting(set_id):
            self.store.delete(key)

    def _add(self, stored: StoredQuestionSet, *, size_bytes: int) -> None:
        key = f"{stored.id}.json"
        self._save(stored, key, lambda: self.repository.add(stored, store_key=key, size_bytes=size_bytes))

    def _save(self, stored: StoredQuestionSet, key: str, save_metadata: Callable[[], None]) -> None:
        """Write the version's file under `key`, then its metadata."""
        self.store.create(key, stored.model_dump_json().encode())
        try:
            save_metadata()
        except BaseException:
            # A version is stored whole or not at all: no file without its metadata item.
            self.store.delete(key)
            raise

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
        """The set's current version, with its questions and their answers."""
        return self._read(self._record(owner, set_id))

    def content(self, owner: str, set_id: str) -> QuestionSetContent:
        return self.load(owner, set_id).content

    def _read(self, record: QuestionSetRecord) -> StoredQuestionSet:
        try:
            data = self.store.read(record.store_key)
        except NotFound:
            if self.repository.get(record.owner, record.set_id) is None:
                # Deleted between reading its item and its file: as if it had been gone already.
                raise NotFound(f"question set {record.set_id} not found") from None
            raise DomainError(f"question set {record.set_id} has metadata but no stored file") from None
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
        version=record.version,
        updated_at=record.updated_at,
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
