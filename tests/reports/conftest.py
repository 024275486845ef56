"""A small Bắc Giang 2024 data set for the periodic report, built through the real services:
the shipped organisation (not flagged as demo) and Plan 213, dossiers of Sở Tư pháp in
March and June 2024, register rows for T2, T7 and T11, and one plan task completed on
time.

Q2 2024 seen on 5/7/2024 09:00 (`AS_OF`), by hand:
- T4 early + on time ÷ finished = 2/4 (A early, B on time, C and D overdue); Q1: 1/1.
- T6 overdue with apology ÷ overdue = 1/2 (D apologised).
- T7 province 96/100 (met), district 160/200 (80 %, target 85 %: not met).
- T1 1/5: five deliverables due in Q2 (1.2, 2.1, 2.2 Q2, 4.1 H1, 6.2 Q2); 1.2 done on time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import NOW, VN, built_once, fresh
from tests.factories import make_user as factory

AS_OF = dt.datetime(2024, 7, 5, 9, 0, tzinfo=VN)
ISSUE = dt.date(2024, 7, 5)
PASSWORD = "Mk-baocao-2024!"


def at(day: str, hm: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=VN)


@dataclass
class Data:
    province: Any
    justice: Any
    construction: Any
    city: Any
    supervisor: Any
    justice_leader: Any
    construction_leader: Any
    officer: Any
    dossiers: dict[str, Any]


def _agency(code: str) -> Any:
    from cchc.org.models import Agency

    return Agency.objects.valid_on(dt.date(2024, 6, 1)).get(code=code)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker) -> Iterator[Data]:
    """The data set, built once per test module (each test runs in its own savepoint)."""
    with built_once(django_db_blocker):
        yield build(NOW, lambda role, **scope: factory(role, now=NOW, **scope))


@pytest.fixture
def data(built, db) -> Data:
    return fresh(built)


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path) -> Any:
    """Report files (MEDIA_ROOT/reports) and the job locks (CCHC_VAR_DIR/locks) of each test
    in its own directory, never in the repository's var/."""
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_VAR_DIR = tmp_path
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _jobs_run_at_once(monkeypatch) -> None:
    """The suite's CCHC_JOBS_SYNC, made sure of: django-q2 reads its configuration once, at
    import, which may come before tests/conftest.py sets the variable."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def build(now: dt.datetime, make_user: Any) -> Data:
    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
    from cchc.demo.loader import DATA_DIR
    from cchc.org.models import AdministrativeUnit, Desk
    from cchc.org.structure import load_structure
    from cchc.plans import progress
    from cchc.plans import services as plans
    from cchc.plans.registers import (
        ExternalIndexData,
        LegalDocumentData,
        WorkRecordData,
        save_external_index,
        save_legal_document,
        save_work_record_stat,
    )
    from tests.dossiers.conftest import World
    from tests.indicators.conftest import make
    from tests.plans.helpers import at as plan_day
    from tests.plans.helpers import pdf, report_on

    load_structure(SYSTEM, DATA_DIR / "org.json", now=now)
    plan = plans.load_plan(SYSTEM, plans.SHIPPED_PLAN, now=now).plan
    province = AdministrativeUnit.objects.valid_on(dt.date(2024, 6, 1)).get(code="24")
    justice = _agency("000.00.03.H06")
    construction = _agency("000.00.09.H06")
    city = _agency("000.00.31.H06")
    desk = Desk.objects.get(code__iexact="ttpvhcc-bg")

    procedure, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000001",
            name="Cấp phiếu lý lịch tư pháp",
            field_name="Lý lịch tư pháp",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(3),
            fees=(("Phí cung cấp thông tin lý lịch tư pháp", 200_000),),
            documents=(DocumentData("Tờ khai yêu cầu cấp phiếu lý lịch tư pháp", originals=1),),
            steps=(
                StepData("Tiếp nhận, chuyển hồ sơ", Decimal(4)),
                StepData("Thẩm định, xử lý hồ sơ", Decimal(16)),
                StepData("Lãnh đạo phê duyệt", Decimal(2)),
                StepData("Trả kết quả", Decimal(2)),
            ),
        ),
        now=now,
    )
    online, _ = save_procedure(
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
        now=now,
    )
    centre = desk.host_agency
    leader = make_user(Role.AGENCY_LEADER, agency=justice, password=PASSWORD)
    world = World(
        org=SimpleNamespace(justice=justice),
        desk=desk,
        procedure=procedure,
        quick=procedure,
        desk_officer=make_user(Role.DESK_OFFICER, agency=centre, desk=desk),
        officer=make_user(Role.PROCESSING_OFFICER, agency=justice),
        officer2=None,
        leader=leader,
        outsider=None,
        supervisor=None,
        citizen=make_user(Role.CITIZEN),
        now=now,
    )
    mon = "2024-06-03"
    dossiers = {
        "Q1": make(world, at("2024-03-04"), approve=at("2024-03-04", "15:00")),
        "A": make(world, at(mon), approve=at(mon, "15:00"), returned=at(mon, "16:00")),
        "B": make(world, at(mon), approve=at("2024-06-06", "08:00")),
        "C": make(world, at(mon), approve=at("2024-06-12")),
        "D": make(world, at(mon), apology=at("2024-06-05", "10:00"), approve=at("2024-06-25")),
        "H": make(world, at("2024-06-04"), procedure=online, online=True, pay="1"),
    }
    later = AS_OF - dt.timedelta(days=1)
    for agency, total, done in ((justice, 100, 96), (city, 200, 160)):
        save_work_record_stat(
            SYSTEM, WorkRecordData(agency.code, "2024-Q2", total, done), now=later
        )
    for n, ok in enumerate((True, False)):
        save_legal_document(
            SYSTEM,
            LegalDocumentData(
                number=f"{n + 10}/2024/QĐ-UBND",
                issued_on=dt.date(2024, 5, 10 + n),
                doc_type="qd",
                title="Quy định thử nghiệm",
                drafting_agency=justice.code,
                appraised=True,
                consulted=ok,
                published=True,
            ),
            now=later,
        )
    for index, rank in (("PCI", 3), ("PAPI", 25), ("PAR_INDEX", 5)):
        save_external_index(
            SYSTEM,
            ExternalIndexData(index, 2024, "24", "Công bố thử nghiệm", Decimal("70.5"), rank),
            now=later,
        )
    focal = make_user(Role.PAR_FOCAL_POINT, agency=justice)
    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=province, password=PASSWORD)
    report = report_on(
        plan.tasks.get(code="1.2"), focal, day="2024-06-20", completed=True, files=[pdf()]
    )
    progress.review_report(supervisor, report, accept=True, now=plan_day("2024-06-21"))
    return Data(
        province=province,
        justice=justice,
        construction=construction,
        city=city,
        supervisor=supervisor,
        justice_leader=leader,
        construction_leader=make_user(Role.AGENCY_LEADER, agency=construction, password=PASSWORD),
        officer=world.officer,
        dossiers=dossiers,
    )
