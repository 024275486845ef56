"""What the dashboard shows: the period and filters read from the query string, and how far
the user's `indicator.view` grant reaches (the whole province, or some agencies)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.roles import PERMISSIONS, ROLE_SCOPE, Scope
from cchc.catalog.models import Procedure
from cchc.dossiers.models import Channel
from cchc.errors import InvalidInput, PermissionDenied
from cchc.indicators import periods
from cchc.indicators.services import Filters, check_view
from cchc.org.models import AdministrativeUnit, Agency, UnitLevel
from cchc.webkit.params import query_id, shown, whole

PROCEDURE_CHOICES = 800  # the filter lists this many procedures (by code) plus the chosen one
UNIT_MODES = (
    ("current", "Theo đơn vị hành chính hiện tại (dữ liệu cũ quy về đơn vị kế thừa)"),
    ("historic", "Theo đơn vị hành chính tại thời điểm phát sinh"),
)


@dataclass(frozen=True)
class Reach:
    """`province` — the user sees every agency in the grant's reach and the overview; else
    only the agencies in `agency_ids` (an agency leader or focal point)."""

    province: bool
    everything: bool
    agency_ids: frozenset[int]
    home_agency_id: int | None
    home_unit_id: int | None

    def covers(self, agency_id: int | None) -> bool:
        return self.everything or (agency_id is not None and agency_id in self.agency_ids)


def reach(user: Any) -> Reach:
    holders = PERMISSIONS.get("indicator.view", frozenset())
    grant = policy.grant(user, "indicator.view")
    home_agency = home_unit = None
    wide = grant.everything
    for a in policy.assignments(user):
        if a.role not in holders:
            continue
        scope = ROLE_SCOPE[a.role]
        if scope in (Scope.UNIT, Scope.ALL):
            wide = True
            home_unit = home_unit or a.unit_id
        elif scope is Scope.AGENCY and home_agency is None:
            home_agency = a.agency_id
    return Reach(wide, grant.everything, grant.agency_ids, home_agency, home_unit)


@dataclass(frozen=True)
class Selection:
    period: Any  # cchc.indicators.periods.Period
    filters: Any  # cchc.indicators.services.Filters
    params: dict[str, str]  # the cleaned query string, for links

    def query(self, **changes: str | None) -> str:
        values = {**self.params, **changes}
        q = QueryDict(mutable=True)
        for key, value in values.items():
            if value not in (None, ""):
                q[key] = value
        return q.urlencode()


def default_period_code(today: dt.date | None = None) -> str:
    return str((today or timezone.localdate()).year)


def dashboard_period_code(today: dt.date | None = None) -> str:
    """The dashboard's default period: the PAR reporting period being reported on today
    (`periods.report_due`, as the periodic report form opens on it) — the one that closed
    in the last `periods.REPORT_WRITING_DAYS` days while its report is being written, else
    the one running now (on 7 December the year's report, 15/12 of last year to 14/12; on
    20 December still that one; from 30 December the next first quarter's). A leader
    opening the page without choosing sees the figures of the report they will sign, not a
    calendar year that the reports cut differently; any other period is one choice away."""
    return periods.report_due(today or timezone.localdate()).code


def parse(get: QueryDict, user: Any, *, agency_id: int | None = None) -> Selection:
    """The selection in `get`; an agency fixed by the page (`agency_id`) wins over the
    query string. Raises InvalidInput for a malformed value and PermissionDenied for an
    agency outside the user's reach."""

    code = (get.get("period") or "").strip() or dashboard_period_code()
    period = periods.parse(code)
    who = reach(user)
    agency = agency_id if agency_id is not None else query_id(get, "agency", "Cơ quan")
    if agency is not None and not who.covers(agency):
        raise PermissionDenied("Cơ quan này không thuộc phạm vi bạn được xem chỉ số.")
    if agency is None and not who.province:
        if who.home_agency_id is None:
            raise PermissionDenied("Bạn chỉ được xem chỉ số của cơ quan mình.")
        agency = who.home_agency_id  # an agency leader or focal point: their agency
    unit = query_id(get, "unit", "Đơn vị hành chính")
    level = (get.get("level") or "").strip() or None
    if level is not None and not UnitLevel.objects.filter(code=level).exists():
        raise InvalidInput(f"Cấp hành chính không hợp lệ: {shown(level)}.")
    channel = whole(get.get("channel"), "Kênh nộp")
    if channel is not None and channel not in Channel.values:
        raise InvalidInput(f"Kênh nộp không hợp lệ: {channel}.")
    units = get.get("units") or default_units(who)
    if units not in dict(UNIT_MODES):
        raise InvalidInput("Cách quy đổi đơn vị hành chính không hợp lệ.")
    if unit is None and agency is None and not who.everything and who.home_unit_id:
        unit = who.home_unit_id  # a unit-scoped supervisor: their unit
    filters = Filters(
        level=level,
        unit_id=unit,
        agency_id=agency,
        procedure_id=query_id(get, "procedure", "Thủ tục"),
        channel=channel,
        units=units,
    )
    check_view(user, filters)  # the engine's own scope rule, so pages and drill-downs agree
    params = {
        "period": period.code,
        "level": level or "",
        "unit": str(unit or ""),
        "agency": str(agency or ""),
        "procedure": str(filters.procedure_id or ""),
        "channel": str(channel or ""),
        "units": units,
    }
    return Selection(period=period, filters=filters, params=params)


def default_units(who: Reach) -> str:
    """The default way of placing figures: under today's units ("current"), except for a
    supervisor whose unit no longer exists today (e.g. Bắc Giang before 1/7/2025), who gets
    their unit's figures as they were ("historic")."""
    if who.everything or who.home_unit_id is None:
        return "current"
    unit = AdministrativeUnit.objects.filter(pk=who.home_unit_id).first()
    if unit is not None and not unit.is_valid_on(timezone.localdate()):
        return "historic"
    return "current"


def options(user: Any, selection: Selection) -> dict[str, Any]:
    """Choices of the filter form."""

    year = selection.period.end.year
    today_year = timezone.localdate().year
    years = sorted({year, today_year, today_year - 1}, reverse=True)
    period_groups = [(y, periods.choices(y)) for y in years]
    # "current": figures are reported under today's units, so the choice is today's units.
    day = timezone.localdate() if selection.filters.units == "current" else selection.period.end
    agencies = policy.visible_agencies(user, "indicator.view")
    agencies = agencies.valid_on(selection.period.end) | agencies.valid_on(timezone.localdate())
    procedures = list(Procedure.objects.filter(active=True).order_by("code")[:PROCEDURE_CHOICES])
    chosen = selection.filters.procedure_id
    if chosen and all(p.pk != chosen for p in procedures):
        procedures += list(Procedure.objects.filter(pk=chosen))
    return {
        "period_groups": period_groups,
        "levels": UnitLevel.objects.order_by("rank"),
        "units": AdministrativeUnit.objects.valid_on(day)
        .select_related("level")
        .order_by("level__rank", "name"),
        "agencies": agencies.order_by("name"),
        "procedures": procedures,
        "channels": Channel.choices,
        "unit_modes": UNIT_MODES,
    }


def agency_or_none(pk: int) -> Agency | None:
    return Agency.objects.select_related("unit").filter(pk=pk).first()


def describe(sel: Selection) -> list[str]:
    """The filters in effect, in words (shown above a drill-down)."""
    f = sel.filters
    out = []
    if f.level:
        level = UnitLevel.objects.filter(code=f.level).first()
        out.append(f"Cấp: {level.name if level else f.level}")
    if f.unit_id:
        unit = AdministrativeUnit.objects.filter(pk=f.unit_id).first()
        out.append(f"Địa bàn: {unit.name if unit else f.unit_id}")
    if f.agency_id:
        agency = Agency.objects.filter(pk=f.agency_id).first()
        out.append(f"Cơ quan: {agency.name if agency else f.agency_id}")
    if f.procedure_id:
        procedure = Procedure.objects.filter(pk=f.procedure_id).first()
        out.append(f"Thủ tục: {procedure.code if procedure else f.procedure_id}")
    if f.channel:
        out.append(f"Kênh nộp: {Channel(f.channel).label}")
    out.append(dict(UNIT_MODES)[f.units])
    return out
