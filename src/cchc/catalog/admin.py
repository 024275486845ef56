"""The catalogue in the admin. A procedure's terms change only through a new version
(`ProcedureVersion`, effective-dated, never edited afterwards): the procedure's own page
shows the version in force and its history and links to the form for the next version,
pre-filled with the version in force. Adding a procedure records its version 1."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from cchc.accounts.admin_base import AdministratorsOnly, AuditedAdmin
from cchc.catalog import services, versions
from cchc.catalog.models import (
    Field,
    InternalProcedure,
    Procedure,
    ProcedureFee,
    ProcedureStep,
    ProcedureVersion,
    RequiredDocument,
)
from cchc.errors import InvalidInput
from cchc.org.models import UnitLevel
from cchc.vietnamese import fold

# The terms a version carries (the form's fields after the version's own): the ones the
# services copy between a procedure and its versions.
TERM_FIELDS = list(services.TERMS)


@admin.register(Field)
class FieldAdmin(AuditedAdmin):
    search_fields = ["name"]


class CurrentRows(AdministratorsOnly):
    """Inlines of a procedure's current rows: editable when adding the procedure, read-only
    afterwards (they belong to its version in force; a change is a new version)."""

    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_add_permission(request, obj)


class FeeInline(CurrentRows, admin.TabularInline):
    model = ProcedureFee
    fk_name = "procedure"
    exclude = ["version"]


class DocumentInline(CurrentRows, admin.TabularInline):
    model = RequiredDocument
    fk_name = "procedure"
    exclude = ["version"]


class StepInline(CurrentRows, admin.TabularInline):
    model = ProcedureStep
    fk_name = "procedure"
    exclude = ["version"]


class VersionHistoryInline(AdministratorsOnly, admin.TabularInline):
    model = ProcedureVersion
    fk_name = "procedure"
    extra = 0
    can_delete = False
    fields = ["number", "effective_from", "basis", "processing_time", "cutoff", "created_at"]
    readonly_fields = fields
    ordering = ["-number"]
    verbose_name_plural = "Lịch sử phiên bản (theo ngày hiệu lực)"
    show_change_link = True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Procedure)
class ProcedureAdmin(AuditedAdmin):
    list_display = [
        "code",
        "name",
        "field",
        "processing_time",
        "processing_time_unit",
        "online_level",
        "cutoff",
        "version",
        "active",
    ]
    list_filter = ["online_level", "field", "levels", "active", "output_certified_copy"]
    search_fields = ["code", "search_text"]
    inlines = [FeeInline, DocumentInline, StepInline, VersionHistoryInline]
    filter_horizontal = ["levels"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["created_at", "updated_at"]
        return [
            "new_version",
            "code",
            *TERM_FIELDS,
            "levels",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return self.inlines if obj is not None else [FeeInline, DocumentInline, StepInline]

    @admin.display(description="Thay đổi thủ tục")
    def new_version(self, obj: Procedure) -> str:
        url = reverse("admin:catalog_procedureversion_add") + f"?procedure={obj.pk}"
        return format_html(
            '<a class="button" href="{}">Tạo phiên bản mới (có ngày hiệu lực)</a>', url
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            now = timezone.now()
            obj.created_at = obj.updated_at = now
            obj.search_text = fold(f"{obj.code} {obj.name}")
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change:
            services.record_first_version(request.user, form.instance, now=timezone.now())


class VersionForm(forms.ModelForm):
    levels = forms.MultipleChoiceField(
        label="Cấp thực hiện", choices=(), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ProcedureVersion
        fields = ["procedure", "effective_from", "basis", *TERM_FIELDS, "levels"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["levels"].choices = [
            (lv.code, lv.name) for lv in UnitLevel.objects.order_by("pk")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("cutoff") is not None and not (data.get("cutoff_source") or "").strip():
            self.add_error(
                "cutoff_source",
                "Giờ chốt tiếp nhận riêng cần ghi căn cứ pháp lý (văn bản, điều khoản).",
            )
        if data.get("cutoff") is None and (
            data.get("cutoff_source") or data.get("cutoff_verified")
        ):
            self.add_error("cutoff", "Có căn cứ giờ chốt nhưng chưa có giờ chốt tiếp nhận riêng.")
        return data


class StepFormSet(BaseInlineFormSet):
    """The steps' budgets must add up to the version's legal time (as in imports)."""

    def clean(self) -> None:
        super().clean()
        version = self.instance
        if version.processing_time is None:
            return
        steps = tuple(
            services.StepData(
                f.cleaned_data["name"], f.cleaned_data["budget"], f.cleaned_data["budget_unit"]
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        )
        try:
            services.check_steps(version.processing_time, version.processing_time_unit, steps)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


class VersionRows(AdministratorsOnly):
    """A new version's fees, documents and steps, pre-filled with those of the version in
    force (`?procedure=`); read-only on a written version."""

    extra = 0
    fk_name = "version"
    exclude = ["procedure"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_add_permission(request, obj)

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        if obj is not None:
            return 0
        return max(len(_initial_rows(request, self.model)), 1)


class VersionFeeInline(VersionRows, admin.TabularInline):
    model = ProcedureFee


class VersionDocumentInline(VersionRows, admin.TabularInline):
    model = RequiredDocument


class VersionStepInline(VersionRows, admin.TabularInline):
    model = ProcedureStep
    formset = StepFormSet


_ROW_FIELDS = {
    ProcedureFee: ("position", "name", "amount"),
    RequiredDocument: (
        "position",
        "name",
        "originals",
        "copies",
        "mandatory",
        "signature_required",
    ),
    ProcedureStep: ("position", "name", "budget", "budget_unit"),
}


def _template(request: HttpRequest) -> Any:
    """What a new version starts from: the version in force today of `?procedure=`."""
    raw = request.GET.get("procedure", "")
    if not raw.isdigit():
        return None
    procedure = Procedure.objects.filter(pk=int(raw)).first()
    if procedure is None:
        return None
    return versions.in_force(procedure, timezone.localdate()) or procedure


def _initial_rows(request: HttpRequest, model: Any) -> list[dict[str, Any]]:
    source = _template(request)
    if source is None:
        return []
    related = {ProcedureFee: "fees", RequiredDocument: "documents", ProcedureStep: "steps"}[model]
    names = _ROW_FIELDS[model]
    return [{n: getattr(row, n) for n in names} for row in getattr(source, related).all()]


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(AuditedAdmin):
    form = VersionForm
    list_display = ["procedure", "number", "effective_from", "basis", "cutoff", "created_at"]
    list_filter = ["effective_from"]
    search_fields = ["procedure__code", "procedure__search_text", "basis"]
    inlines = [VersionFeeInline, VersionDocumentInline, VersionStepInline]
    raw_id_fields = ["procedure"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        source = _template(request)
        if source is None:
            return initial
        initial.update({name: getattr(source, name) for name in TERM_FIELDS})
        initial["field"] = source.field_id
        initial["competent_agency_type"] = source.competent_agency_type_id
        initial["levels"] = (
            list(source.levels)
            if isinstance(source, ProcedureVersion)
            else list(source.levels.values_list("code", flat=True))
        )
        initial["procedure"] = (
            source.procedure_id if isinstance(source, ProcedureVersion) else source.pk
        )
        return initial

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if request.method == "GET" and getattr(obj, "pk", None) is None:
            kwargs["initial"] = _initial_rows(request, inline.model)
        return kwargs

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.number = services.next_version_number(obj.procedure)
        obj.created_at = timezone.now()
        obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.publish_version(request.user, form.instance, now=timezone.now())


@admin.register(InternalProcedure)
class InternalProcedureAdmin(AuditedAdmin):
    list_display = ["code", "name", "lead_agency", "published", "reviewed"]
    list_filter = ["published", "reviewed"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at", "updated_at"]
