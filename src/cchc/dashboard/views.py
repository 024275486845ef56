"""Pages of the leaders' dashboard (/chi-so/): province overview, one agency, drill-down to
the exact records counted, downloads (CSV/XLSX) of every table, reconciliation with the
national portal's published 766 figures.

Views parse the request, call the indicator engine (`cchc.indicators.services`) and render;
every number comes from the engine, and every page checks `indicator.view` (and the agency's
reach) before asking it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cchc.accounts import policy
from cchc.dashboard import charts, selection
from cchc.dashboard.tables import FORMATS, Table, download
from cchc.dashboard.templatetags.dashboard import number
from cchc.dossiers import access as dossier_access
from cchc.dossiers.models import Channel, Dossier
from cchc.errors import DomainError, InvalidInput
from cchc.interop.registry import importers
from cchc.org.models import AdministrativeUnit, UnitLevel
from cchc.plans.models import Plan
from cchc.web import params
from cchc.web.access import deny, requires
from cchc.web.views import ImportForm, run_import_form

PAGE_SIZE = 50
TREND_CODES = ("T4", "T5", "T8", "T9")
PARTS = {"numerator": "tử số", "denominator": "mẫu số"}
LIGHTS = {
    "ok": ("✔", "Đạt"),
    "bad": ("✖", "Chưa đạt"),
    "nodata": ("–", "Không có dữ liệu"),
    "open": ("•", "Chưa so sánh"),
}


def _engine() -> Any:
    from cchc.indicators import services

    return services


def _light(result: Any) -> dict[str, str]:
    if result.value is None:
        key = "nodata"
    elif result.met is True:
        key = "ok"
    elif result.met is False:
        key = "bad"
    else:
        key = "open"
    icon, text = LIGHTS[key]
    return {"key": key, "icon": icon, "text": text}


def sub_note(s: Any) -> str:
    notes = []
    if getattr(s, "monitored", False):
        notes.append("chỉ theo dõi, không tính điểm")
    if getattr(s, "illustrative", False):
        notes.append("minh họa")
    if s.points is None and getattr(s, "no_data_reason", ""):
        notes.append(s.no_data_reason)
    return "; ".join(notes)


BREAKDOWN_LABELS = {
    "level": "Cấp",
    "value": "Giá trị",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "target": "Chỉ tiêu",
    "met": "Đánh giá",
    "index": "Chỉ số",
    "year": "Năm",
    "score": "Điểm",
    "rank": "Xếp hạng",
    "group": "Nhóm",
    "source": "Nguồn",
}


def breakdown(result: Any, level_names: dict[str, str]) -> dict[str, Any] | None:
    """An indicator's breakdown (T7 per level, T11 per external index) as a small table."""
    rows = [b for b in (getattr(result, "breakdown", None) or []) if isinstance(b, dict)]
    if not rows:
        return None
    keys = list(rows[0])
    out = []
    for b in rows:
        cells = []
        for k in keys:
            v = b.get(k)
            if k == "level":
                v = level_names.get(v, v)
            elif k == "met":
                v = {True: "Đạt", False: "Chưa đạt"}.get(v, "Không có dữ liệu")
            cells.append(_shown(v) if not isinstance(v, str) else v)
        out.append(cells)
    return {"headers": [BREAKDOWN_LABELS.get(k, k) for k in keys], "rows": out}


@dataclass(frozen=True)
class PlanRef:
    code: str
    label: str
    note: str = ""  # set when the targets are borrowed from an earlier year's plan


def plan_for(period: Any) -> PlanRef | None:
    """The reform plan whose targets the period is compared with: the plan of the year the
    period ends in, else (said on the page) the latest plan in force before it."""
    from cchc.indicators import definitions

    year = period.end.year
    plan = Plan.objects.filter(year=year).order_by("code").first()
    try:
        found = definitions.current("plan", plan.code if plan else None, on=period.end)
    except DomainError:
        return None
    if found.effective_from.year == year:
        return PlanRef(found.code, f"{plan.number} ({plan.issuer})" if plan else found.name)
    return PlanRef(
        found.code,
        found.name,
        f"Năm {year} chưa có kế hoạch CCHC trong hệ thống: các chỉ tiêu dưới đây so với "
        f"{found.name} (kế hoạch gần nhất).",
    )


