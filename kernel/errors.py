"""Domain errors. Services raise them; the web layer turns each kind into one HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected refusal, with a message that tells the person what to do next."""

    status_code = 400

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Invalid(DomainError):
    status_code = 422


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401


class TooManyRequests(DomainError):
    status_code = 429


class Malformed(DomainError):
    """The request cannot be read at all (not JSON, wrong encoding)."""

    status_code = 400
