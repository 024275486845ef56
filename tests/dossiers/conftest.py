"""Fixtures for dossier tests: a procedure with an internal workflow at a one-stop desk, and
one officer per role, all made through the real services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import NOW, VN, built_once


@dataclass
class World:
    org: Any
    desk: Any
    procedure: Any
    quick: Any  # a procedure without internal steps or documents
    desk_officer: Any
    officer: Any
    officer2: Any
    leader: Any
    outsider: Any  # processing officer of another agency
    supervisor: Any
    citizen: Any
    now: dt.datetime

    def intake(self, *, at: dt.datetime | None = None, procedure: Any = None, **kw: Any):
        from cchc.dossiers import intake
        from tests.dossiers.factories import applicant, components_for

        proc = procedure or self.procedure
        return intake.receive_at_desk(
            self.desk_officer,
            desk=self.desk,
            procedure=proc,
            applicant=kw.pop("applicant", applicant()),
            components=kw.pop("components", components_for(proc)),
            now=at or self.now,
            **kw,
        )


@pytest.fixture
def world(org, now) -> World:
    return build_world(now, org)


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The world built once per test module, for a module whose tests all start from it:
    such a module overrides `world` with `fresh(built_world)` (its own copy, and its own
    savepoint through `db`). Not for modules that also build an organisation of their own
    (`org`) or run transactional tests."""
    with built_once(django_db_blocker):
        yield build_world(NOW)


def build_world(now: dt.datetime, org: Any = None) -> World:
    """The world itself (the `world` fixture; also for data sets built once per module)."""
    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
    from cchc.org.models import Desk
    from tests.factories import make_user as factory
    from tests.factories import small_structure

    if org is None:
        org = small_structure(now)

    def make_user(role: str, **scope: Any) -> Any:
        return factory(role, now=now, **scope)

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
            documents=(
                DocumentData("Tờ khai yêu cầu cấp phiếu lý lịch tư pháp", originals=1),
                DocumentData("Bản chụp giấy tờ tùy thân", copies=1),
                DocumentData("Giấy ủy quyền (nếu có)", originals=1, mandatory=False),
            ),
            steps=(
                StepData("Tiếp nhận, chuyển hồ sơ", Decimal(4)),
                StepData("Thẩm định, xử lý hồ sơ", Decimal(16)),
                StepData("Lãnh đạo phê duyệt", Decimal(2)),
                StepData("Trả kết quả", Decimal(2)),
            ),
        ),
        now=now,
    )
    quick, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000002",
            name="Chứng thực bản sao từ bản chính",
            field_name="Chứng thực",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(1),
        ),
        now=now,
    )
    desk = Desk.objects.get(code="ttpvhcc-bg")
    centre = desk.host_agency
    return World(
        org=org,
        desk=desk,
        procedure=procedure,
        quick=quick,
        desk_officer=make_user(Role.DESK_OFFICER, agency=centre, desk=desk),
        officer=make_user(Role.PROCESSING_OFFICER, agency=org.justice),
        officer2=make_user(Role.PROCESSING_OFFICER, agency=org.justice),
        leader=make_user(Role.AGENCY_LEADER, agency=org.justice),
        outsider=make_user(Role.PROCESSING_OFFICER, agency=org.construction),
        supervisor=make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024),
        citizen=make_user(Role.CITIZEN),
        now=now,
    )


def at(day: str, hm: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=VN)