def _months(period: Any) -> list[Any]:
    from cchc.indicators import periods

    last = min(period.end, timezone.localdate())
    year = period.end.year
    if last.year < year:
        return []
    return [periods.parse(f"{year}-{m:02d}") for m in range(1, last.month + 1)]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Dashboard:
    """Everything one dashboard page shows, computed on first use (a download computes only
    its own table)."""

    def __init__(self, request: HttpRequest, sel: selection.Selection, agency: Any) -> None:
        self.request, self.sel, self.agency = request, sel, agency
        self.now = timezone.now()
        self.plan = plan_for(sel.period)
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # -- engine calls --
    def results(self) -> list[Any]:
        if self.plan is None:
            return []
        return self._once(
            "results",
            lambda: _engine().plan_results(
                self.plan.code, self.sel.period, self.sel.filters, now=self.now
            ),
        )

    def index(self) -> Any:
        return self._once(
            "index", lambda: _engine().index766(self.sel.period, self.sel.filters, now=self.now)
        )

    def ranked(self) -> list[Any]:
        if self.agency is not None:
            return []
        who = selection.reach(self.request.user)
        return self._once(
            "ranked",
            lambda: [
                r
                for r in _engine().ranking(self.sel.period, self.sel.filters)
                if who.covers(r.agency_id)
            ],
        )

    def trends(self) -> list[charts.Series]:
        def make() -> list[charts.Series]:
            months = _months(self.sel.period)
            names = {r.code: r.name for r in self.results()}
            codes = [c for c in TREND_CODES if c in names] or (
                [] if self.plan is not None else ["T4"]
            )
            out = []
            for code in codes if months else []:
                try:
                    points = _engine().series(code, months, self.sel.filters)
                except DomainError:
                    continue
                out.append(
                    charts.Series(
                        label=_short(f"{code}. {names.get(code, code)}", 62),
                        points=[(f"thg {p.start.month}", v) for p, v in points],
                    )
                )
            return out

        return self._once("trends", make)

    # -- tables (page and downloads share them) --
    def targets_table(self) -> Table:
        return Table(
            name=f"chi-tieu-{self.sel.period.code}",
            title=f"Chỉ tiêu kế hoạch CCHC — {self.sel.period.label}",
            headers=[
                "Mã",
                "Chỉ tiêu",
                "Đánh giá",
                "Giá trị",
                "Đơn vị",
                "Tử số",
                "Mẫu số",
                "Chỉ tiêu kế hoạch",
                "Kỳ trước",
                "Thay đổi",
                "Dự báo cuối năm",
                "Cách dự báo",
                "Nguồn",
            ],
            rows=[
                (
                    r.code,
                    r.name,
                    _light(r)["text"],
                    r.value,
                    r.unit,
                    r.numerator,
                    r.denominator,
                    r.target_text,
                    r.previous,
                    r.change,
                    r.projection,
                    r.projection_method,
                    r.source,
                )
                for r in self.results()
            ],
        )

    def index_table(self) -> Table:
        idx = self.index()
        rows: list[tuple[Any, ...]] = [
            (
                "Tổng",
                "Bộ chỉ số 766",
                "",
                idx.total,
                idx.max_total,
                None,
                None,
                None,
                None,
                "",
                "",
                f"Quy về thang 100: {number(idx.total_100)}"
                if getattr(idx, "total_100", None) is not None
                else "",
            )
        ]
        for g in idx.groups:
            nominal = getattr(g, "nominal_max", None) or g.max_points
            rows.append(
                (
                    g.code,
                    g.name,
                    "",
                    g.points,
                    nominal,
                    None,
                    None,
                    None,
                    None,
                    "",
                    "",
                    f"Điểm tối đa của các chỉ số có dữ liệu: {number(g.max_points)}",
                )
            )
            rows.extend(
                (
                    s.code,
                    s.name,
                    g.code,
                    s.points,
                    s.max_points,
                    s.rate,
                    s.threshold,
                    s.numerator,
                    s.denominator,
                    s.formula,
                    s.evidence,
                    sub_note(s),
                )
                for s in g.subs
            )
        return Table(
            name=f"chi-so-766-{self.sel.period.code}",
            title=f"Bộ chỉ số 766 — {self.sel.period.label}",
            headers=[
                "Mã",
                "Nhóm / chỉ số thành phần",
                "Thuộc nhóm",
                "Điểm",
                "Điểm tối đa",
                "Tỷ lệ (%)",
                "Ngưỡng đạt tối đa (%)",
                "Tử số",
                "Mẫu số",
                "Công thức",
                "Mức kiểm chứng",
                "Ghi chú",
            ],
            rows=rows,
        )

    def ranking_table(self) -> Table:
        return Table(
            name=f"xep-hang-{self.sel.period.code}",
            title=f"Xếp hạng cơ quan theo Bộ chỉ số 766 — {self.sel.period.label}",
            headers=[
                "Hạng",
                "Cơ quan",
                "Điểm 766 quy về thang 100",
                "Điểm đạt",
                "Điểm tối đa (chỉ số có dữ liệu)",
                "Giải quyết trước hạn, đúng hạn (%)",
                "Hồ sơ tiếp nhận",
                "Hồ sơ giải quyết xong",
            ],
            rows=[
                (
                    n,
                    r.name,
                    getattr(r, "total_100", None),
                    r.total,
                    getattr(r, "max_total", None),
                    getattr(r, "t4", None),
                    getattr(r, "received", None),
                    getattr(r, "finished", None),
                )
                for n, r in enumerate(self.ranked(), start=1)
            ],
        )

    def trends_table(self) -> Table:
        series = self.trends()
        labels = [x for x, _ in series[0].points] if series else []
        return Table(
            name=f"xu-huong-{self.sel.period.end.year}",
            title=f"Diễn biến theo tháng năm {self.sel.period.end.year}",
            headers=["Chỉ tiêu", *labels],
            rows=[(s.label, *[v for _, v in s.points]) for s in series],
        )

    def tables(self) -> dict[str, Callable[[], Table]]:
        out = {
            "chi-tieu": self.targets_table,
            "chi-so-766": self.index_table,
            "xu-huong": self.trends_table,
        }
        if self.agency is None:
            out["xep-hang"] = self.ranking_table
        return out


