"""T1 (plan tasks done on time ÷ tasks due in the period) with the shipped Plan 213."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cchc.indicators import periods, services
from cchc.indicators.services import Filters
from cchc.plans import progress
from tests.conftest import VN
from tests.plans.conftest import agency
from tests.plans.helpers import at, pdf, report_on

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 7, 5, 9, 0, tzinfo=VN)


def t1(period: str, filters: Filters | None = None, now=NOW):
    filters = filters or Filters()
    (r,) = [
        r
        for r in services.plan_results("bac-giang-2024", periods.parse(period), filters, now=now)
        if r.code == "T1"
    ]
    return r


def test_t1_counts_deliverables_due_in_the_period(plan, people):
    # Due in Q2 2024: 1.2 (30/6), 2.1 (June), 2.2 (Q2 of a quarterly task), 4.1 (H1 of a
    # half-yearly task), 6.2 (Q2) = 5. Task 1.2 (Sở Tư pháp) is done on time.
    task = plan.tasks.get(code="1.2")
    report = report_on(
        task, people["justice_focal"], day="2024-06-20", completed=True, files=[pdf()]
    )
    progress.review_report(people["reviewer"], report, accept=True, now=at("2024-06-21"))
    r = t1("2024-Q2")
    assert (r.numerator, r.denominator, r.value, r.met) == (1, 5, Decimal("20.00"), False)
    assert r.source == "tasks" and r.target == Decimal(100)
    mine = t1("2024-Q2", Filters(agency_id=agency("Sở Tư pháp").pk, units="historic"))
    assert (mine.numerator, mine.denominator, mine.value, mine.met) == (
        1,
        1,
        Decimal("100.00"),
        True,
    )
    # Q1: 2.2 and 6.2 (quarterly) were due and are overdue
    q1 = t1("2024-Q1")
    assert (q1.numerator, q1.denominator, q1.value) == (0, 2, Decimal("0.00"))
    # January: nothing due -> no data
    assert t1("2024-01").value is None
    # Q3 seen on 5/7: nothing due yet
    assert t1("2024-Q3").denominator == 0
