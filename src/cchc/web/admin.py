"""The audit log in the admin: read-only. Registered by the shell, because its guard (the
accounts policy) sits above the audit log in the layers."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cchc.accounts.admin_base import AuditedAdmin
from cchc.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditedAdmin):
    list_display = ["at", "action", "actor_label", "object_type", "object_repr"]
    list_filter = ["object_type"]
    search_fields = ["action", "actor_label", "object_repr", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
