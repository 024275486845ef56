"""The portal mode (CCHC_PORTAL_MODE): in "national" mode a procedure published on the
national portal is submitted there — the portal's online submission gives way to a notice
with a link — while tracking, the citizen's dossiers, payment, PAKN and results stay here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

PASSWORD = "Mat-khau-cong-dan-2024"
NATIONAL_URL = "https://dichvucong.example.gov.vn/p/home/dvc-trang-chu.html"


@pytest.fixture
def setup(org, now, settings, tmp_path) -> dict[str, Any]:
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.models import Procedure
    from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
    from cchc.org.models import Desk
    from cchc.portal import services

    settings.MEDIA_ROOT = tmp_path / "files"
    procedures = {}
    for code, name in (("1.009901", "Cấp phiếu lý lịch tư pháp"), ("1.009902", "Đăng ký hộ tịch")):
        procedures[code], _ = save_procedure(
            SYSTEM,
            ProcedureData(
                code=code,
                name=name,
                field_name="Thử nghiệm",
                levels=("province",),
                agency_type="so-tu-phap",
                processing_time=Decimal(3),
                documents=(DocumentData("Tờ khai", originals=1),),
                steps=(StepData("Tiếp nhận", Decimal(20)), StepData("Trả kết quả", Decimal(4))),
                online_level="full",
            ),
            now=now,
        )
    Procedure.objects.filter(code="1.009901").update(national_published=True)
    citizen = services.register_citizen(
        services.Registration(full_name="Đỗ Thị Hạnh", identifier="0912345670", password=PASSWORD),
        now=now,
    )
    return {
        "published": Procedure.objects.get(code="1.009901"),
        "local": procedures["1.009902"],
        "citizen": citizen,
        "desk": Desk.objects.get(code="ttpvhcc-bg"),
        "now": now,
    }


def _draft(setup: dict[str, Any]) -> Any:
    from cchc.portal import services

    return services.save_draft(
        setup["citizen"],
        procedure=setup["published"],
        desk=setup["desk"],
        data={"applicant": {"kind": "person", "name": "Đỗ Thị Hạnh"}, "matter": "Xin cấp"},
        now=setup["now"],
    )


def test_standalone_mode_submits_here(setup, client, settings):
    settings.CCHC_PORTAL_MODE = "standalone"
    page = client.get("/dich-vu-cong/thu-tuc/1.009901/").content.decode()
    assert 'href="/dich-vu-cong/thu-tuc/1.009901/nop/"' in page
    assert 'data-portal-mode="standalone"' in page
    assert "Cổng Dịch vụ công quốc gia" not in page
    client.force_login(setup["citizen"])
    assert client.get("/dich-vu-cong/thu-tuc/1.009901/nop/").status_code == 200


def test_national_mode_sends_published_procedures_to_the_national_portal(setup, client, settings):
    from cchc.portal.models import Draft

    settings.CCHC_PORTAL_MODE = "national"
    settings.CCHC_DVCQG_PUBLIC_URL = NATIONAL_URL
    page = client.get("/dich-vu-cong/thu-tuc/1.009901/").content.decode()
    assert "Nộp hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia" in page
    assert f'href="{NATIONAL_URL}"' in page
    assert "/dich-vu-cong/thu-tuc/1.009901/nop/" not in page
    assert 'data-portal-mode="national"' in page

    draft = _draft(setup)  # begun before the switch
    client.force_login(setup["citizen"])
    form = client.get("/dich-vu-cong/thu-tuc/1.009901/nop/", follow=True)
    assert form.redirect_chain[-1][0] == "/dich-vu-cong/thu-tuc/1.009901/"
    assert "được nộp trực tuyến trên Cổng Dịch vụ công quốc gia" in form.content.decode()
    posted = client.post(
        "/dich-vu-cong/thu-tuc/1.009901/nop/",
        {"name": "Đỗ Thị Hạnh", "matter": "Xin cấp", "action": "submit"},
    )
    assert posted.status_code == 302
    assert posted["Location"] == "/dich-vu-cong/thu-tuc/1.009901/"
    resumed = client.post(f"/dich-vu-cong/nhap/{draft.pk}/", {"action": "submit"})
    assert resumed["Location"] == "/dich-vu-cong/thu-tuc/1.009901/"
    assert list(Draft.objects.values_list("pk", "dossier_id")) == [(draft.pk, None)]


def test_national_mode_keeps_local_procedures_and_the_other_services(setup, client, settings):
    settings.CCHC_PORTAL_MODE = "national"
    del settings.CCHC_DVCQG_PUBLIC_URL
    published = client.get("/dich-vu-cong/thu-tuc/1.009901/").content.decode()
    assert 'href="https://dichvucong.gov.vn"' in published  # the default address
    local = client.get("/dich-vu-cong/thu-tuc/1.009902/").content.decode()
    assert 'href="/dich-vu-cong/thu-tuc/1.009902/nop/"' in local
    assert "chưa công bố trên Cổng quốc gia" in local
    client.force_login(setup["citizen"])
    assert client.get("/dich-vu-cong/thu-tuc/1.009902/nop/").status_code == 200
    # Tracking, the citizen's dossiers and drafts, PAKN stay on this portal.
    for url in (
        "/dich-vu-cong/tra-cuu/",
        "/dich-vu-cong/ho-so/",
        "/dich-vu-cong/nhap/",
        "/dich-vu-cong/phan-anh/",
    ):
        assert client.get(url).status_code == 200, url
