"""View-side access helpers: the same policy as the services, rendered as pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cchc.accounts import policy
from cchc.errors import DomainError


def deny(request: HttpRequest, message: str | None = None) -> HttpResponse:
    return render(
        request,
        "403.html",
        {"message": message or "Bạn không có quyền xem trang này."},
        status=403,
    )


def requires(permission: str | None = None) -> Callable[..., Any]:
    """Login required; with `permission`, the user must hold it somewhere."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if permission and not policy.can(request.user, permission):
                return deny(request)
            return showing_refusals(view, request, *args, **kwargs)

        return wrapper

    return decorate


def showing_refusals(
    view: Callable[..., HttpResponse], request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Call a page view; a refusal it raises (a DomainError answering 403 or 404) becomes
    the 403 or 404 page with its Vietnamese message, anything else propagates."""
    try:
        return view(request, *args, **kwargs)
    except DomainError as exc:
        if exc.http_status == 403:
            return deny(request, exc.message)
        if exc.http_status == 404:
            return render(request, "404.html", {"message": exc.message}, status=404)
        raise
