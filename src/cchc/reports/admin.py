"""Report requests in the admin ("Yêu cầu lập báo cáo"): administrators see what the worker
has queued, is making, made or failed to make, with the reason, to answer "my report never
came". Read-only: a request changes only through its job (`cchc.reports.jobs`); the files
are never offered here (only their requester downloads them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cchc.accounts.admin_base import AuditedAdmin
from cchc.reports.models import ReportRequest


@admin.register(ReportRequest)
class ReportRequestAdmin(AuditedAdmin):
    list_display = [
        "created_at",
        "requested_by",
        "period",
        "issuer",
        "format",
        "state",
        "attempts",
        "finished_at",
        "error",
    ]
    list_filter = ["state", "format"]
    search_fields = ["period", "issuer", "requested_by__username"]
    date_hierarchy = "created_at"
    fields = [
        "requested_by",
        "period",
        "issuer",
        "format",
        "number",
        "issue_date",
        "as_of",
        "state",
        "progress",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
        "error",
        "filename",
        "size",
        "sha256",
    ]
    readonly_fields = fields
    list_select_related = ["requested_by"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
