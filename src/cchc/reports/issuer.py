"""Who issues a periodic report: a unit's People's Committee or one agency, with the
indicator filters that select exactly their figures, the letterhead (`Issuer`) and the
default recipients under the reporting duty (BNV 581/BNV-CCHC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cchc.dossiers.documents.wording import place_name
from cchc.errors import NotFound
from cchc.indicators.figures import Filters
from cchc.indicators.periods import Period
from cchc.org.models import AdministrativeUnit, Agency
from cchc.reports import wording
from cchc.reports.document import Issuer
from cchc.reports.wording import lower_first, upper
from cchc.vietnamese import fold


@dataclass(frozen=True)
class Scope:
    """Who reports: a unit (its People's Committee) or one agency, and the indicator
    filters that select exactly their figures."""

    code: str
    unit: AdministrativeUnit
    agency: Agency | None
    filters: Filters
    issuer: Issuer

    @property
    def agency_id(self) -> int | None:
        return self.agency.pk if self.agency is not None else None

    @property
    def demo(self) -> bool:
        """The issuer is part of the demo data set (`cchc demo`)."""
        return bool(self.unit.is_demo or (self.agency is not None and self.agency.is_demo))


def _valid_or_latest(qs: Any, day: dt.date) -> Any:
    return qs.valid_on(day).order_by("-valid_from").first() or qs.order_by("-valid_from").first()


def _is_committee(agency: Agency) -> bool:
    name = agency.name.lower()
    return name.startswith("ubnd ") or name.startswith("ủy ban nhân dân")


def resolve(code: str, period: Period) -> Scope:
    """The issuer with identifier `code`: an agency (mã định danh, e.g. 000.00.03.H06) or an
    administrative unit (mã ĐVHC, e.g. 24), as it was at the period's end (else the latest
    record with that code). NotFound otherwise."""
    code = (code or "").strip()
    agency = _valid_or_latest(Agency.objects.filter(code=code).select_related("unit"), period.end)
    if agency is not None:
        units = "historic" if agency.is_valid_on(period.end) else "current"
        if _is_committee(agency):
            unit = agency.unit
            return Scope(
                code,
                unit,
                None,
                Filters(unit_id=unit.pk, units=units),
                _committee_issuer(code, unit, period),
            )
        return Scope(
            code,
            agency.unit,
            agency,
            Filters(agency_id=agency.pk, units=units),
            _agency_issuer(code, agency),
        )
    unit = _valid_or_latest(
        AdministrativeUnit.objects.filter(code=code).select_related("level"), period.end
    )
    if unit is not None:
        units = "historic" if unit.is_valid_on(period.end) else "current"
        return Scope(
            code,
            unit,
            None,
            Filters(unit_id=unit.pk, units=units),
            _committee_issuer(code, unit, period),
        )
    raise NotFound(
        f"Không tìm thấy cơ quan (mã định danh) hoặc đơn vị hành chính (mã ĐVHC) có mã '{code}'.",
        code="reports.issuer",
    )


def _committee_issuer(code: str, unit: AdministrativeUnit, period: Period) -> Issuer:
    committees = [
        a
        for a in Agency.objects.filter(unit=unit, parent__isnull=True).order_by("-valid_from")
        if _is_committee(a)
    ]
    committee = next((a for a in committees if a.is_valid_on(period.end)), None) or next(
        iter(committees), None
    )
    return Issuer(
        code=code,
        superior="",
        name_lines=["ỦY BAN NHÂN DÂN", upper(unit.name)],
        symbol="UBND",
        place=place_name(unit),
        sign_on_behalf="TM. ỦY BAN NHÂN DÂN",
        sign_title="CHỦ TỊCH",
        signer=_signer(committee),
        display_name=f"UBND {lower_first(unit.name)}",
    )


def _signer(agency: Agency | None) -> str:
    """The head's recorded name; blank (to be written in) when unknown or when the record is
    demo data, whose names are illustrative."""
    if agency is None or agency.is_demo:
        return ""
    return agency.head_name


def _agency_issuer(code: str, agency: Agency) -> Issuer:
    unit = agency.unit
    unit_name = unit.name if unit is not None else ""
    own = wording.without_place(agency.name, unit_name)
    if agency.parent_id:
        superior = upper(agency.parent.name)
    else:
        superior = upper(f"UBND {unit_name}") if unit_name else ""
    return Issuer(
        code=code,
        superior=superior,
        name_lines=[upper(own)],
        symbol=wording.abbreviation(own),
        place=place_name(unit),
        sign_on_behalf="",
        sign_title=upper(agency.head_title) if agency.head_title else "THỦ TRƯỞNG CƠ QUAN",
        signer=_signer(agency),
        display_name=agency.name,
    )


def default_recipients(scope: Scope, period: Period) -> list[str]:
    """Who receives the report under the reporting duty: a province reports to the Ministry
    of Home Affairs (BNV 581/BNV-CCHC); agencies and lower units to the province's People's
    Committee through the Department of Home Affairs, which compiles the province's report."""
    top = _top_unit(scope.unit)
    if scope.agency is None and scope.unit.level.rank == 1:
        return ["Bộ Nội vụ;", "Lưu: VT."]
    out = [f"UBND {lower_first(top.name)};"] if top is not None else []
    if scope.agency is None or "noi vu" not in fold(scope.agency.name):
        out.append("Sở Nội vụ;")
    return [*out, "Lưu: VT."]


def _top_unit(unit: AdministrativeUnit | None) -> AdministrativeUnit | None:
    hops = 0
    while unit is not None and unit.parent_id and hops < 10:
        unit, hops = unit.parent, hops + 1
    return unit
