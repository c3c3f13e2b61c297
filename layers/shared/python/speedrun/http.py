"""What every HTTP function shares: the resolver with the contract's error format, and the caller.

http-api.md (GET /api/openapi.json): errors are `{"error": {"code", "message"}}` with a fitting 4xx/5xx, and a 5xx never
leaks a stack trace. Every HTTP handler module builds its resolver with `make_resolver()` and names
it `app`, so the OpenAPI merge (`api_docs`) finds them all. The resolver refuses a body over its size
limit (413) before anything parses it, and reads a route's body only in the media type the route
declares (and documents): a JSON body with `Content-Type: application/json` (or none), UTF-8, nested
at most `speedrun.text.MAX_JSON_DEPTH` levels (checked before parsing); anything else is a 400 naming the problem.
A route whose requests must be refused on their envelope alone (a multipart upload) registers an
`EnvelopeGuard` for its manifest route: the resolver applies it before anything parses the body.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from speedrun.errors import BadRequest, DomainError, NotFound, TooLarge, Unauthorized
from speedrun.manifest import HttpRoute
from speedrun.text import load_json

logger = Logger(child=True)

JSON_BODY_LIMIT_BYTES = 64 * 1024
"""Every JSON body of the API is a few hundred bytes; anything near this is an attack or a bug."""
JSON_MEDIA_TYPE = "application/json"
MULTIPART_MEDIA_TYPE = "multipart/form-data"

EnvelopeGuard = Callable[[Mapping[str, Any]], DomainError | None]
"""Why a request cannot be accepted whatever its content (decided on the event alone), or None."""


def error_response(error: DomainError) -> Response[Any]:
    """The resolver's reply for a refusal: the error's status, its body `DomainError.to_http_body`."""
    return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.to_http_body())


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The error format of every HTTP function (for the OpenAPI document)."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` entries documenting error replies, for a route decorator's `responses=`."""
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {"application/json": {"model": ErrorBody}}}
        for status in statuses
    }


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        details.append({"field": ".".join(location) or "body", "reason": error.get("msg", "invalid")})
    return details


def body_size(event: Mapping[str, Any]) -> int:
    """Bytes of an HTTP API event's body, decoded (base64 is sized from its length alone)."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return len(body.encode("utf-8", "surrogatepass"))
    stripped = body.rstrip()
    padding = len(stripped) - len(stripped.rstrip("="))
    return max(0, len(stripped) * 3 // 4 - padding)


def matches_route(event: Mapping[str, Any], route: HttpRoute) -> bool:
    """Whether an HTTP API event requests `route` (a trailing slash ignored); a `{parameter}` segment of
    the route's path matches any one non-empty segment."""
    http = (event.get("requestContext") or {}).get("http") or {}
    if http.get("method") != route.method:
        return False
    wanted = route.path.split("/")
    got = (event.get("rawPath") or "").rstrip("/").split("/")
    return len(wanted) == len(got) and all(
        segment == expected or (expected.startswith("{") and expected.endswith("}") and segment != "")
        for expected, segment in zip(wanted, got, strict=True)
    )


def request_header(event: Mapping[str, Any], name: str) -> str:
    """The value of the event's header `name` (any letter case), or '' when it has none."""
    headers = {str(header).lower(): str(value) for header, value in (event.get("headers") or {}).items()}
    return headers.get(name.lower(), "")


def is_multipart_form(content_type: str) -> bool:
    """A `multipart/form-data` Content-Type that names its boundary (no part can be found without)."""
    return content_type.lower().startswith(MULTIPART_MEDIA_TYPE) and "boundary=" in content_type


def multipart_body_refusal(event: Mapping[str, Any]) -> BadRequest | None:
    """Why a multipart body cannot be read as it was sent, or None: API Gateway sends binary bodies
    base64-encoded, which must decode; without base64, Powertools reads the body as latin-1, so text
    that latin-1 cannot carry cannot be a faithful upload."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return BadRequest(
                "the request body is not valid base64", details=[{"field": "body", "reason": "invalid base64"}]
            )
    elif not body.isascii():
        try:
            body.encode("latin-1")
        except UnicodeEncodeError:
            return BadRequest(
                "a multipart body must arrive base64-encoded",
                details=[{"field": "body", "reason": "not base64-encoded"}],
            )
    return None


def refusal_response(error: DomainError) -> dict[str, Any]:
    """The HTTP API v2 reply for a request refused before the resolver, in the resolver's error format."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(error.to_http_body()),
        "isBase64Encoded": False,
    }


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """`type/subtype` (lower case) and its parameters (names lower case) of a Content-Type value."""
    kind, *parameters = content_type.split(";")
    named = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        named[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), named


