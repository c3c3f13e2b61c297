"""The upload's refusals on its envelope alone, before anything parses its body.

Powertools parses a multipart body (request validation) before any route code runs, so the resolver
applies these first (`speedrun.http.EnvelopeGuard`, registered for `manifest.QUESTION_SET_UPLOAD`):
the decoded size (413 without decoding megabytes that will be refused anyway), a multipart content
type with a boundary, and a body that can be read as sent (`speedrun.http.multipart_body_refusal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from speedrun.errors import BadRequest, DomainError, TooLarge
from speedrun.http import body_size, is_multipart_form, multipart_body_refusal, request_header
from speedrun.question_sets.models import MAX_FILE_BYTES

ENVELOPE_ALLOWANCE_BYTES = 64 * 1024
"""Room for the multipart boundaries, part headers and the `name` field around a 4 MiB file."""
MAX_BODY_BYTES = MAX_FILE_BYTES + ENVELOPE_ALLOWANCE_BYTES


def upload_refusal(event: Mapping[str, Any]) -> DomainError | None:
    """Why this upload request cannot be accepted whatever its content, or None."""
    size = body_size(event)
    if size > MAX_BODY_BYTES:
        return TooLarge(
            f"the request body has {size} bytes; a question set file may have at most {MAX_FILE_BYTES} bytes (4 MiB)",
            details=[{"field": "file", "reason": f"at most {MAX_FILE_BYTES} bytes"}],
        )
    content_type = request_header(event, "content-type")
    if not is_multipart_form(content_type):
        return BadRequest(
            "expected a multipart/form-data body (with a boundary) carrying the question set in the field 'file'",
            details=[{"field": "content-type", "reason": f"got {content_type or 'none'}"}],
        )
    return multipart_body_refusal(event)
