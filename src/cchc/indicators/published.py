"""Reconciliation with the national portal's published 766 figures (số liệu Cổng Dịch vụ
công quốc gia công bố): entering them (audited) and setting our figures beside them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import InvalidInput
from cchc.indicators import definitions
from cchc.indicators.figures import Filters, jsonable_number, q2
from cchc.indicators.models import PublishedFigure
from cchc.indicators.periods import Period, parse
from cchc.indicators.score766 import index766
from cchc.org.models import AdministrativeUnit
from cchc.org.services import unit_on


@dataclass
class Diff:
    code: str
    name: str
    ours: Decimal | None
    published: Decimal | None
    difference: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {k: jsonable_number(v) for k, v in self.__dict__.items()}


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
    policy.require(actor, "indicator.manage")
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
    published = {
        r.code: r.value for r in PublishedFigure.objects.filter(period=period.code, unit_id=unit_id)
    }
    # The national portal published the figure for the unit as it was in the period: a unit
    # that existed at the period's end is counted as it was then (historic units); a unit
    # created later (after a merger) gathers its predecessors (current units).
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
