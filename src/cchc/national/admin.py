"""The outbox toward the national portal in the admin ("Đồng bộ lên Cổng DVCQG"):
administrators see what is waiting, retrying or dead with the portal's error, and act on
chosen records — "Gửi lại" (`delivery.resend`: same key, same body) and "Bỏ qua" (a dead
letter stays dead and visible but no longer blocks its dossier, `delivery.discard`); both
audited. Read-only otherwise. The payload is not shown: it carries the applicant's personal
data, which goes to the national portal and nowhere else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cchc.accounts.admin_base import AuditedAdmin
from cchc.errors import DomainError
from cchc.national import delivery
from cchc.national.models import NationalDossier, SyncRecord


class DiscardedFilter(admin.SimpleListFilter):
    title = "Bỏ qua"
    parameter_name = "bo_qua"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("co", "Đã bỏ qua"), ("khong", "Chưa bỏ qua")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "co":
            return queryset.filter(discarded_at__isnull=False)
        if self.value() == "khong":
            return queryset.filter(discarded_at__isnull=True)
        return queryset


@admin.register(SyncRecord)
class SyncRecordAdmin(AuditedAdmin):
    list_display = [
        "created_at",
        "dossier_code",
        "service",
        "reason",
        "state",
        "attempts",
        "next_attempt_at",
        "error_code",
        "error",
        "discarded_at",
    ]
    list_filter = ["state", "service", "error_code", DiscardedFilter]
    search_fields = ["key", "dossier__code", "error"]
    date_hierarchy = "created_at"
    fields = [
        "dossier_code",
        "service",
        "reason",
        "key",
        "state",
        "attempts",
        "created_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
        "error_code",
        "error",
        "discarded_at",
    ]
    readonly_fields = fields
    actions = ["resend", "discard"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRecord]:
        return super().get_queryset(request).select_related("dossier")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Hồ sơ", ordering="dossier__code")
    def dossier_code(self, obj: SyncRecord) -> str:
        return obj.dossier.code

    @admin.action(description="Gửi lại các bản ghi đã chọn")
    def resend(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> None:
        try:
            count = delivery.resend(request.user, list(queryset.values_list("pk", flat=True)))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if count:
            self.message_user(request, f"Đã đưa {count} bản ghi vào hàng đợi gửi lại.")
        else:
            self.message_user(
                request,
                "Không có bản ghi nào được gửi lại: chỉ gửi lại bản ghi không gửi được hoặc "
                "đang chờ gửi lại.",
                messages.WARNING,
            )

    @admin.action(description="Bỏ qua các bản ghi không gửi được đã chọn")
    def discard(self, request: HttpRequest, queryset: QuerySet[SyncRecord]) -> None:
        try:
            count = delivery.discard(request.user, list(queryset.values_list("pk", flat=True)))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if count:
            self.message_user(
                request,
                f"Đã bỏ qua {count} bản ghi; các bản ghi sau của hồ sơ được gửi tiếp.",
            )
        else:
            self.message_user(
                request,
                "Không có bản ghi nào được bỏ qua: chỉ bỏ qua bản ghi không gửi được.",
                messages.WARNING,
            )


@admin.register(NationalDossier)
class NationalDossierAdmin(AuditedAdmin):
    list_display = ["dossier", "national_code", "status", "synced_at", "inbound"]
    list_filter = ["status", "inbound"]
    search_fields = ["dossier__code", "national_code"]
    fields = ["dossier", "national_code", "status", "synced_at", "inbound"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
