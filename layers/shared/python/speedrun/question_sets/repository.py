"""Question-set metadata in DynamoDB (`QuestionSetModel`): one item per set, partitioned by owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pynamodb.exceptions import DoesNotExist, PutError

from speedrun.adapters.tables import QuestionSetModel
from speedrun.errors import Unavailable
from speedrun.question_sets.models import StoredQuestionSet


@dataclass(frozen=True)
class QuestionSetRecord:
    owner: str
    set_id: str
    name: str
    question_count: int
    categories: dict[str, int]
    created_at: str
    store_key: str
    source_format: str
    size_bytes: int


class QuestionSetRepository(Protocol):
    def add(self, stored: StoredQuestionSet, *, store_key: str, size_bytes: int) -> None: ...

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
            store_key=store_key,
            source_format=stored.source_format,
            size_bytes=size_bytes,
        )
        try:
            item.save(condition=QuestionSetModel.set_id.does_not_exist())
        except PutError as exc:
            raise Unavailable("could not save the question set; try again") from exc

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
        store_key=item.store_key,
        source_format=item.source_format,
        size_bytes=int(item.size_bytes),
    )