def media_type_refusal(content_type: str | None, declared: str) -> BadRequest | None:
    """Why a body of `content_type` cannot be read by a route whose body is `declared`, or None.

    400 (`bad_request`, field `content-type`) rather than 415: the upload route already answers a
    non-multipart body so (`speedrun.question_sets.upload_guard`), every operation of the document
    lists 400 and none 415, and the contract's error codes (shared with the WebSocket protocol) have
    none for media types. A JSON route reads a body without Content-Type as JSON (as Powertools does);
    JSON is UTF-8 (RFC 8259), so a `charset` parameter, if given, must say so.
    """
    if not content_type or not content_type.strip():
        if declared == JSON_MEDIA_TYPE:
            return None
        return BadRequest(
            f"expected a {declared} body", details=[{"field": "content-type", "reason": f"must be {declared}"}]
        )
    received, parameters = _media_type(content_type)
    charset = parameters.get("charset", "utf-8").lower()
    if received == declared and (declared != JSON_MEDIA_TYPE or charset in ("utf-8", "utf8")):
        return None
    return BadRequest(
        f"expected a {declared} body{' (UTF-8)' if declared == JSON_MEDIA_TYPE else ''}, "
        f"not Content-Type: {content_type.strip()[:100]}",
        details=[{"field": "content-type", "reason": f"must be {declared} (got {content_type.strip()[:100]})"}],
    )


class BodyGuardedValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading a route's body the platform's way: only in the media
    type the route declares (`media_type_refusal`), and a JSON body only when it decodes (base64,
    UTF-8); the parse itself is the resolver's `load_json` (depth bound before parsing). Every refusal
    is a `BadRequest`, so the resolver answers it in the one error format. Powertools reads the body
    here, before any middleware or route code could look at it."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        route = app.context.get("_route")
        body_field = route.body_field if route is not None else None
        declared = str(getattr(getattr(body_field, "field_info", None), "media_type", None) or JSON_MEDIA_TYPE)
        refusal = media_type_refusal(app.current_event.headers.get("content-type"), declared)
        if refusal is not None:
            raise refusal
        if declared == JSON_MEDIA_TYPE:
            try:
                app.current_event.decoded_body  # noqa: B018 (decoded once and cached; a failure is the client's)
            except (binascii.Error, UnicodeDecodeError) as exc:
                reason = "invalid base64" if isinstance(exc, binascii.Error) else f"invalid UTF-8 at byte {exc.start}"
                raise BadRequest(
                    f"the JSON body is not UTF-8 text: {reason}", details=[{"field": "body", "reason": reason}]
                ) from None
        return super()._get_body(app)


if not callable(getattr(OpenAPIRequestValidationMiddleware, "_get_body", None)):  # pragma: no cover
    raise ImportError("aws_lambda_powertools changed how request bodies are read: BodyGuardedValidation needs updating")


class LimitedHttpResolver(APIGatewayHttpResolver):
    """Refuses a request its route's `EnvelopeGuard` refuses, then a body over `max_body_bytes` with
    413, before routing, validation or JSON parsing (Powertools' request validation parses the body
    before any middleware could look at it), and guards how the validation reads a body
    (`BodyGuardedValidation`, `load_json`)."""

    def __init__(self, *, max_body_bytes: int, envelope_guards: Mapping[HttpRoute, EnvelopeGuard]) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=load_json)
        self.max_body_bytes = max_body_bytes
        self.envelope_guards = dict(envelope_guards)
        # Powertools builds every route's middleware stack from this attribute (first in the stack).
        self._request_validation_middleware = BodyGuardedValidation()

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        for route, guard in self.envelope_guards.items():
            refusal = guard(event) if matches_route(event, route) else None
            if refusal is not None:
                logger.info("request refused before parsing", extra={"code": refusal.code, "reason": refusal.message})
                return refusal_response(refusal)
        size = body_size(event)
        if size > self.max_body_bytes:
            logger.info("request body refused before parsing", extra={"bytes": size, "limit": self.max_body_bytes})
            return refusal_response(
                TooLarge(f"the request body has {size} bytes; at most {self.max_body_bytes} are accepted")
            )
        return super().resolve(event, context)


def make_resolver(
    *, max_body_bytes: int = JSON_BODY_LIMIT_BYTES, envelope_guards: Mapping[HttpRoute, EnvelopeGuard] | None = None
) -> LimitedHttpResolver:
    app = LimitedHttpResolver(max_body_bytes=max_body_bytes, envelope_guards=envelope_guards or {})

    @app.exception_handler(DomainError)
    def _domain_error(exc: DomainError) -> Response[Any]:
        if exc.status >= 500:
            logger.exception("domain error", extra={"code": exc.code})
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response[Any]:
        details = _validation_details(exc)
        fields = ", ".join(sorted({d["field"] for d in details}))
        return error_response(BadRequest(f"invalid request: {fields}", details=details))

    @app.not_found
    def _not_found(_exc: Exception) -> Response[Any]:
        return error_response(NotFound("no such route"))

    @app.exception_handler(Exception)
    def _unexpected(_exc: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        # The base class is the contract's `internal` (500), with nothing of the exception in it.
        return error_response(DomainError("internal error"))

    return app


def caller_sub(app: APIGatewayHttpResolver) -> str:
    """The signed-in user's id (Cognito `sub`), from the claims the JWT authorizer verified."""
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer else None
    sub = (claims or {}).get("sub")
    if not sub:
        raise Unauthorized("sign in required")
    return str(sub)
