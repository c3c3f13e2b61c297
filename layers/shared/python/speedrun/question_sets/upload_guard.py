"""Refuse an upload request on its envelope alone, before anything parses its body.

Powertools parses a multipart body (request validation) before any route code runs, so the checks
that must come first live here and the handler applies them ahead of the resolver: the decoded size
(413 without decoding megabytes that will be refused anyway), a multipart content type with a
boundary, and valid base64 (API Gateway sends binary bodies base64-encoded).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from speedrun.errors import BadRequest, DomainError, TooLarge
from speedrun.http import body_size, refusal_response
from speedrun.question_sets.models import MAX_FILE_BYTES

__all__ = ["MAX_BODY_BYTES", "is_upload", "refusal_response", "upload_refusal"]

UPLOAD_METHOD = "POST"
UPLOAD_PATH = "/api/question-sets"
ENVELOPE_ALLOWANCE_BYTES = 64 * 1024
"""Room for the multipart boundaries, part headers and the `name` field around a 4 MiB file."""
MAX_BODY_BYTES = MAX_FILE_BYTES + ENVELOPE_ALLOWANCE_BYTES


def is_upload(event: Mapping[str, Any]) -> bool:
    http = (event.get("requestContext") or {}).get("http") or {}
    path = event.get("rawPath") or ""
    return http.get("method") == UPLOAD_METHOD and path.rstrip("/") == UPLOAD_PATH


def upload_refusal(event: Mapping[str, Any]) -> DomainError | None:
    """Why this upload request cannot be accepted whatever its content, or None."""
    body = event.get("body") or ""
    base64_encoded = bool(event.get("isBase64Encoded"))
    size = body_size(event)
    if size > MAX_BODY_BYTES:
        return TooLarge(
            f"the request body has {size} bytes; a question set file may have at most {MAX_FILE_BYTES} bytes (4 MiB)",
            details=[{"field": "file", "reason": f"at most {MAX_FILE_BYTES} bytes"}],
        )
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        return BadRequest(
            "expected a multipart/form-data body (with a boundary) carrying the question set in the field 'file'",
            details=[{"field": "content-type", "reason": f"got {content_type or 'none'}"}],
        )
    if base64_encoded:
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return BadRequest(
                "the request body is not valid base64", details=[{"field": "body", "reason": "invalid base64"}]
            )
    elif not body.isascii():
        # Without base64, Powertools reads the body as latin-1: non-latin-1 text cannot be a faithful upload.
        try:
            body.encode("latin-1")
        except UnicodeEncodeError:
            return BadRequest(
                "a multipart body must arrive base64-encoded",
                details=[{"field": "body", "reason": "not base64-encoded"}],
            )
    return None