def _dashboard(request: HttpRequest, agency: Any = None) -> HttpResponse:
    try:
        sel = selection.parse(request.GET, request.user, agency_id=agency.pk if agency else None)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(request.path)
    board = Dashboard(request, sel, agency)
    fmt = request.GET.get("format")
    if fmt:
        tables = board.tables()
        which = request.GET.get("table", "chi-tieu")
        if fmt not in FORMATS or which not in tables:
            raise Http404("Không có bảng hoặc định dạng tải xuống này.")
        return download(tables[which](), fmt)
    query = sel.query()
    levels = dict(UnitLevel.objects.values_list("code", "name"))
    results = [
        {"r": r, "light": _light(r), "breakdown": breakdown(r, levels)} for r in board.results()
    ]
    trends = board.trends()
    return render(
        request,
        "dashboard/overview.html",
        {
            "sel": sel,
            "query": query,
            "agency": agency,
            "plan": board.plan,
            "results": results,
            "counts": {k: sum(1 for x in results if x["light"]["key"] == k) for k in LIGHTS},
            "index": board.index(),
            "ranked": board.ranked(),
            "chart": charts.line_chart(trends, title="Diễn biến theo tháng") if trends else None,
            "trends": board.trends_table() if trends else None,
            "options": selection.options(request.user, sel),
            "can_manage": policy.can(request.user, "indicator.manage"),
            "reach": selection.reach(request.user),
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
def agency(request: HttpRequest, pk: int) -> HttpResponse:
    found = selection.agency_or_none(pk)
    if found is None:
        raise Http404("Không tìm thấy cơ quan.")
    if not policy.can(request.user, "indicator.view", agency=found):
        return deny(request, "Cơ quan này không thuộc phạm vi bạn được xem chỉ số.")
    return _dashboard(request, found)


# -- drill-down ---------------------------------------------------------------------------------

DOSSIER_HEADERS = [
    "Mã hồ sơ",
    "Thủ tục",
    "Người nộp",
    "Số định danh",
    "Cơ quan giải quyết",
    "Kênh nộp",
    "Tiếp nhận",
    "Hạn giải quyết",
    "Hoàn thành",
    "Trạng thái",
    "Kết quả",
]


def _dossier_cells(user: Any, d: Dossier) -> list[Any]:
    applicant = dossier_access.applicant_for(user, d)  # masked without dossier.personal_data
    return [
        d.code,
        d.procedure.name,
        applicant.name,
        applicant.id_number,
        d.competent_agency.name if d.competent_agency_id else "",
        Channel(d.channel).label if d.channel in Channel.values else d.channel,
        d.received_at,
        d.due,
        d.finished_at,
        d.get_state_display(),
        d.get_outcome_display() if d.outcome else "",
    ]


def _path(item: Any, key: str) -> Any:
    """`agency__name` of a model instance or a dict, with choice labels for choice fields."""
    value = item
    for part in key.split("__"):
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get(part)
            continue
        display = getattr(value, f"get_{part}_display", None)
        value = display() if callable(display) else getattr(value, part, None)
    return value


def _generic(drill: Any) -> tuple[list[str], Callable[[Any], list[Any]]]:
    """Headers and a row function for the engine's `tasks` / `rows` drill-downs: columns
    are (key, label) pairs or plain keys."""
    pairs = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in (drill.columns or [])]

    def cells(item: Any) -> list[Any]:
        return [_path(item, k) for k, _ in pairs]

    if not pairs and drill.kind == "tasks":
        pairs = [
            ("code", "Mã nhiệm vụ"),
            ("description", "Nhiệm vụ"),
            ("lead_agency", "Cơ quan chủ trì"),
            ("deadline_label", "Thời hạn"),
        ]
    return [label for _, label in pairs], cells


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%H:%M %d/%m/%Y}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, Decimal | float) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        return number(value)
    return str(value)


