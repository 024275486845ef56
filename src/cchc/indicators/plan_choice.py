"""Which reform plan a period is compared with — decided once, for the dashboard, the
periodic report and the indicator exports.

The plan of the year the period ends in (kế hoạch CCHC năm), found through its code or one
of the aliases its target file lists; when that year has no plan, the latest target file in
force at the period's end, "borrowed" (each caller says so in its own words). The `Plan`
row (areas, targets, number, issuer) is looked up by the file's code and aliases too, so a
plan recorded under an alias is found the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from cchc.errors import DomainError
from cchc.indicators import definitions
from cchc.indicators.definitions import DefinitionFile
from cchc.indicators.periods import Period
from cchc.plans.models import Plan


@dataclass(frozen=True)
class PlanChoice:
    """The target file (`definition`) a period is measured against and its plan record."""

    definition: DefinitionFile
    plan: Plan | None  # None when only the target file is loaded
    year: int  # the year the period ends in

    @property
    def code(self) -> str:
        """The target file's code: what `plan_results`, drill-downs and exports take."""
        return self.definition.code

    @property
    def borrowed(self) -> bool:
        """The period's year has no plan: an earlier year's targets are used."""
        return self.definition.effective_from.year != self.year


def plan_for(period: Period) -> PlanChoice | None:
    """The plan whose targets `period` is compared with, or None when no target file is in
    force at its end (the caller decides how to say so)."""
    year = period.end.year
    plan = Plan.objects.filter(year=year).order_by("code").first()
    try:
        found = definitions.current("plan", plan.code if plan else None, on=period.end)
    except DomainError:
        return None
    if plan is None:
        plan = Plan.objects.filter(code__in=[found.code, *found.aliases]).first()
    return PlanChoice(found, plan, year)
