"""Errors in the Google API shape Perspective clients parse:
``{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT"}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """A request the server answers with an error: HTTP ``code``, a one-line ``message``."""

    def __init__(self, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def to_json(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


class Overloaded(Exception):
    """The batching queue is full: the request is refused (HTTP 429), not queued."""


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN")}}
