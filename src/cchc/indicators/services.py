"""The indicator service API (spec 04): Plan 213 results, the 766 index, drill-down,
ranking, series and reconciliation with published figures.

Pages (`cchc.dashboard`), the CLI and the REST API call only these functions.
Values are `Decimal` rounded to 2 places; a zero denominator gives None ("Không có dữ
liệu"), never 0 or 100.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import InvalidInput, NotFound
from cchc.indicators import definitions
from cchc.indicators.definitions import DefinitionFile, Expr, Indicator, Sub
from cchc.indicators.measures import Context
from cchc.indicators.periods import Period, previous

NO_DATA = "Không có dữ liệu"
PROJECTION_METHOD = (
    "Giá trị lũy kế từ đầu năm đến hết kỳ (hoặc đến hôm nay): tỷ lệ được coi là giữ nguyên "
    "đến cuối năm"
)
DEFAULT_PLAN = "bac-giang-2024"
TWO = Decimal("0.01")


def q2(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TWO, rounding=ROUND_HALF_UP)


def fmt(value: Decimal | int | None) -> str:
    if value is None:
        return NO_DATA
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return f"{q2(Decimal(value)):f}".replace(".", ",")


@dataclass(frozen=True)
class Filters:
    level: str | None = None
    unit_id: int | None = None
    agency_id: int | None = None
    procedure_id: int | None = None
    channel: int | None = None
    units: str = "current"  # current (post-2025 units via successor links) | historic

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "unit_id": self.unit_id,
            "agency_id": self.agency_id,
            "procedure_id": self.procedure_id,
            "channel": self.channel,
            "units": self.units,
        }


@dataclass
class Result:
    code: str
    name: str
    group: str
    value: Decimal | None
    numerator: Decimal | int | None
    denominator: Decimal | int | None
    unit: str = "%"
    target_text: str = ""
    target: Decimal | None = None
    comparison: str = "gte"
    met: bool | None = None
    previous: Decimal | None = None
    change: Decimal | None = None
    projection: Decimal | None = None
    projection_method: str = PROJECTION_METHOD
    source: str = "dossiers"
    definition_version: str = ""
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def value_text(self) -> str:
        return (
            NO_DATA
            if self.value is None
            else f"{fmt(self.value)}{self.unit if self.unit == '%' else ' ' + self.unit}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "group": self.group,
            "value": _num(self.value),
            "numerator": _num(self.numerator),
            "denominator": _num(self.denominator),
            "unit": self.unit,
            "target_text": self.target_text,
            "target": _num(self.target),
            "comparison": self.comparison,
            "met": self.met,
            "previous": _num(self.previous),
            "change": _num(self.change),
            "projection": _num(self.projection),
            "projection_method": self.projection_method,
            "source": self.source,
            "definition_version": self.definition_version,
            "breakdown": [{k: _num(v) for k, v in b.items()} for b in self.breakdown],
            "note": self.note,
        }


def _num(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(q2(value))  # type: ignore[arg-type]
    return value


def evaluate(expr: Expr | None, values: dict[str, Any]) -> Decimal | int | None:
    if expr is None:
        return None
    total: Decimal | int = 0
    for sign, name in expr.terms:
        total += sign * values.get(name, 0)
    return total


def spell(expr: Expr | None, values: dict[str, Any]) -> str:
    """`expr` in Vietnamese with its inputs: "(hồ sơ trước hạn 3 + hồ sơ đúng hạn 1)"."""
    if expr is None:
        return ""
    parts = []
    for n, (sign, name) in enumerate(expr.terms):
        term = f"{definitions.MEASURE_LABELS.get(name, name)} {fmt(values.get(name, 0))}"
        parts.append(term if n == 0 and sign > 0 else f"{'+' if sign > 0 else '−'} {term}")
    text = " ".join(parts)
    return f"({text})" if len(parts) > 1 else text


def rate(num: Decimal | int | None, den: Decimal | int | None, unit: str = "%") -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    value = Decimal(num) / Decimal(den)
    return q2(value * 100 if unit == "%" else value)


def compare(value: Decimal | None, target: Decimal | None, comparison: str) -> bool | None:
    if value is None or target is None:
        return None
    if comparison == "gt":
        return value > target
    return value >= target  # gte; eq (= 100 % means "all", never above)


# -- Plan 213 -----------------------------------------------------------------------------------


def _definition(plan_code: str, period: Period) -> DefinitionFile:
    return definitions.current("plan", plan_code, on=period.end)


def _value(ctx: Context, ind: Indicator, d: DefinitionFile) -> tuple[Decimal | None, Any, Any]:
    values = ctx.values(ind.source, d, ind.numerator, ind.denominator)
    num, den = evaluate(ind.numerator, values), evaluate(ind.denominator, values)
    if ind.comparison == "leading_group":
        return (Decimal(num) if den else None), num, den
    return rate(num, den, ind.unit), num, den


def _ytd(period: Period, today: dt.date) -> Period:
    start = min(period.start, dt.date(period.end.year, 1, 1))
    end = max(start, min(period.end, today))
    return Period(f"{period.end.year}-YTD", f"Lũy kế năm {period.end.year}", "ytd", start, end)


def plan_results(
    plan_code: str, period: Period, filters: Filters = Filters(), *, now: dt.datetime | None = None
) -> list[Result]:
    """Every target of the plan for `period`, with previous period, change and projection."""
    d = _definition(plan_code, period)
    ctx = Context(period, filters, now=now)
    before = ctx.derive(previous(period))
    to_date = _ytd(period, ctx.today)
    same = (to_date.start, to_date.end) == (period.start, period.end)
    ytd = ctx if same else ctx.derive(to_date)
    out = []
    for ind in d.indicators:
        value, num, den = _value(ctx, ind, d)
        result = Result(
            code=ind.code,
            name=ind.name,
            group=ind.group,
            value=value,
            numerator=num,
            denominator=den,
            unit=ind.unit,
            target_text=ind.target_text,
            target=ind.target_for(filters.level),
            comparison=ind.comparison,
            source=ind.source,
            definition_version=f"{d.code}@{d.version}",
        )
        if ind.comparison == "leading_group":
            info = ctx.values("external", d)
            expected = info["_expected"]
            result.target = Decimal(expected)
            result.met = None if den == 0 else bool(num == expected and den == expected)
            result.breakdown = [
                {
                    "index": r.index,
                    "year": r.year,
                    "score": r.score,
                    "rank": r.rank,
                    "group": r.group,
                    "source": r.source,
                }
                for r in info["_rows"]
            ]
            result.projection_method = "Không dự báo (chỉ số công bố hằng năm)"
            result.note = "Giá trị = số chỉ số thuộc nhóm dẫn đầu / số chỉ số đã nhập."
        else:
            result.met = compare(value, result.target, ind.comparison)
            result.previous = _value(before, ind, d)[0]
            result.change = (
                None if value is None or result.previous is None else value - result.previous
            )
            result.projection = _value(ytd, ind, d)[0]
        if ind.by_level:
            levels = ctx.values(ind.source, d).get("_levels", {})
            rows = []
            for level, (online, total) in sorted(levels.items(), key=lambda kv: _rank(kv[0])):
                v = rate(online, total)
                t = ind.target_for(level)
                rows.append(
                    {
                        "level": level,
                        "value": v,
                        "numerator": online,
                        "denominator": total,
                        "target": t,
                        "met": compare(v, t, ind.comparison),
                    }
                )
            result.breakdown = rows
            if filters.level is None:
                judged = [r["met"] for r in rows if r["met"] is not None]
                result.met = all(judged) if judged else None
        out.append(result)
    return out


def _rank(level: str) -> int:
    return {"province": 1, "district": 2, "commune": 3}.get(level, 9)


# -- the 766 index --------------------------------------------------------------------------------


@dataclass
class Sub766:
    code: str
    name: str
    group: str
    points: Decimal | None
    max_points: Decimal
    rate: Decimal | None
    numerator: Decimal | int | None
    denominator: Decimal | int | None
    threshold: Decimal | None
    formula: str
    evidence: str
    unit: str = "%"
    no_data_reason: str = ""
    illustrative: bool = False
    monitored: bool = False
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "group": self.group,
            "points": _num(self.points),
            "max_points": _num(self.max_points),
            "rate": _num(self.rate),
            "numerator": _num(self.numerator),
            "denominator": _num(self.denominator),
            "threshold": _num(self.threshold),
            "formula": self.formula,
            "evidence": self.evidence,
            "unit": self.unit,
            "no_data_reason": self.no_data_reason,
            "illustrative": self.illustrative,
            "monitored": self.monitored,
            "source": self.source,
        }


@dataclass
class Group766:
    code: str
    name: str
    points: Decimal
    max_points: Decimal  # the points that could be scored (sub-indicators with data)
    subs: list[Sub766]
    nominal_max: Decimal = Decimal(0)  # the group's points in the decision

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "points": _num(self.points),
            "max_points": _num(self.max_points),
            "nominal_max": _num(self.nominal_max),
            "subs": [s.as_dict() for s in self.subs],
        }


@dataclass
class Index766:
    period: Period
    filters: Filters
    total: Decimal
    max_total: Decimal
    groups: list[Group766]
    definition_version: str
    total_100: Decimal | None = None  # total rescaled to 100 over the sub-indicators with data
    no_data_rule: str = (
        "Chỉ số thành phần không có dữ liệu không được tính điểm và không tính vào điểm tối đa "
        "(max_total); total_100 quy đổi tổng điểm về thang 100."
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.code,
            "period_label": self.period.label,
            "filters": self.filters.as_dict(),
            "total": _num(self.total),
            "max_total": _num(self.max_total),
            "total_100": _num(self.total_100),
            "no_data_rule": self.no_data_rule,
            "definition_version": self.definition_version,
            "groups": [g.as_dict() for g in self.groups],
        }


def score(rate_: Decimal | None, max_points: Decimal, threshold: Decimal | None) -> Decimal | None:
    """rate × max; with a threshold, full points at or above it, else rate × max ÷ threshold."""
    if rate_ is None:
        return None
    if threshold is not None:
        if rate_ >= threshold:
            return q2(max_points)
        return q2(rate_ * max_points / threshold)
    return q2(min(rate_, Decimal(100)) * max_points / 100)


def _sub(ctx: Context, s: Sub, d: DefinitionFile) -> Sub766:
    base = {
        "code": s.code,
        "name": s.name,
        "group": s.group,
        "max_points": s.max_points,
        "threshold": s.threshold,
        "evidence": s.evidence,
        "unit": s.unit,
        "illustrative": s.illustrative,
        "monitored": s.monitored,
        "source": s.source,
    }
    if s.source == "none":
        return Sub766(
            points=None,
            rate=None,
            numerator=None,
            denominator=None,
            formula=f"{NO_DATA}: {s.no_data_reason}",
            no_data_reason=s.no_data_reason,
            **base,
        )
    values = ctx.values(s.source, d, s.numerator, s.denominator)
    if "_missing" in values:
        reason = values["_missing"]
        return Sub766(
            points=None,
            rate=None,
            numerator=None,
            denominator=None,
            formula=f"{NO_DATA}: {reason}",
            no_data_reason=reason,
            **base,
        )
    num, den = evaluate(s.numerator, values), evaluate(s.denominator, values)
    r = rate(num, den, s.unit)
    inputs = f"{spell(s.numerator, values)} ÷ {spell(s.denominator, values)}"
    if r is None:
        return Sub766(
            points=None,
            rate=None,
            numerator=num,
            denominator=den,
            formula=f"{NO_DATA}: mẫu số bằng 0 — {inputs}",
            no_data_reason="Mẫu số bằng 0",
            **base,
        )
    if s.monitored:
        return Sub766(
            points=None,
            rate=r,
            numerator=num,
            denominator=den,
            formula=f"{inputs} = {fmt(r)} {s.unit} (theo dõi, không tính điểm)",
            **base,
        )
    points = score(r, s.max_points, s.threshold)
    if s.threshold is not None:
        rule = (
            f"≥ ngưỡng {fmt(s.threshold)}% nên đạt tối đa {fmt(s.max_points)} điểm"
            if r >= s.threshold
            else f"{fmt(r)}% × {fmt(s.max_points)} ÷ {fmt(s.threshold)}% = {fmt(points)} điểm"
        )
    else:
        rule = f"{fmt(r)}% × {fmt(s.max_points)} = {fmt(points)} điểm"
    return Sub766(
        points=points,
        rate=r,
        numerator=num,
        denominator=den,
        formula=f"Tỷ lệ = {inputs} = {fmt(r)}%; {rule}",
        **base,
    )


def index766(
    period: Period,
    filters: Filters = Filters(),
    *,
    now: dt.datetime | None = None,
    ctx: Context | None = None,
) -> Index766:
    d = definitions.current("index766", on=period.end)
    ctx = ctx or Context(period, filters, now=now)
    groups = []
    for g in d.groups:
        subs = [_sub(ctx, s, d) for s in d.subs if s.group == g.code]
        points = sum((s.points for s in subs if s.points is not None), Decimal(0))
        possible = sum((s.max_points for s in subs if s.points is not None), Decimal(0))
        groups.append(Group766(g.code, g.name, q2(points), possible, subs, g.max_points))  # type: ignore[arg-type]
    total = sum((g.points for g in groups), Decimal(0))
    max_total = sum((g.max_points for g in groups), Decimal(0))
    return Index766(
        period=period,
        filters=filters,
        total=q2(total),  # type: ignore[arg-type]
        max_total=max_total,
        groups=groups,
        definition_version=f"{d.code}@{d.version}",
        total_100=q2(total * 100 / max_total) if max_total else None,
    )


# -- drill-down, ranking, series -------------------------------------------------------------------


@dataclass
class Drill:
    kind: str  # dossiers | tasks | rows
    queryset: QuerySet[Any]
    columns: list[tuple[str, str]]  # (field, Vietnamese heading)
    title: str = ""


DOSSIER_COLUMNS = [
    ("code", "Mã hồ sơ"),
    ("procedure__name", "Thủ tục"),
    ("competent_agency__name", "Cơ quan giải quyết"),
    ("received_at", "Tiếp nhận"),
    ("due", "Hạn giải quyết"),
    ("finished_at", "Hoàn thành"),
    ("outcome", "Kết quả"),
    ("state", "Trạng thái"),
]


def find(
    code: str, period: Period, plan_code: str = DEFAULT_PLAN
) -> tuple[Indicator | Sub, DefinitionFile]:
    d766 = definitions.current("index766", on=period.end)
    for s in d766.subs:
        if s.code == code:
            return s, d766
    plan = definitions.current("plan", plan_code, on=period.end)
    for ind in plan.indicators:
        if ind.code == code:
            return ind, plan
    raise NotFound(f"Không có chỉ tiêu hoặc chỉ số thành phần '{code}'.", code="indicators.code")


def spoken(expr: Expr | None) -> str:
    """An expression in words: "early + on_time" -> "hồ sơ trước hạn + hồ sơ đúng hạn"."""
    if expr is None:
        return ""
    return re.sub(
        r"[A-Za-z_][A-Za-z0-9_]*",
        lambda m: definitions.MEASURE_LABELS.get(m.group(0), m.group(0)),
        expr.text,
    )


def drilldown(
    code: str,
    period: Period,
    filters: Filters = Filters(),
    part: str = "numerator",
    *,
    user: Any,
    now: dt.datetime | None = None,
    plan_code: str = DEFAULT_PLAN,
) -> Drill:
    """Exactly the rows counted in the numerator or denominator of `code`, limited to what
    `user` may see."""
    from cchc.dossiers import access

    check_view(user, filters)
    if part not in ("numerator", "denominator"):
        raise InvalidInput("Phần cần xem phải là 'numerator' (tử số) hoặc 'denominator' (mẫu số).")
    item, d = find(code, period, plan_code)
    expr = item.numerator if part == "numerator" else item.denominator
    ctx = Context(period, filters, now=now)
    title = f"{code} — {'tử số' if part == 'numerator' else 'mẫu số'}: {spoken(expr)}"
    if item.source == "dossiers" and expr is not None:
        qs = access.visible(user, ctx.dossier_rows(expr)).select_related("procedure")
        return Drill("dossiers", qs.order_by("received_at", "id"), DOSSIER_COLUMNS, title)
    if item.source == "tasks" and expr is not None:
        from cchc.plans.models import Task

        ids: set[int] = set()
        rows = ctx.values("tasks", d)["_rows"]
        for sign, name in expr.terms:
            if sign > 0:
                ids |= rows[name]
        qs = Task.objects.filter(pk__in=ids).order_by("position")
        return Drill(
            "tasks", qs, [("code", "Mã"), ("description", "Nhiệm vụ"), ("deadline", "Hạn")], title
        )
    if item.source == "registers" and expr is not None:
        name = expr.terms[0][1]
        if name.startswith("legal"):
            qs = ctx.legal_rows()
            if name.endswith("proper"):
                qs = qs.filter(appraised=True, consulted=True, published=True)
            cols = [
                ("number", "Số, ký hiệu"),
                ("issued_on", "Ngày ban hành"),
                ("title", "Trích yếu"),
            ]
        elif name.startswith("internal"):
            qs = ctx.internal_rows()
            if name.endswith("done"):
                qs = qs.filter(ctx.internal_done_q())
            cols = [
                ("code", "Mã"),
                ("name", "Tên"),
                ("published_on", "Công bố"),
                ("reviewed_on", "Rà soát"),
            ]
        else:
            from cchc.plans.models import WorkRecordStat

            qs = WorkRecordStat.objects.filter(pk__in=[r.pk for r in ctx.work_rows()])
            cols = [
                ("agency__name", "Cơ quan"),
                ("period", "Kỳ"),
                ("total", "Tổng số"),
                ("online", "Trên môi trường mạng"),
            ]
        return Drill("rows", qs, cols, title)
    if item.source == "catalog" and expr is not None:
        base = ctx.procedures()
        qs = base.filter(pk__in=base.filter(ctx.catalog_q(expr.terms[0][1])).values("pk"))
        return Drill("rows", qs, [("code", "Mã TTHC"), ("name", "Tên thủ tục")], title)
    if item.source == "feedback" and expr is not None:
        rows = ctx.feedback_rows(expr.terms[0][1])
        if rows is None:
            raise NotFound("Chưa có dữ liệu phản ánh, kiến nghị.", code="indicators.no_data")
        return Drill(
            "rows",
            rows,
            [("code", "Mã"), ("subject", "Tiêu đề")],
            title,
        )
    if item.source == "external":
        from cchc.plans.models import ExternalIndex

        ids_ = [r.pk for r in ctx.values("external", d)["_rows"]]
        return Drill(
            "rows",
            ExternalIndex.objects.filter(pk__in=ids_),
            [("index", "Chỉ số"), ("score", "Điểm"), ("rank", "Xếp hạng")],
            title,
        )
    raise NotFound(f"{code}: {NO_DATA}.", code="indicators.no_data")


@dataclass
class Ranked:
    agency_id: int
    name: str
    total: Decimal | None
    max_total: Decimal | None
    total_100: Decimal | None
    t4: Decimal | None
    received: int = 0
    finished: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: _num(v) for k, v in self.__dict__.items()}


def ranking(
    period: Period,
    filters: Filters = Filters(),
    *,
    by: str = "index766",
    now: dt.datetime | None = None,
) -> list[Ranked]:
    """Agencies with dossiers in the period (as reported: current or historic), best first,
    by the 766 total rescaled to 100 (`by="index766"`) or by an indicator code (e.g. T4)."""
    from django.db.models import Sum

    base = Context(period, filters, now=now)
    qs = base.cells("r").values("competent_agency_id").annotate(n=Sum("received"))
    fin = base.cells("f").values("competent_agency_id").annotate(n=Sum("finished"))
    received: dict[int, int] = {}
    finished: dict[int, int] = {}
    for target, rows in ((received, qs), (finished, fin)):
        for row in rows:
            placed = base.places.get(row["competent_agency_id"])
            if placed is None:
                continue
            target[placed.agency_id] = target.get(placed.agency_id, 0) + int(row["n"] or 0)
    out = []
    plan = definitions.current("plan", DEFAULT_PLAN, on=period.end)
    t4 = next((i for i in plan.indicators if i.code == "T4"), None)
    for agency_id in sorted(set(received) | set(finished)):
        f = Filters(
            level=filters.level,
            unit_id=filters.unit_id,
            agency_id=agency_id,
            procedure_id=filters.procedure_id,
            channel=filters.channel,
            units=filters.units,
        )
        ctx = Context(period, f, now=now, places=base.places)
        idx = index766(period, f, ctx=ctx)
        name = next(
            (p.name for p in base.places.values() if p.agency_id == agency_id), str(agency_id)
        )
        out.append(
            Ranked(
                agency_id=agency_id,
                name=name,
                total=idx.total,
                max_total=idx.max_total,
                total_100=idx.total_100,
                t4=_value(ctx, t4, plan)[0] if t4 else None,
                received=received.get(agency_id, 0),
                finished=finished.get(agency_id, 0),
            )
        )
    if by == "index766":
        key = lambda r: r.total_100  # noqa: E731
    elif by.lower() == "t4":
        key = lambda r: r.t4  # noqa: E731
    else:
        raise InvalidInput(f"Không xếp hạng được theo '{by}' (index766 hoặc T4).")
    return sorted(out, key=lambda r: (key(r) is None, -(key(r) or 0), r.name))


def series(
    code: str,
    periods_: list[Period],
    filters: Filters = Filters(),
    *,
    now: dt.datetime | None = None,
) -> list[tuple[Period, Decimal | None]]:
    """The value of an indicator (T1…T11), a 766 sub-indicator (1a…5c, its rate) or the 766
    total (`index766`) for each period."""
    out: list[tuple[Period, Decimal | None]] = []
    for p in periods_:
        if code == "index766":
            out.append((p, index766(p, filters, now=now).total))
            continue
        item, d = find(code, p)
        ctx = Context(p, filters, now=now)
        if isinstance(item, Sub):
            out.append((p, _sub(ctx, item, d).rate))
        else:
            out.append((p, _value(ctx, item, d)[0]))
    return out


# -- reconciliation with published figures ---------------------------------------------------------


@dataclass
class Diff:
    code: str
    name: str
    ours: Decimal | None
    published: Decimal | None
    difference: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {k: _num(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class PublishedData:
    period: str
    unit: str  # official unit code (mã ĐVHC), valid at the period's end
    code: str  # total | 1..5 | 1a…5c
    value: Decimal
    source: str

    @property
    def key(self) -> str:
        return f"{self.period}|{self.unit}|{self.code}"


def _published_codes(period: Period) -> dict[str, str]:
    d = definitions.current("index766", on=period.end)
    names = {"total": "Tổng điểm"}
    names.update({g.code: f"Nhóm {g.code}. {g.name}" for g in d.groups})
    names.update({s.code: f"{s.code}. {s.name}" for s in d.subs})
    return names


def save_published(actor: Any, data: PublishedData, *, now: dt.datetime) -> tuple[Any, str]:
    """Enter or update one published 766 figure (audited). Returns (row, outcome)."""
    from cchc.indicators.models import PublishedFigure
    from cchc.org.services import unit_on

    policy.require(actor, "indicator.manage")
    from cchc.indicators.periods import parse

    period = parse(data.period)
    names = _published_codes(period)
    if data.code not in names:
        raise InvalidInput(
            f"Mã chỉ số '{data.code}' không hợp lệ (total, 1–5 hoặc mã chỉ số thành phần).",
            code="indicators.published_code",
        )
    if not data.source.strip():
        raise InvalidInput("Cần ghi nguồn công bố.", code="indicators.published_source")
    if data.value < 0 or data.value > 100:
        raise InvalidInput("Điểm công bố phải từ 0 đến 100.", code="indicators.published_value")
    unit = unit_on(data.unit, period.end)
    with transaction.atomic():
        row = (
            PublishedFigure.objects.select_for_update()
            .filter(period=period.code, unit=unit, code=data.code)
            .first()
        )
        new = {"value": q2(data.value), "source": data.source.strip()}
        if row is not None and all(getattr(row, k) == v for k, v in new.items()):
            return row, "unchanged"
        old = {k: getattr(row, k) for k in new} if row is not None else {}
        if row is None:
            row = PublishedFigure(period=period.code, unit=unit, code=data.code)
        for k, v in new.items():
            setattr(row, k, v)
        row.updated_at = now
        row.save()
        outcome = "updated" if old else "created"
        log.record(
            f"indicators.published.{outcome}",
            actor=actor,
            obj=row,
            data={k: [str(old.get(k)) if k in old else None, str(v)] for k, v in new.items()},
            at=now,
        )
    return row, outcome


def reconcile(period: Period, unit_id: int, *, now: dt.datetime | None = None) -> list[Diff]:
    """Our 766 figures for `unit_id` next to the published ones, code by code."""
    from cchc.indicators.models import PublishedFigure

    published = {
        r.code: r.value for r in PublishedFigure.objects.filter(period=period.code, unit_id=unit_id)
    }
    # The national portal published the figure for the unit as it was in the period: a unit
    # that existed at the period's end is counted as it was then (historic units); a unit
    # created later (after a merger) gathers its predecessors (current units).
    from cchc.org.models import AdministrativeUnit

    unit = AdministrativeUnit.objects.filter(pk=unit_id).first()
    units = "historic" if unit is not None and unit.is_valid_on(period.end) else "current"
    idx = index766(period, Filters(unit_id=unit_id, units=units), now=now)
    ours: dict[str, Decimal | None] = {"total": idx.total}
    for g in idx.groups:
        ours[g.code] = g.points
        for s in g.subs:
            ours[s.code] = s.points
    names = _published_codes(period)
    out = []
    for code, name in names.items():
        if code not in published and code != "total" and code not in {g.code for g in idx.groups}:
            continue
        mine, theirs = ours.get(code), published.get(code)
        diff = None if mine is None or theirs is None else q2(mine - theirs)
        out.append(Diff(code, name, mine, theirs, diff))
    return out


# -- access ---------------------------------------------------------------------------------------


def check_view(user: Any, filters: Filters) -> None:
    """`indicator.view` for what `filters` select: administrators and supervisors of the
    whole system see everything; an agency leader or focal point only their agency (the
    filters must name it); a provincial supervisor the agencies of their unit."""
    from cchc.errors import PermissionDenied
    from cchc.org.models import Agency
    from cchc.org.tree import unit_subtree

    reach = policy.grant(user, "indicator.view")
    if reach.everything:
        return
    if reach.empty:
        raise PermissionDenied("Bạn không có quyền xem chỉ tiêu, chỉ số CCHC.")
    if filters.agency_id is not None:
        if not reach.covers(filters.agency_id):
            raise PermissionDenied("Bạn chỉ được xem chỉ tiêu của cơ quan mình.")
        return
    if filters.unit_id is not None:
        units = unit_subtree([filters.unit_id], with_predecessors=True)
        inside = set(Agency.objects.filter(unit_id__in=units).values_list("id", flat=True))
        if inside and inside <= reach.agency_ids:
            return
    raise PermissionDenied(
        "Hãy chọn cơ quan (hoặc địa bàn) thuộc phạm vi của bạn để xem chỉ tiêu.",
        code="indicators.scope",
    )
