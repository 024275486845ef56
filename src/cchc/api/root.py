"""The REST API root: one NinjaAPI, one JSON error envelope for every failure.

Every error response is ``{"error": {"code": str, "message": str, "details": {...}}}``
with the HTTP status of the domain error (pinned by tests/test_api_errors.py).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from cchc.errors import DomainError

api = NinjaAPI(
    title="cchc API",
    version="1",
    description="API của hệ thống một cửa điện tử và theo dõi cải cách hành chính.",
    auth=django_auth,
    urls_namespace="api",
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


def _register() -> None:
    from cchc.catalog.api import router as catalog_router
    from cchc.org.api import router as org_router

    api.add_router("/org", org_router)
    api.add_router("/catalog", catalog_router)


_register()
