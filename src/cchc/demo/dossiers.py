"""Demo dossiers, made through the real services at past instants so that every clock,
event and outcome is what the system itself would have produced.

Illustrative only (applicants are invented; every dossier is flagged `is_demo`). Loaded
once: a database that already has demo dossiers is left alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from cchc import legaltime
from cchc.accounts.models import User
from cchc.catalog.models import Procedure
from cchc.dossiers import replay, risk, services
from cchc.dossiers.intake import Applicant, Component, receive_at_desk, submit_online
from cchc.dossiers.models import Dossier
from cchc.org.models import Desk
from cchc.payments.services import owed, record_cash

NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Đạt",
    "Vũ Thị Hạnh",
    "Đặng Quốc Huy",
    "Bùi Thị Khánh",
    "Đỗ Minh Long",
    "Ngô Thị Mai",
    "Dương Văn Nam",
    "Lý Thị Oanh",
    "Hồ Sỹ Phúc",
    "Chu Thị Quyên",
    "Giáp Văn Sáng",
    "Thân Thị Thảo",
    "Nông Văn Tú",
    "Lương Thị Uyên",
    "Tạ Đức Vinh",
    "Mai Thị Xuân",
]
STREETS = ["Ngô Gia Tự", "Lý Thái Tổ", "Trần Hưng Đạo", "Nguyễn Văn Cừ", "Hoàng Hoa Thám"]


def _working_instants(start: dt.datetime, end: dt.datetime, n: int, rng: random.Random):
    """Up to `n` sorted instants inside working hours (Mon–Fri) between start and end (fewer
    when the span has almost no working time, e.g. a weekend)."""
    out: list[dt.datetime] = []
    span = (end - start).total_seconds()
    for _ in range(n * 200):
        if len(out) == n:
            break
        t = start + dt.timedelta(seconds=rng.random() * span)
        t = t.replace(minute=rng.choice([0, 10, 15, 20, 30, 40, 45, 50]), second=0, microsecond=0)
        if t.weekday() < 5 and (8 <= t.hour < 11 or 14 <= t.hour < 16):
            out.append(t)
    return sorted(out)


def load(*, now: dt.datetime) -> int:
    """Create the demo dossiers (if none exist yet). Returns how many were made."""
    if Dossier.objects.filter(is_demo=True).exists():
        return 0
    desk = Desk.objects.filter(code="TTPVHCC-BN").first()
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["motcua", "thuly", "lanhdao", "thuly_xd"])
    }
    if desk is None or len(users) < 4:
        return 0
    if not desk.is_valid_on((now - dt.timedelta(days=61)).date()):
        return 0  # the demo's two months of history would predate the desk
    rng = random.Random(2024)  # reproducible demo data
    local_now = now.astimezone(legaltime.VN_TZ)
    types = set(desk.receives_for.values_list("agency_type_id", flat=True))
    justice = list(
        Procedure.objects.filter(
            competent_agency_type__code="so-tu-phap", competent_agency_type_id__in=types
        ).order_by("code")
    )
    building = list(
        Procedure.objects.filter(
            competent_agency_type__code="so-xay-dung", processing_time_unit="wd"
        ).order_by("code")
    )
    if not justice:
        return 0
    desk_officer, officer, leader = users["motcua"], users["thuly"], users["lanhdao"]
    made = 0

    def intake(at: dt.datetime, procedure: Procedure, *, online: bool = False) -> Dossier:
        name = rng.choice(NAMES)
        applicant = Applicant(
            name=name,
            id_number=f"0241{rng.randrange(10**7, 10**8)}",
            address=f"Số {rng.randint(1, 200)} đường {rng.choice(STREETS)}, tỉnh Bắc Ninh",
            phone=f"09{rng.randrange(10**7, 10**8)}",
            email="",
        )
        components = [
            Component(document_id=d.pk, originals=d.originals, copies=d.copies)
            for d in procedure.documents.all()
            if d.mandatory
        ]
        if online:
            return submit_online(
                None,
                desk=desk,
                procedure=procedure,
                applicant=applicant,
                components=components,
                now=at,
                is_demo=True,
            )
        return receive_at_desk(
            desk_officer,
            desk=desk,
            procedure=procedure,
            applicant=applicant,
            components=components,
            now=at,
            is_demo=True,
        )

    def later(d: Dossier, hours: float) -> dt.datetime:
        """`hours` working hours after the dossier's last event; never after `now`."""
        base = d.events.order_by("-seq").values_list("at", flat=True).first()
        moment = replay.shift(services.calendar_of(d), base, int(hours * 3600))
        if moment >= local_now:
            raise _NotYet
        return moment

    plans: list[Callable[[Dossier], Any]] = [
        lambda d: _finish(d, later, officer, leader, desk_officer, work=rng.choice([6, 14, 30])),
        lambda d: _finish(d, later, officer, leader, desk_officer, work=rng.choice([20, 60, 90])),
        lambda d: _finish(d, later, officer, leader, desk_officer, work=12, supplement=True),
        lambda d: _in_progress(d, later, leader, officer),
        lambda d: _awaiting_approval(d, later, leader, officer),
        lambda d: _supplement(d, later, leader, officer),
        lambda d: None,  # received, waiting for assignment
    ]
    # Finished history over the last two months, open work over the last ten days.
    start = local_now - dt.timedelta(days=60)
    for at in _working_instants(start, local_now - dt.timedelta(days=14), 24, rng):
        d = intake(at, rng.choice(justice))
        with contextlib.suppress(_NotYet):  # a later step would land after `now`
            rng.choice(plans[:3])(d)
        made += 1
    for at in _working_instants(local_now - dt.timedelta(days=10), local_now, 12, rng):
        if at >= local_now:
            continue
        d = intake(at, rng.choice(justice))
        plan = rng.choice(plans[3:])
        with contextlib.suppress(_NotYet):  # the next step would land after `now`
            plan(d)
        made += 1
    # An overdue dossier with an apology and new appointment, and one without.
    for apologise in (True, False):
        at = _working_instants(
            local_now - dt.timedelta(days=30), local_now - dt.timedelta(days=22), 1, rng
        )[0]  # an 8-day span always has working days
        d = intake(at, justice[0])
        _in_progress(d, later, leader, officer)
        if apologise:
            services.act(
                officer,
                d,
                "apologise",
                now=later(d, 60),
                reason="Hồ sơ cần xác minh thêm thông tin tại cơ quan công an nơi cư trú.",
                data={"delivery": "email", "reference": "15/XL-STP"},
            )
        made += 1
    # Online submissions waiting for the desk's check.
    for at in _working_instants(local_now - dt.timedelta(days=4), local_now, 2, rng):
        if at < local_now:
            intake(at, rng.choice(justice), online=True)
            made += 1
    for procedure in building[:1]:
        for at in _working_instants(local_now - dt.timedelta(days=7), local_now, 1, rng):
            intake(at, procedure)
            made += 1
    risk.scan(now=now)  # flag at-risk dossiers as the daily job would have this morning
    return made


