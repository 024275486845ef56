"""Pages of the foundation: home per role, organisation, catalogue, audit log.

Views parse the request, call a service or a scoped query, and render. No business logic.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.catalog import services as catalog
from cchc.catalog.models import Field, InternalProcedure, OnlineLevel, Procedure
from cchc.errors import DomainError
from cchc.org import services as org
from cchc.org.models import AdministrativeUnit, Agency, UnitLevel
from cchc.tabular.forms import run_import_form
from cchc.tabular.refused import refused_download
from cchc.tabular.registry import importer
from cchc.web import audit_labels, audit_log, desk
from cchc.webkit import dbfailures, params, request_guard
from cchc.webkit.paging import page_of

PAGE_SIZE = 50

# What each role is told it can do on the home page (later issues extend the lists).
ROLE_TASKS: dict[str, list[tuple[str, str]]] = {
    Role.DESK_OFFICER: [
        ("Tiếp nhận hồ sơ, in giấy hẹn trả kết quả", "dossiers:intake"),
        ("Hồ sơ chờ tiếp nhận, chờ bổ sung, chờ trả kết quả", "dossiers:queue"),
        ("Tra cứu thủ tục và thành phần hồ sơ cần kiểm tra", "web:procedures"),
        ("Xem thông tin cơ quan mình tiếp nhận", "web:agencies"),
    ],
    Role.PROCESSING_OFFICER: [
        ("Hồ sơ cần xử lý (ưu tiên hồ sơ có nguy cơ trễ hạn)", "dossiers:queue"),
        ("Tra cứu thủ tục, thời hạn và quy trình nội bộ", "web:procedures"),
        ("Xem thông tin cơ quan", "web:agencies"),
    ],
    Role.AGENCY_LEADER: [
        ("Phê duyệt hồ sơ, xem danh sách nguy cơ trễ hạn của cơ quan", "dossiers:queue"),
        ("Cập nhật thông tin và người đứng đầu cơ quan", "web:agencies"),
        ("Tra cứu danh mục thủ tục", "web:procedures"),
        ("Theo dõi kế hoạch CCHC và nhiệm vụ của cơ quan", "plans:overview"),
        ("Xem chỉ số, đánh giá của cơ quan (chỉ tiêu, Bộ chỉ số 766)", "dashboard:overview"),
    ],
    Role.PAR_FOCAL_POINT: [
        ("Theo dõi thủ tục nội bộ đã công bố, rà soát", "web:internal_procedures"),
        ("Tra cứu danh mục thủ tục", "web:procedures"),
        ("Báo cáo tiến độ nhiệm vụ kế hoạch CCHC của cơ quan", "plans:my_tasks"),
        ("Nhập sổ theo dõi: văn bản QPPL, hồ sơ công việc", "plans:registers"),
        ("Tự chấm điểm Chỉ số CCHC (PAR INDEX)", "plans:scorecard"),
        ("Theo dõi chỉ số, đánh giá của cơ quan", "dashboard:overview"),
    ],
    Role.PROVINCIAL_SUPERVISOR: [
        ("Quản lý danh mục thủ tục, nhập từ tệp CSV/XLSX", "web:procedures"),
        ("Theo dõi thủ tục nội bộ", "web:internal_procedures"),
        ("Xem cơ quan, đơn vị hành chính trên địa bàn", "web:units"),
        ("Thẩm định báo cáo tiến độ nhiệm vụ kế hoạch CCHC", "plans:tasks"),
        ("Sổ theo dõi chỉ tiêu và chỉ số PCI, PAPI, PAR INDEX", "plans:registers"),
        ("Bảng chỉ số toàn tỉnh, đối chiếu Bộ chỉ số 766", "dashboard:overview"),
    ],
    Role.ADMINISTRATOR: [
        ("Quản trị người dùng, cơ cấu tổ chức, lịch làm việc", "admin:index"),
        ("Nhập danh mục thủ tục", "web:procedure_import"),
        ("Xem nhật ký hệ thống", "web:audit"),
    ],
    Role.AUDITOR: [("Xem nhật ký hệ thống (chỉ đọc)", "web:audit")],
    Role.CITIZEN: [
        ("Cổng dịch vụ công: tìm thủ tục, nộp hồ sơ trực tuyến", "portal:home"),
        ("Hồ sơ của tôi: theo dõi, bổ sung, đánh giá", "portal:dossiers"),
        ("Tra cứu hồ sơ bằng mã hồ sơ", "portal:track"),
    ],
}


@requires()
def home(request: HttpRequest) -> HttpResponse:
    """Per role: cards counting what waits (each a link to the queue filtered to exactly
    those dossiers or PAKN, `cchc.web.desk`), what the role can do, the plan reminders; the
    catalogue's figures as one small line for those who manage the catalogue."""
    codes = policy.role_codes(request.user)
    tasks: list[tuple[str, str]] = []
    for role in Role.values:
        if role in codes:
            tasks.extend(t for t in ROLE_TASKS.get(role, []) if t not in tasks)
    now = timezone.localtime()
    catalogue = {}
    if policy.can(request.user, "catalog.manage"):
        catalogue = Procedure.objects.filter(active=True).aggregate(
            procedures=Count("pk"),
            full_online=Count("pk", filter=Q(online_level=OnlineLevel.FULL)),
        )
    from cchc.plans.services import home_panel  # plan reminders (issue 6)

    plan_panel = home_panel(request.user, now)
    return render(
        request,
        "web/home.html",
        {
            "cards": desk.home_cards(request.user, now=now),
            "tasks": tasks,
            "catalogue": catalogue,
            "no_role": not codes,
            "plan_panel": plan_panel,
        },
    )


