"""Errors the API answers with, each a status, a code, a message and the field at fault.

Every 4xx has the same body, `{"error": {"code", "message", "field"}}`, so the Inbox and Rasa's side
can show or log it without guessing.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "error": {"code": self.code, "message": self.message, "field": self.field, **self.extra}
        }

    def headers(self) -> dict[str, str]:
        """`Retry-After` when the error says how long to wait (429, 503)."""
        if "retry_after" in self.extra:
            return {"Retry-After": str(self.extra["retry_after"])}
        return {}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(ApiError):
    """Answered with a `Retry-After` header of `retry_after` seconds (see ratelimit.py)."""

    status = 429
    code = "rate_limited"


class BadGateway(ApiError):
    """Rasa's connector did not take a command; nothing was changed on the ticket."""

    status = 502
    code = "connector_failed"


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"
