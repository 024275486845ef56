"""The dashboard and the periodic report compare a period with the same plan: one selector
(`cchc.indicators.plan_choice`), which finds a plan recorded under one of its target file's
aliases."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.indicators import periods


@pytest.fixture
def alias_plan(db, now):
    """Plan 213 recorded under the alias "plan-213-2024" of the target file
    "bac-giang-2024", with no plan row for 2024 itself (filed as 2023)."""
    from cchc.accounts.policy import SYSTEM
    from cchc.demo.loader import DATA_DIR
    from cchc.org.models import AdministrativeUnit
    from cchc.org.structure import load_structure
    from cchc.plans.models import Plan

    load_structure(SYSTEM, DATA_DIR / "org.json", now=now)
    unit = AdministrativeUnit.objects.valid_on(dt.date(2024, 6, 1)).get(code="24")
    return Plan.objects.create(
        code="plan-213-2024",
        title="Kế hoạch cải cách hành chính năm 2024",
        issuer="UBND tỉnh Bắc Giang",
        number="213/KH-UBND",
        year=2023,
        unit=unit,
        loaded_at=now,
        updated_at=now,
    )


def test_dashboard_and_report_choose_the_same_plan_reached_through_an_alias(alias_plan):
    from cchc.dashboard.presenter import plan_ref
    from cchc.reports.plan_tasks import plan_for as report_plan

    period = periods.parse("2024-Q2")
    shown = plan_ref(period)
    reported = report_plan(period)

    assert shown is not None
    assert shown.code == reported.definition.code == "bac-giang-2024"
    # Both found the plan row through the alias: its number names the plan on both.
    assert reported.plan == alias_plan
    assert shown.label == "213/KH-UBND (UBND tỉnh Bắc Giang)"
    assert shown.note == "" and reported.note == ""
