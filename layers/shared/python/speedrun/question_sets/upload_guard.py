"""The uploads' refusals on their envelope alone, before anything parses their body.

Powertools parses a multipart body (request validation) before any route code runs, so the resolver
applies these first (`speedrun.http.EnvelopeGuard`, registered for the manifest's upload routes: a
question set, `upload_refusal`; an image, `image_upload_refusal`): the decoded size (413 without
decoding megabytes that will be refused anyway), a multipart content type with a boundary, and a
body that can be read as sent (`speedrun.http.multipart_body_refusal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from speedrun.errors import BadRequest, DomainError, TooLarge
from speedrun.http import body_size, is_multipart_form, multipart_body_refusal, request_header
from speedrun.question_sets.images import MAX_IMAGE_BYTES
from speedrun.question_sets.models import MAX_FILE_BYTES

ENVELOPE_ALLOWANCE_BYTES = 64 * 1024
"""Room for the multipart boundaries, part headers and the `name` field around a 4 MiB file."""
MAX_BODY_BYTES = MAX_FILE_BYTES + ENVELOPE_ALLOWANCE_BYTES
MAX_IMAGE_BODY_BYTES = MAX_IMAGE_BYTES + ENVELOPE_ALLOWANCE_BYTES
_MIB = 1024 * 1024


def upload_refusal(event: Mapping[str, Any]) -> DomainError | None:
    """Why this question-set upload cannot be accepted whatever its content, or None."""
    return _multipart_refusal(
        event, max_file_bytes=MAX_FILE_BYTES, file_is="a question set file", carrying="the question set"
    )


def image_upload_refusal(event: Mapping[str, Any]) -> DomainError | None:
    """Why this image upload cannot be accepted whatever its content, or None."""
    return _multipart_refusal(event, max_file_bytes=MAX_IMAGE_BYTES, file_is="an image", carrying="the image")


def _multipart_refusal(
    event: Mapping[str, Any], *, max_file_bytes: int, file_is: str, carrying: str
) -> DomainError | None:
    size = body_size(event)
    if size > max_file_bytes + ENVELOPE_ALLOWANCE_BYTES:
        return TooLarge(
            f"the request body has {size} bytes; {file_is} may have at most {max_file_bytes} bytes "
            f"({max_file_bytes // _MIB} MiB)",
            details=[{"field": "file", "reason": f"at most {max_file_bytes} bytes"}],
        )
    content_type = request_header(event, "content-type")
    if not is_multipart_form(content_type):
        return BadRequest(
            f"expected a multipart/form-data body (with a boundary) carrying {carrying} in the field 'file'",
            details=[{"field": "content-type", "reason": f"got {content_type or 'none'}"}],
        )
    return multipart_body_refusal(event)