@requires("catalog.view")
def procedures(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    level = request.GET.get("cap") or None
    field_id = request.GET.get("linh_vuc")
    qs = catalog.search_procedures(
        query, level=level, field_id=params.record_id(field_id, "Lĩnh vực")
    ).prefetch_related("levels")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("trang"))
    return render(
        request,
        "web/procedures.html",
        {
            "page": page,
            "query": query,
            "level": level,
            "field_id": field_id,
            "levels": UnitLevel.objects.all(),
            "fields": Field.objects.order_by("name"),
            "can_manage": policy.can(request.user, "catalog.manage"),
        },
    )


@requires("catalog.view")
def procedure_detail(request: HttpRequest, code: str) -> HttpResponse:
    procedure = get_object_or_404(
        Procedure.objects.select_related("field", "competent_agency_type"), code=code
    )
    history = (
        AuditEntry.objects.filter(object_type="catalog.procedure", object_id=str(procedure.pk))[:20]
        if policy.can(request.user, "catalog.manage")
        else []
    )
    return render(request, "web/procedure_detail.html", {"p": procedure, "history": history})


@requires("catalog.manage")
def procedure_import(request: HttpRequest) -> HttpResponse:
    which = request.GET.get("loai", "procedures")
    if which not in ("procedures", "internal-procedures"):
        which = "procedures"
    imp = importer(which)
    form, report = run_import_form(request, imp)
    if report is not None and request.POST.get("tai") == "csv":
        return refused_download(report.rejected, filename=f"dong-bi-tu-choi-{imp.name}.csv")
    return render(
        request,
        "web/import.html",
        {"form": form, "report": report, "importer": imp, "which": which},
    )


@requires("catalog.view")
def internal_procedures(request: HttpRequest) -> HttpResponse:
    qs = InternalProcedure.objects.select_related("field", "lead_agency")
    status = request.GET.get("trang_thai")
    if status == "chua_cong_bo":
        qs = qs.filter(published=False)
    elif status == "chua_ra_soat":
        qs = qs.filter(reviewed=False)
    # Aliases unlike the field names: an aggregate named `published` shadows the field in
    # the next aggregate's filter (Django: "'published' is an aggregate").
    counted = InternalProcedure.objects.aggregate(
        n_total=Count("id"),
        n_published=Count("id", filter=Q(published=True)),
        n_reviewed=Count("id", filter=Q(published=True, reviewed=True)),
    )
    totals = {
        "total": counted["n_total"],
        "published": counted["n_published"],
        "reviewed": counted["n_reviewed"],
    }
    return render(
        request,
        "web/internal_procedures.html",
        {
            "items": qs,
            "totals": totals,
            "status": status,
            "can_manage": policy.can(request.user, "catalog.manage"),
        },
    )


def _parse_day(raw: str | None, default: dt.date) -> dt.date:
    return params.day(raw, "Ngày") or default


@requires("org.view")
def agencies(request: HttpRequest) -> HttpResponse:
    day = _parse_day(request.GET.get("ngay"), timezone.localdate())
    qs = (
        policy.visible_agencies(request.user)
        .valid_on(day)
        .select_related("agency_type__level", "unit")
    )
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__icontains=query))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("trang"))
    return render(request, "web/agencies.html", {"page": page, "day": day, "query": query})


@requires("org.view")
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agency = get_object_or_404(
        Agency.objects.select_related("agency_type", "unit", "parent", "successor"), pk=pk
    )
    if not policy.can(request.user, "org.view", agency=agency):
        return deny(request, "Cơ quan này không thuộc phạm vi bạn được xem.")
    staff = []
    if policy.can(request.user, "org.staff.view", agency=agency):
        staff = agency.role_assignments.filter(active=True).select_related("user")
    return render(
        request,
        "web/agency_detail.html",
        {
            "agency": agency,
            "staff": staff,
            "desks": agency.desks.all(),
            "can_change": policy.can(request.user, "org.agency.change", agency=agency),
        },
    )


