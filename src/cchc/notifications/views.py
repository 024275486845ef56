"""The inbox: every signed-in user's in-app messages (risk warnings, plan reminders, the
citizen's dossier news), with the unread count in the page header."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cchc.accounts.access import requires
from cchc.errors import NotFound
from cchc.notifications import services
from cchc.webkit.paging import page_of

PAGE_SIZE = 30


@requires()
def inbox(request: HttpRequest) -> HttpResponse:
    qs = services.own_inbox(request.user)
    unread_only = request.GET.get("chua_doc") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = page_of(qs, PAGE_SIZE, request.GET.get("trang"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread_only": unread_only, "qs": "chua_doc=1" if unread_only else ""},
    )


@require_POST
@requires()
def open_message(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        link = services.open_message(request.user, pk)
    except NotFound as exc:
        messages.error(request, exc.message)
        return redirect("notifications:inbox")
    return redirect(link or "notifications:inbox")


@require_POST
@requires()
def read_all(request: HttpRequest) -> HttpResponse:
    done = services.mark_all_read(request.user)
    messages.success(request, f"Đã đánh dấu {done} thông báo là đã đọc.")
    return redirect("notifications:inbox")
