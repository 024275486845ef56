"""Fixtures of the plan tests: the demo organisation (the shipped plan names its agencies),
the shipped plan loaded, and one user per plan role."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def demo_org(db, now):
    from cchc.accounts.policy import SYSTEM
    from cchc.demo.loader import DATA_DIR
    from cchc.org.structure import load_structure

    load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)


def agency(short_name: str):
    from cchc.org.models import Agency

    return Agency.objects.valid_on(dt.date(2024, 6, 1)).get(
        short_name=short_name, agency_type__level__rank=1
    )


@pytest.fixture
def plan(demo_org, now):
    from cchc.accounts.policy import SYSTEM
    from cchc.plans import services

    return services.load_plan(SYSTEM, services.SHIPPED_PLAN, now=now).plan


@pytest.fixture
def people(demo_org, make_user):
    """Focal points of Sở Tư pháp and Sở Nội vụ, a supervisor of the province (Sở Nội vụ's
    reviewer), a leader of Sở Tư pháp."""
    from cchc.org.models import AdministrativeUnit

    province = AdministrativeUnit.objects.valid_on(dt.date(2024, 6, 1)).get(code="24")
    return {
        "justice_focal": make_user("par_focal_point", agency=agency("Sở Tư pháp")),
        "home_focal": make_user("par_focal_point", agency=agency("Sở Nội vụ")),
        "reviewer": make_user("provincial_supervisor", unit=province),
        "leader": make_user("agency_leader", agency=agency("Sở Tư pháp")),
        "citizen": make_user("citizen"),
    }
