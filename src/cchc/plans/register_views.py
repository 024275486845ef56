"""Pages of the registers (legal documents, internal procedures, work records, external
indices), their CSV/XLSX import, and the PAR INDEX scorecard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.catalog.models import InternalProcedure
from cchc.errors import DomainError
from cchc.plans import parindex, registers, services
from cchc.plans.models import ExternalIndex, IndexName, LegalDocType, LegalDocument, WorkRecordStat
from cchc.tabular.forms import run_import_form
from cchc.tabular.refused import refused_download
from cchc.tabular.registry import importer
from cchc.webkit import params

IMPORTABLE = {
    "van-ban": "legal-documents",
    "ho-so-cong-viec": "work-records",
    "chi-so": "external-indices",
    "thu-tuc-noi-bo": "internal-procedures",
}


def _target(code: str) -> Any:
    try:
        return services.get_plan().targets.filter(code=code).first()
    except DomainError:
        return None


def _year(request: HttpRequest) -> int:
    chosen = params.year(request.GET.get("nam"))
    return chosen if chosen is not None else timezone.localdate().year - 1


def _handle(request: HttpRequest, form: forms.Form, save: Any, done: str) -> bool:
    """Run `save(cleaned_data)` for a valid POSTed form; errors go onto the form."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        form.add_error(None, exc.message)
        return False
    messages.success(request, done)
    return True


