"""Calendar-version recomputes in the admin ("Tính lại hạn theo lịch mới"): administrators
see each job's progress (cursor, counts, the dossiers it could not recompute). Read-only:
the jobs are written by `cchc.dossiers.recompute` and resumed by `cchc dossiers recompute`.
Issued documents (`cchc.dossiers.issued`), read-only too: their hash, code and signature.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cchc.accounts.admin_base import AuditedAdmin
from cchc.dossiers import signing_jobs
from cchc.dossiers.models import IssuedDocument, RecomputeJob


@admin.register(RecomputeJob)
class RecomputeJobAdmin(AuditedAdmin):
    list_display = [
        "id",
        "calendar_code",
        "version",
        "status",
        "total",
        "changed",
        "failed",
        "batches",
        "created_at",
        "progress_at",
        "finished_at",
    ]
    list_filter = ["status", "calendar_code"]
    readonly_fields = [f.name for f in RecomputeJob._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(AuditedAdmin):
    list_display = [
        "id",
        "dossier",
        "kind",
        "number",
        "issued_at",
        "signed",
        "signature",
        "superseded_at",
    ]
    list_filter = ["kind", "signed"]
    list_select_related = ["dossier__desk", "dossier__competent_agency"]
    search_fields = ["dossier__code", "token", "signed_by_subject", "signer_serial"]
    readonly_fields = [*(f.name for f in IssuedDocument._meta.fields), "signature"]

    @admin.display(description="Chữ ký số")
    def signature(self, obj: IssuedDocument) -> str:
        """The signature in words (signing_jobs.describe): "Đã ký số bởi … lúc …" …"""
        return signing_jobs.describe(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
