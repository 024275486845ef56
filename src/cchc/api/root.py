"""The REST API root: one NinjaAPI, one JSON error envelope for every failure.

Every error response is ``{"error": {"code": str, "message": str, "details": {...}}}``
with the HTTP status of the domain error (pinned by tests/test_api_errors.py).

Callers authenticate with the Django session (pages, CSRF-checked) or with
``Authorization: Bearer <token>`` (integrations; tokens from ``cchc tokens create``). A
bearer header that does not authenticate is refused with 401 and the reason, even when a
session is present.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import Error as DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from cchc.accounts import policy, tokens
from cchc.accounts.roles import Role
from cchc.catalog.api import router as catalog_router
from cchc.dossiers.api import router as dossier_router
from cchc.errors import DomainError
from cchc.indicators.api import router as indicators_router
from cchc.org.api import router as org_router
from cchc.plans.api import router as plans_router
from cchc.webkit import dbfailures, request_guard


class BearerToken(HttpBearer):
    """``Authorization: Bearer cchc_…``: the token's user becomes ``request.user``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = tokens.authenticate(token, now=timezone.now())  # raises TokenRefused (401)
        request.user = user
        return user


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Guard /api/docs and /api/openapi.json by CCHC_API_DOCS, read on each request:
    public; staff (signed-in officials, i.e. holding a role other than citizen: anonymous
    callers are sent to the login page, or get 401 on the schema; citizens 403); off (404)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        mode = getattr(settings, "CCHC_API_DOCS", "staff")
        official = request.user.is_authenticated and bool(
            policy.role_codes(request.user) - {Role.CITIZEN}
        )
        if mode == "public" or (mode == "staff" and official):
            return view(request, *args, **kwargs)
        schema = request.path.endswith(".json")
        if mode != "staff":
            if schema:
                return envelope(request, 404, "not_found", "Tài liệu API không được công bố.")
            raise Http404("Tài liệu API không được công bố.")
        if not request.user.is_authenticated:
            if schema:
                return envelope(request, 401, "unauthenticated", "Cần đăng nhập.")
            return redirect_to_login(request.get_full_path())
        if schema:
            return envelope(
                request, 403, "forbidden", "Chỉ cán bộ, công chức được xem tài liệu API."
            )
        raise PermissionDenied("Chỉ cán bộ, công chức được xem tài liệu API.")

    return guarded


api = NinjaAPI(
    title="cchc API",
    version="1",
    description="API của hệ thống một cửa điện tử và theo dõi cải cách hành chính.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    docs_decorator=docs_access,
)


def envelope(
    request: HttpRequest, status: int, code: str, message: str, details: dict | None = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
    )


@api.exception_handler(DomainError)
def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return envelope(request, exc.http_status, exc.code, exc.message, exc.details)


@api.exception_handler(tokens.TokenRefused)
def _token_refused(request: HttpRequest, exc: tokens.TokenRefused) -> HttpResponse:
    response = envelope(request, 401, exc.code, exc.message, exc.details)
    response["WWW-Authenticate"] = 'Bearer realm="cchc", error="invalid_token"'
    return response


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return envelope(
        request, 422, "invalid", "Dữ liệu gửi lên không hợp lệ.", {"errors": exc.errors}
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return envelope(request, 401, "unauthenticated", "Cần đăng nhập.")


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {404: "not_found", 403: "forbidden", 405: "method_not_allowed"}.get(
        exc.status_code, "error"
    )
    return envelope(request, exc.status_code, code, str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 in the envelope, the same answer as the
    # request guard gives when it reads the body first.
    return request_guard.too_large(request)


@api.exception_handler(DatabaseError)
def _database(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    # Locked, full, read-only or unreachable database: 503 + Retry-After in the envelope
    # (ninja would answer a 500, with a traceback under DEBUG); other database errors are
    # raised again for Django's 500 handling.
    return dbfailures.api_response(request, exc)


api.add_router("/org", org_router)
api.add_router("/catalog", catalog_router)
api.add_router("/dossiers", dossier_router)
api.add_router("/indicators", indicators_router)
api.add_router("/plans", plans_router)