class AgencyProfileForm(forms.Form):
    head_name = forms.CharField(label="Người đứng đầu", max_length=150, required=False)
    head_title = forms.CharField(label="Chức danh", max_length=100, required=False)
    address = forms.CharField(label="Địa chỉ", max_length=300, required=False)
    phone = forms.CharField(label="Điện thoại", max_length=50, required=False)
    email = forms.EmailField(
        label="Thư điện tử",
        required=False,
        error_messages={"invalid": "Địa chỉ thư điện tử không hợp lệ."},
    )


@requires("org.agency.change")
def agency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agency = get_object_or_404(Agency, pk=pk)
    if not policy.can(request.user, "org.agency.change", agency=agency):
        return deny(request, "Bạn chỉ được sửa thông tin cơ quan của mình.")
    initial = {name: getattr(agency, name) for name in org.PROFILE_FIELDS}
    form = AgencyProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        org.update_agency_profile(request.user, agency, now=timezone.now(), **form.cleaned_data)
        messages.success(request, "Đã cập nhật thông tin cơ quan.")
        return redirect("web:agency", pk=agency.pk)
    return render(request, "web/agency_edit.html", {"agency": agency, "form": form})


@requires("org.view")
def units(request: HttpRequest) -> HttpResponse:
    day = _parse_day(request.GET.get("ngay"), timezone.localdate())
    qs = AdministrativeUnit.objects.valid_on(day).select_related("level", "parent")
    level = request.GET.get("cap")
    if level:
        qs = qs.filter(level__code=level)
    return render(
        request,
        "web/units.html",
        {
            "units": qs,
            "day": day,
            "level": level,
            "levels": UnitLevel.objects.filter(
                id__in=AdministrativeUnit.objects.valid_on(day).values("level")
            ),
        },
    )


@requires("org.view")
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(AdministrativeUnit.objects.select_related("level", "parent"), pk=pk)
    today = timezone.localdate()
    try:
        current = org.map_unit(unit, max(today, unit.valid_from))
    except DomainError:
        current = None
    return render(
        request,
        "web/unit_detail.html",
        {
            "unit": unit,
            "current": current,
            "children": unit.children.select_related("level"),
            "predecessors": unit.successions_in.select_related("predecessor"),
            "successors": unit.successions_out.select_related("successor"),
        },
    )


@requires("audit.view")
def audit(request: HttpRequest) -> HttpResponse:
    """The audit log, filtered (`cchc.web.audit_log`); ``xuat=csv|xlsx`` downloads the
    same filtered list, masked as the page is, and audits the download."""
    filters = audit_log.AuditFilters.from_query(request.GET)
    selection = audit_log.select(filters)
    fmt = request.GET.get("xuat", "").strip()
    if fmt:
        try:
            fmt = audit_log.check_format(fmt)
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect(f"{request.path}?{urlencode(filters.query())}")
        return _audit_download(request, filters, selection, fmt)
    page = page_of(selection.entries, PAGE_SIZE, request.GET.get("trang"))
    query = urlencode(filters.query())
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "rows": audit_log.Presenter(request.user).rows(list(page.object_list)),
            "filters": filters,
            "notes": selection.notes,
            "groups": [(slug, label) for slug, (label, _) in audit_log.GROUPS.items()],
            "action_choices": audit_labels.choices(),
            "agencies": Agency.objects.order_by("name").values_list("pk", "name"),
            "query": query,
            "export_query": f"{query}&" if query else "",
        },
    )


def _audit_download(
    request: HttpRequest,
    filters: audit_log.AuditFilters,
    selection: audit_log.Selection,
    fmt: str,
) -> HttpResponse:
    export = audit_log.AuditExport(request.user, filters, selection.entries)
    name = export.filename(fmt)
    response: HttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(
            export.csv_stream(), content_type=audit_log.content_type(fmt)
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            export.xlsx_file(),
            as_attachment=True,
            filename=name,
            content_type=audit_log.content_type(fmt),
        )
    response["Cache-Control"] = "no-store"  # may hold personal data (masked)
    return response


def error_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", {}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # A database outage gets the 503 page, which does not need the database (this page's
    # navigation reads the session and the user's roles).
    outage = dbfailures.current_outage_response(request)
    if outage is not None:
        return outage
    return render(request, "500.html", {}, status=500)


def error_403(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", {}, status=403)


def error_400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):  # Django's own body parsing refused it
        return request_guard.too_large(request)
    return render(request, "400.html", {}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request,
        "403.html",
        {
            "message": "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại "
            "trang và thử lại."
        },
        status=403,
    )
