"""The citizen's journey in a real browser: search the catalogue without diacritics,
register, submit online with files (after saving a draft), the desk receives it at /ho-so/,
the citizen tracks it anonymously and reads how the appointment was computed, the officers
process, approve and return it, and the citizen rates the service.

Every portal page visited is checked with axe-core (no serious or critical violations) and
at a 375 px wide viewport (no horizontal scrolling). Screenshots: var/test-artifacts/.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.dossiers.models import Dossier
from cchc.vietnamese import money
from tests.browser.fixtures import check_page as check
from tests.browser.fixtures import login, logout
from tests.conftest import VN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-portal-2026!"
CITIZEN_PASSWORD = "Mat-khau-cong-dan-2026"
PDF = b"%PDF-1.4\n% scan\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current.astimezone(dt.UTC)

    def set(self, day: str, hm: str) -> None:
        self.current = dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=VN)


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    fake = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=VN))
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def people(page, clock, settings, tmp_path):
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.models import Agency, Desk
    from cchc.org.structure import load_structure
    from tests.factories import make_user

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SMS_OUTBOX = tmp_path / "sms.jsonl"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now = clock.current
    load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=now)
    day = dt.date(2026, 11, 23)
    desk = Desk.objects.valid_on(day).get(code="TTPVHCC-BN")
    building = Agency.objects.valid_on(day).get(
        short_name="Sở Xây dựng", agency_type__level__rank=1
    )

    def user(role, **scope):
        return make_user(role, now=now, password=PASSWORD, **scope)

    return {
        "desk": user("desk_officer", agency=desk.host_agency, desk=desk),
        "officer": user("processing_officer", agency=building),
        "leader": user("agency_leader", agency=building),
    }


def portal_login(pg) -> None:
    pg.goto("/dich-vu-cong/dang-nhap/")
    pg.fill("#id_username", "0912345678")
    pg.fill("#id_password", CITIZEN_PASSWORD)
    pg.click("main button[type=submit]")
    pg.wait_for_load_state()


def staff_act(pg, label: str, reason: str | None = None, **selects: str) -> None:
    box = pg.locator("details.action", has=pg.locator("summary", has_text=label)).first
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    form = box.locator("form")
    for name, value in selects.items():
        form.locator(f"select[name={name}]").select_option(value)
    if reason is not None:
        form.locator("textarea[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state()


def test_citizen_journey(page, people, clock):
    pg = page
    desk, officer, leader = people["desk"], people["officer"], people["leader"]

    # 1. A visitor searches the catalogue without diacritics.
    pg.goto("/dich-vu-cong/")
    check(pg, "home")
    pg.fill("#home-q", "cap giay phep")
    pg.click("button:has-text('Tìm kiếm')")
    pg.wait_for_load_state()
    assert "Cấp giấy phép" in pg.inner_text("ul.results")
    # Narrow down to full online services.
    pg.select_option("#muc_do", "full")
    pg.click("form[role=search] button:has-text('Tìm')")
    pg.wait_for_load_state()
    assert "Thủ tục cấp lại giấy phép xây dựng" in pg.inner_text("ul.results")
    check(pg, "catalogue")
    pg.click("a:has-text('Thủ tục cấp lại giấy phép xây dựng')")
    pg.wait_for_load_state()
    assert "Dịch vụ công trực tuyến toàn trình" in pg.inner_text("body")
    assert "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh" in pg.inner_text("body")
    check(pg, "procedure")

    # 2. Submitting needs an account: the visitor registers on the way.
    pg.click("a:has-text('Nộp hồ sơ trực tuyến')")
    pg.wait_for_load_state()
    assert "/dich-vu-cong/dang-nhap/" in pg.url
    check(pg, "login")
    pg.click(".card a:has-text('Đăng ký')")
    pg.wait_for_load_state()
    check(pg, "register")
    pg.fill("#full_name", "Nguyễn Thị Hoà")
    pg.fill("#identifier", "0912345678")
    pg.fill("#id_number", "024190001234")
    pg.fill("#password", CITIZEN_PASSWORD)
    pg.fill("#password2", CITIZEN_PASSWORD)
    pg.click("button:has-text('Đăng ký')")
    pg.wait_for_load_state()
    assert "/nop/" in pg.url, pg.url
    assert pg.input_value("#name") == "Nguyễn Thị Hoà"  # prefilled from the account
    assert pg.input_value("#phone") == "0912345678"
    check(pg, "submit-form")

    # 3. Files for every document; save a draft first, then submit it.
    inputs = pg.locator("input[type=file][name^=doc_]:not([name=doc_other])")
    for i in range(inputs.count()):
        inputs.nth(i).set_input_files(
            files=[{"name": f"giay-to-{i + 1}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
    pg.fill("#email", "hoa@example.vn")
    pg.click("button:has-text('Lưu nháp')")
    pg.wait_for_load_state()
    assert "Đã lưu nháp" in pg.inner_text(".messages")
    assert "/dich-vu-cong/nhap/" in pg.url
    check(pg, "draft")
    pg.click("button:has-text('Nộp hồ sơ')")
    pg.wait_for_load_state()
    assert "Đã nộp hồ sơ" in pg.inner_text(".messages")
    code = pg.locator("h1").inner_text().split()[2]
    assert code.startswith("000.00.16.H05-261123-")
    assert "đang chờ bộ phận một cửa kiểm tra" in pg.inner_text("[data-status=plain]")
    check(pg, "dossier-submitted")
    logout(pg)

    # 4. The desk officer receives it at /ho-so/ at 10:00.
    clock.set("2026-11-23", "10:00")
    login(pg, desk.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    assert "Trực tuyến" in pg.inner_text("body")
    staff_act(pg, "Tiếp nhận hồ sơ")
    assert "Đã tiếp nhận" in pg.inner_text(".state.big")
    assert "Thông báo đã gửi" in pg.inner_text("body")
    pg.shot("desk-received")
    logout(pg)

    # 5. The citizen tracks it without signing in: appointment and how it was computed.
    pg.goto("/dich-vu-cong/tra-cuu/")
    check(pg, "track-form")
    pg.fill("#code", code)
    pg.fill("#factor", "0912 345 678")
    pg.click("button:has-text('Tra cứu')")
    pg.wait_for_load_state()
    # 5 working days from Monday 10:00, skipping Tuesday 24/11 (a day off in 2026).
    assert pg.inner_text("[data-status=due]").strip() == "10:00 01/12/2026"
    explanation = pg.inner_text("details.explanation")
    assert "24/11/2026" in explanation
    check(pg, "track-result")
    # A wrong second factor reveals nothing.
    pg.goto("/dich-vu-cong/tra-cuu/")
    pg.fill("#code", code)
    pg.fill("#factor", "0900000000")
    pg.click("button:has-text('Tra cứu')")
    pg.wait_for_load_state()
    assert "Không tìm thấy hồ sơ" in pg.inner_text("[role=alert]")

    # 6. The officers process, approve; the desk returns the result.
    clock.set("2026-11-23", "14:00")
    login(pg, leader.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    staff_act(pg, "Phân công xử lý", assignee=str(officer.pk))
    logout(pg)
    clock.set("2026-11-25", "09:00")
    login(pg, officer.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    staff_act(pg, "Trình lãnh đạo phê duyệt")
    logout(pg)
    clock.set("2026-11-25", "10:00")
    login(pg, leader.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    staff_act(pg, "Phê duyệt kết quả")
    assert "Đã xử lý xong" in pg.inner_text(".state.big")
    logout(pg)

    # 7. The citizen pays the fee online through the gateway simulator (VNPAY protocol).
    portal_login(pg)
    pg.goto(f"/dich-vu-cong/ho-so/{code}/")
    pg.click("a:has-text('Thanh toán trực tuyến')")
    pg.wait_for_load_state()
    owed = pg.inner_text("[data-owed]").strip()
    assert owed == money(Dossier.objects.get(code=code).fee_total) and owed != "0 đ"
    check(pg, "payment-start")
    pg.get_by_role("button", name=f"Thanh toán {owed}").click()
    pg.wait_for_url("**/gia-lap-thanh-toan/**")
    pg.shot("payment-gateway-simulator")
    pg.get_by_role("button", name="Xác nhận").click()
    pg.wait_for_url("**/thanh-toan/ket-qua/**")
    assert "Thanh toán thành công" in pg.inner_text("[data-outcome=paid]")
    check(pg, "payment-result")
    pg.goto(f"/dich-vu-cong/ho-so/{code}/")
    assert "Thanh toán trực tuyến" not in pg.inner_text("main")  # nothing owed any more
    paid = Dossier.objects.get(code=code)
    assert (paid.paid_amount, paid.payment_channel) == (paid.fee_total, "2")
    logout(pg)

    clock.set("2026-11-25", "14:00")
    login(pg, desk.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    staff_act(pg, "Trả kết quả")
    assert "Đã trả kết quả" in pg.inner_text(".state.big")
    logout(pg)

    # 8. The citizen signs in and rates the service.
    portal_login(pg)
    pg.goto("/dich-vu-cong/ho-so/")
    check(pg, "my-dossiers")
    pg.click(f"a:has-text('{code}')")
    pg.wait_for_load_state()
    assert "Đã trả kết quả" in pg.inner_text("[data-status=plain]")
    assert f"{code}-KQ1" in pg.inner_text("body")
    check(pg, "dossier-returned")
    pg.check("input[name=rating][value=satisfied]")
    pg.fill("#rate-comment", "Nhanh, không phải đi lại.")
    pg.click("button:has-text('Gửi đánh giá')")
    pg.wait_for_load_state()
    assert "Cảm ơn bạn đã đánh giá" in pg.inner_text(".messages")
    assert "Bạn đã đánh giá: Hài lòng" in pg.inner_text("body")
    notes = pg.inner_text("ul.notifications")
    assert "đã được tiếp nhận" in notes and "Tin nhắn SMS" in notes
    check(pg, "dossier-rated")
    pg.goto("/dich-vu-cong/nhap/")
    check(pg, "drafts")
