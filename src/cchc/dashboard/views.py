"""Pages of the leaders' dashboard (/chi-so/): province overview, one agency, drill-down to
the exact records counted, downloads (CSV/XLSX) of every table, reconciliation with the
national portal's published 766 figures.

Views parse the request, ask the presenter (`cchc.dashboard.presenter`: view models built
from the indicator engine, `cchc.indicators`) and render; every number comes from the
engine, and every page checks `indicator.view` (and the agency's reach) before asking it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.catalog.models import Procedure
from cchc.dashboard import leader, presenter, selection
from cchc.dashboard.tables import FORMATS, Table, download
from cchc.errors import DomainError, InvalidInput
from cchc.indicators import memo, periods, published, services
from cchc.org.models import AdministrativeUnit
from cchc.tabular.forms import ImportForm, run_import_form
from cchc.tabular.registry import importers
from cchc.webkit import params
from cchc.webkit.paging import page_of

PAGE_SIZE = 50
PARTS = {"numerator": "tử số", "denominator": "mẫu số"}


def _dashboard(request: HttpRequest, agency: Any = None) -> HttpResponse:
    # One memo for the page: its many report contexts share definitions and placement.
    with memo.reading():
        return _dashboard_page(request, agency)


def _dashboard_page(request: HttpRequest, agency: Any) -> HttpResponse:
    try:
        sel = selection.parse(request.GET, request.user, agency_id=agency.pk if agency else None)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(request.path)
    board = presenter.Dashboard(request.user, sel, agency)
    fmt = request.GET.get("format")
    if fmt:
        tables = board.tables()
        which = request.GET.get("table", "chi-tieu")
        if fmt not in FORMATS or which not in tables:
            raise Http404("Không có bảng hoặc định dạng tải xuống này.")
        return download(tables[which](), fmt)
    return render(
        request,
        "dashboard/overview.html",
        {
            "sel": sel,
            "query": sel.query(),
            "agency": agency,
            **board.overview(),
            "options": selection.options(request.user, sel),
            "can_manage": policy.can(request.user, "indicator.manage"),
            "reach": selection.reach(request.user),
            # The agency leader's section (issue 18, item 2): None outside an agency page
            # and for readers without the agency's dossiers (a focal point).
            "leader": leader.view(request.user, sel, agency) if agency is not None else None,
        },
    )


@requires("indicator.view")
def overview(request: HttpRequest) -> HttpResponse:
    who = selection.reach(request.user)
    if not who.province:
        if who.home_agency_id is None:
            return deny(request, "Bạn chưa được giao xem chỉ số của cơ quan nào.")
        target = reverse("dashboard:agency", args=[who.home_agency_id])
        query = request.GET.urlencode()
        return redirect(f"{target}?{query}" if query else target)
    return _dashboard(request)


@requires("indicator.view")
def ranking(request: HttpRequest) -> HttpResponse:
    """The ranking of the agencies within the reader's reach for the selected period and
    filters (every agency with dossiers is scored: its own page of the dashboard, so the
    overview — the page a leader opens — does not compute it)."""
    who = selection.reach(request.user)
    if not who.province:
        return redirect("dashboard:overview")
    with memo.reading():
        try:
            sel = selection.parse(request.GET, request.user)
        except InvalidInput as exc:
            messages.error(request, exc.message)
            return redirect(request.path)
        board = presenter.Dashboard(request.user, sel, None)
        fmt = request.GET.get("format")
        if fmt:
            if fmt not in FORMATS or request.GET.get("table", "xep-hang") != "xep-hang":
                raise Http404("Không có bảng hoặc định dạng tải xuống này.")
            return download(board.ranking_table(), fmt)
        return render(
            request,
            "dashboard/ranking.html",
            {
                "sel": sel,
                "query": sel.query(),
                "agency": None,
                "ranked": board.ranked(),
                "filter_summary": presenter.filter_summary(sel, None),
                "options": selection.options(request.user, sel),
            },
        )


@requires("indicator.view")
def agency(request: HttpRequest, pk: int) -> HttpResponse:
    found = selection.agency_or_none(pk)
    if found is None:
        raise Http404("Không tìm thấy cơ quan.")
    if not policy.can(request.user, "indicator.view", agency=found):
        return deny(request, "Cơ quan này không thuộc phạm vi bạn được xem chỉ số.")
    return _dashboard(request, found)


# -- drill-down ---------------------------------------------------------------------------------


@requires("indicator.view")
def drill(request: HttpRequest, code: str) -> HttpResponse:
    with memo.reading():
        return _drill(request, code)


def _drill(request: HttpRequest, code: str) -> HttpResponse:
    try:
        sel = selection.parse(request.GET, request.user)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:overview")
    part = request.GET.get("part", "numerator")
    if part not in PARTS:
        part = "numerator"
    plan = presenter.plan_ref(sel.period)
    extra = {"plan_code": plan.code} if plan else {}
    found = services.drilldown(code, sel.period, sel.filters, part, user=request.user, **extra)
    qs = found.queryset
    if found.kind == "dossiers":
        if hasattr(qs, "select_related"):
            qs = qs.select_related("procedure", "competent_agency")
            if not qs.ordered:
                qs = qs.order_by("pk")
        headers = presenter.DOSSIER_HEADERS

        def cells(item: Any) -> list[Any]:
            return presenter.dossier_cells(request.user, item)
    else:
        if hasattr(qs, "ordered") and not qs.ordered:
            qs = qs.order_by("pk")
        headers, cells = presenter.drill_columns(found)
    title = f"{code}. {presenter.indicator_name(code, sel.period, plan)}".rstrip(". ")
    formula = getattr(found, "title", "")
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS:
            raise Http404("Không có định dạng tải xuống này.")
        items = qs.iterator(chunk_size=2000) if hasattr(qs, "iterator") else qs
        return download(
            Table(
                name=f"chi-tiet-{code}-{part}-{sel.period.code}",
                title=f"{title} — {PARTS[part]} — {sel.period.label}",
                headers=headers,
                rows=[cells(i) for i in items],
            ),
            fmt,
        )
    page = page_of(qs, PAGE_SIZE, request.GET.get("trang"))
    rows = [{"shown": [presenter.shown(v) for v in cells(i)]} for i in page.object_list]
    return render(
        request,
        "dashboard/drill.html",
        {
            "code": code,
            "title": title,
            "formula": formula,
            "described": selection.describe(sel),
            "part": part,
            "part_label": PARTS[part],
            "other_part": "denominator" if part == "numerator" else "numerator",
            "kind": found.kind,
            "headers": headers,
            "rows": rows,
            "page": page,
            "sel": sel,
            "query": sel.query(part=part),
            "back": reverse("dashboard:agency", args=[sel.filters.agency_id])
            if sel.filters.agency_id
            else reverse("dashboard:overview"),
        },
    )


# -- reconciliation with the national portal ------------------------------------------------------


def _province_unit(user: Any, day: dt.date, raw: str | None) -> AdministrativeUnit | None:
    units = AdministrativeUnit.objects.valid_on(day).select_related("level")
    unit_id = params.record_id(raw, "Đơn vị hành chính")
    if unit_id is not None:
        return units.filter(pk=unit_id).first()
    who = selection.reach(user)
    if who.home_unit_id:
        own = units.filter(pk=who.home_unit_id).first()
        if own is not None:
            return own
    return units.order_by("level__rank", "code").first()


def _published_figures(post: Any, codes: list[str]) -> dict[str, Decimal]:
    figures: dict[str, Decimal] = {}
    for code in codes:
        raw = (post.get(f"pub_{code}") or "").strip().replace(",", ".")
        if not raw:
            continue
        try:
            figures[code] = Decimal(raw)
        except InvalidOperation:
            raise InvalidInput(f"Điểm công bố của chỉ số {code} không phải là số: {raw}.") from None
    return figures


IMPORTER = "published-766"


@requires("indicator.view")
def reconcile(request: HttpRequest) -> HttpResponse:

    who = selection.reach(request.user)
    if not who.province:
        return deny(request, "Đối chiếu với Cổng DVC quốc gia dành cho cấp tỉnh.")
    try:
        period = periods.parse(
            (request.GET.get("period") or "").strip() or selection.default_period_code()
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:reconcile")
    unit = _province_unit(request.user, period.end, request.GET.get("unit"))
    if unit is None:
        raise Http404("Không có đơn vị hành chính để đối chiếu.")
    can_manage = policy.can(request.user, "indicator.manage")
    here = f"{reverse('dashboard:reconcile')}?period={period.code}&unit={unit.pk}"
    imp = importers().get(IMPORTER)
    import_form = report = None
    if request.method == "POST":
        if not can_manage:
            return deny(request, "Bạn không có quyền nhập số liệu công bố.")
        if request.POST.get("action") == "import" and imp is not None:
            import_form, report = run_import_form(request, imp)
        else:
            rows = presenter.reconcile_rows(period, unit)
            source = (request.POST.get("source") or "").strip()
            try:
                figures = _published_figures(request.POST, [r.code for r in rows])
                for code, value in figures.items():
                    published.save_published(
                        request.user,
                        published.PublishedData(
                            period=period.code,
                            unit=unit.code,
                            code=code,
                            value=value,
                            source=source,
                        ),
                        now=timezone.now(),
                    )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, f"Đã ghi {len(figures)} số liệu công bố của {period.label}."
                )
                return redirect(here)
    rows = presenter.reconcile_rows(period, unit)
    table = Table(
        name=f"doi-chieu-766-{period.code}",
        title=f"Đối chiếu Bộ chỉ số 766 với số liệu công bố — {unit.name} — {period.label}",
        headers=["Mã", "Chỉ số", "Hệ thống tính", "Cổng DVC quốc gia công bố", "Chênh lệch"],
        rows=[(d.code, d.name, d.ours, d.published, d.difference) for d in rows],
    )
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS:
            raise Http404("Không có định dạng tải xuống này.")
        return download(table, fmt)
    if can_manage and imp is not None and import_form is None:
        import_form = ImportForm()
    return render(
        request,
        "dashboard/reconcile.html",
        {
            "period": period,
            "unit": unit,
            "diffs": rows,
            "can_manage": can_manage,
            "importer": imp,
            "import_form": import_form,
            "report": report,
            "period_groups": [
                (y, periods.choices(y))
                for y in sorted({period.end.year, timezone.localdate().year}, reverse=True)
            ],
            "units": AdministrativeUnit.objects.valid_on(period.end)
            .filter(level__rank=1)
            .order_by("name"),
            "query": f"period={period.code}&unit={unit.pk}",
            "differing": sum(1 for d in rows if d.difference not in (None, 0)),
            "entered": sum(1 for d in rows if d.published is not None),
        },
    )


# -- the agency leader's drill-downs ------------------------------------------------------------


def _leader_scope(request: HttpRequest, pk: int) -> tuple[Any, Any] | HttpResponse:
    """The agency and the selection of a leader drill page, or the refusal."""
    found = selection.agency_or_none(pk)
    if found is None:
        raise Http404("Không tìm thấy cơ quan.")
    if not leader.may_view(request.user, found):
        return deny(request, "Cơ quan này không thuộc phạm vi bạn được xem hồ sơ và chỉ số.")
    try:
        sel = selection.parse(request.GET, request.user, agency_id=found.pk)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(reverse("dashboard:agency", args=[found.pk]))
    return found, sel


def _leader_page(
    request: HttpRequest,
    *,
    agency: Any,
    sel: Any,
    table: Table,
    rows: Any,
    query: str,
    cells: Any,
    note: str,
    unit: str,
) -> HttpResponse:
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in FORMATS:
            raise Http404("Không có định dạng tải xuống này.")
        table.rows = cells(rows)
        return download(table, fmt)
    page = page_of(rows, PAGE_SIZE, request.GET.get("trang"))
    shown = [[presenter.shown(v) for v in row] for row in cells(page.object_list)]
    return render(
        request,
        "dashboard/leader_drill.html",
        {
            "agency": agency,
            "sel": sel,
            "title": table.title,
            "note": note,
            "headers": table.headers,
            "rows": shown,
            "count": page.paginator.count,
            "unit": unit,
            "page": page,
            "query": query,
            "back": reverse("dashboard:agency", args=[agency.pk]) + f"?period={sel.period.code}",
        },
    )


@requires("indicator.view")
def leader_steps(request: HttpRequest, pk: int) -> HttpResponse:
    """The late step passages counted in one bottleneck row (procedure, step) of the
    leader's section, or all of them."""
    scope = _leader_scope(request, pk)
    if isinstance(scope, HttpResponse):
        return scope
    found, sel = scope
    try:
        step = params.whole(request.GET.get("buoc"), "Bước", low=1, high=1000)
        procedure = params.record_id(request.GET.get("thu_tuc"), "Thủ tục")
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(reverse("dashboard:agency", args=[found.pk]))
    with memo.reading():
        items = leader.late_passages(
            request.user,
            found,
            sel,
            procedure_id=procedure,
            step=step - 1 if step is not None else None,
        )
    named = f" — bước {step}" if step is not None else ""
    if procedure is not None:
        proc = Procedure.objects.filter(pk=procedure).only("code", "name").first()
        if proc is None:
            raise Http404("Không tìm thấy thủ tục.")
        named += f" — thủ tục {proc.code} {proc.name}"
    table = Table(
        name=f"cham-tien-do-{found.pk}-{sel.period.code}",
        title=f"Chuyển bước chậm tiến độ{named} — {found.name} — {sel.period.label}",
        headers=leader.STEP_HEADERS,
    )
    query = sel.query(agency=None) + "".join(
        f"&{k}={v}" for k, v in (("buoc", step), ("thu_tuc", procedure)) if v is not None
    )
    return _leader_page(
        request,
        agency=found,
        sel=sel,
        table=table,
        rows=items.iterator(chunk_size=2000) if request.GET.get("format") else items,
        query=query,
        cells=lambda found: leader.step_rows(request.user, found),
        unit="lượt chuyển bước chậm tiến độ",
        note=(
            "Mỗi dòng là một lần chuyển bước (phiếu kiểm soát quá trình giải quyết) trong kỳ "
            "diễn ra sau hạn của bước; hạn bước tính theo thời gian làm việc từ lúc tiếp nhận, "
            "cộng thời gian tạm dừng, như trang hồ sơ."
        ),
    )