class _NotYet(Exception):
    """A demo step would happen after `now`."""


def _in_progress(d: Dossier, later, leader: User, officer: User) -> None:
    services.act(leader, d, "assign", now=later(d, 1), data={"assignee": officer.pk})


def _awaiting_approval(d: Dossier, later, leader: User, officer: User) -> None:
    _in_progress(d, later, leader, officer)
    services.act(officer, d, "propose", now=later(d, 6))


def _supplement(d: Dossier, later, leader: User, officer: User) -> None:
    _in_progress(d, later, leader, officer)
    services.act(
        officer,
        d,
        "request_supplement",
        now=later(d, 3),
        reason="Bổ sung bản sao căn cước có chứng thực; bản đã nộp bị mờ, không đọc được số.",
    )


def _finish(
    d: Dossier,
    later,
    officer: User,
    leader: User,
    desk: User,
    *,
    work: float,
    supplement: bool = False,
) -> None:
    _in_progress(d, later, leader, officer)
    if supplement:
        services.act(
            officer,
            d,
            "request_supplement",
            now=later(d, 4),
            reason="Bổ sung tờ khai có chữ ký của người yêu cầu.",
        )
        services.act(desk, d, "supplement_received", now=later(d, 16))
    services.act(officer, d, "propose", now=later(d, work))
    if d.fee_total:
        # Fees before results (CCHC_FEES_BEFORE_RESULT): the applicant pays at the desk
        # before the leader approves.
        record_cash(desk, d, owed(d), now=later(d, 1))
    services.act(leader, d, "approve", now=later(d, 2))
    services.act(desk, d, "return_result", now=later(d, 3))
