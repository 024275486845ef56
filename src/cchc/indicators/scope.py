"""Read-time resolution of agencies to units and levels, historic or current.

Cells and register rows carry only agency ids. A report asks for a level, a unit or an
agency "as they were" (historic: the agency's own unit and type) or "as today" (current:
the agency's successor chain, else its unit mapped through the primary successor links of
`org`). The agency table is small, so the mapping is computed once per report and applied
to the aggregate queries as an ``IN`` list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cchc.errors import InvalidInput
from cchc.indicators import memo
from cchc.org.models import AdministrativeUnit, Agency
from cchc.org.services import unit_mapping
from cchc.org.tree import agency_subtree, unit_subtree


@dataclass(frozen=True)
class Placed:
    agency_id: int  # the agency the figures are reported under (itself, or its successor)
    name: str
    unit_id: int | None
    level: str  # level code
    own_unit_id: int | None = None  # the agency's unit as it was


def placement(mode: str, *, today: dt.date) -> dict[int, Placed]:
    """{agency id: where its figures go} for every agency (remembered within a page,
    `memo.reading`: every report context of the page places agencies the same way)."""
    return memo.remember(("placement", mode, today), lambda: _placement(mode, today=today))


def units_below(unit_id: int) -> frozenset[int]:
    """`unit_subtree` of one unit with its predecessors, remembered within a page."""
    return memo.remember(
        ("units_below", unit_id),
        lambda: frozenset(unit_subtree([unit_id], with_predecessors=True)),
    )


def agencies_below(agency_id: int) -> frozenset[int]:
    """`agency_subtree` of one agency. Within a page (`memo.reading`) every agency's
    subtree is walked over one read of the agency tree (a ranking asks for each agency);
    outside one, `agency_subtree` as it is."""
    if not memo.active():
        return frozenset(agency_subtree([agency_id]))
    children = memo.remember(("agency_children",), _agency_children)
    found = {agency_id}
    frontier = {agency_id}
    while frontier:
        frontier = {c for p in frontier for c in children.get(p, ())} - found
        found |= frontier
    return frozenset(found)


def _agency_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for pk, parent_id in Agency.objects.filter(parent__isnull=False).values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return children


def _placement(mode: str, *, today: dt.date) -> dict[int, Placed]:
    if mode not in ("current", "historic"):
        raise InvalidInput(
            f"Cách quy đổi đơn vị '{mode}' không hợp lệ (current hoặc historic).",
            code="indicators.units",
        )
    agencies = {a.pk: a for a in Agency.objects.select_related("agency_type__level")}
    if mode == "historic":
        return {
            pk: Placed(pk, a.name, a.unit_id, a.agency_type.level.code)
            for pk, a in agencies.items()
        }
    units = {u.pk: u for u in AdministrativeUnit.objects.select_related("level")}
    mapped = unit_mapping(today)
    out: dict[int, Placed] = {}
    for pk, agency in agencies.items():
        current, hops = agency, 0
        while current.successor_id and current.successor_id in agencies and hops < 20:
            current, hops = agencies[current.successor_id], hops + 1
        if current.is_valid_on(today) or current.pk != agency.pk:
            unit_id = mapped.get(current.unit_id, current.unit_id)
            out[pk] = Placed(
                current.pk, current.name, unit_id, current.agency_type.level.code, agency.unit_id
            )
            continue
        unit_id = mapped.get(agency.unit_id)
        level = units[unit_id].level.code if unit_id in units else agency.agency_type.level.code
        out[pk] = Placed(pk, agency.name, unit_id, level, agency.unit_id)
    return out


def agency_ids(
    places: dict[int, Placed],
    *,
    level: str | None = None,
    unit_id: int | None = None,
    agency_id: int | None = None,
) -> list[int] | None:
    """Agency ids (as stored in the data) selected by the filters; None = no filter."""
    if level is None and unit_id is None and agency_id is None:
        return None
    units = units_below(unit_id) if unit_id is not None else None
    agencies = agencies_below(agency_id) if agency_id is not None else None
    out = []
    for pk, placed in places.items():
        if level is not None and placed.level != level:
            continue
        if units is not None and placed.unit_id not in units and placed.own_unit_id not in units:
            continue
        if agencies is not None and pk not in agencies and placed.agency_id not in agencies:
            continue
        out.append(pk)
    # Every agency selected (the province, for its supervisor): no filter, exactly — and
    # no IN list of every agency to compile into each of a page's queries.
    return None if len(out) == len(places) else out
