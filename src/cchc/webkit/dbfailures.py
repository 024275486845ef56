"""The database failing under us — locked, full, read-only, unreachable — answered cleanly.

One classifier (`classify`) turns a database exception into a `Failure`: its kind, a
Vietnamese message, a short English gloss, the CLI exit code and the seconds after which a
retry makes sense. Everything that shows such a failure uses it:

- the `cchc` console script (`cchc.__main__`): one line on stderr, exit code per kind;
- pages (`DatabaseFailureMiddleware`): a 503 page with `Retry-After`, never a traceback;
- the API (`api_response`, registered as django-ninja's handler in `cchc.api.root`): 503 in
  the API's error envelope.

Why one mechanism: a locked SQLite file, a full disk, a read-only file or a PostgreSQL
server that went away are not bugs in a request; what the user needs is the same sentence
and "try again later" wherever they meet it, and the operator one log line naming the kind.

Classification is by type and code, never by parsing prose when a code exists: PostgreSQL's
SQLSTATE (`sqlstate` on psycopg 3 errors, `pgcode` on psycopg2), SQLite's result code
(`sqlite_errorcode`, Python ≥ 3.11), with SQLite's fixed messages as the fallback. Django
re-raises driver errors as `django.db.utils.*` with the driver's error as `__cause__`.

| kind | exit | examples |
|---|---|---|
| locked | 10 | SQLite "database is locked" (BUSY/LOCKED); PostgreSQL 55P03, 40P01, 40001, 57014 |
| full | 11 | SQLite "database or disk is full"; PostgreSQL 53100 disk_full |
| read_only | 12 | SQLite "attempt to write a readonly database"; PostgreSQL 25006 |
| unreachable | 13 | SQLite "unable to open database file"; PostgreSQL 08xxx, 57P01-57P03, 53300, |
| | | a connection refused or closed (no SQLSTATE) |
| other | 14 | any other database error (constraint, missing table, …) |
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.signals import got_request_exception
from django.db import Error as DjangoDatabaseError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template import Context, Engine
from django.templatetags.static import static

logger = logging.getLogger(__name__)

LOCKED, FULL, READ_ONLY, UNREACHABLE, OTHER = "locked", "full", "read_only", "unreachable", "other"


@dataclass(frozen=True)
class Kind:
    name: str
    exit_code: int
    message: str  # Vietnamese, for users
    gloss: str  # short English, for operators reading the CLI line
    retry_after: int  # seconds

    @property
    def code(self) -> str:
        """The stable code in the API's error envelope."""
        return "database_error" if self.name == OTHER else f"database_{self.name}"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            LOCKED,
            10,
            "Cơ sở dữ liệu đang bận: một thao tác khác đang giữ khóa. Vui lòng thử lại sau.",
            "database locked/busy",
            10,
        ),
        Kind(
            FULL,
            11,
            "Ổ đĩa hoặc cơ sở dữ liệu đã đầy, không ghi thêm được dữ liệu. Hãy báo quản trị hệ "
            "thống giải phóng dung lượng.",
            "disk or database full",
            300,
        ),
        Kind(
            READ_ONLY,
            12,
            "Cơ sở dữ liệu đang ở chế độ chỉ đọc, không ghi được dữ liệu.",
            "database is read-only",
            300,
        ),
        Kind(
            UNREACHABLE,
            13,
            "Không kết nối được tới cơ sở dữ liệu (mất kết nối, máy chủ không trả lời hoặc không "
            "mở được tệp cơ sở dữ liệu). Vui lòng thử lại sau.",
            "database connection lost or unreachable",
            30,
        ),
        Kind(
            OTHER,
            14,
            "Cơ sở dữ liệu báo lỗi; thao tác chưa được thực hiện.",
            "database error",
            60,
        ),
    )
}

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_CODES = {5: LOCKED, 6: LOCKED, 13: FULL, 8: READ_ONLY, 14: UNREACHABLE}  # BUSY, LOCKED…
_SQLITE_MESSAGES = (
    ("database is locked", LOCKED),
    ("database table is locked", LOCKED),
    ("database schema is locked", LOCKED),
    ("database or disk is full", FULL),
    ("readonly database", READ_ONLY),
    ("unable to open database file", UNREACHABLE),
)
# PostgreSQL SQLSTATEs: exact codes first, then classes (the first two characters).
_SQLSTATES = {
    "53100": FULL,  # disk_full
    "25006": READ_ONLY,  # read_only_sql_transaction (a hot standby, or a read-only session)
    "57P01": UNREACHABLE,  # admin_shutdown (also pg_terminate_backend)
    "57P02": UNREACHABLE,  # crash_shutdown
    "57P03": UNREACHABLE,  # cannot_connect_now (starting up, shutting down)
    "53300": UNREACHABLE,  # too_many_connections
    "55P03": LOCKED,  # lock_not_available (lock_timeout, NOWAIT)
    "40P01": LOCKED,  # deadlock_detected
    "40001": LOCKED,  # serialization_failure
    "57014": LOCKED,  # query_canceled (statement_timeout)
}
_SQLSTATE_CLASSES = {"08": UNREACHABLE}  # connection_exception
_DETAIL_CHARS = 200


