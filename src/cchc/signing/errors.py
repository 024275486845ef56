"""Errors of the signing kit: transient (retry later) or permanent, and unreadable input."""

from __future__ import annotations

from cchc.errors import DomainError, InvalidInput


class SigningUnavailable(DomainError):
    """Signing cannot happen now but may later: the token is absent, the remote provider
    refused or did not answer, the time-stamping authority is down. The caller keeps the
    unsigned document waiting and retries on the worker."""

    code = "signing_unavailable"
    http_status = 503
    exit_code = 75  # EX_TEMPFAIL


class SigningError(DomainError):
    """Signing cannot succeed without a change: unknown profile, wrong password or PIN,
    broken configuration, a document pyHanko cannot sign."""

    code = "signing_error"
    http_status = 500
    exit_code = 1


class UnreadablePdf(InvalidInput):
    """The bytes are not a PDF this kit can read (exit code 2)."""

    code = "unreadable_pdf"
