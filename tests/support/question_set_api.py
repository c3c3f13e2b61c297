"""The question-set HTTP function driven with API Gateway v2 events, over moto's tables and a store
folder (`question_store_at`), and what it stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

import lambdas.question_sets.handler as question_sets_function
from speedrun.adapters import tables
from speedrun.adapters.tables import QuestionSetModel
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import body_of, http_event, question_store_at, replace_event, upload_event

HOST = "host-1"


@dataclass
class QuestionSetApi:
    store: Path

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        return question_sets_function.handler(event, FakeLambdaContext())

    def upload(self, content: bytes, **kwargs: Any) -> dict[str, Any]:
        return self.call(upload_event(content, **kwargs))

    def uploaded(self, content: bytes, **kwargs: Any) -> str:
        """The id of a set uploaded from `content` (which must be accepted)."""
        response = self.upload(content, **kwargs)
        assert response["statusCode"] == 201, response["body"]
        return str(body_of(response)["id"])

    def get(self, path: str, *, sub: str = HOST, query: dict[str, str] | None = None) -> dict[str, Any]:
        return self.call(http_event("GET", path, sub=sub, query=query))

    def content(self, set_id: str, *, sub: str = HOST) -> dict[str, Any]:
        return self.get(f"/api/question-sets/{set_id}/content", sub=sub)

    def replace(self, set_id: str, content: bytes, **kwargs: Any) -> dict[str, Any]:
        return self.call(replace_event(set_id, content, **kwargs))

    def delete(self, set_id: str, *, sub: str = HOST) -> dict[str, Any]:
        return self.call(http_event("DELETE", f"/api/question-sets/{set_id}", sub=sub))

    def copy(self, set_id: str, *, sub: str = HOST, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call(
            http_event(
                "POST",
                f"/api/question-sets/{set_id}/copy",
                sub=sub,
                body=None if body is None else json.dumps(body).encode(),
                content_type=None if body is None else "application/json",
            )
        )

    def stored_files(self) -> list[str]:
        return sorted(p.name for p in self.store.iterdir()) if self.store.exists() else []

    def items(self) -> list[QuestionSetModel]:
        return list(QuestionSetModel.scan())


@contextmanager
def question_set_api(store: Path, patch: pytest.MonkeyPatch) -> Iterator[QuestionSetApi]:
    """moto with every table, and the function's question store at `store`, for the block."""
    with mock_aws():
        tables.create_all()
        with question_store_at(store, patch):
            yield QuestionSetApi(store)
