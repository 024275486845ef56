"""Fixtures for the citizen portal: an online procedure at a one-stop desk, its officers and
a registered citizen, all made through the real services, on a frozen clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PASSWORD = "Mat-khau-cong-dan-2024"


@dataclass
class Portal:
    org: Any
    desk: Any
    procedure: Any
    offline: Any
    desk_officer: Any
    officer: Any
    leader: Any
    citizen: Any
    other_citizen: Any
    now: dt.datetime


class FrozenClock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current.astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch, now):
    from django.utils import timezone

    fake = FrozenClock(now)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SMS_OUTBOX = tmp_path / "sms" / "outbox.jsonl"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def portal(org, now, make_user, clock) -> Portal:
    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
    from cchc.org.models import Desk
    from cchc.portal import services

    procedure, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.009999",
            name="Cấp giấy phép hành nghề thử nghiệm",
            field_name="Thử nghiệm",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(3),
            fees=(("Lệ phí cấp giấy phép", 100_000),),
            documents=(
                DocumentData("Đơn đề nghị cấp giấy phép", originals=1),
                DocumentData("Bản chụp giấy tờ tùy thân", copies=1),
                DocumentData("Giấy ủy quyền (nếu có)", originals=1, mandatory=False),
            ),
            steps=(
                StepData("Tiếp nhận, chuyển hồ sơ", Decimal(4)),
                StepData("Thẩm định hồ sơ", Decimal(12)),
                StepData("Lãnh đạo phê duyệt", Decimal(4)),
                StepData("Trả kết quả", Decimal(4)),
            ),
            online_level="full",
        ),
        now=now,
    )
    offline, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.009998",
            name="Chứng thực chữ ký",
            field_name="Chứng thực",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(1),
        ),
        now=now,
    )
    desk = Desk.objects.get(code="ttpvhcc-bg")

    def citizen(identifier: str, name: str):
        return services.register_citizen(
            services.Registration(
                full_name=name, identifier=identifier, password=PASSWORD, id_number="024190001234"
            ),
            now=now,
        )

    return Portal(
        org=org,
        desk=desk,
        procedure=procedure,
        offline=offline,
        desk_officer=make_user(Role.DESK_OFFICER, agency=desk.host_agency, desk=desk),
        officer=make_user(Role.PROCESSING_OFFICER, agency=org.justice),
        leader=make_user(Role.AGENCY_LEADER, agency=org.justice),
        citizen=citizen("0912345678", "Nguyễn Thị Hoà"),
        other_citizen=citizen("binh@example.vn", "Trần Văn Bình"),
        now=now,
    )


def applicant_data(**changes: str) -> dict[str, Any]:
    values = {
        "kind": "person",
        "name": "Nguyễn Thị Hoà",
        "id_number": "024190001234",
        "address": "Số 5 Hoàng Văn Thụ",
        "phone": "0912345678",
        "email": "hoa@example.vn",
    }
    values.update(changes)
    return {"applicant": values, "matter": "Cấp giấy phép", "return_channel": "online"}


def uploads_for(procedure: Any, *, skip_mandatory: bool = False) -> list[tuple[int, Any]]:
    from cchc.dossiers import files

    out = []
    for n, doc in enumerate(procedure.documents.all()):
        if not doc.mandatory or (skip_mandatory and n == 1):
            continue
        out.append((doc.pk, files.check(f"giay-to-{n}.pdf", PDF + bytes([n]))))
    return out


def submitted(portal: Portal, **kw: Any):
    """A complete online submission by the portal's citizen."""
    from cchc.portal import services

    draft = services.save_draft(
        portal.citizen,
        procedure=portal.procedure,
        desk=portal.desk,
        data=applicant_data(),
        uploads=uploads_for(portal.procedure),
        now=portal.now,
    )
    return services.submit_draft(portal.citizen, draft, now=portal.now)
