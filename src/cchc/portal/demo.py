"""Demo data of the citizen portal: the `congdan` account's contact details and a few of
its online dossiers in various states, made through the real services at past instants
(like `cchc.demo.dossiers`). Illustrative only; loaded once."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from cchc import legaltime
from cchc.accounts.models import User
from cchc.catalog.models import OnlineLevel, Procedure
from cchc.dossiers import files, replay
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import Dossier
from cchc.org.models import Desk
from cchc.payments.services import record_cash
from cchc.portal import services

CITIZEN = "congdan"
PHONE = "0987654321"
ID_NUMBER = "024190012345"
ADDRESS = "Số 12 đường Lý Thái Tổ, phường Kinh Bắc, tỉnh Bắc Ninh"
# A minimal valid PDF standing in for a scanned document.
SCAN = b"%PDF-1.4\n% cchc demo scan\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class _NotYet(Exception):
    """A demo step would land after `now`."""


def load(*, now: dt.datetime) -> int:
    """Create the demo citizen's dossiers and a draft (once). Returns how many dossiers."""
    user = User.objects.filter(username=CITIZEN).first()
    desk = Desk.objects.filter(code="TTPVHCC-BN").first()
    staff = {
        u.username: u for u in User.objects.filter(username__in=["motcua", "thuly", "lanhdao"])
    }
    if user is None or desk is None or len(staff) < 3 or not services.is_citizen(user):
        return 0
    if Dossier.objects.filter(applicant_user=user).exists():
        return 0
    local_now = now.astimezone(legaltime.VN_TZ)
    if not desk.is_valid_on((local_now - dt.timedelta(days=21)).date()):
        return 0
    services.update_profile(
        user, phone=PHONE, email=user.email, id_number=ID_NUMBER, address=ADDRESS, now=now
    )
    day = local_now.date()
    offered = [
        p
        for p in services.online_procedures()
        .filter(competent_agency_type__code="so-tu-phap")
        .order_by("code")
        if services.desks_for(p, day)
    ]
    if not offered:
        return 0
    desk_officer, officer, leader = staff["motcua"], staff["thuly"], staff["lanhdao"]
    full = next((p for p in offered if p.online_level == OnlineLevel.FULL), offered[0])
    partial = next((p for p in offered if p.online_level == OnlineLevel.PARTIAL), offered[-1])

    def submit(procedure: Procedure, at: dt.datetime) -> Dossier:
        uploads = [
            (doc.pk, files.check(f"ban-chup-{doc.position + 1}.pdf", SCAN + bytes([doc.pk % 250])))
            for doc in procedure.documents.all()
            if doc.mandatory
        ]
        draft = services.save_draft(
            user,
            procedure=procedure,
            desk=desk,
            data={
                "applicant": {
                    "kind": "person",
                    "name": user.full_name,
                    "id_number": ID_NUMBER,
                    "address": ADDRESS,
                    "phone": PHONE,
                    "email": user.email,
                },
                "matter": procedure.name,
                "return_channel": "online",
            },
            uploads=uploads,
            now=at,
        )
        return services.submit_draft(user, draft, now=at, is_demo=True)

    def later(d: Dossier, hours: float) -> dt.datetime:
        base = d.events.order_by("-seq").values_list("at", flat=True).first()
        moment = replay.shift(dossier_services.calendar_of(d), base, int(hours * 3600))
        if moment >= local_now:
            raise _NotYet
        return moment

    def act(actor: Any, d: Dossier, action: str, hours: float, **kw: Any) -> None:
        dossier_services.act(actor, d, action, now=later(d, hours), **kw)

    def returned(d: Dossier) -> None:
        act(desk_officer, d, "receive", 1)
        if d.fee_total:  # paid in cash at the desk right after receipt
            record_cash(desk_officer, d, d.fee_total, now=later(d, 0.25))
            d.refresh_from_db()
        act(leader, d, "assign", 1, data={"assignee": officer.pk})
        act(officer, d, "propose", 6)
        act(leader, d, "approve", 2)
        act(desk_officer, d, "return_result", 1)

    def in_progress(d: Dossier) -> None:
        act(desk_officer, d, "receive", 2)
        act(leader, d, "assign", 1, data={"assignee": officer.pk})

    def supplement(d: Dossier) -> None:
        in_progress(d)
        act(
            officer,
            d,
            "request_supplement",
            3,
            reason="Bổ sung bản chụp căn cước rõ nét cả hai mặt.",
        )

    def completion(d: Dossier) -> None:
        act(
            desk_officer,
            d,
            "request_completion",
            1,
            reason="Tờ khai chưa có chữ ký của người yêu cầu; ký và tải lên lại tờ khai.",
        )

    plans: list[tuple[Procedure, int, Callable[[Dossier], None] | None]] = [
        (full, 15, returned),
        (partial, 8, supplement),
        (full, 6, in_progress),
        (full, 2, completion),
        (partial, 1, None),  # waiting for the desk
    ]
    made = 0
    for procedure, days_ago, plan in plans:
        at = _working_instant(local_now - dt.timedelta(days=days_ago))
        if at >= local_now:
            continue
        d = submit(procedure, at)
        made += 1
        if plan is not None:
            with contextlib.suppress(_NotYet):  # a later step would land after `now`
                plan(d)
    # One draft being prepared.
    services.save_draft(
        user,
        procedure=partial,
        desk=desk,
        data={
            "applicant": services.prefill(user),
            "matter": "",
            "return_channel": "online",
        },
        now=local_now - dt.timedelta(hours=1),
    )
    return made


def _working_instant(moment: dt.datetime) -> dt.datetime:
    """09:30 on the working day at or before `moment` (Mon–Fri)."""
    day = moment.date()
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(9, 30), tzinfo=legaltime.VN_TZ)
