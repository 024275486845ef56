"""Indicator fixtures: the dossier `world` plus an online, fee-bearing procedure, and a
helper that drives a dossier through the real services to a chosen end."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.dossiers.conftest import World, at, world
from tests.plans.conftest import demo_org, people, plan

__all__ = ["at", "demo_org", "people", "plan", "world"]


@pytest.fixture
def online_procedure(world):
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.services import DocumentData, ProcedureData, save_procedure

    procedure, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.009999",
            name="Cấp giấy phép xây dựng nhà ở riêng lẻ",
            field_name="Hoạt động xây dựng",
            levels=("province",),
            agency_type="so-xay-dung",
            processing_time=Decimal(15),
            processing_time_unit="d",
            fees=(("Lệ phí cấp giấy phép", 75_000),),
            documents=(DocumentData("Đơn đề nghị cấp giấy phép xây dựng", originals=1),),
            result_type="electronic",
            online_level="full",
        ),
        now=world.now,
    )
    return procedure


def act(actor: Any, dossier: Any, action: str, when: dt.datetime, reason: str = "", **data: Any):
    from cchc.dossiers import services

    services.act(actor, dossier, action, now=when, reason=reason, data=data)
    dossier.refresh_from_db()
    return dossier


def make(
    w: World,
    received: dt.datetime,
    *,
    procedure: Any = None,
    approve: dt.datetime | None = None,
    returned: dt.datetime | None = None,
    supplements: int = 0,
    apology: dt.datetime | None = None,
    online: bool = False,
    pay: str | None = None,
    rating: str | None = None,
    complaint: bool = False,
):
    """A dossier received at `received` (online: submitted by the citizen and received by
    the desk), optionally finished (`approve`) and returned."""
    from cchc.accounts.policy import SYSTEM
    from cchc.dossiers import intake
    from tests.dossiers.factories import applicant, components_for

    proc = procedure or w.procedure
    if online:
        d = intake.submit_online(
            w.citizen,
            desk=w.desk,
            procedure=proc,
            applicant=applicant(),
            components=components_for(proc),
            now=received - dt.timedelta(minutes=5),
        )
        act(w.desk_officer, d, "receive", received)
    else:
        d = w.intake(at=received, procedure=proc)
    t = received + dt.timedelta(minutes=10)
    leader = w.leader
    if d.competent_agency_id != w.org.justice.pk:
        from cchc.accounts.roles import Role
        from tests.factories import make_user

        leader = make_user(Role.AGENCY_LEADER, now=w.now, agency=d.competent_agency)
    act(leader, d, "assign", t, assignee=leader.pk)
    for n in range(supplements):
        t += dt.timedelta(minutes=10)
        act(leader, d, "request_supplement", t, reason=f"Bổ sung lần {n + 1}")
        t += dt.timedelta(minutes=10)
        act(w.desk_officer, d, "supplement_received", t)
    if pay:
        t += dt.timedelta(minutes=1)
        actor = w.desk_officer if pay == "cash" else SYSTEM
        amount = d.fee_total or 10_000
        act(actor, d, "pay", t, amount=amount, channel=pay)
    if apology:
        act(leader, d, "apologise", apology, reason="Cần xác minh thêm")
    if approve:
        act(leader, d, "propose", approve - dt.timedelta(minutes=30))
        act(leader, d, "approve", approve)
    if returned:
        act(w.desk_officer, d, "return_result", returned)
    if rating:
        act(w.citizen, d, "rate", (returned or approve) + dt.timedelta(hours=1), rating=rating)
    if complaint:
        act(SYSTEM, d, "complaint", t + dt.timedelta(minutes=1), feedback="PAKN-1")
    return d


@pytest.fixture
def june(world, online_procedure):
    """Finished in June 2024 (procedure: 3 working days, 200 000 đ):
    A early (same day), B on time (due date, before the due hour), C overdue (no apology),
    D overdue with an apology, E early but with 2 supplement requests, F received in May
    and finished early in June. Received in June and still open: G.
    Online procedure (full online, 75 000 đ): H online, paid online; I at the desk, paid
    in cash. Quick procedure (no fee): J paid 10 000 đ in cash (not a fee-bearing dossier).
    """
    w = world
    mon = "2024-06-03"
    out = {
        "A": make(w, at(mon), approve=at(mon, "15:00"), returned=at(mon, "16:00")),
        "B": make(w, at(mon), approve=at("2024-06-06", "08:00")),
        "C": make(w, at(mon), approve=at("2024-06-12")),
        "D": make(w, at(mon), apology=at("2024-06-05", "10:00"), approve=at("2024-06-25")),
        "E": make(w, at("2024-06-04"), supplements=2, approve=at("2024-06-04", "15:00")),
        "F": make(w, at("2024-05-31"), approve=at(mon, "11:00")),
        "G": make(w, at("2024-06-28")),
        "H": make(w, at("2024-06-04"), procedure=online_procedure, online=True, pay="1"),
        "I": make(w, at("2024-06-04"), procedure=online_procedure, pay="cash"),
        "J": make(w, at("2024-06-04"), procedure=w.quick, pay="cash"),
    }
    return out