def _indicator_name(code: str, period: Any, plan: PlanRef | None) -> str:
    try:
        item, _ = _engine().find(code, period, *([plan.code] if plan else []))
    except (DomainError, AttributeError):
        return ""
    return str(getattr(item, "name", ""))


@requires("indicator.view")
def drill(request: HttpRequest, code: str) -> HttpResponse:
    try:
        sel = selection.parse(request.GET, request.user)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:overview")
    part = request.GET.get("part", "numerator")
    if part not in PARTS:
        part = "numerator"
    plan = plan_for(sel.period)
    extra = {"plan_code": plan.code} if plan else {}
    found = _engine().drilldown(code, sel.period, sel.filters, part, user=request.user, **extra)
    qs = found.queryset
    if found.kind == "dossiers":
        if hasattr(qs, "select_related"):
            qs = qs.select_related("procedure", "competent_agency")
            if not qs.ordered:
                qs = qs.order_by("pk")
        headers = DOSSIER_HEADERS

        def cells(item: Any) -> list[Any]:
            return _dossier_cells(request.user, item)
    else:
        if hasattr(qs, "ordered") and not qs.ordered:
            qs = qs.order_by("pk")
        headers, cells = _generic(found)
    title = f"{code}. {_indicator_name(code, sel.period, plan)}".rstrip(". ")
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
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("trang"))
    rows = [{"shown": [_shown(v) for v in cells(i)]} for i in page.object_list]
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


def _reconcile_rows(period: Any, unit: AdministrativeUnit) -> list[Any]:
    """Every 766 code (total, groups, sub-indicators) with our figure and, where entered,
    the published one: the engine's differences, completed with our own figures."""
    from cchc.indicators import definitions
    from cchc.indicators.services import Diff, Filters, index766

    diffs = {d.code: d for d in _engine().reconcile(period, unit.pk)}
    idx = index766(period, Filters(unit_id=unit.pk))
    ours: dict[str, Any] = {
        "total": idx.total,
        **{g.code: g.points for g in idx.groups},
        **{s.code: s.points for g in idx.groups for s in g.subs},
    }
    d766 = definitions.current("index766", on=period.end)
    names = {
        "total": "Tổng điểm",
        **{g.code: f"Nhóm {g.code}. {g.name}" for g in d766.groups},
        **{s.code: f"{s.code}. {s.name}" for s in d766.subs},
    }
    return [
        diffs.get(code) or Diff(code, name, ours.get(code), None, None)
        for code, name in names.items()
    ]


IMPORTER = "published-766"


@requires("indicator.view")
def reconcile(request: HttpRequest) -> HttpResponse:
    from cchc.indicators import periods

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
            engine = _engine()
            rows = _reconcile_rows(period, unit)
            source = (request.POST.get("source") or "").strip()
            try:
                figures = _published_figures(request.POST, [r.code for r in rows])
                for code, value in figures.items():
                    engine.save_published(
                        request.user,
                        engine.PublishedData(
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
    rows = _reconcile_rows(period, unit)
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
