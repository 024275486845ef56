"""The indicator service API (spec 04): Plan 213 results, drill-down, ranking, series and
who may view them. The 766 index is computed in `score766`, reconciliation with published
figures in `published`; the shared filters and arithmetic live in `figures`.

Pages (`cchc.dashboard`), the CLI and the REST API call these functions.
Values are `Decimal` rounded to 2 places; a zero denominator gives None ("Không có dữ
liệu"), never 0 or 100.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from cchc.accounts import policy
from cchc.dossiers import access
from cchc.errors import InvalidInput, NotFound, PermissionDenied
from cchc.indicators import cellcache, definitions, grouped, memo
from cchc.indicators.definitions import DefinitionFile, Expr, Indicator, Sub
from cchc.indicators.figures import (
    EVERYTHING,
    NO_DATA,
    Filters,
    compare,
    evaluate,
    fmt,
    jsonable_number,
    rate,
)
from cchc.indicators.measures import Context, start_of
from cchc.indicators.periods import Period, previous
from cchc.indicators.scope import units_below
from cchc.indicators.score766 import index766, score_sub
from cchc.org.models import Agency
from cchc.plans.models import ExternalIndex, Task, WorkRecordStat

PROJECTION_METHOD = (
    "Giá trị lũy kế từ đầu năm đến hết kỳ (hoặc đến hôm nay): tỷ lệ được coi là giữ nguyên "
    "đến cuối năm"
)
DEFAULT_PLAN = "bac-giang-2024"


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
            "value": jsonable_number(self.value),
            "numerator": jsonable_number(self.numerator),
            "denominator": jsonable_number(self.denominator),
            "unit": self.unit,
            "target_text": self.target_text,
            "target": jsonable_number(self.target),
            "comparison": self.comparison,
            "met": self.met,
            "previous": jsonable_number(self.previous),
            "change": jsonable_number(self.change),
            "projection": jsonable_number(self.projection),
            "projection_method": self.projection_method,
            "source": self.source,
            "definition_version": self.definition_version,
            "breakdown": [{k: jsonable_number(v) for k, v in b.items()} for b in self.breakdown],
            "note": self.note,
        }


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
    plan_code: str, period: Period, filters: Filters = EVERYTHING, *, now: dt.datetime | None = None
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
    filters: Filters = EVERYTHING,
    part: str = "numerator",
    *,
    user: Any,
    now: dt.datetime | None = None,
    plan_code: str = DEFAULT_PLAN,
) -> Drill:
    """Exactly the rows counted in the numerator or denominator of `code`, limited to what
    `user` may see."""

    check_view(user, filters)
    if part not in ("numerator", "denominator"):
        raise InvalidInput("Phần cần xem phải là 'numerator' (tử số) hoặc 'denominator' (mẫu số).")
    item, d = find(code, period, plan_code)
    expr = item.numerator if part == "numerator" else item.denominator
    ctx = Context(period, filters, now=now)
    title = f"{code} — {'tử số' if part == 'numerator' else 'mẫu số'}: {spoken(expr)}"
    if item.source == "dossiers" and expr is not None:
        qs = access.visible(user, ctx.dossier_rows(expr)).select_related("procedure")
        return Drill("dossiers", qs.order_by(*ctx.dossier_order(expr)), DOSSIER_COLUMNS, title)
    if item.source == "tasks" and expr is not None:
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
        return Drill(
            "rows",
            rows,
            [("code", "Mã"), ("subject", "Tiêu đề")],
            title,
        )
    if item.source == "external":
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
        return {k: jsonable_number(v) for k, v in self.__dict__.items()}


# The ranking is cached on pages (the agency leader's comparison, the ranking page) under
# the cells' version and the instant it is computed for (the minute, or a past period's
# end): a dossier event re-ranks at once; PAKN, ratings, the catalogue's documents, the
# organisation and definitions (which do not bump the version) show within this many
# seconds.
RANKING_SECONDS = 60


def ranking(
    period: Period,
    filters: Filters = EVERYTHING,
    *,
    by: str = "index766",
    now: dt.datetime | None = None,
) -> list[Ranked]:
    """Agencies with dossiers in the period (as reported: current or historic), best first,
    by the 766 total rescaled to 100 (`by="index766"`) or by an indicator code (e.g. T4)."""

    with memo.reading():  # every agency's context shares the definitions and subtrees
        at = now or timezone.now()
        # The figures depend on the instant only up to the period's end (a past period's
        # ranking is the same all day); within a current period, to the minute.
        end = start_of(period.end + dt.timedelta(days=1))
        instant = min(at.replace(second=0, microsecond=0), end)
        what = f"ranking {period!r} {filters!r} {by} {instant.isoformat()}"
        return cellcache.computed(
            what, lambda: _ranking(period, filters, by=by, now=at), timeout=RANKING_SECONDS
        )


def _ranking(period: Period, filters: Filters, *, by: str, now: dt.datetime | None) -> list[Ranked]:
    base = Context(period, filters, now=now)
    qs = cellcache.rows(base.cells("r").values("competent_agency_id").annotate(n=Sum("received")))
    fin = cellcache.rows(base.cells("f").values("competent_agency_id").annotate(n=Sum("finished")))
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
    contexts: dict[int, Context] = {}
    for agency_id in sorted(set(received) | set(finished)):
        f = Filters(
            level=filters.level,
            unit_id=filters.unit_id,
            agency_id=agency_id,
            procedure_id=filters.procedure_id,
            channel=filters.channel,
            units=filters.units,
        )
        contexts[agency_id] = Context(period, f, now=now, places=base.places)
    # One grouped read per kind of data for every agency, not the same queries per agency.
    grouped.preload(base, contexts.values())
    for agency_id, ctx in contexts.items():
        f = ctx.filters
        idx = index766(period, f, ctx=ctx, explain=False)  # points only: no formula strings
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
    filters: Filters = EVERYTHING,
    *,
    now: dt.datetime | None = None,
    contexts: dict[Period, Context] | None = None,
) -> list[tuple[Period, Decimal | None]]:
    """The value of an indicator (T1…T11), a 766 sub-indicator (1a…5c, its rate) or the 766
    total (`index766`) for each period; `contexts` (from `month_contexts`) lets several
    series share one context per period and its figures."""
    out: list[tuple[Period, Decimal | None]] = []
    for p in periods_:
        ctx = (contexts or {}).get(p) or Context(p, filters, now=now)
        if code == "index766":
            out.append((p, index766(p, filters, now=now, ctx=ctx).total))
            continue
        item, d = find(code, p)
        if isinstance(item, Sub):
            out.append((p, score_sub(ctx, item, d).rate))
        else:
            out.append((p, _value(ctx, item, d)[0]))
    return out


def month_contexts(
    months: list[Period], filters: Filters = EVERYTHING, *, now: dt.datetime | None = None
) -> dict[Period, Context]:
    """One context per calendar month, their dossier figures read in one grouped query per
    kind of cell (received, finished) instead of two queries per month."""
    if not months:
        return {}
    span = Period("span", "", "span", min(p.start for p in months), max(p.end for p in months))
    base = Context(span, filters, now=now)
    out = {p: Context(p, filters, now=now, places=base.places) for p in months}
    if any(p.kind != "month" for p in months):
        return out
    grouped.preload_months(base, out)
    return out


# -- access ---------------------------------------------------------------------------------------


def check_view(user: Any, filters: Filters) -> None:
    """`indicator.view` for what `filters` select: administrators and supervisors of the
    whole system see everything; an agency leader or focal point only their agency (the
    filters must name it); a provincial supervisor the agencies of their unit."""

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
        units = units_below(filters.unit_id)
        inside = memo.remember(
            ("agencies_in_units", units),
            lambda: set(Agency.objects.filter(unit_id__in=units).values_list("id", flat=True)),
        )
        if inside and inside <= reach.agency_ids:
            return
    raise PermissionDenied(
        "Hãy chọn cơ quan (hoặc địa bàn) thuộc phạm vi của bạn để xem chỉ tiêu.",
        code="indicators.scope",
    )
