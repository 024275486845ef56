"""Reconciliation with the national portal's published 766 figures (số liệu Cổng Dịch vụ
công quốc gia công bố): entering them (audited) and setting our figures beside them.

Codes: `total`, the decision's groups `1`–`5` (QĐ 766 order: 3 Số hóa hồ sơ, 4 Cung cấp
dịch vụ trực tuyến), the portal's own columns where they split a group (`4-dvc` Dịch vụ trực
tuyến, `4-tt` Thanh toán trực tuyến: `[[portal_columns]]` of the definition), the
sub-indicators (`1a`…`5c`) and the portal's deduction for technical and synchronisation
faults (`tru-diem`, points deducted, ≥ 0). The reconciliation lists the deduction as its own
line and, when the total is published too, the published total before the deduction next
to ours (we deduct nothing)."""

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
from cchc.indicators.definitions import DefinitionFile, PortalColumn
from cchc.indicators.figures import Filters, jsonable_number, q2
from cchc.indicators.models import PublishedFigure
from cchc.indicators.periods import Period, parse
from cchc.indicators.score766 import index766
from cchc.org.models import AdministrativeUnit
from cchc.org.services import unit_on

DEDUCTION = "tru-diem"
DEDUCTION_NAME = "Điểm trừ do lỗi kỹ thuật, đồng bộ dữ liệu (Cổng DVC quốc gia)"
BEFORE_DEDUCTION = "truoc-tru"  # a computed line, never stored
BEFORE_DEDUCTION_NAME = "Tổng điểm trước khi trừ điểm lỗi kỹ thuật, đồng bộ"


@dataclass
class Diff:
    code: str
    name: str
    ours: Decimal | None
    published: Decimal | None
    difference: Decimal | None
    # total | group | portal (a portal column splitting a group) | sub | deduction |
    # before_deduction
    kind: str = ""

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


def portal_columns(d: DefinitionFile) -> tuple[PortalColumn, ...]:
    """The national portal's columns for definition `d`: its own `[[portal_columns]]`, else
    the shipped file's when they name the same groups and sub-indicators (a definition
    loaded without them)."""
    if d.portal:
        return d.portal
    groups, subs = {g.code for g in d.groups}, {s.code for s in d.subs}
    shipped = definitions.shipped("index766").portal
    if all((c.group in groups) if c.group else set(c.subs) <= subs for c in shipped):
        return shipped
    return ()


def split_columns(d: DefinitionFile) -> dict[str, list[PortalColumn]]:
    """{group code: the portal columns that split it} (group 4: 4-dvc, 4-tt)."""
    group_of = {s.code: s.group for s in d.subs}
    out: dict[str, list[PortalColumn]] = {}
    for c in portal_columns(d):
        if c.subs:
            out.setdefault(group_of[c.subs[0]], []).append(c)
    return out


def _published_codes(period: Period) -> dict[str, tuple[str, str]]:
    """{code: (name, kind)} in reading order: total, each group followed by the portal
    columns splitting it and its sub-indicators, then the deduction."""
    d = definitions.current("index766", on=period.end)
    splits = split_columns(d)
    names = {"total": ("Tổng điểm", "total")}
    for g in d.groups:
        names[g.code] = (f"Nhóm {g.code}. {g.name}", "group")
        for c in splits.get(g.code, []):
            parts = ", ".join(c.subs)
            names[c.code] = (f"Cột Cổng DVC: {c.name} ({parts})", "portal")
        for s in d.subs:
            if s.group == g.code:
                names[s.code] = (f"{s.code}. {s.name}", "sub")
    names[DEDUCTION] = (DEDUCTION_NAME, "deduction")
    return names


def codes(period: Period) -> list[str]:
    """Every code a published figure may have for `period`."""
    return list(_published_codes(period))


def save_published(actor: Any, data: PublishedData, *, now: dt.datetime) -> tuple[Any, str]:
    """Enter or update one published 766 figure (audited). Returns (row, outcome)."""
    policy.require(actor, "indicator.manage")
    period = parse(data.period)
    names = _published_codes(period)
    if data.code not in names:
        raise InvalidInput(
            f"Mã chỉ số '{data.code}' không hợp lệ (total, nhóm 1–5, cột 4-dvc, 4-tt, "
            f"{DEDUCTION} hoặc mã chỉ số thành phần như 2a).",
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


def reconcile(
    period: Period, unit_id: int, *, now: dt.datetime | None = None, every: bool = False
) -> list[Diff]:
    """Our 766 figures for `unit_id` next to the published ones, code by code: the total
    and the groups always, the portal's split columns, sub-indicators and deduction when
    published (`every`: every code, published or not)."""
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
    subs: dict[str, Decimal | None] = {}
    for g in idx.groups:
        ours[g.code] = g.points
        for s in g.subs:
            ours[s.code] = subs[s.code] = s.points
    d = definitions.current("index766", on=period.end)
    for c in portal_columns(d):
        if c.subs:
            measured = [subs[s] for s in c.subs if subs.get(s) is not None]
            ours[c.code] = q2(sum(measured, Decimal(0))) if measured else None
    # We deduct nothing: the portal's deduction is set against 0.
    ours[DEDUCTION] = Decimal("0.00")
    out = []
    for code, (name, kind) in _published_codes(period).items():
        if not every and kind not in ("total", "group") and code not in published:
            continue
        mine, theirs = ours.get(code), published.get(code)
        diff = None if mine is None or theirs is None else q2(mine - theirs)
        out.append(Diff(code, name, mine, theirs, diff, kind))
    if DEDUCTION in published and "total" in published:
        before = q2(published["total"] + published[DEDUCTION])
        out.append(
            Diff(
                BEFORE_DEDUCTION,
                BEFORE_DEDUCTION_NAME,
                idx.total,
                before,
                q2(idx.total - before),
                "before_deduction",
            )
        )
    return out
