"""Indicator API (`/api/indicators/`): Plan 213 results, the 766 index, ranking, series and
reconciliation, with the same filters and permissions as the pages. Values are JSON
numbers, or null where there is no data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from cchc.indicators import periods, published, services
from cchc.indicators.figures import jsonable_number
from cchc.indicators.services import Filters
from cchc.webkit.params import RecordId, Whole, Year

router = Router(tags=["Chỉ tiêu, chỉ số CCHC"])


class FilterIn(Schema):
    period: str
    level: str | None = None
    unit: RecordId | None = None
    agency: RecordId | None = None
    procedure: RecordId | None = None
    channel: Whole | None = None
    units: str = "current"

    def filters(self) -> Filters:
        return Filters(
            level=self.level,
            unit_id=self.unit,
            agency_id=self.agency,
            procedure_id=self.procedure,
            channel=self.channel,
            units=self.units,
        )


@router.get("/periods")
def period_choices(request: HttpRequest, year: Year) -> list[dict[str, Any]]:
    """Selectable periods of a year (code, Vietnamese label, first and last day)."""
    return [
        {"code": p.code, "label": p.label, "kind": p.kind, "start": p.start, "end": p.end}
        for p in periods.choices(year)
    ]


@router.get("/plans/{code}")
def plan_results(request: HttpRequest, code: str, q: Query[FilterIn]) -> list[dict[str, Any]]:
    """Every target of plan `code` (e.g. bac-giang-2024) for the period."""
    filters = q.filters()
    services.check_view(request.user, filters)
    period = periods.parse(q.period)
    return [r.as_dict() for r in services.plan_results(code, period, filters)]


@router.get("/index766")
def index766(request: HttpRequest, q: Query[FilterIn]) -> dict[str, Any]:
    """The 766 index: total, groups and sub-indicators with points, rates and formulas."""
    filters = q.filters()
    services.check_view(request.user, filters)
    return services.index766(periods.parse(q.period), filters).as_dict()


@router.get("/ranking")
def ranking(request: HttpRequest, q: Query[FilterIn], by: str = "index766") -> list[dict[str, Any]]:
    filters = q.filters()
    services.check_view(request.user, filters)
    return [r.as_dict() for r in services.ranking(periods.parse(q.period), filters, by=by)]


@router.get("/series/{code}")
def series(request: HttpRequest, code: str, q: Query[FilterIn]) -> list[dict[str, Any]]:
    """`period` is a comma-separated list of period codes."""
    filters = q.filters()
    services.check_view(request.user, filters)
    wanted = [periods.parse(p) for p in q.period.split(",") if p.strip()]
    return [
        {"period": p.code, "value": jsonable_number(v)}
        for p, v in services.series(code, wanted, filters)
    ]


@router.get("/reconcile")
def reconcile(request: HttpRequest, period: str, unit: RecordId) -> list[dict[str, Any]]:
    services.check_view(request.user, Filters(unit_id=unit))
    return [d.as_dict() for d in published.reconcile(periods.parse(period), unit)]
