"""The request boundary: what no view should ever see is refused before it runs, and a
domain error a page lets escape is answered as a page, never as a 500.

- NUL characters in the path, a query-string value, a form field or an API JSON body
  (``\\u0000``): PostgreSQL refuses them in any string ("A string literal cannot contain NUL
  (0x00) characters") and no legitimate input holds one. Django itself only refuses them in
  form fields that go through a form's CharField; raw ``request.GET`` values reach queries.
- A query-string value longer than `MAX_QUERY_VALUE` characters: no filter, search or token
  is that long, and SQLite refuses LIKE patterns over 50 000 bytes.
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 with a Vietnamese page, or the API's JSON
  error envelope (also when Django's own parsing refuses it first: `too_large`).
- A `DomainError` escaping a page view (e.g. InvalidInput from `cchc.webkit.params`): its
  status and Vietnamese message, on the matching error page.

API answers use the envelope of cchc.api.root: ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from cchc.errors import DomainError, InvalidInput

MAX_QUERY_VALUE = 2_000  # characters of one query-string value
_JSON_NUL = re.compile(rb"(\\+)u0000")  # an escape is a NUL when the backslashes are odd
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_PAGES = {400: "400.html", 403: "403.html", 404: "404.html", 413: "413.html"}

NUL_MESSAGE = "Yêu cầu chứa ký tự không hợp lệ (ký tự NUL)."
LONG_MESSAGE = f"Giá trị tham số quá dài (tối đa {MAX_QUERY_VALUE} ký tự)."


def is_api(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return "api" in match.namespaces
    return request.path.startswith("/api/")


def error_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    """`error` as the API's JSON envelope or as the error page of its status."""
    if is_api(request):
        return JsonResponse({"error": error.as_dict()}, status=error.http_status)
    template = _PAGES.get(error.http_status, "400.html")
    return render(request, template, {"message": error.message}, status=error.http_status)


class PayloadTooLarge(DomainError):
    code = "too_large"
    http_status = 413
    exit_code = 2


def too_large(request: HttpRequest) -> HttpResponse:
    """413: the body is over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return error_response(
        request,
        PayloadTooLarge(
            f"Dữ liệu gửi lên quá lớn (tối đa {limit_mb:g} MB).",
            limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        ),
    )


def _refusal(request: HttpRequest) -> str | None:
    """Why the request is refused before any view runs, or None."""
    if "\x00" in request.path:
        return NUL_MESSAGE
    for key, values in request.GET.lists():
        for value in [key, *values]:
            if "\x00" in value:
                return NUL_MESSAGE
            if len(value) > MAX_QUERY_VALUE:
                return LONG_MESSAGE
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.content_type in _FORM_TYPES:
        for key, values in request.POST.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return NUL_MESSAGE
    elif request.content_type == "application/json" and is_api(request):
        body = request.body
        if b"\x00" in body or any(len(m[1]) % 2 for m in _JSON_NUL.finditer(body)):
            return NUL_MESSAGE
    return None


class RequestGuardMiddleware:
    """See the module docstring. Placed after the authentication and message middleware,
    so the error pages render with the user's navigation."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        try:
            reason = _refusal(request)
        except RequestDataTooBig:
            return too_large(request)
        if reason is None:
            return None
        return error_response(request, InvalidInput(reason))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError) and not is_api(request):
            return error_response(request, exception)
        return None
