"""Portal pages through Django's test client: public catalogue, accounts, submission with
drafts, tracking, the citizen's dossier pages, CSRF, and the staff side's additions."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client

from tests.portal.conftest import PASSWORD, PDF, submitted

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_catalogue_is_public_and_ignores_diacritics(portal, client):
    page = client.get("/dich-vu-cong/thu-tuc/", {"q": "cap giay phep"})
    assert page.status_code == 200
    assert "Cấp giấy phép hành nghề thử nghiệm" in page.content.decode()
    page = client.get("/dich-vu-cong/thu-tuc/", {"muc_do": "full"})
    text = page.content.decode()
    assert "Cấp giấy phép hành nghề thử nghiệm" in text and "Chứng thực chữ ký" not in text


def test_procedure_page_lists_documents_fees_desks_and_the_online_button(portal, client):
    text = client.get("/dich-vu-cong/thu-tuc/1.009999/").content.decode()
    assert "Nộp hồ sơ trực tuyến" in text
    assert "Đơn đề nghị cấp giấy phép — 1 bản chính" in text
    assert "100.000 đ" in text
    assert portal.desk.name in text
    assert "toàn trình" in text.lower()
    offline = client.get("/dich-vu-cong/thu-tuc/1.009998/").content.decode()
    assert "Nộp hồ sơ trực tuyến" not in offline


def test_register_then_signed_in(portal, client):
    bad = client.post(
        "/dich-vu-cong/dang-ky/",
        {
            "full_name": "Lê Thị Hồng",
            "identifier": "hong@example",
            "password": "x",
            "password2": "y",
        },
    )
    assert bad.status_code == 400
    assert "Hai lần nhập mật khẩu không khớp." in bad.content.decode()
    assert 'value="Lê Thị Hồng"' in bad.content.decode()  # nothing typed is lost
    ok = client.post(
        "/dich-vu-cong/dang-ky/",
        {
            "full_name": "Lê Thị Hồng",
            "identifier": "hong@example.vn",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert ok.status_code == 302
    home = client.get("/dich-vu-cong/").content.decode()
    assert "Xin chào Lê Thị Hồng" in home


def test_login_page_shows_vneid_only_when_configured(portal, client, settings):
    settings.VNEID = {}
    settings.CCHC_DVCQG_SIMULATOR = False
    assert "VNeID" not in client.get("/dich-vu-cong/dang-nhap/").content.decode()
    response = client.get("/dich-vu-cong/dang-nhap/vneid/", follow=True)
    assert "chưa được cấu hình" in response.content.decode()
    settings.VNEID = {
        "client_id": "cchc",
        "client_secret": "s",
        "issuer": "http://127.0.0.1:9/oidc",
        "timeout": 1,
    }
    assert "VNeID" in client.get("/dich-vu-cong/dang-nhap/").content.decode()
    go = client.get("/dich-vu-cong/dang-nhap/vneid/", follow=True)
    assert "Không kết nối được hệ thống định danh VNeID" in go.content.decode()


def test_login_with_phone_number(portal, client):
    response = client.post(
        "/dich-vu-cong/dang-nhap/", {"username": "0912345678", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/dich-vu-cong/"


def _upload(name: str, content: bytes = PDF):
    f = io.BytesIO(content)
    f.name = name
    return f


def test_submit_online_with_draft_save_and_resume(portal):
    client = signed_in(portal.citizen)
    form = client.get("/dich-vu-cong/thu-tuc/1.009999/nop/").content.decode()
    assert 'value="Nguyễn Thị Hoà"' in form  # prefilled from the account
    assert 'value="024190001234"' in form
    docs = list(portal.procedure.documents.all())
    # Save a draft with one file and a bad one: the good data is kept, the bad file named.
    response = client.post(
        "/dich-vu-cong/thu-tuc/1.009999/nop/",
        {
            "action": "save",
            "desk": portal.desk.pk,
            "kind": "person",
            "name": "Nguyễn Thị Hoà",
            "phone": "0912345678",
            "email": "hoa@example.vn",
            "id_number": "024190001234",
            "matter": "Xin cấp giấy phép",
            "return_channel": "online",
            f"doc_{docs[0].pk}": _upload("don.pdf"),
            f"doc_{docs[1].pk}": _upload("virus.exe", b"MZ"),
        },
        follow=True,
    )
    text = response.content.decode()
    assert "«virus.exe» có định dạng không được chấp nhận" in text
    assert "don.pdf" in text and 'value="Xin cấp giấy phép"' not in text  # textarea
    assert "Xin cấp giấy phép" in text
    draft_url = response.redirect_chain[-1][0]
    assert re.fullmatch(r"/dich-vu-cong/nhap/\d+/", draft_url)
    # Submitting without the second mandatory document: error, draft kept.
    response = client.post(
        draft_url,
        {
            "action": "submit",
            "desk": portal.desk.pk,
            "name": "Nguyễn Thị Hoà",
            "phone": "0912345678",
            "kind": "person",
            "return_channel": "online",
        },
    )
    assert response.status_code == 400
    assert "Thiếu tệp «Bản chụp giấy tờ tùy thân»" in response.content.decode()
    assert "Hồ sơ nháp" in client.get("/dich-vu-cong/nhap/").content.decode()
    # Resume: add the file and submit.
    response = client.post(
        draft_url,
        {
            "action": "submit",
            "desk": portal.desk.pk,
            "kind": "person",
            "name": "Nguyễn Thị Hoà",
            "phone": "0912345678",
            "return_channel": "online",
            f"doc_{docs[1].pk}": _upload("cccd.png", b"\x89PNG\r\n\x1a\n0000"),
        },
    )
    assert response.status_code == 302
    code = response["Location"].rstrip("/").rsplit("/", 1)[1]
    page = client.get(response["Location"]).content.decode()
    assert "đang chờ bộ phận một cửa kiểm tra" in page
    assert "Thông báo đã gửi" in page
    from cchc.dossiers.models import Dossier

    dossier = Dossier.objects.get(code=code)
    assert dossier.components.count() == 2 and dossier.files.count() == 2


def test_citizen_pages_are_private(portal):
    dossier = submitted(portal)
    mine = signed_in(portal.citizen)
    theirs = signed_in(portal.other_citizen)
    assert mine.get(f"/dich-vu-cong/ho-so/{dossier.code}/").status_code == 200
    assert dossier.code in mine.get("/dich-vu-cong/ho-so/").content.decode()
    assert theirs.get(f"/dich-vu-cong/ho-so/{dossier.code}/").status_code == 404
    assert dossier.code not in theirs.get("/dich-vu-cong/ho-so/").content.decode()
    scan = dossier.files.first()
    url = f"/dich-vu-cong/ho-so/{dossier.code}/tep/{scan.pk}/"
    assert mine.get(url).status_code == 200
    assert theirs.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert theirs.get(f"/ho-so/{dossier.code}/").status_code == 403
    # Officers use their own workspace.
    staff = signed_in(portal.desk_officer)
    assert staff.get("/dich-vu-cong/ho-so/")["Location"] == "/ho-so/"


def test_tracking_page_reveals_nothing_for_wrong_factor_or_unknown_code(portal, client):
    dossier = submitted(portal)
    ok = client.post("/dich-vu-cong/tra-cuu/", {"code": dossier.code, "factor": "0912345678"})
    text = ok.content.decode()
    assert ok.status_code == 200 and "đang chờ bộ phận một cửa kiểm tra" in text
    wrong = client.post("/dich-vu-cong/tra-cuu/", {"code": dossier.code, "factor": "0900000000"})
    unknown = client.post(
        "/dich-vu-cong/tra-cuu/", {"code": "X-000000-0001", "factor": "0912345678"}
    )
    assert wrong.status_code == unknown.status_code == 404

    def message(r):
        return re.search(r'role="alert">([^<]*)<', r.content.decode()).group(1)

    assert message(wrong) == message(unknown)


def test_tracking_shows_appointment_explanation_and_what_waits(portal, clock, client):
    from cchc.dossiers import services

    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    services.act(portal.leader, dossier, "assign", data={"assignee": portal.officer.pk})
    services.act(
        portal.officer, dossier, "request_supplement", reason="Bổ sung bản sao sổ hộ khẩu."
    )
    text = client.post(
        "/dich-vu-cong/tra-cuu/", {"code": dossier.code, "factor": "024190001234"}
    ).content.decode()
    assert "Cách tính ngày hẹn trả kết quả" in text
    assert "Đang chờ bạn" in text and "Bổ sung hồ sơ" in text
    assert "Còn phải nộp 100.000 đ" in text
    assert "Bổ sung bản sao sổ hộ khẩu." in text  # the reason: what the citizen must do
    page = signed_in(portal.citizen).get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    assert "Bổ sung bản sao sổ hộ khẩu." in page
    assert "Gửi hồ sơ bổ sung" in page


def test_tracking_rate_limit_answers_429(portal, client, settings):
    settings.PORTAL_LOOKUP_LIMIT = 2
    for _ in range(2):
        client.post("/dich-vu-cong/tra-cuu/", {"code": "A-1", "factor": "1"})
    limited = client.post("/dich-vu-cong/tra-cuu/", {"code": "B-2", "factor": "1"})
    assert limited.status_code == 429
    assert "quá 2 lần" in limited.content.decode()


def test_csrf_is_enforced_on_portal_forms(portal):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/dich-vu-cong/tra-cuu/", {"code": "A", "factor": "1"}).status_code == 403
    assert client.post("/dich-vu-cong/dang-ky/", {}).status_code == 403
    citizen = Client(enforce_csrf_checks=True)
    citizen.force_login(portal.citizen)
    dossier = submitted(portal)
    response = citizen.post(
        f"/dich-vu-cong/ho-so/{dossier.code}/thao-tac/", {"action": "withdraw", "reason": "x"}
    )
    assert response.status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == "submitted"


def test_citizen_actions_through_the_page(portal, clock):
    from cchc.dossiers import services

    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "request_completion", reason="Thiếu chữ ký.")
    client = signed_in(portal.citizen)
    page = client.get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    assert "Hoàn thiện và nộp lại hồ sơ" in page and "Thiếu chữ ký." in page
    response = client.post(
        f"/dich-vu-cong/ho-so/{dossier.code}/thao-tac/",
        {"action": "resubmit", "version": dossier.version, "files": _upload("don-ky.pdf")},
        follow=True,
    )
    assert "Đã nộp lại hồ sơ" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.state == "submitted"


def test_staff_page_offers_request_completion_and_lists_notifications(portal):
    dossier = submitted(portal)
    page = signed_in(portal.desk_officer).get(f"/ho-so/{dossier.code}/").content.decode()
    assert "Yêu cầu hoàn thiện hồ sơ trực tuyến" in page
    assert "Thông báo đã gửi" in page
    assert "Tin nhắn SMS" in page


def test_navigation_links_the_portal_for_visitors(portal, client):
    text = client.get("/dich-vu-cong/").content.decode()
    assert 'href="/dich-vu-cong/tra-cuu/"' in text
    citizen = signed_in(portal.citizen).get("/").content.decode()
    assert 'href="/dich-vu-cong/ho-so/"' in citizen


def test_online_payment_button_when_fees_are_unpaid(portal, clock, client):
    from django.urls import reverse

    from cchc.dossiers import services

    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    # The payments app is part of the site: its start URL must resolve for the dossier.
    url = reverse("payments:start", args=[dossier.code])
    assert url.endswith(f"/thanh-toan/ho-so/{dossier.code}/")
    page = signed_in(portal.citizen).get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    assert "Thanh toán trực tuyến" in page and f'href="{url}"' in page
    tracked = client.post(
        "/dich-vu-cong/tra-cuu/", {"code": dossier.code, "factor": "0912345678"}
    ).content.decode()
    assert f'href="{url}?t=' in tracked  # a signed link: the second factor was given


def test_draft_files_are_private(portal):
    from cchc.portal import services
    from tests.portal.conftest import applicant_data, uploads_for

    draft = services.save_draft(
        portal.citizen,
        procedure=portal.procedure,
        data=applicant_data(),
        uploads=uploads_for(portal.procedure),
        now=portal.now,
    )
    stored = services.draft_files(draft)[0]
    url = f"/dich-vu-cong/nhap/{draft.pk}/tep/{stored.pk}/"
    assert signed_in(portal.citizen).get(url).status_code == 200
    assert signed_in(portal.other_citizen).get(url).status_code == 404
    assert signed_in(portal.other_citizen).get(f"/dich-vu-cong/nhap/{draft.pk}/").status_code == 404
