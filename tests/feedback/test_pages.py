"""PAKN pages: the citizen form (anonymous and signed in), "Phản ánh của tôi", published
answers, rating; the officers' queue, page and actions; CSRF and personal data."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


@pytest.fixture
def people(world, make_user):
    from cchc.accounts.roles import Role

    agency = world.org.justice_2025  # valid today (the pages use the real clock)
    return {
        "agency": agency,
        "officer": make_user(Role.PROCESSING_OFFICER, agency=agency),
        "leader": make_user(Role.AGENCY_LEADER, agency=agency),
        "outsider": world.outsider,
        "supervisor": make_user(Role.PROVINCIAL_SUPERVISOR, unit=world.org.province_2025),
        "citizen": world.citizen,
        "other_citizen": make_user(Role.CITIZEN),
    }


def client_for(user=None, **kw) -> Client:
    c = Client(**kw)
    if user is not None:
        c.force_login(user)
    return c


def form_data(target, **changes):
    data = {
        "name": "Nguyễn Thị Hoà",
        "phone": "0912345678",
        "email": "",
        "agency": str(target.pk),
        "dossier_code": "",
        "subject": "Thái độ phục vụ",
        "content": "Cán bộ tiếp nhận không hướng dẫn đầy đủ thành phần hồ sơ.",
    }
    data.update(changes)
    return data


def submit(client, target, **changes):
    return client.post("/dich-vu-cong/phan-anh/gui/", form_data(target, **changes))


def test_anonymous_form_keeps_input_and_shows_clear_errors(people):
    c = Client()
    page = c.get("/dich-vu-cong/phan-anh/gui/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "csrfmiddlewaretoken" in html and "Gửi phản ánh, kiến nghị" in html
    assert people["agency"].name in html
    bad = submit(c, people["agency"], phone="", subject="Tiêu đề giữ lại")
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "Ghi số điện thoại hoặc thư điện tử" in text
    assert 'value="Tiêu đề giữ lại"' in text
    missing = submit(c, people["agency"], subject="")
    assert "Mục này không được để trống." in missing.content.decode()


def test_anonymous_submission_receipt_only_for_the_submitter(people):
    from cchc.feedback.models import Feedback

    c = Client()
    response = submit(c, people["agency"])
    f = Feedback.objects.get()
    # the same address after every submission (it must not differ with what was typed)
    assert response.status_code == 302 and response["Location"] == "/dich-vu-cong/phan-anh/da-gui/"
    receipt = c.get(response["Location"])
    assert f.code in receipt.content.decode()
    assert f.citizen_id is None
    assert Client().get(response["Location"]).status_code == 404
    assert c.get(f"/dich-vu-cong/phan-anh/da-gui/{f.code}/").status_code == 200
    assert Client().get(f"/dich-vu-cong/phan-anh/da-gui/{f.code}/").status_code == 404


def test_csrf_is_enforced_on_the_public_form(people):
    c = Client(enforce_csrf_checks=True)
    assert submit(c, people["agency"]).status_code == 403


def test_attachment_is_checked_and_served_only_to_handlers(people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cchc.feedback.models import Feedback

    c = Client()
    fake = SimpleUploadedFile("anh.png", b"not a png", content_type="image/png")
    bad = c.post("/dich-vu-cong/phan-anh/gui/", {**form_data(people["agency"]), "files": fake})
    assert "không đúng định dạng" in bad.content.decode()
    pdf = SimpleUploadedFile("bien-nhan.pdf", PDF, content_type="application/pdf")
    c.post("/dich-vu-cong/phan-anh/gui/", {**form_data(people["agency"]), "files": pdf})
    f = Feedback.objects.get()
    stored = f.files.get()
    url = f"/phan-anh/{f.code}/tep/{stored.pk}/"
    assert client_for(people["officer"]).get(url).status_code == 200
    assert client_for(people["supervisor"]).get(url).status_code == 403
    assert client_for(people["outsider"]).get(url).status_code == 404


def test_citizen_sees_only_their_own(people):
    from cchc.feedback.models import Feedback

    mine = client_for(people["citizen"])
    submit(mine, people["agency"], subject="Của tôi")
    submit(client_for(people["other_citizen"]), people["agency"], subject="Của người khác")
    f = Feedback.objects.get(subject="Của tôi")
    assert f.citizen_id == people["citizen"].pk
    listing = mine.get("/dich-vu-cong/phan-anh/cua-toi/").content.decode()
    assert "Của tôi" in listing and "Của người khác" not in listing
    other = Feedback.objects.get(subject="Của người khác")
    assert mine.get(f"/dich-vu-cong/phan-anh/cua-toi/{other.code}/").status_code == 404
    assert mine.get(f"/dich-vu-cong/phan-anh/cua-toi/{f.code}/").status_code == 200
    # citizens have no staff queue
    assert mine.get("/phan-anh/").status_code == 403
    assert Client().get("/dich-vu-cong/phan-anh/cua-toi/").status_code == 302


def test_staff_queue_detail_and_actions(people):
    from cchc.feedback.models import Feedback

    submit(Client(), people["agency"])
    f = Feedback.objects.get()
    officer, leader = client_for(people["officer"]), client_for(people["leader"])
    queue = officer.get("/phan-anh/").content.decode()
    assert f.code in queue and "tiếp nhận hoặc từ chối" in queue.lower()
    page = officer.get(f"/phan-anh/{f.code}/").content.decode()
    assert "0912345678" in page and "Tiếp nhận xử lý" in page
    # a refused action keeps the text and explains
    r = officer.post(f"/phan-anh/{f.code}/thao-tac/", {"action": "reject", "text": ""})
    assert r.status_code == 302
    assert "Cần ghi lý do" in officer.get(f"/phan-anh/{f.code}/").content.decode()
    officer.post(f"/phan-anh/{f.code}/thao-tac/", {"action": "accept", "version": f.version})
    f.refresh_from_db()
    assert f.state == "accepted"
    # a stale version is a conflict, not a silent overwrite
    officer.post(f"/phan-anh/{f.code}/thao-tac/", {"action": "answer", "text": "x", "version": 1})
    f.refresh_from_db()
    assert f.state == "accepted"
    leader.post(
        f"/phan-anh/{f.code}/thao-tac/",
        {"action": "assign", "assignee": people["officer"].pk, "version": f.version},
    )
    f.refresh_from_db()
    assert f.assignee_id == people["officer"].pk
    officer.post(
        f"/phan-anh/{f.code}/thao-tac/",
        {"action": "answer", "text": "Sở đã chấn chỉnh.", "version": f.version},
    )
    officer.post(
        f"/phan-anh/{f.code}/thao-tac/",
        {"action": "publish", "text": "Cán bộ không hướng dẫn đầy đủ.", "version": f.version + 1},
    )
    f.refresh_from_db()
    assert f.state == "published" and f.public_content == "Cán bộ không hướng dẫn đầy đủ."
    filtered = officer.get("/phan-anh/?trang_thai=published").content.decode()
    assert f.code in filtered


def test_other_agency_and_supervisor(people):
    from cchc.feedback.models import Feedback

    submit(Client(), people["agency"])
    f = Feedback.objects.get()
    outsider = client_for(people["outsider"])
    assert f.code not in outsider.get("/phan-anh/").content.decode()
    assert outsider.get(f"/phan-anh/{f.code}/").status_code == 404
    assert outsider.post(f"/phan-anh/{f.code}/thao-tac/", {"action": "accept"}).status_code == 404
    f.refresh_from_db()
    assert f.state == "received"
    supervisor = client_for(people["supervisor"])
    page = supervisor.get(f"/phan-anh/{f.code}/").content.decode()
    assert "0912345678" not in page and "*******678" in page and "Nguyễn Thị Hoà" not in page
    assert "Thao tác" not in page
    r = supervisor.post(f"/phan-anh/{f.code}/thao-tac/", {"action": "accept"})
    assert r.status_code == 403


def test_published_answers_have_no_personal_data_and_rating(people):
    from cchc.feedback import services
    from cchc.feedback.models import Feedback

    citizen = client_for(people["citizen"])
    submit(citizen, people["agency"], email="hoa@example.vn")
    f = Feedback.objects.get()
    services.accept(people["leader"], f)
    services.answer(people["leader"], f, text="Nội dung trả lời công khai.")
    services.publish(people["leader"], f)
    public = Client().get("/dich-vu-cong/phan-anh/").content.decode()
    assert "Nội dung trả lời công khai." in public
    for secret in ("Nguyễn Thị Hoà", "0912345678", "hoa@example.vn"):
        assert secret not in public
    rate_url = f"/dich-vu-cong/phan-anh/{f.code}/danh-gia/"
    assert client_for(people["other_citizen"]).get(rate_url).status_code == 404
    assert Client().get(rate_url).status_code == 302  # sign in first
    bad = citizen.post(rate_url, {"comment": "?"})
    assert "Chọn mức độ hài lòng." in bad.content.decode()
    citizen.post(rate_url, {"satisfaction": "satisfied", "comment": "Cảm ơn"})
    f.refresh_from_db()
    assert f.satisfaction == "satisfied"
    # the anonymous sender's link from the e-mail
    submit(Client(), people["agency"], subject="Ẩn danh")
    anon = Feedback.objects.get(subject="Ẩn danh")
    services.accept(people["leader"], anon)
    services.answer(people["leader"], anon, text="Trả lời.")
    link = services.citizen_link(anon, rating=True)
    c = Client()
    assert c.get(link).status_code == 200
    token = link.split("?t=")[1]
    c.post(rate_url.replace(f.code, anon.code), {"satisfaction": "neutral", "t": token})
    anon.refresh_from_db()
    assert anon.satisfaction == "neutral"


def test_naming_a_dossier_waits_for_proof_on_the_form(world, people):
    """An anonymous sender naming a dossier: the receipt offers the code form; no complaint
    until then (see test_oracle.py for the identical answers)."""
    from cchc.feedback.models import Feedback

    d = world.intake(at=world.now)
    c = Client()
    no_agency = submit(c, people["agency"], agency="", dossier_code=d.code)
    assert (
        no_agency.status_code == 200 and "Chọn cơ quan nhận phản ánh" in no_agency.content.decode()
    )
    r = submit(c, people["agency"], dossier_code=d.code.lower())
    f = Feedback.objects.get()
    receipt = c.get(r["Location"]).content.decode()
    assert 'id="xac-nhan-ho-so"' in receipt and d.code in receipt
    d.refresh_from_db()
    assert f.dossier_id is None and not d.has_complaint


def test_the_sender_confirms_the_code_on_the_receipt_page(world, people):
    import re

    from cchc.feedback.models import Feedback
    from cchc.notifications.models import Notification

    d = world.intake(at=world.now)
    c = Client()
    submit(c, people["agency"], dossier_code=d.code, phone=d.applicant_phone)
    f = Feedback.objects.get()
    body = Notification.objects.get(kind="feedback.link_code").body
    code = re.search(r"\b(\d{6})\b", body).group(1)
    url = f"/dich-vu-cong/phan-anh/da-gui/{f.code}/xac-nhan/"
    # only the session that sent it
    assert Client().post(url, {"otp": code}).status_code == 404
    wrong = c.post(url, {"otp": "12345x"}, follow=True).content.decode()
    assert "Mã xác nhận không đúng" in wrong
    done = c.post(url, {"otp": code}, follow=True).content.decode()
    assert "Đã xác nhận" in done and 'id="xac-nhan-ho-so"' not in done
    d.refresh_from_db()
    f.refresh_from_db()
    assert f.dossier_id == d.pk and d.has_complaint


def test_the_officer_confirms_the_link_on_the_pakn_page(world, people, file_pakn):
    from tests.feedback.conftest import at

    d = world.intake(at=world.now)
    f = file_pakn(at("2024-06-04"), dossier_code=d.code, phone="0900000000", email="")
    leader = client_for(world.leader)
    page = leader.get(f"/phan-anh/{f.code}/").content.decode()
    assert 'id="ho-so-chua-xac-minh"' in page and 'value="link_dossier"' in page
    supervisor = client_for(people["supervisor"]).get(f"/phan-anh/{f.code}/").content.decode()
    assert 'value="link_dossier"' not in supervisor
    done = leader.post(
        f"/phan-anh/{f.code}/thao-tac/",
        {"action": "link_dossier", "version": f.version},
        follow=True,
    )
    assert "Đã thực hiện: Xác nhận hồ sơ liên quan." in done.content.decode()
    f.refresh_from_db()
    d.refresh_from_db()
    assert (f.dossier_id, f.dossier_link) == (d.pk, "linked") and d.has_complaint


def test_menu_entry_for_staff_only(people):
    assert "/phan-anh/" in client_for(people["officer"]).get("/").content.decode()
    assert 'href="/phan-anh/"' not in client_for(people["citizen"]).get("/").content.decode()


def test_citizen_sends_the_supplement_and_withdraws(people):
    from cchc.feedback import services
    from cchc.feedback.models import Feedback

    citizen = client_for(people["citizen"])
    submit(citizen, people["agency"])
    f = Feedback.objects.get()
    services.accept(people["leader"], f)
    services.request_supplement(people["leader"], f, reason="Cho biết ngày nộp hồ sơ.")
    url = f"/dich-vu-cong/phan-anh/cua-toi/{f.code}/"
    page = citizen.get(url).content.decode()
    assert "Cho biết ngày nộp hồ sơ." in page and "Gửi bổ sung" in page
    citizen.post(url, {"action": "supplement", "text": ""})
    f.refresh_from_db()
    assert f.state == "awaiting_supplement"
    citizen.post(url, {"action": "supplement", "text": "Ngày 3/6."})
    f.refresh_from_db()
    assert f.state == "in_progress" and f.events.last().actor_id == people["citizen"].pk
    # someone else cannot
    assert client_for(people["other_citizen"]).post(url, {"action": "withdraw"}).status_code == 404
    citizen.post(url, {"action": "withdraw", "reason": "Đã được giải quyết."})
    f.refresh_from_db()
    assert f.state == "withdrawn" and f.handled_on_time is None
