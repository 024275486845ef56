"""Browser journey: a citizen files PAKN on a phone-sized screen, an officer accepts, answers
and publishes it, the citizen rates the answer."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-phan-anh-2024!"


@pytest.fixture
def journey(org, now):
    from cchc.accounts.roles import Role
    from tests.factories import make_user

    citizen = make_user(Role.CITIZEN, now=now, password=PASSWORD)
    leader = make_user(Role.AGENCY_LEADER, now=now, agency=org.justice_2025, password=PASSWORD)
    return org.justice_2025, citizen, leader


def test_file_answer_publish_and_rate(page, journey):
    from cchc.feedback.models import Feedback

    agency, citizen, leader = journey
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, citizen.username, PASSWORD)
    page.goto("/dich-vu-cong/phan-anh/gui/")
    page.fill("input[name=name]", "Đỗ Thị Mai")
    page.fill("input[name=phone]", "0912345678")
    page.select_option("select[name=agency]", str(agency.pk))
    page.fill("input[name=subject]", "Hướng dẫn chưa rõ ràng")
    page.get_by_role("button", name="Gửi phản ánh").click()
    page.get_by_text("Mục này không được để trống.").wait_for()  # content missing
    assert page.input_value("input[name=subject]") == "Hướng dẫn chưa rõ ràng"
    page.fill(
        "textarea[name=content]", "Cán bộ không hướng dẫn đủ giấy tờ cần nộp, tôi phải đi lại."
    )
    page.shot("gui-phan-anh-375")
    page.get_by_role("button", name="Gửi phản ánh").click()
    page.locator("#ma-phan-anh").wait_for()
    code = page.locator("#ma-phan-anh").inner_text()
    page.shot("da-gui")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page wider than a phone screen: {width}px"
    logout(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, leader.username, PASSWORD)
    page.goto("/phan-anh/")
    page.get_by_role("link", name=code).click()
    page.locator("details[data-action=accept] summary").click()
    page.locator("details[data-action=accept] button").click()
    page.get_by_text("Đã thực hiện: Tiếp nhận xử lý.").wait_for()
    page.locator("details[data-action=answer] summary").click()
    page.fill("details[data-action=answer] textarea", "Sở đã chấn chỉnh và niêm yết lại hướng dẫn.")
    page.locator("details[data-action=answer] button").click()
    page.get_by_text("Đã thực hiện: Trả lời.").wait_for()
    page.locator("details[data-action=publish] summary").click()
    page.locator("details[data-action=publish] button").click()
    page.get_by_text("Đã thực hiện: Công khai trả lời.").wait_for()
    page.shot("can-bo-da-cong-khai")
    logout(page)

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/dich-vu-cong/phan-anh/")
    assert page.get_by_text("Sở đã chấn chỉnh").count() == 1
    assert page.get_by_text("0912345678").count() == 0
    login(page, citizen.username, PASSWORD)
    page.goto("/dich-vu-cong/phan-anh/cua-toi/")
    page.get_by_role("link", name="Đánh giá trả lời").click()
    page.get_by_label("Hài lòng", exact=True).check()
    page.fill("textarea[name=comment]", "Cảm ơn Sở.")
    page.shot("danh-gia")
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_text("Cảm ơn bạn đã đánh giá").wait_for()
    page.shot("da-danh-gia")
    f = Feedback.objects.get(code=code)
    assert (f.state, f.satisfaction, f.handled_on_time) == ("published", "satisfied", True)
