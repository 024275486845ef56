"""Pages of two-factor sign-in: the sign-in form's second step, enrolment with a QR code,
and the user's "Bảo mật tài khoản" page. The work is in `cchc.accounts.twofactor`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_otp
import segno
from axes.helpers import get_client_ip_address, get_client_user_agent
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cchc.accounts import twofactor
from cchc.accounts.middleware import session_verified, step_url
from cchc.errors import DomainError

# Fewer recovery codes than this left: the user is told to make new ones.
LOW_RECOVERY = 3


class SignIn(LoginView):
    """The password step (django-axes throttles it); a user who needs a second step goes to
    it next, keeping `next`."""

    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        target = super().get_success_url()
        if not session_verified(self.request) and twofactor.needs_second_step(self.request.user):
            return step_url(self.request, target)
        return target


def _client(request: HttpRequest) -> twofactor.Client:
    return twofactor.Client(
        ip=get_client_ip_address(request) or "", user_agent=get_client_user_agent(request)
    )


def _next(request: HttpRequest, fallback: str = "web:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _blocked(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Locked out: like the password step, the session ends and the lock-out page shows."""
    logout(request)
    return render(request, "twofactor/locked.html", {"message": exc.message}, status=429)


@dataclass
class _Outcome:
    """What a code typed on the verify or enrolment page came to."""

    result: Any = None  # the service's answer when the code was right
    error: str = ""
    status: int = 200
    locked: HttpResponse | None = None  # the lock-out page, when the step is now locked


def _attempt(request: HttpRequest, check: Callable[..., Any]) -> _Outcome:
    """Check the posted code with `check` (a `twofactor` service); on success the session is
    verified with the device and gets a new key."""
    try:
        result = check(
            request.user,
            code=request.POST.get("code", ""),
            now=timezone.now(),
            client=_client(request),
        )
    except DomainError as exc:
        if exc.code == "auth.2fa.locked":
            return _Outcome(locked=_blocked(request, exc))
        return _Outcome(error=exc.message, status=exc.http_status)
    django_otp.login(request, result.device)
    request.session.cycle_key()
    request._cchc_second_step_pending = False  # type: ignore[attr-defined]  # see middleware
    return _Outcome(result=result)


@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the authenticator app or a recovery code."""
    if (gate := _signed_in(request)) is not None:
        return gate
    user = request.user
    if not twofactor.is_enrolled(user):
        if twofactor.is_required(user):
            return redirect(step_url(request, _next(request)))
        return redirect(_next(request))
    if session_verified(request):
        return redirect(_next(request))
    error = ""
    status = 200
    if request.method == "POST":
        outcome = _attempt(request, twofactor.verify)
        if outcome.locked is not None:
            return outcome.locked
        error, status = outcome.error, outcome.status
        if (result := outcome.result) is not None:
            if result.recovery_used:
                level = messages.WARNING if result.recovery_left < LOW_RECOVERY else messages.INFO
                messages.add_message(
                    request,
                    level,
                    f"Bạn vừa dùng một mã khôi phục; còn {result.recovery_left} mã. Tạo bộ mã "
                    "mới tại trang «Bảo mật tài khoản» nếu cần.",
                )
            return redirect(_next(request))
    return render(
        request,
        "twofactor/verify.html",
        {"error": error, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=status,
    )


@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """Turn on two-factor sign-in: scan the QR code (or type the key), confirm a code, get
    the recovery codes once."""
    if (gate := _signed_in(request)) is not None:
        return gate
    user = request.user
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if twofactor.is_enrolled(user):
        if session_verified(request):
            return redirect("twofactor:security")
        return redirect(step_url(request, next_url or None))
    error = ""
    status = 200
    if request.method == "POST":
        outcome = _attempt(request, twofactor.confirm_enrolment)
        if outcome.locked is not None:
            return outcome.locked
        error, status = outcome.error, outcome.status
        if (done := outcome.result) is not None:
            return render(
                request,
                "twofactor/recovery_codes.html",
                {"codes": done.recovery_codes, "next": _next(request), "enrolled": True},
            )
    device = twofactor.pending_device(user)
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "twofactor/enrol.html",
        {
            "qr_svg": qr.svg_inline(scale=4, title="Mã QR để thêm tài khoản vào ứng dụng xác thực"),
            "secret": twofactor.secret_text(device),
            "required": twofactor.is_required(user),
            "error": error,
            "next": next_url,
        },
        status=status,
    )


@never_cache
def security(request: HttpRequest) -> HttpResponse:
    """The "Bảo mật tài khoản" page: status, new recovery codes, turning the second factor off."""
    if (gate := _signed_in(request)) is not None:
        return gate
    return render(
        request,
        "twofactor/security.html",
        {
            "status": twofactor.status(request.user),
            "low_recovery": LOW_RECOVERY,
            "recovery_count": twofactor.RECOVERY_CODES,
        },
    )


@never_cache
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    if (gate := _signed_in(request)) is not None:
        return gate
    try:
        codes = twofactor.regenerate_recovery_codes(
            request.user, now=timezone.now(), client=_client(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("twofactor:security")
    return render(
        request,
        "twofactor/recovery_codes.html",
        {"codes": codes, "next": reverse("twofactor:security"), "enrolled": False},
    )


@never_cache
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    if (gate := _signed_in(request)) is not None:
        return gate
    try:
        twofactor.remove(
            request.user,
            code=request.POST.get("code", ""),
            now=timezone.now(),
            client=_client(request),
        )
    except DomainError as exc:
        if exc.code == "auth.2fa.locked":
            return _blocked(request, exc)
        messages.error(request, exc.message)
        return redirect("twofactor:security")
    if twofactor.is_required(request.user):
        messages.warning(
            request,
            "Đã gỡ ứng dụng xác thực. Vai trò của bạn bắt buộc xác thực hai lớp: hãy đăng ký "
            "lại ngay (ví dụ với điện thoại mới).",
        )
    else:
        messages.success(request, "Đã tắt xác thực hai lớp cho tài khoản của bạn.")
    return redirect("twofactor:security")
