from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cchc.audit.models import AuditEntry
from cchc.web.admin_site import AuditedAdmin


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
