"""Pages of "Quên mật khẩu": ask for a link, then set a new password through it. The work is
in `cchc.portal.passwords`; both forms are anonymous and rate-limited per address and per
target (`password_reset` in CCHC_RATE_LIMITS)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from cchc.errors import DomainError
from cchc.portal import passwords
from cchc.ratelimit.web import limit_posts

SENT = "portal:password_reset_sent"


@never_cache
@limit_posts(
    "password_reset", target=lambda request: request.POST.get("identifier", "").strip().lower()
)
def request_link(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        passwords.request_reset(request.POST.get("identifier", ""))
        # The same answer whether or not the account exists.
        return redirect(SENT)
    return render(request, "portal/password_reset.html")


def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/password_reset_sent.html")


@never_cache
@limit_posts("password_reset", target=lambda request: request.resolver_match.kwargs["uidb64"])
def confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = passwords.user_for_link(uidb64, token)
    if user is None:
        return render(request, "portal/password_reset_confirm.html", {"invalid": True}, status=400)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            passwords.set_new_password(
                user,
                password=request.POST.get("password", ""),
                repeated=request.POST.get("password2", ""),
            )
        except DomainError as exc:
            errors = dict(exc.details.get("fields", {})) or {"form": exc.message}
        else:
            messages.success(
                request,
                f"Đã đặt mật khẩu mới. Đăng nhập bằng «{user.username}» và mật khẩu vừa đặt.",
            )
            return redirect("portal:login")
    return render(
        request,
        "portal/password_reset_confirm.html",
        {"errors": errors, "username": user.username},
        status=400 if errors else 200,
    )
