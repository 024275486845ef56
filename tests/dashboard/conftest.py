"""Fixtures of the dashboard tests: the dossier `world` (one desk receiving for Sở Tư pháp
and Sở Xây dựng, Bắc Giang 2024) with dossiers finished through the real services, so the
indicator engine's aggregates are maintained exactly as in production.

June 2024 (``period=2024-06``), by competent agency and channel:

| agency | channel | early | overdue |
|---|---|---|---|
| Sở Tư pháp | in person | 3 | 1 |
| Sở Tư pháp | postal | 1 | 0 |
| Sở Xây dựng | in person | 0 | 1 |

May 2024: Sở Tư pháp, in person, 2 early. March 2024: nothing finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import NOW, built_once
from tests.dossiers.conftest import World, at, world  # noqa: F401  (the `world` fixture)

PASSWORD = "Mk-chiso-2026!"


@dataclass
class Dash:
    world: World
    construction_leader: Any
    focal_point: Any
    admin: Any
    june_early: list[Any] = field(default_factory=list)
    june_overdue: list[Any] = field(default_factory=list)
    may_early: list[Any] = field(default_factory=list)


def finish(w: World, received: dt.datetime, finished: dt.datetime, **kw: Any) -> Any:
    """Receive at the desk, assign, propose, approve at `finished` (the outcome follows from
    the legal due of the one-working-day procedure used)."""
    from cchc.dossiers import services

    leader = kw.pop("leader", w.leader)
    officer = kw.pop("officer", w.officer)
    d = w.intake(at=received, procedure=kw.pop("procedure", w.quick), **kw)
    services.act(
        leader, d, "assign", now=received + dt.timedelta(minutes=10), data={"assignee": officer.pk}
    )
    services.act(officer, d, "propose", now=received + dt.timedelta(minutes=20))
    services.act(leader, d, "approve", now=finished)
    d.refresh_from_db()
    return d


def build(w: World, make_user: Any) -> Dash:
    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.catalog.services import ProcedureData, save_procedure
    from cchc.dossiers.models import Channel

    permit, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000003",
            name="Cấp chứng chỉ hành nghề hoạt động xây dựng",
            field_name="Hoạt động xây dựng",
            levels=("province",),
            agency_type="so-xay-dung",
            processing_time=Decimal(1),
        ),
        now=w.now,
    )
    dash = Dash(
        world=w,
        construction_leader=make_user(
            Role.AGENCY_LEADER, agency=w.org.construction, password=PASSWORD
        ),
        focal_point=make_user(Role.PAR_FOCAL_POINT, agency=w.org.justice, password=PASSWORD),
        admin=make_user(Role.ADMINISTRATOR, password=PASSWORD),
    )
    mon, wed = "2024-06-03", "2024-06-05"
    for n in range(3):
        dash.june_early.append(finish(w, at(mon, f"09:0{n}"), at(mon, "15:00")))
    dash.june_early.append(
        finish(w, at("2024-06-04", "09:00"), at("2024-06-04", "15:00"), channel=Channel.POSTAL)
    )
    dash.june_overdue.append(finish(w, at(mon, "09:30"), at(wed, "10:00")))
    dash.june_overdue.append(
        finish(
            w,
            at(mon, "09:40"),
            at(wed, "11:00"),
            procedure=permit,
            leader=dash.construction_leader,
            officer=w.outsider,
        )
    )
    for n in range(2):
        dash.may_early.append(finish(w, at("2024-05-06", f"09:0{n}"), at("2024-05-06", "15:00")))
    return dash


@pytest.fixture
def dash(world, make_user) -> Dash:  # noqa: F811
    return build(world, make_user)


@pytest.fixture(scope="module")
def built_dash(django_db_setup, django_db_blocker) -> Iterator[Dash]:
    """The same data set built once per test module, for a module whose every test that
    needs data reads this one (tests/dashboard/test_views.py: its own `dash` hands each
    test a fresh copy); each test runs in its own savepoint."""
    from tests.dossiers.conftest import build_world
    from tests.factories import make_user

    with built_once(django_db_blocker):
        yield build(build_world(NOW), lambda role, **scope: make_user(role, now=NOW, **scope))
