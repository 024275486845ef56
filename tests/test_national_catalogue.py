"""The catalogue sync with the national database of procedures, against the simulator over
the real protocol: the difference is stored for review, nothing changes before an
administrator applies it, applying makes new procedure versions, rejecting changes nothing;
the review page (permission, CSRF-protected POST)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import include, path

from cchc.accounts.policy import SYSTEM
from cchc.catalog.models import Procedure, ProcedureVersion
from cchc.national import catalogue, client
from cchc.national.models import CatalogState, CatalogSync

# This module is the tests' urlconf: the review pages (their include in the root urlconf is
# the lead's) and the simulator's test urlconf (the site and the simulated portal).
urlpatterns = [
    path("quan-tri-dvcqg/", include("cchc.national.urls")),
    path("", include("cchc.nationalsim.test_urls")),
]

SIM = {
    "CCHC_DVCQG_SIMULATOR": True,
    "CCHC_DVCQG": {
        "url": "/gia-lap-dvcqg/api/",
        "madonvi": "000.00.00.H06",
        "username": "cchc",
        "password": "simulator",
        "timeout": 5,
        "max_attempts": 3,
        "backoff_max_minutes": 1,
        "lease_minutes": 5,
        "on_time_hours": 24,
    },
    "ROOT_URLCONF": __name__,
}
PAGE = "/quan-tri-dvcqg/danh-muc/"


@pytest.fixture
def sim(settings):
    client.forget_sessions()
    with override_settings(**SIM):
        yield
    client.forget_sessions()


@pytest.fixture
def procedures(org, now, sim):
    from cchc.catalog.services import DocumentData, ProcedureData, save_procedure

    made = {}
    for code, name, days, fee in (
        ("1.000001", "Cấp phiếu lý lịch tư pháp", 10, 200_000),
        ("1.000002", "Chứng thực bản sao", 1, 0),
        ("1.000003", "Đăng ký hành nghề thử nghiệm", 5, 0),
    ):
        made[code], _ = save_procedure(
            SYSTEM,
            ProcedureData(
                code=code,
                name=name,
                field_name="Tư pháp",
                levels=("province",),
                agency_type="so-tu-phap",
                processing_time=Decimal(days),
                fees=((("Phí cấp phiếu", fee),) if fee else ()),
                documents=(DocumentData("Tờ khai", originals=1),),
                online_level="partial",
            ),
            now=now,
        )
    return made


@pytest.fixture
def national(procedures):
    """The simulated national catalogue: 1.000001's fee +10 000 đ, 1.000002's time +2 days,
    1.000003 withdrawn, one new procedure; 1.000001 also public and paid online there."""
    from cchc.nationalsim import seeding
    from cchc.nationalsim.models import SimProcedure

    changes = seeding.seed_catalogue()
    assert changes["fee"] == "1.000001" and changes["time"] == "1.000002"
    assert changes["withdrawn"] == "1.000003"
    row = SimProcedure.objects.get(ma_tthc="1.000001")
    row.detail.update(CongBoQuocGia=True, TichHopThanhToan=True, NgayCongBo="20240115000000")
    row.save()
    new = SimProcedure.objects.get(ma_tthc=seeding.NEW_PROCEDURE)
    new.detail["CoQuanThucHien"] = "Sở Tư pháp"
    new.save()
    return changes


@pytest.fixture
def admin(make_user):
    from cchc.accounts.roles import Role

    return make_user(Role.ADMINISTRATOR)


def test_fetch_stores_the_difference_and_changes_nothing(national, procedures, now):
    from cchc.nationalsim import seeding

    sync = catalogue.fetch(now)

    assert sync.state == CatalogState.PENDING
    changed = {c["code"]: c for c in sync.diff["changed"]}
    assert set(changed) == {"1.000001", "1.000002"}
    fee = changed["1.000001"]["changes"]
    by_field = {c["field"]: c for c in fee}
    assert by_field["fees"]["old"] == [["Phí cấp phiếu", 200_000]]
    assert by_field["fees"]["new"] == [["Phí cấp phiếu", 210_000]]
    assert by_field["national_published"] == {
        "field": "national_published",
        "label": "Công khai trên CSDL quốc gia",
        "old": False,
        "new": True,
    }
    assert by_field["published_on"]["new"] == "2024-01-15"
    time = {c["field"]: c for c in changed["1.000002"]["changes"]}
    assert set(time) == {"processing_time"}
    assert time["processing_time"]["old"] == ["1", "wd"]
    assert time["processing_time"]["new"] == ["3", "wd"]
    assert [n["code"] for n in sync.diff["new"]] == [seeding.NEW_PROCEDURE]
    assert sync.diff["missing"] == [{"code": "1.000003", "name": "Đăng ký hành nghề thử nghiệm"}]
    # Nothing changed in the catalogue.
    assert ProcedureVersion.objects.count() == 3
    assert Procedure.objects.get(code="1.000001").total_fee == 200_000
    assert not Procedure.objects.get(code="1.000001").national_published
    assert not Procedure.objects.filter(code=seeding.NEW_PROCEDURE).exists()
    # A newer fetch supersedes the pending one.
    newer = catalogue.fetch(now + dt.timedelta(hours=1))
    sync.refresh_from_db()
    assert sync.state == CatalogState.SUPERSEDED and newer.state == CatalogState.PENDING
    with pytest.raises(Exception, match="Đã có bản mới hơn"):
        catalogue.apply(SYSTEM, sync.pk, now)


def test_apply_on_the_page_creates_versions_from_the_next_day(national, admin, now, monkeypatch):
    from django.utils import timezone

    from cchc.catalog.services import apply_versions_due
    from cchc.nationalsim import seeding

    monkeypatch.setattr(timezone, "now", lambda: now)
    sync = catalogue.fetch(now)
    web = Client(enforce_csrf_checks=True)
    web.force_login(admin)
    page = web.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Phí cấp phiếu: 200.000 đ" in html and "Phí cấp phiếu: 210.000 đ" in html
    assert "1 ngày làm việc" in html and "3 ngày làm việc" in html
    assert "Áp dụng" in html and "Từ chối" in html
    # Without the CSRF token the decision is refused.
    refused = web.post(f"{PAGE}{sync.pk}/xem-xet/", {"action": "apply"})
    assert refused.status_code == 403
    token = page.context["csrf_token"]
    answer = web.post(
        f"{PAGE}{sync.pk}/xem-xet/", {"action": "apply", "csrfmiddlewaretoken": str(token)}
    )
    assert answer.status_code == 302

    sync.refresh_from_db()
    assert sync.state == CatalogState.APPLIED and sync.reviewed_by == admin
    outcome = sync.diff["outcome"]
    assert "phiên bản mới từ 04/06/2024" in outcome["1.000001"]
    assert "cập nhật thông tin công bố" in outcome["1.000001"]
    assert outcome[seeding.NEW_PROCEDURE].startswith("tạo mới")
    fee = Procedure.objects.get(code="1.000001")
    assert fee.national_published and fee.payment_integrated
    assert fee.published_on == dt.date(2024, 1, 15)
    version = fee.versions.get(number=2)
    assert version.effective_from == dt.date(2024, 6, 4)
    assert version.basis.startswith("Đồng bộ từ CSDL quốc gia")
    assert fee.total_fee == 200_000  # in force from tomorrow
    apply_versions_due(now=now + dt.timedelta(days=1), actor=SYSTEM)
    assert Procedure.objects.get(code="1.000001").total_fee == 210_000
    assert Procedure.objects.get(code="1.000002").duration_spec == "3wd"
    new = Procedure.objects.get(code=seeding.NEW_PROCEDURE)
    assert new.competent_agency_type.code == "so-tu-phap" and new.national_published
    assert Procedure.objects.get(code="1.000003").active  # never deactivated automatically
    # Audited.
    from cchc.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="national.catalogue.applied").count() == 1
    # Applied once only; the next fetch finds the versions to come and shows no difference.
    with pytest.raises(Exception, match="Đã áp dụng"):
        catalogue.apply(admin, sync.pk, now)
    after = catalogue.fetch(now + dt.timedelta(minutes=5))
    assert after.diff["changed"] == [] and after.diff["new"] == []
    assert after.state == CatalogState.APPLIED


def test_a_procedure_that_cannot_take_the_change_is_reported_and_the_rest_applied(national, now):
    from cchc.catalog.services import ProcedureData, StepData, save_procedure

    # 1.000002 gets internal steps adding up to its 1 day: the national 3 days do not fit.
    current = Procedure.objects.get(code="1.000002")
    save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000002",
            name=current.name,
            field_name="Tư pháp",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(1),
            documents=(),
            online_level="partial",
            steps=(StepData("Thẩm định", Decimal(8)),),
        ),
        now=now,
    )
    sync = catalogue.apply(SYSTEM, catalogue.fetch(now).pk, now)
    assert sync.diff["outcome"]["1.000002"].startswith("Lỗi: Tổng thời gian các bước")
    assert "phiên bản mới" in sync.diff["outcome"]["1.000001"]
    assert "chưa áp dụng được" in sync.note


def test_reject_changes_nothing_and_needs_a_reason(national, admin, now):
    sync = catalogue.fetch(now)
    web = Client()
    web.force_login(admin)
    answer = web.post(f"{PAGE}{sync.pk}/xem-xet/", {"action": "reject", "note": "  "}, follow=True)
    assert "Ghi rõ lý do từ chối" in answer.content.decode()
    sync.refresh_from_db()
    assert sync.state == CatalogState.PENDING

    web.post(f"{PAGE}{sync.pk}/xem-xet/", {"action": "reject", "note": "Chờ quyết định của tỉnh"})
    sync.refresh_from_db()
    assert sync.state == CatalogState.REJECTED and sync.note == "Chờ quyết định của tỉnh"
    assert ProcedureVersion.objects.count() == 3
    assert Procedure.objects.get(code="1.000001").total_fee == 200_000
    history = web.get(PAGE).content.decode()
    assert "Đã từ chối" in history


def test_only_administrators_see_the_page(national, make_user, org, now):
    from cchc.accounts.roles import Role

    catalogue.fetch(now)
    web = Client()
    web.force_login(make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024))
    assert web.get(PAGE).status_code == 403
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302


def test_catalogue_commands(national, now, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: now)
    out = io.StringIO()
    call_command("dvcqg", "catalogue", "fetch", "--json", stdout=out)
    fetched = json.loads(out.getvalue())
    assert fetched["state"] == "pending" and len(fetched["diff"]["changed"]) == 2
    out = io.StringIO()
    call_command("dvcqg", "catalogue", "show", stdout=out)
    assert "Phí cấp phiếu: 210.000 đ" in out.getvalue()
    out = io.StringIO()
    call_command("dvcqg", "catalogue", "reject", str(fetched["id"]), "--note", "Không", stdout=out)
    assert CatalogSync.objects.get(pk=fetched["id"]).state == CatalogState.REJECTED
