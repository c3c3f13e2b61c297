"""Question-set metadata in DynamoDB (`QuestionSetModel`): one item per set, partitioned by owner.

The item names the set's current version and that version's file; a replace moves it to the next
version only if nobody else did in between (a condition on the version it read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from speedrun.adapters.tables import QuestionSetModel
from speedrun.errors import Conflict, Unavailable
from speedrun.question_sets.models import FIRST_VERSION, StoredQuestionSet

CHANGED_WHILE_SAVING = "the set changed while saving; reload it and try again"


@dataclass(frozen=True)
class QuestionSetRecord:
    owner: str
    set_id: str
    name: str
    question_count: int
    categories: dict[str, int]
    created_at: str
    version: int
    updated_at: str
    store_key: str
    source_format: str
    size_bytes: int


class QuestionSetRepository(Protocol):
    def add(self, stored: StoredQuestionSet, *, store_key: str, size_bytes: int) -> None: ...

    def replace(self, stored: StoredQuestionSet, *, store_key: str, size_bytes: int, read_version: int) -> None:
        """Make `stored` (version `read_version + 1`) the set's current version; `Conflict` when the
        item is no longer at `read_version` (another change won, or the set was deleted)."""

    def remove(self, owner: str, set_id: str) -> None: ...

    def get(self, owner: str, set_id: str) -> QuestionSetRecord | None: ...

    def newest_first(self, owner: str, *, limit: int, before_set_id: str | None) -> list[QuestionSetRecord]: ...


class DynamoQuestionSetRepository:
    def add(self, stored: StoredQuestionSet, *, store_key: str, size_bytes: int) -> None:
        item = QuestionSetModel(
            owner=stored.owner,
            set_id=stored.id,
            name=stored.name,
            question_count=len(stored.questions),
            categories=stored.categories,
            created_at=stored.created_at,
            version=stored.version,
            updated_at=stored.updated_at,
            store_key=store_key,
            source_format=stored.source_format,
            size_bytes=size_bytes,
        )
        try:
            item.save(condition=QuestionSetModel.set_id.does_not_exist())
        except PutError as exc:
            raise Unavailable("could not save the question set; try again") from exc

    def replace(self, stored: StoredQuestionSet, *, store_key: str, size_bytes: int, read_version: int) -> None:
        at_read_version = QuestionSetModel.version == read_version
        if read_version == FIRST_VERSION:
            # Items written before sets had versions are at version 1 without saying so.
            at_read_version = at_read_version | QuestionSetModel.version.does_not_exist()
        item = QuestionSetModel(stored.owner, stored.id)
        try:
            item.update(
                actions=[
                    QuestionSetModel.name.set(stored.name),
                    QuestionSetModel.question_count.set(len(stored.questions)),
                    QuestionSetModel.categories.set(stored.categories),
                    QuestionSetModel.version.set(stored.version),
                    QuestionSetModel.updated_at.set(stored.updated_at),
                    QuestionSetModel.store_key.set(store_key),
                    QuestionSetModel.source_format.set(stored.source_format),
                    QuestionSetModel.size_bytes.set(size_bytes),
                ],
                # The set must still exist: an update of a deleted set's key would create a new item.
                condition=QuestionSetModel.set_id.exists() & at_read_version,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(CHANGED_WHILE_SAVING) from exc
            raise Unavailable("could not save the question set; try again") from exc

    def remove(self, owner: str, set_id: str) -> None:
        try:
            QuestionSetModel(owner, set_id).delete()
        except DeleteError as exc:
            raise Unavailable("could not delete the question set; try again") from exc

    def get(self, owner: str, set_id: str) -> QuestionSetRecord | None:
        try:
            return _record(QuestionSetModel.get(owner, set_id))
        except DoesNotExist:
            return None

    def newest_first(self, owner: str, *, limit: int, before_set_id: str | None) -> list[QuestionSetRecord]:
        # Set ids are time-ordered, so descending sort-key order is newest first; resuming "before" the
        # last id seen keeps the cursor free of anything but a set id the caller already owns.
        condition = QuestionSetModel.set_id < before_set_id if before_set_id else None
        results = QuestionSetModel.query(owner, range_key_condition=condition, scan_index_forward=False, limit=limit)
        return [_record(item) for item in results]


def _record(item: QuestionSetModel) -> QuestionSetRecord:
    categories = item.categories.as_dict() if hasattr(item.categories, "as_dict") else dict(item.categories)
    return QuestionSetRecord(
        owner=item.owner,
        set_id=item.set_id,
        name=item.name,
        question_count=int(item.question_count),
        categories={str(name): int(count) for name, count in categories.items()},
        created_at=item.created_at,
        version=FIRST_VERSION if item.version is None else int(item.version),
        updated_at=item.updated_at or item.created_at,
        store_key=item.store_key,
        source_format=item.source_format,
        size_bytes=int(item.size_bytes),
    )
