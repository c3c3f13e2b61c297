"""Domain errors. Each carries a protocol error code (protocol.md; docs/engine.md) and the HTTP status it maps to,
so handlers turn any of them into a WebSocket `error` frame or an HTTP error body the same way."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "internal"
    status: int = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_http_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class TooLarge(DomainError):
    code = "too_large"
    status = 413


class OutOfOrder(DomainError):
    code = "out_of_order"
    status = 409


class NotRunning(DomainError):
    code = "not_running"
    status = 409


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


class Unavailable(DomainError):
    code = "unavailable"
    status = 503


ERRORS_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        TooLarge,
        OutOfOrder,
        NotRunning,
        RateLimited,
        Unavailable,
        DomainError,
    )
}
