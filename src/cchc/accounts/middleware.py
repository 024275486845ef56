"""Two-factor enforcement: a signed-in user whose session still needs its second step (their
role requires it, or they turned it on) reaches only that step and the sign-out.

Pages redirect to the code page (enrolled) or the enrolment page (not yet enrolled), keeping
the page asked for in `next`. The API refuses such a session with 401 and the JSON error
envelope; bearer tokens (`Authorization: Bearer cchc_…`) are a separate credential and pass.
Runs after django-otp's OTPMiddleware, which tells whether the session is verified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from cchc.accounts import twofactor

# Views an unverified session may open (by URL name).
OPEN_VIEWS = frozenset({"twofactor:verify", "twofactor:enrol", "web:logout", "admin:logout"})


def session_verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def second_step_pending(request: HttpRequest) -> bool:
    """True if the signed-in user must still give a code in this session. Worked out once
    per request (the middleware and the page's navigation both ask)."""
    pending = getattr(request, "_cchc_second_step_pending", None)
    if pending is None:
        user = getattr(request, "user", None)
        pending = bool(
            user is not None
            and user.is_authenticated
            and not session_verified(request)
            and twofactor.needs_second_step(user)
        )
        request._cchc_second_step_pending = pending  # type: ignore[attr-defined]
    return pending


def step_url(request: HttpRequest, next_url: str | None = None) -> str:
    """Where the session's second step happens: the code page or, if the user has no
    authenticator yet, the enrolment page; with `next` to come back to."""
    name = "twofactor:verify" if twofactor.is_enrolled(request.user) else "twofactor:enrol"
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        twofactor.required_roles()  # a wrong CCHC_2FA_REQUIRED_ROLES stops the start-up

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        if not second_step_pending(request):
            return None
        if match is not None and "api" in match.namespaces:
            header = request.headers.get("Authorization", "")
            if header.split(" ", 1)[0].lower() == "bearer":
                return None  # token authentication, checked by the API itself
            return JsonResponse(
                {
                    "error": {
                        "code": "auth.2fa.required",
                        "message": "Phiên đăng nhập chưa qua bước xác thực hai lớp: nhập mã "
                        "xác thực trên trang web, hoặc dùng mã truy cập API (Bearer).",
                        "details": {"url": step_url(request)},
                    }
                },
                status=401,
            )
        next_url = request.get_full_path() if request.method == "GET" else None
        return redirect(step_url(request, next_url))
