"""The 766 index (Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân,
doanh nghiệp — QĐ 766/QĐ-TTg) computed from our own data: each sub-indicator's rate and
points with the formula spelt out, group and total points, rescaled to 100 over the
sub-indicators that have data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cchc.indicators import definitions, resolved
from cchc.indicators.definitions import DefinitionFile, Sub
from cchc.indicators.figures import (
    EVERYTHING,
    NO_DATA,
    Filters,
    evaluate,
    fmt,
    jsonable_number,
    q2,
    rate,
    spell,
)
from cchc.indicators.measures import Context
from cchc.indicators.periods import Period


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
            "points": jsonable_number(self.points),
            "max_points": jsonable_number(self.max_points),
            "rate": jsonable_number(self.rate),
            "numerator": jsonable_number(self.numerator),
            "denominator": jsonable_number(self.denominator),
            "threshold": jsonable_number(self.threshold),
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
            "points": jsonable_number(self.points),
            "max_points": jsonable_number(self.max_points),
            "nominal_max": jsonable_number(self.nominal_max),
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
    # Which finished dossiers count as resolved (`cchc.indicators.resolved`), code@version.
    resolved_definition: str = ""
    no_data_rule: str = (
        "Chỉ số thành phần không có dữ liệu không được tính điểm và không tính vào điểm tối đa "
        "(max_total); total_100 quy đổi tổng điểm về thang 100."
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.code,
            "period_label": self.period.label,
            "filters": self.filters.as_dict(),
            "total": jsonable_number(self.total),
            "max_total": jsonable_number(self.max_total),
            "total_100": jsonable_number(self.total_100),
            "no_data_rule": self.no_data_rule,
            "definition_version": self.definition_version,
            "resolved_definition": self.resolved_definition,
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


def _no_data(reason: str, base: dict[str, Any]) -> Sub766:
    """A sub-indicator without data: no points, and the reason in place of the formula."""
    return Sub766(
        points=None,
        rate=None,
        numerator=None,
        denominator=None,
        formula=f"{NO_DATA}: {reason}",
        no_data_reason=reason,
        **base,
    )


def score_sub(ctx: Context, s: Sub, d: DefinitionFile, *, explain: bool = True) -> Sub766:
    """One sub-indicator for the context's period and filters, with its formula (without
    it when not `explain`: a ranking needs the points of every agency, not their words)."""
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
        return _no_data(s.no_data_reason, base)
    values = ctx.values(s.source, d, s.numerator, s.denominator)
    if "_missing" in values:
        return _no_data(values["_missing"], base)
    num, den = evaluate(s.numerator, values), evaluate(s.denominator, values)
    r = rate(num, den, s.unit)
    if not explain:
        points = score(r, s.max_points, s.threshold) if r is not None and not s.monitored else None
        reason = "Mẫu số bằng 0" if r is None else ""
        return Sub766(
            points=points,
            rate=r,
            numerator=num,
            denominator=den,
            formula="",
            no_data_reason=reason,
            **base,
        )
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
    filters: Filters = EVERYTHING,
    *,
    now: dt.datetime | None = None,
    ctx: Context | None = None,
    explain: bool = True,
) -> Index766:
    d = definitions.current("index766", on=period.end)
    ctx = ctx or Context(period, filters, now=now)
    groups = []
    for g in d.groups:
        subs = [score_sub(ctx, s, d, explain=explain) for s in d.subs if s.group == g.code]
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
        resolved_definition=resolved.definition().label,
    )
