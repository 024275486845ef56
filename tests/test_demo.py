"""The demo data set loads through the services, idempotently, with working accounts."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.accounts import policy
from cchc.accounts.models import User
from cchc.demo.loader import load_demo

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_scopes_accounts(now):
    first = load_demo(now=now)
    assert first.procedures.created >= 50 and not first.procedures.rejected
    assert not first.internal.rejected
    from cchc.indicators.models import RankingSnapshot
    from cchc.indicators.weekly import last_ended

    boards = set(RankingSnapshot.objects.values_list("kind", "monday"))
    again = load_demo(now=now)
    assert (again.org.created, again.org.updated, again.procedures.created) == (0, 0, 0)
    # The weekly ranking boards of the last weeks ended, taken once (a rerun leaves them)
    assert set(RankingSnapshot.objects.values_list("kind", "monday")) == boards
    assert {monday for _, monday in boards} >= {last_ended(now).monday}
    assert len({monday for _, monday in boards}) == 4

    supervisor = User.objects.get(username="giamsat")
    assert supervisor.roles.get().unit.name == "Tỉnh Bắc Ninh"
    visible = policy.visible_agencies(supervisor)
    # Today's province sees its agencies and those of the units merged into it.
    assert visible.valid_on(dt.date(2026, 1, 1)).exists()
    assert visible.valid_on(dt.date(2024, 6, 1)).filter(unit__name="Tỉnh Bắc Giang").exists()

    officer = User.objects.get(username="thuly_xd")
    assert {a.short_name for a in policy.visible_agencies(officer)} == {"Sở Xây dựng"}
