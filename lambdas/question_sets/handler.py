"""HTTP: upload, list and read question sets (the caller's own only)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import File, Form, Path, Query, UploadFile
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.errors import BadRequest
from speedrun.http import caller_sub, error_response, error_responses, make_resolver
from speedrun.manifest import QUESTION_SET_UPLOAD
from speedrun.question_sets.models import UPLOAD_MEDIA_TYPES, QuestionSetMetadata, QuestionSetPage
from speedrun.question_sets.service import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, default_service
from speedrun.question_sets.upload_guard import MAX_BODY_BYTES, upload_refusal
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
app = make_resolver(max_body_bytes=MAX_BODY_BYTES, envelope_guards={QUESTION_SET_UPLOAD: upload_refusal})

TAGS = ["question sets"]
UPLOAD_FORMATS = (
    "JSON (the question-set format, the earlier tools' array, or an Open Trivia DB reply), CSV, or an .xlsx "
    "workbook (Kahoot!'s quiz template, or the CSV columns)"
)


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
    file: Annotated[
        UploadFile,
        File(description=f"The question set file, at most 4 MiB: {UPLOAD_FORMATS}. JSON and CSV are UTF-8."),
    ],
    name: Annotated[
        str | None, Form(description="Display name (else the file's own name, else the file name).")
    ] = None,
) -> QuestionSetMetadata:
    owner = caller_sub(app)
    metadata = default_service().upload(owner, file.content, filename=file.filename, name=name)
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
def get_question_set(set_id: Annotated[str, Path(description="The set's id.")]) -> QuestionSetMetadata:
    return default_service().get(caller_sub(app), set_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
