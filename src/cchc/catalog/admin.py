from django.contrib import admin

from cchc.accounts.admin_base import AdministratorsOnly, AuditedAdmin
from cchc.catalog.models import (
    Field,
    InternalProcedure,
    Procedure,
    ProcedureFee,
    ProcedureStep,
    RequiredDocument,
)


@admin.register(Field)
class FieldAdmin(AuditedAdmin):
    search_fields = ["name"]


class FeeInline(AdministratorsOnly, admin.TabularInline):
    model = ProcedureFee
    extra = 0
    can_delete = False


class DocumentInline(AdministratorsOnly, admin.TabularInline):
    model = RequiredDocument
    extra = 0
    can_delete = False


class StepInline(AdministratorsOnly, admin.TabularInline):
    model = ProcedureStep
    extra = 0
    can_delete = False


@admin.register(Procedure)
class ProcedureAdmin(AuditedAdmin):
    list_display = [
        "code",
        "name",
        "field",
        "processing_time",
        "processing_time_unit",
        "online_level",
        "active",
    ]
    list_filter = ["online_level", "field", "levels", "active"]
    search_fields = ["code", "search_text"]
    inlines = [FeeInline, DocumentInline, StepInline]
    readonly_fields = ["created_at", "updated_at"]
    filter_horizontal = ["levels"]


@admin.register(InternalProcedure)
class InternalProcedureAdmin(AuditedAdmin):
    list_display = ["code", "name", "lead_agency", "published", "reviewed"]
    list_filter = ["published", "reviewed"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at", "updated_at"]