@requires("indicator.view")
def leader_dossiers(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossiers counted by one number of the leader's section (late dossiers, an
    officer's workload)."""
    scope = _leader_scope(request, pk)
    if isinstance(scope, HttpResponse):
        return scope
    found, sel = scope
    kind = request.GET.get("loai") or "qua-han"
    if kind not in leader.LISTS:
        raise Http404("Không có danh sách này.")
    try:
        officer = params.record_id(request.GET.get("can_bo"), "Cán bộ")
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(reverse("dashboard:agency", args=[found.pk]))
    who = ""
    if officer is not None:
        person = leader.officer_name(found, officer)
        if person is None:
            raise Http404("Không có cán bộ này trong cơ quan.")
        who = f" — {person}"
    qs = leader.dossier_list(request.user, found, sel, kind, officer=officer, now=timezone.now())
    people = leader.dossier_access.PersonalData.of(request.user)
    table = Table(
        name=f"ho-so-{kind}-{found.pk}-{sel.period.code}",
        title=f"{leader.LISTS[kind]}{who} — {found.name} — {sel.period.label}",
        headers=leader.DOSSIER_HEADERS,
    )
    fmt = request.GET.get("format")
    rows: Any = qs.iterator(chunk_size=2000) if fmt else qs
    query = sel.query(agency=None) + f"&loai={kind}" + (f"&can_bo={officer}" if officer else "")
    return _leader_page(
        request,
        agency=found,
        sel=sel,
        table=table,
        rows=rows,
        query=query,
        cells=lambda found: [leader.dossier_row(people, d) for d in found],
        unit="hồ sơ",
        note=(
            "Hồ sơ thuộc thẩm quyền giải quyết của cơ quan (và đơn vị trực thuộc). Dữ liệu cá "
            "nhân của người nộp được che như trong danh sách hồ sơ."
        ),
    )