@dataclass(frozen=True)
class Failure:
    """A classified database failure. `detail` is the driver's first line: for logs and the
    CLI, never shown on a web page (it may name tables or hosts)."""

    kind: Kind
    detail: str
    outage: bool  # the database refused service (vs. a statement refused: constraint, schema)

    def cli_line(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"cchc: {self.kind.message} ({self.kind.gloss}{detail})"


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The exception bases of the installed drivers; psycopg is optional (SQLite-only
    installs), hence the guarded imports."""
    bases: list[type[BaseException]] = [DjangoDatabaseError, sqlite3.Error]
    try:
        import psycopg  # optional driver: only installed for PostgreSQL

        bases.append(psycopg.Error)
    except ImportError:
        pass
    try:
        import psycopg2  # optional driver: the older PostgreSQL adapter

        bases.append(psycopg2.Error)
    except ImportError:
        pass
    return tuple(bases)


_DATABASE_ERRORS = _driver_errors()


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        if line.strip():
            text = " ".join(line.split())
            return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"
    return type(exc).__name__


def _kind_of(exc: BaseException) -> str | None:
    """The kind one exception (not its chain) reveals, or None."""
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _SQLSTATES.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2]) or OTHER
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE_CODES:
            return _SQLITE_CODES[code & 0xFF]
        text = str(exc).lower()
        for needle, kind in _SQLITE_MESSAGES:
            if needle in text:
                return kind
        return OTHER
    module = type(exc).__module__
    if module.startswith("psycopg"):  # psycopg 3 and psycopg2
        # No SQLSTATE: the client side failed — refused, closed, lost mid-statement.
        name = type(exc).__name__
        return UNREACHABLE if name in ("OperationalError", "InterfaceError") else OTHER
    if isinstance(exc, InterfaceError):  # Django's own: "connection already closed"
        return UNREACHABLE
    return None


def classify(exc: BaseException | None) -> Failure | None:
    """The database failure `exc` is, or None if it is not a database error.

    Only `exc` itself decides whether it is a database error; its `__cause__` chain (Django's
    wrapper → the driver's error) gives the details. `__context__` is not followed: a bug
    raised while handling a database error stays a bug."""
    if exc is None or not isinstance(exc, _DATABASE_ERRORS):
        return None
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__
    kind_name = OTHER
    source = exc
    for link in reversed(chain):  # the driver's error (innermost) knows best
        found = _kind_of(link)
        if found is not None:
            kind_name, source = found, link
            break
    outage = kind_name != OTHER or any(
        isinstance(link, (OperationalError, InterfaceError)) for link in chain
    )
    return Failure(KINDS[kind_name], _first_line(source), outage)


# ---------------------------------------------------------------------------------------
# Web: pages and the API.

_ENGINE = Engine(dirs=[str(Path(__file__).resolve().parent / "templates")], autoescape=True)
_REQUEST_ATTR = "_cchc_database_failure"


def _is_api(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None and "api" in match.namespaces:
        return True
    return request.path.startswith("/api/")


def _stylesheet() -> str:
    """The site's stylesheet URL, or "" when it cannot be resolved (a manifest without it):
    the page must render whatever else is broken."""
    try:
        return static("cchc/site.css")
    except Exception:  # the page renders unstyled rather than not at all
        return ""


def _log(request: HttpRequest, failure: Failure) -> None:
    # One line, no traceback: the kind and the driver's first line are what an operator acts
    # on. The path without its query string (query values may carry personal data).
    logger.error(
        "database %s (%s) on %s %s: %s",
        failure.kind.name,
        failure.kind.code,
        request.method,
        request.path,
        failure.detail,
    )


def response(request: HttpRequest, failure: Failure) -> HttpResponse:
    """503 with `Retry-After`: the API's JSON error envelope under /api/, else a page that
    touches neither the database nor the session (both may be what failed)."""
    _log(request, failure)
    kind = failure.kind
    if _is_api(request):
        answer: HttpResponse = JsonResponse(
            {
                "error": {
                    "code": kind.code,
                    "message": kind.message,
                    "details": {"retry_after": kind.retry_after},
                }
            },
            status=503,
        )
    else:
        page = _ENGINE.get_template("webkit/503.html").render(
            Context(
                {
                    "message": kind.message,
                    "retry_after": kind.retry_after,
                    "retry_minutes": max(1, round(kind.retry_after / 60)),
                    "stylesheet": _stylesheet(),
                }
            )
        )
        answer = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    answer["Retry-After"] = str(kind.retry_after)
    answer["Cache-Control"] = "no-store"
    answer._has_been_logged = True  # type: ignore[attr-defined]  # Django: not again as 5xx
    return answer


def api_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    """django-ninja exception handler for database errors (ninja answers every exception
    itself, with a traceback under DEBUG): an outage → 503 envelope; anything else is
    raised again for Django's own 500 handling."""
    failure = classify(exc)
    if failure is None or not failure.outage:
        raise exc
    return response(request, failure)


def current_outage_response(request: HttpRequest) -> HttpResponse | None:
    """For the 500 handler (`handler500`): the 503 answer if the exception being handled is
    a database outage, else None. The 500 page renders the site's navigation, which reads
    the session and the user's roles — the database that just failed."""
    failure = classify(sys.exc_info()[1])
    if failure is None or not failure.outage:
        return None
    return response(request, failure)


def _remember_failure(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """`got_request_exception` receiver: Django turns an exception raised inside a middleware
    (a session or user lookup, a session save) into a 500 before any outer middleware sees
    it; the exception is only visible here. Remember it on the request for the middleware."""
    failure = classify(sys.exc_info()[1])
    if request is not None and failure is not None and failure.outage:
        setattr(request, _REQUEST_ATTR, failure)


got_request_exception.connect(_remember_failure, dispatch_uid="cchc.webkit.dbfailures")


def _not_an_outage(record: logging.LogRecord) -> bool:
    """Filter on `django.request`: Django logs a middleware's exception as "Internal Server
    Error" with its traceback before the middleware above turns it into a 503; the outage is
    logged once, by `response`, so that record is dropped. Everything else passes."""
    exc = record.exc_info[1] if record.exc_info else None
    failure = classify(exc)
    return failure is None or not failure.outage


logging.getLogger("django.request").addFilter(_not_an_outage)


class DatabaseFailureMiddleware:
    """A database outage answers 503 with `Retry-After` (see the module docstring).

    Placed before the session and authentication middleware, so that their database
    failures reach it: raised by a view, the exception comes to `process_exception`; raised
    by a middleware further in, Django has already made it a 500, which is replaced here —
    or, when the 500 page itself needed the database (its navigation reads the session and
    the user's roles), the exception escapes Django's handling and is caught here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            answer = self.get_response(request)
        except Exception as exc:
            failure = classify(exc)
            if failure is None or not failure.outage:
                raise
            return response(request, failure)
        failure = getattr(request, _REQUEST_ATTR, None)
        if failure is not None and answer.status_code == 500:
            return response(request, failure)
        return answer

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        failure = classify(exception)
        if failure is None or not failure.outage:
            return None
        return response(request, failure)
