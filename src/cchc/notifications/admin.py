"""Outgoing e-mail and SMS in the admin ("Thông báo gửi đi"): administrators see what is
waiting, retrying or given up (dead letters) with the last error, and send chosen messages
again ("Gửi lại", `services.resend`, audited). Read-only otherwise: delivery changes go
through the outbox, never through a form.

Personal data: the recipient's address is shown through `cchc.privacy` — in full only to a
reader holding `dossier.personal_data` over the message's agency (administrators do not, so
they see `h***@example.vn`, `*******678`). The body is never shown: it may carry a live
password-reset link. Errors were masked when recorded (`delivery.error_text`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cchc import privacy
from cchc.accounts import policy
from cchc.accounts.admin_base import AuditedAdmin
from cchc.errors import DomainError
from cchc.notifications import services
from cchc.notifications.models import Notification, OutgoingNotification, State

# The reader of the page being rendered, for `recipient` (Django calls display functions
# with the row only). Per thread: gunicorn's threads each render one request at a time.
_reader = threading.local()


def sees_address(user: Any, note: Notification) -> bool:
    reach = policy.grant(user, "dossier.personal_data")
    return reach.everything or (note.agency_id is not None and reach.covers(note.agency_id))


@admin.register(OutgoingNotification)
class OutgoingNotificationAdmin(AuditedAdmin):
    list_display = [
        "created_at",
        "kind",
        "channel",
        "recipient",
        "state",
        "attempts",
        "next_attempt_at",
        "error",
    ]
    list_filter = ["state", "channel", "kind"]
    search_fields = ["kind", "subject"]
    date_hierarchy = "created_at"
    fields = [
        "kind",
        "channel",
        "recipient",
        "subject",
        "dossier_code",
        "state",
        "attempts",
        "created_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
        "error",
    ]
    readonly_fields = fields
    actions = ["resend"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request).exclude(state=State.NONE).select_related("dossier")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Người nhận")
    def recipient(self, obj: Notification) -> str:
        field = privacy.contact_field(obj.address)
        reader = getattr(_reader, "user", None)
        return privacy.shown(field, obj.address, full=sees_address(reader, obj))

    @admin.display(description="Hồ sơ")
    def dossier_code(self, obj: Notification) -> str:
        return obj.dossier.code if obj.dossier_id else ""

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        with reading_as(request.user):
            return rendered(super().changelist_view(request, extra_context))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        with reading_as(request.user):
            return rendered(super().change_view(request, object_id, form_url, extra_context))

    @admin.action(description="Gửi lại các thông báo đã chọn")
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        try:
            count = services.resend(request.user, list(queryset.values_list("pk", flat=True)))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if count:
            self.message_user(request, f"Đã đưa {count} thông báo vào hàng đợi gửi lại.")
        else:
            self.message_user(
                request,
                "Không có thông báo nào được gửi lại: chỉ gửi lại thông báo đang chờ gửi lại "
                "hoặc đã gửi không được.",
                messages.WARNING,
            )


@contextmanager
def reading_as(user: Any) -> Iterator[None]:
    """Render a page with `user` as the reader `recipient` masks addresses for."""
    _reader.user = user
    try:
        yield
    finally:
        _reader.user = None


def rendered(response: Any) -> Any:
    """Admin pages are TemplateResponses, rendered late: render now, while the reader is
    set."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response
