"""Organisation workflows and queries: agency profiles, effective-dated unit mapping."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import InvalidInput, NotFound
from cchc.org.models import AdministrativeUnit, Agency, UnitSuccession

PROFILE_FIELDS = ["head_name", "head_title", "address", "phone", "email"]


def update_agency_profile(
    actor: Any, agency: Agency, *, now: dt.datetime, **changes: str
) -> Agency:
    """Change an agency's contact details and head (who signs its apology slips).

    Needs `org.agency.change` for that agency. Only PROFILE_FIELDS may change here;
    identity (code, name, unit) changes through the structure administration.
    """
    policy.require(actor, "org.agency.change", agency=agency)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(f"Không được sửa các trường: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = Agency.objects.select_for_update().get(pk=agency.pk)
        before = log.snapshot(locked, PROFILE_FIELDS)
        for name, value in changes.items():
            setattr(locked, name, (value or "").strip())
        locked.full_clean(exclude=["parent", "successor", "unit", "agency_type"])
        diff = log.changes(locked, before, PROFILE_FIELDS)
        if diff:
            locked.save(update_fields=list(diff))
            log.record(
                "org.agency.updated",
                actor=actor,
                obj=locked,
                data=diff,
                agency_id=locked.pk,
                at=now,
            )
    return locked


def unit_on(code: str, day: dt.date) -> AdministrativeUnit:
    """The unit with official `code` valid on `day`."""
    unit = AdministrativeUnit.objects.valid_on(day).filter(code=code).first()
    if unit is None:
        raise NotFound(f"Không có đơn vị hành chính mã {code} hiệu lực ngày {day:%d/%m/%Y}.")
    return unit


def map_unit(unit: AdministrativeUnit, day: dt.date) -> AdministrativeUnit:
    """The unit that carries `unit`'s data on `day`, following primary successor links.

    A unit valid on `day` maps to itself; a 2024 commune asked for 2025-08-01 maps to the
    2025 commune it was merged into. Raises NotFound if the chain ends before `day`.
    """
    current = unit
    seen = {unit.pk}
    while not current.is_valid_on(day):
        if day < current.valid_from:
            raise NotFound(f"{current} chưa tồn tại vào ngày {day:%d/%m/%Y}.")
        link = (
            UnitSuccession.objects.filter(predecessor=current, primary=True)
            .select_related("successor")
            .first()
        )
        if link is None or link.successor_id in seen:
            raise NotFound(f"{current} không có đơn vị kế thừa vào ngày {day:%d/%m/%Y}.")
        current = link.successor
        seen.add(current.pk)
    return current


def unit_mapping(day: dt.date, *, level_code: str | None = None) -> dict[int, int]:
    """{unit id: id of the unit carrying its data on `day`} for every unit (one level)."""
    units = list(AdministrativeUnit.objects.select_related("level"))
    primary = dict(
        UnitSuccession.objects.filter(primary=True).values_list("predecessor_id", "successor_id")
    )
    by_id = {u.pk: u for u in units}
    out: dict[int, int] = {}
    for unit in units:
        if level_code and unit.level.code != level_code:
            continue
        current, hops = unit, 0
        while not current.is_valid_on(day) and current.pk in primary and hops < 20:
            current, hops = by_id[primary[current.pk]], hops + 1
        if current.is_valid_on(day):
            out[unit.pk] = current.pk
    return out