@requires("plan.view")
def register_index(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    return render(
        request,
        "plans/registers.html",
        {
            "year": year,
            "legal": registers.legal_summary(year),
            "internal": registers.internal_summary(),
            "work": registers.work_record_summary(year),
            "indices": ExternalIndex.objects.select_related("unit")[:12],
            "t7": _target("T7"),
        },
    )


class LegalForm(forms.Form):
    number = forms.CharField(label="Số, ký hiệu", max_length=60)
    issued_on = forms.DateField(
        label="Ngày ban hành", widget=forms.DateInput(attrs={"type": "date"})
    )
    doc_type = forms.ChoiceField(label="Loại văn bản", choices=LegalDocType.choices)
    title = forms.CharField(label="Trích yếu", max_length=500)
    drafting_agency = forms.CharField(label="Cơ quan chủ trì soạn thảo (mã hoặc tên)")
    appraised = forms.BooleanField(label="Đã thẩm định", required=False)
    consulted = forms.BooleanField(label="Đã lấy ý kiến", required=False)
    published = forms.BooleanField(label="Đã đăng công báo", required=False)
    note = forms.CharField(label="Ghi chú", required=False, max_length=300)


@requires("plan.view")
def legal_documents(request: HttpRequest) -> HttpResponse:
    can_enter = policy.can(request.user, "plan.register")
    form = LegalForm(request.POST or None)
    if can_enter and _handle(
        request,
        form,
        lambda d: registers.save_legal_document(
            request.user, registers.LegalDocumentData(**d), now=timezone.now()
        ),
        "Đã ghi văn bản vào sổ theo dõi.",
    ):
        return redirect("plans:legal_documents")
    year = _year(request)
    return render(
        request,
        "plans/legal_documents.html",
        {
            "items": LegalDocument.objects.filter(issued_on__year=year).select_related(
                "drafting_agency"
            ),
            "summary": registers.legal_summary(year),
            "year": year,
            "form": form if can_enter else None,
            "target": _target("T2"),
        },
    )


class InternalStatusForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput)
    published = forms.BooleanField(label="Đã công bố", required=False)
    decision_number = forms.CharField(label="Số QĐ công bố", required=False, max_length=100)
    published_on = forms.DateField(
        label="Ngày công bố", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reviewed = forms.BooleanField(label="Đã rà soát, đơn giản hóa", required=False)
    reviewed_on = forms.DateField(
        label="Ngày rà soát", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@requires("plan.view")
def internal_procedures(request: HttpRequest) -> HttpResponse:
    can_manage = policy.can(request.user, "catalog.manage")
    form = InternalStatusForm(request.POST or None)
    if can_manage and _handle(
        request,
        form,
        lambda d: registers.update_internal_status(
            request.user, d.pop("code"), now=timezone.now(), **d
        ),
        "Đã cập nhật tình trạng công bố, rà soát.",
    ):
        return redirect("plans:internal_procedures")
    return render(
        request,
        "plans/internal_procedures.html",
        {
            "items": InternalProcedure.objects.select_related("field", "lead_agency"),
            "summary": registers.internal_summary(),
            "form": form if can_manage else None,
            "target": _target("T3"),
        },
    )


class WorkForm(forms.Form):
    agency = forms.CharField(label="Cơ quan (mã hoặc tên)")
    period = forms.CharField(label="Kỳ (2024, 2024-H1, 2024-Q2 hoặc 2024-03)", max_length=10)
    total = forms.IntegerField(label="Tổng số hồ sơ công việc", min_value=0)
    online = forms.IntegerField(label="Xử lý trên môi trường mạng", min_value=0)
    note = forms.CharField(label="Ghi chú", required=False, max_length=300)


@requires("plan.view")
def work_records(request: HttpRequest) -> HttpResponse:
    can_enter = policy.can(request.user, "plan.register")
    form = WorkForm(request.POST or None)
    if can_enter and _handle(
        request,
        form,
        lambda d: registers.save_work_record_stat(
            request.user, registers.WorkRecordData(**d), now=timezone.now()
        ),
        "Đã ghi số liệu hồ sơ công việc.",
    ):
        return redirect("plans:work_records")
    year = _year(request)
    return render(
        request,
        "plans/work_records.html",
        {
            "items": WorkRecordStat.objects.filter(period_start__year=year).select_related(
                "agency", "level"
            ),
            "summary": registers.work_record_summary(year),
            "year": year,
            "form": form if can_enter else None,
            "target": _target("T7"),
        },
    )


class IndexForm(forms.Form):
    index = forms.ChoiceField(label="Chỉ số", choices=IndexName.choices)
    year = forms.IntegerField(label="Năm", min_value=2000, max_value=2100)
    unit = forms.CharField(label="Mã tỉnh (mã ĐVHC)", max_length=20)
    score = forms.DecimalField(label="Điểm", required=False, max_digits=6, decimal_places=2)
    rank = forms.IntegerField(label="Xếp hạng", required=False, min_value=1)
    group = forms.CharField(label="Nhóm", required=False, max_length=100)
    source = forms.CharField(label="Nguồn công bố", max_length=500)


@requires("plan.view")
def external_indices(request: HttpRequest) -> HttpResponse:
    can_enter = policy.can(request.user, "plan.manage")
    form = IndexForm(request.POST or None)
    if can_enter and _handle(
        request,
        form,
        lambda d: registers.save_external_index(
            request.user, registers.ExternalIndexData(**d), now=timezone.now()
        ),
        "Đã ghi kết quả chỉ số.",
    ):
        return redirect("plans:external_indices")
    return render(
        request,
        "plans/external_indices.html",
        {
            "items": ExternalIndex.objects.select_related("unit"),
            "form": form if can_enter else None,
            "target": _target("T11"),
        },
    )


@requires("plan.view")
def register_import(request: HttpRequest, register: str) -> HttpResponse:
    name = IMPORTABLE.get(register)
    if name is None:
        return render(request, "404.html", {"message": "Không có sổ theo dõi này."}, status=404)
    imp = importer(name)
    if not policy.can(request.user, imp.permission):
        return deny(request, "Bạn không có quyền nhập dữ liệu vào sổ này.")
    form, report = run_import_form(request, imp)
    if report is not None and request.POST.get("tai") == "csv":
        return refused_download(report.rejected, filename=f"dong-bi-tu-choi-{imp.name}.csv")
    return render(
        request,
        "plans/import.html",
        {"form": form, "report": report, "importer": imp, "register": register},
    )


class ScoreForm(forms.Form):
    criterion = forms.CharField(widget=forms.HiddenInput)
    score = forms.DecimalField(label="Điểm", min_value=Decimal(0), max_digits=5, decimal_places=2)
    text = forms.CharField(label="Tài liệu kiểm chứng / ý kiến", required=False)
    mode = forms.ChoiceField(choices=[("self", "Tự chấm"), ("appraise", "Thẩm định")])


@requires("plan.view")
def scorecard(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    visible = policy.visible_agencies(request.user, "plan.view").valid_on(dt.date(year, 12, 31))
    agency_id = params.record_id(request.GET.get("co_quan"), "Cơ quan")
    agency = visible.filter(pk=agency_id).first() if agency_id is not None else visible.first()
    form = ScoreForm(request.POST or None)
    if agency is not None and request.method == "POST":

        def save(d: dict[str, Any]) -> Any:
            if d["mode"] == "self":
                return parindex.save_self_score(
                    request.user,
                    year=year,
                    agency=agency,
                    criterion=d["criterion"],
                    score=d["score"],
                    evidence=d["text"],
                    now=timezone.now(),
                )
            return parindex.appraise(
                request.user,
                year=year,
                agency=agency,
                criterion=d["criterion"],
                score=d["score"],
                note=d["text"],
                now=timezone.now(),
            )

        if _handle(request, form, save, "Đã ghi điểm."):
            return redirect(f"{request.path}?nam={year}&co_quan={agency.pk}")
        for error in form.non_field_errors() or [
            f"{form.fields[k].label}: {', '.join(v)}" for k, v in form.errors.items()
        ]:
            messages.error(request, error)
    card = parindex.scorecard(year, agency) if agency is not None else None
    return render(
        request,
        "plans/scorecard.html",
        {
            "year": year,
            "agency": agency,
            "agencies": visible.order_by("agency_type__level__rank", "name"),
            "card": card,
            "can_self": agency is not None
            and policy.can(request.user, "plan.register", agency=agency),
            "can_appraise": agency is not None
            and policy.can(request.user, "plan.review", agency=agency),
        },
    )
