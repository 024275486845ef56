"""The dashboard's view models: what the overview, drill-down and reconciliation pages
show (traffic lights, breakdowns, the plan compared with, engine tables for the page and
their downloads, the rows of a drill-down), built from the indicator engine. Views only
parse the request, call these and render."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone

from cchc.dashboard import charts, lateness, selection
from cchc.dashboard.tables import Table
from cchc.dashboard.templatetags.dashboard import number
from cchc.dossiers import access as dossier_access
from cchc.dossiers.models import Channel, Dossier
from cchc.errors import DomainError
from cchc.indicators import periods, plan_choice, published, services
from cchc.indicators.models import PublishedFigure
from cchc.org.models import AdministrativeUnit, UnitLevel

TREND_CODES = ("T4", "T5", "T8", "T9")
LIGHTS = {
    "ok": ("✔", "Đạt"),
    "bad": ("✖", "Chưa đạt"),
    "nodata": ("–", "Không có dữ liệu"),
    "open": ("•", "Chưa so sánh"),
}


def light(result: Any) -> dict[str, str]:
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
            cells.append(shown(v) if not isinstance(v, str) else v)
        out.append(cells)
    return {"headers": [BREAKDOWN_LABELS.get(k, k) for k in keys], "rows": out}


@dataclass(frozen=True)
class PlanRef:
    code: str
    label: str
    note: str = ""  # set when the targets are borrowed from an earlier year's plan


def plan_ref(period: Any) -> PlanRef | None:
    """The plan the period's targets are compared with (`plan_choice.plan_for`), as the
    page names it; None when no plan applies (the page shows no targets)."""
    choice = plan_choice.plan_for(period)
    if choice is None:
        return None
    found, plan = choice.definition, choice.plan
    if not choice.borrowed:
        return PlanRef(found.code, f"{plan.number} ({plan.issuer})" if plan else found.name)
    return PlanRef(
        found.code,
        found.name,
        f"Năm {choice.year} chưa có kế hoạch CCHC trong hệ thống: các chỉ tiêu dưới đây so với "
        f"{found.name} (kế hoạch gần nhất).",
    )


def months_so_far(period: Any) -> list[Any]:
    last = min(period.end, timezone.localdate())
    year = period.end.year
    if last.year < year:
        return []
    return [periods.parse(f"{year}-{m:02d}") for m in range(1, last.month + 1)]


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Short names of the plan's targets for the first screen's compact list, by plan definition
# and code (the definitions' names are full sentences); a plan not listed here shows its
# names cut to fit, the full name in the tooltip and in the table below.
SHORT_NAMES: dict[str, dict[str, str]] = {
    "bac-giang-2024": {
        "T1": "Nhiệm vụ đúng hạn",
        "T2": "VB QPPL đúng quy trình",
        "T3": "TTHC nội bộ công khai",
        "T4": "Giải quyết đúng hạn",
        "T5": "Trả kết quả trước hạn",
        "T6": "Quá hạn có xin lỗi",
        "T7": "Xử lý trên mạng",
        "T8": "Trực tuyến toàn trình",
        "T9": "Nộp trực tuyến",
        "T10": "Thanh toán trực tuyến",
        "T11": "PCI, PAPI, PAR INDEX",
    }
}

# How many agencies the first screen lists (the latest first); the rest open below them.
FIRST_SCREEN_AGENCIES = 4
NOMINAL_766 = Decimal(100)  # the decision's 100 points


@dataclass(frozen=True)
class Score:
    """The 766 score as the first screen states it: one number on the 100-point scale
    (`index.total_100`, the points scored over the points that could be measured), one line
    saying what was and was not measured, and the figure comparable with the national
    portal's: the points scored out of the decision's 100, every unmeasured sub-indicator
    counted as 0 (the portal measures all of them), beside the published figure if one was
    entered for this period and unit (`/chi-so/doi-chieu/`)."""

    on_100: Decimal | None
    comparable: Decimal
    measured_max: Decimal
    unmeasured: list[tuple[str, str]]  # (code, name) of scored sub-indicators without data
    published: Decimal | None = None
    published_source: str = ""
    published_unit: str = ""


def score_of(index: Any, published_row: Any = None) -> Score:
    unmeasured = [
        (s.code, s.name)
        for g in index.groups
        for s in g.subs
        if s.points is None and not getattr(s, "monitored", False)
    ]
    return Score(
        on_100=index.total_100,
        comparable=index.total,
        measured_max=index.max_total,
        unmeasured=unmeasured,
        published=published_row.value if published_row is not None else None,
        published_source=published_row.source if published_row is not None else "",
        published_unit=published_row.unit.name if published_row is not None else "",
    )


def published_total(sel: selection.Selection, who: selection.Reach) -> Any:
    """The national portal's published 766 total for the page's period and unit, when the
    page shows a whole unit (no level, agency, procedure or channel narrowing it: the portal
    publishes whole provinces and communes only); None otherwise or when none was entered.
    The unit: the filter's, else the viewer's own, else the province (first unit of the top
    level valid at the period's end), as the reconciliation page picks it."""
    f = sel.filters
    if not who.province or f.level or f.agency_id or f.procedure_id or f.channel:
        return None
    rows = PublishedFigure.objects.filter(period=sel.period.code, code="total").select_related(
        "unit"
    )
    unit_id = f.unit_id or who.home_unit_id
    if unit_id is not None:
        return rows.filter(unit_id=unit_id).first()
    top = AdministrativeUnit.objects.valid_on(sel.period.end).order_by("level__rank", "code")
    return rows.filter(unit_id__in=top.values("pk")[:1]).first()


# Said only when it is not the default (today's units), to keep the summary on one line.
UNIT_MODE_SHORT = {"historic": "theo đơn vị hành chính tại thời điểm phát sinh"}


def filter_summary(sel: selection.Selection, agency: Any) -> list[str]:
    """The filters in effect as one line (the collapsed filter form's summary): the period,
    where, what, and how units are counted; the defaults in plain words."""
    if agency is not None:  # the page's heading names the agency
        sel = dataclasses.replace(sel, filters=dataclasses.replace(sel.filters, agency_id=None))
    described = selection.describe(sel)[:-1]  # the last item is the long unit-mode text
    f = sel.filters
    out = [f"Kỳ: {sel.period.label}"]
    if agency is None and not (f.level or f.unit_id or f.agency_id):
        out.append("Toàn tỉnh")
    out += described
    if not f.procedure_id:
        out.append("mọi thủ tục")
    if not f.channel:
        out.append("mọi kênh nộp")
    if f.units in UNIT_MODE_SHORT:
        out.append(UNIT_MODE_SHORT[f.units])
    return out


class Dashboard:
    """Everything one dashboard page shows, computed on first use (a download computes only
    its own table)."""

    def __init__(self, user: Any, sel: selection.Selection, agency: Any) -> None:
        self.user, self.sel, self.agency = user, sel, agency
        self.now = timezone.now()
        self.plan = plan_ref(sel.period)
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
            lambda: services.plan_results(
                self.plan.code, self.sel.period, self.sel.filters, now=self.now
            ),
        )

    def index(self) -> Any:
        return self._once(
            "index", lambda: services.index766(self.sel.period, self.sel.filters, now=self.now)
        )

    def ranked(self) -> list[Any]:
        if self.agency is not None:
            return []
        who = selection.reach(self.user)
        return self._once(
            "ranked",
            lambda: [
                r
                for r in services.ranking(self.sel.period, self.sel.filters)
                if who.covers(r.agency_id)
            ],
        )

    def late(self) -> list[lateness.Late]:
        return self._once(
            "late",
            lambda: lateness.lateness(self.user, self.sel.period, self.sel.filters, now=self.now),
        )

    def late_links(self, row: lateness.Late) -> dict[str, Any]:
        """A lateness row with its links: the agency's page, and the T4 drill-down of its
        finished dossiers (denominator) and of those finished early or on time (numerator),
        which are exactly the dossiers behind the on-time share. Open overdue dossiers have
        no page listing exactly them by agency yet (the work queue's "quá hạn" filter has
        no agency parameter), so those counts are not links."""
        query = self.sel.query(agency=str(row.agency_id))
        drill = reverse("dashboard:drill", args=["T4"]) if self.plan is not None else None
        return {
            "r": row,
            "trend": row.trend,
            "agency_url": f"{reverse('dashboard:agency', args=[row.agency_id])}?{self.sel.query()}",
            "on_time_url": f"{drill}?{query}&part=numerator" if drill else None,
            "finished_url": f"{drill}?{query}&part=denominator" if drill else None,
        }

    def trends(self) -> list[charts.Series]:
        def make() -> list[charts.Series]:
            months = months_so_far(self.sel.period)
            names = {r.code: r.name for r in self.results()}
            codes = [c for c in TREND_CODES if c in names] or (
                [] if self.plan is not None else ["T4"]
            )
            out = []
            # one context per month shared by the series, its figures read in bulk
            contexts = services.month_contexts(months, self.sel.filters) if codes else {}
            for code in codes if months else []:
                try:
                    points = services.series(code, months, self.sel.filters, contexts=contexts)
                except DomainError:
                    continue
                out.append(
                    charts.Series(
                        label=short(f"{code}. {names.get(code, code)}", 62),
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
                    light(r)["text"],
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

    def lateness_table(self) -> Table:
        before = periods.previous(self.sel.period)
        return Table(
            name=f"tre-han-{self.sel.period.code}",
            title=f"Cơ quan chậm trễ — {self.sel.period.label}",
            headers=[
                "Cơ quan",
                "Hồ sơ đang quá hạn",
                "Quá hạn chưa có văn bản xin lỗi",
                "Hoàn thành trễ hạn trong kỳ",
                "Hoàn thành trong kỳ",
                "Hoàn thành trước hạn, đúng hạn",
                "Tỷ lệ trước hạn, đúng hạn (%)",
                f"Tỷ lệ kỳ trước ({before.label}) (%)",
                "Xu hướng",
            ],
            rows=[
                (
                    r.name,
                    r.open_overdue,
                    r.without_apology,
                    r.finished_late,
                    r.finished,
                    r.on_time,
                    r.share,
                    r.share_before,
                    r.trend.text,
                )
                for r in self.late()
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
            "tre-han": self.lateness_table,
            "xu-huong": self.trends_table,
        }
        if self.agency is None:
            out["xep-hang"] = self.ranking_table
        return out

    def overview(self) -> dict[str, Any]:
        """The overview page's view model (the view adds the selection and its options)."""
        levels = dict(UnitLevel.objects.values_list("code", "name"))
        names = SHORT_NAMES.get(self.plan.code, {}) if self.plan is not None else {}
        results = [
            {
                "r": r,
                "light": light(r),
                "breakdown": breakdown(r, levels),
                "short": names.get(r.code, r.name),
            }
            for r in self.results()
        ]
        trends = self.trends()
        late = self.late()
        index = self.index()
        return {
            "plan": self.plan,
            "results": results,
            "counts": {k: sum(1 for x in results if x["light"]["key"] == k) for k in LIGHTS},
            "index": index,
            "score": score_of(index, published_total(self.sel, selection.reach(self.user))),
            "late_first": [self.late_links(r) for r in late[:FIRST_SCREEN_AGENCIES]],
            "late_more": [self.late_links(r) for r in late[FIRST_SCREEN_AGENCIES:]],
            "late_totals": {
                "open_overdue": sum(r.open_overdue for r in late),
                "without_apology": sum(r.without_apology for r in late),
                "finished_late": sum(r.finished_late for r in late),
            },
            "previous_period": periods.previous(self.sel.period),
            "filter_summary": filter_summary(self.sel, self.agency),
            "now": self.now,
            "chart": charts.line_chart(trends, title="Diễn biến theo tháng") if trends else None,
            "trends": self.trends_table() if trends else None,
        }


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


def dossier_cells(user: Any, d: Dossier) -> list[Any]:
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


def field_value(item: Any, key: str) -> Any:
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


def drill_columns(drill: Any) -> tuple[list[str], Callable[[Any], list[Any]]]:
    """Headers and a row function for the engine's `tasks` / `rows` drill-downs: columns
    are (key, label) pairs or plain keys."""
    pairs = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in (drill.columns or [])]

    def cells(item: Any) -> list[Any]:
        return [field_value(item, k) for k, _ in pairs]

    if not pairs and drill.kind == "tasks":
        pairs = [
            ("code", "Mã nhiệm vụ"),
            ("description", "Nhiệm vụ"),
            ("lead_agency", "Cơ quan chủ trì"),
            ("deadline_label", "Thời hạn"),
        ]
    return [label for _, label in pairs], cells


def shown(value: Any) -> str:
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


def indicator_name(code: str, period: Any, plan: PlanRef | None) -> str:
    try:
        item, _ = services.find(code, period, *([plan.code] if plan else []))
    except (DomainError, AttributeError):
        return ""
    return str(getattr(item, "name", ""))


# -- reconciliation with the national portal ------------------------------------------------------


def reconcile_rows(period: Any, unit: AdministrativeUnit) -> list[Any]:
    """Every code of the national portal's 766 board (total, groups, the portal's split
    columns, sub-indicators, the deduction for technical faults) with our figure and, where
    entered, the published one."""
    return published.reconcile(period, unit.pk, every=True)
