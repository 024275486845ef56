"""Issue 17 (citizen) in a real browser, as the demo citizen on a phone (375×812) and at
1366 px: submit with an error, fix it, and find one draft; follow the returned dossier and
download its electronic result; track with an empty code; rate «Không hài lòng» without a
reason and be asked for one. Every page: axe-core (no serious/critical violation), no
horizontal scroll at 375 px, screenshots at both widths (var/test-artifacts/screenshots/).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.fixtures import DEMO_PASSWORD
from tests.browser.fixtures import check_page as check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n% scan\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def demo(settings, tmp_path):
    from django.utils import timezone

    from cchc.demo.loader import load_demo

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SMS_OUTBOX = tmp_path / "sms.jsonl"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CCHC_2FA_REQUIRED_ROLES = []
    load_demo(now=timezone.now())


def test_citizen_on_a_phone(demo, page):
    from cchc.dossiers.models import Dossier, State
    from cchc.portal.models import Draft

    pg = page
    pg.set_viewport_size(PHONE)
    pg.goto("/dich-vu-cong/dang-nhap/")
    assert "Cổng Dịch vụ công" in pg.inner_text(".brand")
    pg.fill("#id_username", "congdan")
    pg.fill("#id_password", DEMO_PASSWORD)
    pg.click("main button[type=submit]")
    pg.wait_for_load_state()

    # 1. Track with an empty code: asked for it, not "not found".
    pg.goto("/dich-vu-cong/tra-cuu/")
    pg.click("main button:has-text('Tra cứu')")
    pg.wait_for_load_state()
    assert "Nhập mã hồ sơ để tra cứu" in pg.inner_text("main")
    assert "Không tìm thấy" not in pg.inner_text("main")
    check(pg, "track-empty")

    # 2. Submit with an error, fix it: one draft, then one dossier.
    returned = Dossier.objects.filter(
        applicant_user__username="congdan", state=State.RETURNED
    ).first()
    assert returned is not None, "the demo citizen has a returned dossier"
    drafts_before = Draft.objects.filter(citizen__username="congdan").count()
    pg.goto(f"/dich-vu-cong/thu-tuc/{returned.procedure.code}/nop/")
    assert "Tối đa 500 ký tự" in pg.inner_text("main")
    pg.fill("#matter", "Đề nghị cấp giấy phép. " * 30)  # 690 characters: the counter says so
    assert "vượt" in pg.inner_text("#matter-limit")
    pg.fill("#name", "")
    pg.click("button:has-text('Nộp hồ sơ')")
    pg.wait_for_load_state()
    assert "Hồ sơ chưa nộp được" in pg.inner_text(".messages")
    assert "«Nội dung yêu cầu» tối đa 500 ký tự" in pg.inner_text("main")
    assert pg.input_value("#matter").startswith("Đề nghị cấp giấy phép.")  # kept, whole
    check(pg, "submit-error")
    pg.fill("#name", "Nguyễn Văn Dân")
    pg.fill("#matter", "Đề nghị cấp giấy phép.")
    assert "Đã nhập 22/500 ký tự" in pg.inner_text("#matter-limit")
    pg.click("button:has-text('Nộp hồ sơ')")  # still missing files: refused again
    pg.wait_for_load_state()
    inputs = pg.locator("input[type=file][name^=doc_]:not([name=doc_other])")
    for i in range(inputs.count()):
        inputs.nth(i).set_input_files(
            files=[{"name": f"giay-to-{i + 1}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
    pg.click("button:has-text('Nộp hồ sơ')")
    pg.wait_for_load_state()
    assert "Đã nộp hồ sơ" in pg.inner_text(".messages")
    made = Draft.objects.filter(citizen__username="congdan").count() - drafts_before
    assert made == 1, f"{made} bản nháp cho một lần nộp"
    check(pg, "submitted")

    # 3. The returned dossier: download its electronic result from "Hồ sơ của tôi".
    pg.goto("/dich-vu-cong/ho-so/")
    check(pg, "my-dossiers")
    pg.click(f"a[href='/dich-vu-cong/ho-so/{returned.code}/']")
    pg.wait_for_load_state()
    link = pg.locator("a.result-download")
    assert link.inner_text().strip() == "Tải kết quả (PDF)"
    with pg.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{returned.code}-KQ1.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    check(pg, "returned")

    # 4. «Không hài lòng» without a reason: asked for one, then recorded with it.
    form = pg.locator("form.rate-form")
    form.locator("input[value=dissatisfied]").check()
    assert form.locator("fieldset.reasons").is_visible()
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state()
    assert "hãy cho biết lý do" in pg.inner_text("main")
    check(pg, "rate-asked")
    form = pg.locator("form.rate-form")
    assert form.locator("input[value=dissatisfied]").is_checked()
    form.locator("input[name=reasons][value=late]").check()
    form.locator("textarea[name=reason]").fill("Chờ lâu hơn hẹn.")
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state()
    assert "Cảm ơn bạn đã đánh giá" in pg.inner_text(".messages")
    returned.refresh_from_db()
    assert returned.rating == "dissatisfied"
    check(pg, "rated")
