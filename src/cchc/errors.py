"""Typed domain errors with Vietnamese messages, translated once for HTTP and the CLI.

Services raise these; views, the API and management commands map them with
`http_status` / `exit_code`. Never raise Django's exceptions from a service.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user may see. `message` is Vietnamese, `code` is stable."""

    code = "error"
    http_status = 400
    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class RemoteError(DomainError):
    """A call to another system failed (`cchc.jobs.remote`). `transient`: worth retrying
    later; `error_code`: the other side's status or code."""

    http_status = 502
    exit_code = 6

    def __init__(
        self, message: str, *, transient: bool, error_code: str = "", **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.transient = transient
        self.error_code = error_code


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 400
    exit_code = 2


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403
    exit_code = 3

    def __init__(self, message: str = "Bạn không có quyền thực hiện thao tác này.", **kw: Any):
        super().__init__(message, **kw)


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    exit_code = 4


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    exit_code = 5
