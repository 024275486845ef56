"""The demo data set: Bắc Giang 2024 and its 1/7/2025 successor, a procedure catalogue and
one user per role. Everything goes through the same services as real data; every record
is marked as demo (is_demo / SOURCES.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cchc.accounts import services as accounts
from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.catalog.importers import InternalProcedureImporter, ProcedureImporter
from cchc.catalog.models import Procedure
from cchc.org.models import AdministrativeUnit, Agency, Desk
from cchc.org.structure import load_structure

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_PASSWORD = "cchc-demo-2024"  # noqa: S105 - documented demo password, refused if DEBUG off

# Scopes are resolved on a day: the PAR focal point works in the 2024 organisation of the
# 2024 plan; the one-stop officers work in today's organisation (from 1/7/2025), where
# the live demo dossiers are.
DEMO_DAY = dt.date(2024, 6, 1)
DEMO_RANKING_WEEKS = 4  # weekly ranking snapshots taken by the demo, up to the last week ended
TODAY_ORG_DAY = dt.date(2025, 7, 1)
# Certification procedures of the demo catalogue whose output is a certified electronic copy
# (bản sao điện tử có chứng thực, NĐ 45/2020 Điều 6; 766 sub 3c): chứng thực bản sao từ bản
# chính, and cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực.
CERTIFIED_COPY_CODES = ("2.000815", "2.000942")


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    agency: str | None = None  # agency short name (resolved on DEMO_DAY)
    unit: str | None = None  # unit code
    desk: str | None = None  # desk code
    on: dt.date = DEMO_DAY  # the day the agency and desk are resolved on


@dataclass
class DemoSummary:
    org: Any = None
    procedures: Any = None
    internal: Any = None
    users: list[str] = field(default_factory=list)
    dossiers: int = 0
    plans: Any = None
    feedback: int = 0


def demo_users() -> list[DemoUser]:
    province = AdministrativeUnit.objects.valid_on(DEMO_DAY).filter(level__rank=1).first()
    # The supervisor works for today's province, which sees the units merged into it.
    current_province = (
        AdministrativeUnit.objects.filter(level__rank=1, valid_to__isnull=True)
        .order_by("-valid_from")
        .first()
    )
    del province
    centre = (
        Desk.objects.valid_on(TODAY_ORG_DAY)
        .filter(unit=current_province, host_agency__agency_type__level__rank=1)
        .select_related("host_agency")
        .first()
    )
    return [
        DemoUser("quantri", "Vũ Minh Quân", Role.ADMINISTRATOR),
        DemoUser("kiemtra", "Đặng Thu Hà", Role.AUDITOR),
        DemoUser(
            "giamsat",
            "Bùi Quốc Khánh",
            Role.PROVINCIAL_SUPERVISOR,
            unit=current_province.code if current_province else None,
        ),
        DemoUser(
            "motcua",
            "Nguyễn Thị Hương",
            Role.DESK_OFFICER,
            agency=centre.host_agency.short_name if centre else None,
            desk=centre.code if centre else None,
            on=TODAY_ORG_DAY,
        ),
        DemoUser(
            "thuly",
            "Trần Văn Minh",
            Role.PROCESSING_OFFICER,
            agency="Sở Tư pháp",
            on=TODAY_ORG_DAY,
        ),
        DemoUser(
            "lanhdao",
            "Lê Văn Đức",
            Role.AGENCY_LEADER,
            agency="Sở Tư pháp",
            on=TODAY_ORG_DAY,
        ),
        DemoUser(
            "daumoi",
            "Phạm Thị Lan",
            Role.PAR_FOCAL_POINT,
            agency="Sở Tư pháp",
        ),
        DemoUser(
            "thuly_xd",
            "Hoàng Văn Sơn",
            Role.PROCESSING_OFFICER,
            agency="Sở Xây dựng",
            on=TODAY_ORG_DAY,
        ),
        DemoUser("congdan", "Đỗ Thị Mai", Role.CITIZEN),
    ]


def _agency_by_short_name(short_name: str, on: dt.date = DEMO_DAY) -> Agency:
    agency = (
        Agency.objects.valid_on(on)
        .filter(short_name=short_name, agency_type__level__rank=1)
        .first()
    )
    if agency is None:
        raise LookupError(f"demo data has no provincial agency '{short_name}' on {on}")
    return agency


def load_demo(*, now: dt.datetime, password: str = DEMO_PASSWORD) -> DemoSummary:
    """Load (or refresh, idempotently) the whole demo data set."""
    summary = DemoSummary()
    summary.org = load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)
    summary.procedures = ProcedureImporter().run(
        str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=now
    )
    summary.internal = InternalProcedureImporter().run(
        str(DATA_DIR / "internal_procedures.csv"), actor=SYSTEM, now=now
    )
    mark_certified_copies()
    with transaction.atomic():
        for spec in demo_users():
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = accounts.create_user(
                    SYSTEM,
                    username=spec.username,
                    password=password,
                    full_name=spec.full_name,
                    email=f"{spec.username}@demo.cchc.local",
                    now=now,
                    check_password=False,
                )
                agency = _agency_by_short_name(spec.agency, spec.on) if spec.agency else None
                # A unit-scoped role works for the latest unit with that code (today's).
                unit = (
                    AdministrativeUnit.objects.filter(code=spec.unit).latest("valid_from")
                    if spec.unit
                    else None
                )
                desk = Desk.objects.valid_on(spec.on).get(code=spec.desk) if spec.desk else None
                accounts.grant_role(
                    SYSTEM, user, spec.role, agency=agency, unit=unit, desk=desk, now=now
                )
            summary.users.append(spec.username)
    from cchc.demo import dossiers as dossiers_demo  # live one-stop work (issue 4)

    summary.dossiers = dossiers_demo.load(now=now)
    from cchc.portal import demo as portal_demo  # the demo citizen's online dossiers

    summary.dossiers += portal_demo.load(now=now)
    from cchc.plans import demo as plans_demo  # the reform plan and its registers (issue 6)

    summary.plans = plans_demo.load(now=now)
    from cchc.feedback import demo as feedback_demo  # PAKN in several states

    summary.feedback = feedback_demo.load(now=now)
    from cchc.indicators import weekly  # the last weeks' ranking boards (/chi-so/xep-hang-tuan/)

    weeks = [weekly.last_ended(now)]
    while len(weeks) < DEMO_RANKING_WEEKS:
        weeks.append(weeks[-1].previous())
    for week in reversed(weeks):  # oldest first; a week already taken is left as it is
        weekly.take(week, actor=SYSTEM, now=now)
    return summary


def mark_certified_copies() -> int:
    """Mark the demo's certification procedures as producing certified electronic copies
    (saved one by one: a saved procedure makes cached indicator sums stale)."""
    marked = 0
    for procedure in Procedure.objects.filter(
        code__in=CERTIFIED_COPY_CODES, output_certified_copy=False
    ):
        procedure.output_certified_copy = True
        procedure.save(update_fields=["output_certified_copy"])
        marked += 1
    return marked


def database_is_empty() -> bool:
    return not Agency.objects.exists() and not User.objects.exists()
