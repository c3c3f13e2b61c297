"""HTTP: upload, list, read, replace, copy and delete question sets (the caller's own only)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, File, Form, Path, Query, UploadFile
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.errors import BadRequest
from speedrun.http import caller_sub, error_response, error_responses, make_resolver
from speedrun.manifest import IMAGE_UPLOAD, QUESTION_SET_REPLACE, QUESTION_SET_UPLOAD
from speedrun.question_sets.image_service import default_image_service
from speedrun.question_sets.images import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE
from speedrun.question_sets.models import (
    UPLOAD_MEDIA_TYPES,
    CopyRequest,
    ImageMetadata,
    QuestionSetContent,
    QuestionSetMetadata,
    QuestionSetPage,
)
from speedrun.question_sets.service import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, default_service
from speedrun.question_sets.upload_guard import MAX_BODY_BYTES, image_upload_refusal, upload_refusal
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
app = make_resolver(
    max_body_bytes=MAX_BODY_BYTES,
    envelope_guards={
        QUESTION_SET_UPLOAD: upload_refusal,
        QUESTION_SET_REPLACE: upload_refusal,
        IMAGE_UPLOAD: image_upload_refusal,
    },
)

TAGS = ["question sets"]
UPLOAD_FORMATS = (
    "JSON (the question-set format, the earlier tools' array, or an Open Trivia DB reply), CSV, or an .xlsx "
    "workbook (Kahoot!'s quiz template, or the CSV columns)"
)
FILE_DESCRIPTION = f"The question set file, at most 4 MiB: {UPLOAD_FORMATS}. JSON and CSV are UTF-8."
NOT_FOUND_NOTE = "Unknown ids and other hosts' sets are a `404`, alike."
SetId = Annotated[str, Path(description="The set's id.")]
ImageParts = Annotated[
    list[UploadFile] | UploadFile | None,
    File(
        description="Images the set file names by file name (its questions' `image`, `option_images`), one part "
        "each; or send a bundle (.zip with the set file and its images) as `file`. Each image is checked like "
        "`POST /api/images`."
    ),
]


def _attached(images: list[UploadFile] | UploadFile | None) -> dict[str, bytes]:
    """The image parts by file name (a lone part arrives as itself, several as a list)."""
    parts = [images] if isinstance(images, UploadFile) else images or []
    named = {part.filename: part.content for part in parts if part.filename}
    if len(named) != len(parts):
        raise BadRequest(
            "every image part needs a distinct file name: the set file names its images by them",
            details=[{"field": "images", "reason": "a part without a file name, or two parts with the same one"}],
        )
    return named


@app.exception_handler(UnicodeDecodeError)
def _multipart_not_text(_exc: UnicodeDecodeError) -> Response[Any]:
    # Only the multipart parser decodes without catching: a part's headers or the `name` field are not UTF-8.
    return error_response(BadRequest("malformed multipart body: a part header or form field is not UTF-8"))


@app.post(
    "/api/question-sets",
    status_code=201,
    summary="Upload a question set (JSON, CSV or .xlsx, at most 4 MiB and 500 questions)",
    description=(
        f"The file may be {UPLOAD_FORMATS}: media types {', '.join(UPLOAD_MEDIA_TYPES)}. The format is told by "
        "the file's content, not by its name or the part's Content-Type. Every problem found is listed in "
        "`error.details` ({question|line|sheet and row, field, reason})."
    ),
    tags=TAGS,
    responses={
        201: {"description": "Stored; the set's metadata."},
        **error_responses(400, 401, 413),
    },
)
def upload_question_set(
    file: Annotated[UploadFile, File(description=FILE_DESCRIPTION)],
    name: Annotated[
        str | None, Form(description="Display name (else the file's own name, else the file name).")
    ] = None,
    images: ImageParts = None,
) -> QuestionSetMetadata:
    owner = caller_sub(app)
    metadata = default_service().upload(
        owner, file.content, filename=file.filename, name=name, attached=_attached(images)
    )
    metrics.add_metric(name="QuestionSetsUploaded", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="QuestionsUploaded", unit=MetricUnit.Count, value=metadata.question_count)
    logger.info("question set stored", extra={"set_id": metadata.id, "question_count": metadata.question_count})
    return metadata


@app.get(
    "/api/question-sets",
    summary="The caller's question sets, newest first",
    tags=TAGS,
    responses={200: {"description": "One page of sets."}, **error_responses(400, 401)},
)
def list_question_sets(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> QuestionSetPage:
    return default_service().list_sets(caller_sub(app), limit=limit, cursor=cursor)


@app.get(
    "/api/question-sets/<set_id>",
    summary="One of the caller's question sets (metadata only, never the answers)",
    tags=TAGS,
    responses={200: {"description": "The set's metadata."}, **error_responses(401, 404)},
)
def get_question_set(set_id: SetId) -> QuestionSetMetadata:
    return default_service().get(caller_sub(app), set_id)


@app.get(
    "/api/question-sets/<set_id>/content",
    summary="One of the caller's question sets with its questions and answers, in the upload format",
    description=(
        "The current version as a JSON question-set file (`question-set.md`) with its `id` and `version`: saved as "
        f"a file, it can be `PUT` back unchanged. Only the set's owner reads it. {NOT_FOUND_NOTE}"
    ),
    tags=TAGS,
    responses={200: {"description": "The set's questions, with their correct options."}, **error_responses(401, 404)},
)
def get_question_set_content(set_id: SetId) -> QuestionSetContent:
    return default_service().content(caller_sub(app), set_id)


@app.put(
    "/api/question-sets/<set_id>",
    summary="Replace a question set's questions: its next version (the upload's formats and limits)",
    description=(
        "The body is an upload's (`POST /api/question-sets`): the file is validated exactly the same way and every "
        "problem is listed in `error.details`; a refused file changes nothing. The name is the form's, else the "
        "file's own, else the set's name is kept. Runs already opened keep the version they were opened from. "
        "`409` when the set changed while this one was saved: reload it and try again. "
        f"{NOT_FOUND_NOTE}"
    ),
    tags=TAGS,
    responses={
        200: {"description": "Saved; the set's metadata at its new version."},
        **error_responses(400, 401, 404, 409, 413),
    },
)
def replace_question_set(
    set_id: SetId,
    file: Annotated[UploadFile, File(description=FILE_DESCRIPTION)],
    name: Annotated[
        str | None, Form(description="Display name (else the file's own name, else the set keeps its name).")
    ] = None,
    images: ImageParts = None,
) -> QuestionSetMetadata:
    metadata = default_service().replace(caller_sub(app), set_id, file.content, name=name, attached=_attached(images))
    metrics.add_metric(name="QuestionSetsReplaced", unit=MetricUnit.Count, value=1)
    logger.info("question set replaced", extra={"set_id": metadata.id, "version": metadata.version})
    return metadata


@app.delete(
    "/api/question-sets/<set_id>",
    summary="Delete a question set and every version of it",
    description=(
        "No run can be opened from it afterwards; runs already opened keep playing and keep their results. "
        f"{NOT_FOUND_NOTE}"
    ),
    tags=TAGS,
    responses={204: {"description": "Deleted (no body).", "content": {}}, **error_responses(401, 404)},
)
def delete_question_set(set_id: SetId) -> Response[None]:
    default_service().delete(caller_sub(app), set_id)
    logger.info("question set deleted", extra={"set_id": set_id})
    return Response(status_code=204)


@app.post(
    "/api/question-sets/<set_id>/copy",
    status_code=201,
    summary="Copy a question set: a new set (version 1) with the same questions",
    description=f"The copy is independent: changing either set leaves the other as it is. {NOT_FOUND_NOTE}",
    tags=TAGS,
    responses={201: {"description": "Copied; the new set's metadata."}, **error_responses(400, 401, 404)},
)
def copy_question_set(
    set_id: SetId, body: Annotated[CopyRequest | None, Body(embed=False)] = None
) -> QuestionSetMetadata:
    metadata = default_service().copy(caller_sub(app), set_id, name=body.name if body else None)
    logger.info("question set copied", extra={"set_id": metadata.id, "from_set_id": set_id})
    return metadata


@app.post(
    "/api/images",
    status_code=201,
    summary="Upload one image for a question or an option (PNG, JPEG, WebP or GIF, at most 2 MiB)",
    description=(
        "The format is told by the file's content, not by its name or the part's Content-Type. The image is "
        f"decoded whole (at most {MAX_IMAGE_SIDE} pixels a side; an animation's frames are kept) and stored "
        "re-encoded, upright and without metadata (EXIF, GPS, XMP, ICC profile, comments), under a key that is the "
        "hash of the stored bytes: the same image uploaded twice gets the same key. Put the key in a question's "
        "`image` (or an option's); the site serves it at `url`. A refused image is listed in `error.details` "
        "({field: image, reason})."
    ),
    tags=["images"],
    responses={
        201: {"description": "Stored; the image's key and where it is served."},
        **error_responses(400, 401, 413),
    },
)
def upload_image(
    file: Annotated[UploadFile, File(description=f"The image, at most {MAX_IMAGE_BYTES} bytes (2 MiB).")],
) -> ImageMetadata:
    caller_sub(app)  # a signed-in host
    metadata = default_image_service().upload(file.content)
    metrics.add_metric(name="ImagesUploaded", unit=MetricUnit.Count, value=1)
    logger.info("image stored", extra={"image": metadata.image, "bytes": metadata.bytes})
    return metadata


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
