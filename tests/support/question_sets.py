"""Helpers for the question-set tests: API Gateway HTTP API v2 events and sample sets."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from openpyxl import Workbook

from speedrun.manifest import QUESTION_STORE_ENV
from speedrun.question_sets.service import default_service
from speedrun.settings import get_settings

BOUNDARY = "----speedrunTestBoundary7MA4YWxkTrZu0gW"


def http_event(
    method: str,
    path: str,
    *,
    sub: str | None = "host-1",
    body: bytes | None = None,
    content_type: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event as API Gateway sends it: binary bodies base64-encoded."""
    headers = {"host": "api.example.test"}
    if content_type:
        headers["content-type"] = content_type
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.test",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "t"},
        "requestId": "req-1",
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "time": "22/Nov/2026:00:00:00 +0000",
        "timeEpoch": 1795305600000,
    }
    if sub is not None:
        request_context["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": body is not None,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
    return event


def multipart_body(
    file_content: bytes,
    *,
    filename: str = "set.json",
    name: str | None = None,
    content_type: str = "application/octet-stream",
) -> bytes:
    parts = []
    if name is not None:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode())
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + file_content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def upload_event(
    file_content: bytes,
    *,
    filename: str = "set.json",
    name: str | None = None,
    sub: str | None = "host-1",
    content_type: str = "application/octet-stream",
    method: str = "POST",
    path: str = "/api/question-sets",
) -> dict[str, Any]:
    return http_event(
        method,
        path,
        sub=sub,
        body=multipart_body(file_content, filename=filename, name=name, content_type=content_type),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def replace_event(set_id: str, file_content: bytes, **upload: Any) -> dict[str, Any]:
    """`PUT /api/question-sets/{set_id}`: the body of an upload, to replace the set's questions."""
    return upload_event(file_content, method="PUT", path=f"/api/question-sets/{set_id}", **upload)


def sample_question(number: int, category: str = "geography") -> dict[str, Any]:
    return {
        "category": category,
        "text": f"Question {number}: which option is right?",
        "options": [f"option {number}-a", f"option {number}-b", f"option {number}-c"],
        "correct": [number % 3],
        "explanation": f"Because of rule {number}.",
    }


def sample_set_json(count: int, categories: tuple[str, ...] = ("geography", "History", "science")) -> bytes:
    questions = [sample_question(n, categories[n % len(categories)]) for n in range(count)]
    return json.dumps({"name": "Sample", "questions": questions}).encode()


def workbook_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """An .xlsx file with one worksheet per entry (title -> rows of cell values), as openpyxl writes it."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


@contextmanager
def question_store_at(folder: Path, patch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the question-set service (settings and its cached instance) at `folder` for the block."""
    patch.setenv(QUESTION_STORE_ENV, str(folder))
    get_settings.cache_clear()
    default_service.cache_clear()
    try:
        yield folder
    finally:
        get_settings.cache_clear()
        default_service.cache_clear()
