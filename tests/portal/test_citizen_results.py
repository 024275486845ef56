"""Issue 17 (citizen): the electronic result of a returned online dossier is downloaded from
"Hồ sơ của tôi" by its owner only, every download audited; a paper-only result has none."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.portal.conftest import submitted

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def returned(portal, *, result_type: str = "electronic", paid: bool = True):
    """An online dossier of the portal's citizen, processed, paid, approved and returned."""
    from cchc.catalog.models import Procedure
    from cchc.dossiers import services
    from cchc.payments.services import record_cash

    Procedure.objects.filter(pk=portal.procedure.pk).update(result_type=result_type)
    portal.procedure.refresh_from_db()
    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    services.act(portal.leader, dossier, "assign", data={"assignee": portal.officer.pk})
    services.act(portal.officer, dossier, "propose")
    if paid:
        record_cash(portal.desk_officer, dossier, dossier.fee_total)
    services.act(portal.leader, dossier, "approve")
    services.act(portal.desk_officer, dossier, "return_result")
    dossier.refresh_from_db()
    return dossier


def test_owner_downloads_the_rendered_e_result_and_it_is_audited(portal, clock):
    from cchc.audit.models import AuditEntry

    dossier = returned(portal)
    result = dossier.results.get()
    assert result.electronic and result.file_id is None
    client = signed_in(portal.citizen)
    page = client.get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    url = f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/"
    assert f'href="{url}"' in page and "Tải kết quả (PDF)" in page
    listing = client.get("/dich-vu-cong/ho-so/").content.decode()
    assert f'href="{url}"' in listing  # offered in the list too
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="{result.code}.pdf"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")
    entry = AuditEntry.objects.filter(action="portal.result.downloaded").get()
    assert entry.data == {"result": result.code, "stored_file": False}
    assert entry.actor_id == portal.citizen.pk


def test_the_stored_result_file_is_served_when_there_is_one(portal, clock):
    from cchc.dossiers import files
    from cchc.dossiers.models import DossierResult, StoredFile

    dossier = returned(portal)
    upload = files.check("giay-phep.pdf", b"%PDF-1.4\n% ket qua\n%%EOF\n")
    stored = StoredFile.objects.create(
        dossier=dossier,
        name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        path=files.store(upload),
        uploaded_at=portal.now,
    )
    DossierResult.objects.filter(dossier=dossier).update(file=stored)
    response = signed_in(portal.citizen).get(f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/")
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4\n% ket qua\n%%EOF\n"
    assert 'filename="giay-phep.pdf"' in response["Content-Disposition"]


def test_only_the_owner_may_download(portal, clock):
    dossier = returned(portal)
    url = f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/"
    assert signed_in(portal.other_citizen).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/dang-nhap/" in anonymous["Location"]
    # An officer is sent to the staff workspace, not given the citizen's download.
    officer = signed_in(portal.desk_officer).get(url)
    assert officer.status_code == 302 and "/ho-so/" in officer["Location"]
    from cchc.audit.models import AuditEntry

    assert not AuditEntry.objects.filter(action="portal.result.downloaded").exists()


def test_no_download_for_a_paper_result_nor_before_the_result(portal, clock):
    from cchc.dossiers import services

    open_dossier = submitted(portal)
    services.act(portal.desk_officer, open_dossier, "receive")
    client = signed_in(portal.citizen)
    response = client.get(f"/dich-vu-cong/ho-so/{open_dossier.code}/ket-qua/1/", follow=True)
    assert "không có kết quả điện tử số 1" in response.content.decode()
    paper = returned(portal, result_type="paper")
    assert not paper.results.get().electronic
    page = client.get(f"/dich-vu-cong/ho-so/{paper.code}/").content.decode()
    assert "Tải kết quả" not in page
    assert "Kết quả bản giấy: nhận tại" in page
    response = client.get(f"/dich-vu-cong/ho-so/{paper.code}/ket-qua/1/", follow=True)
    assert "không có kết quả điện tử số 1" in response.content.decode()


def test_unpaid_fees_come_before_the_result(portal, clock, settings):
    settings.CCHC_FEES_BEFORE_RESULT = False  # fees collected elsewhere: returned unpaid
    dossier = returned(portal, paid=False)
    response = signed_in(portal.citizen).get(
        f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/", follow=True
    )
    assert "còn 100.000 đ phí, lệ phí chưa nộp" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/dich-vu-cong/ho-so/{dossier.code}/"


def test_my_dossiers_page_queries_are_bounded(portal, clock, django_assert_max_num_queries):
    for _ in range(3):
        returned(portal)
    client = signed_in(portal.citizen)
    with django_assert_max_num_queries(16):
        text = client.get("/dich-vu-cong/ho-so/").content.decode()
    assert text.count("Tải kết quả (PDF)") == 3


def test_dossier_page_queries_do_not_grow_with_results(
    portal, clock, django_assert_max_num_queries
):
    from cchc.dossiers.models import DossierResult

    dossier = returned(portal)
    client = signed_in(portal.citizen)
    url = f"/dich-vu-cong/ho-so/{dossier.code}/"
    with django_assert_max_num_queries(40) as one:
        client.get(url)
    first = DossierResult.objects.get(dossier=dossier)
    for n in (2, 3, 4):
        DossierResult.objects.create(
            dossier=dossier,
            number=n,
            code=f"{dossier.code}-KQ{n}",
            title=f"Kết quả {n}",
            event=first.event,
            issued_at=first.issued_at,
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        text = client.get(url).content.decode()
    assert text.count("Tải kết quả (PDF)") == 4
