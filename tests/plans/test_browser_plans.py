"""Browser journey: a focal point reports progress with an evidence file, the Department of
Home Affairs accepts it, and the plan overview counts the task as done."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(page, now, tmp_path):
    import datetime as dt

    from cchc.accounts.policy import SYSTEM
    from cchc.demo.loader import DATA_DIR
    from cchc.org.models import AdministrativeUnit
    from cchc.org.structure import load_structure
    from cchc.plans import services
    from tests.factories import make_user
    from tests.plans.conftest import agency

    load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)
    plan = services.load_plan(SYSTEM, services.SHIPPED_PLAN, now=now).plan
    focal = make_user(
        "par_focal_point", now=now, agency=agency("Sở Tư pháp"), password="Mk-thu-2024!"
    )
    province = AdministrativeUnit.objects.valid_on(dt.date(2024, 6, 1)).get(code="24")
    reviewer = make_user("provincial_supervisor", now=now, unit=province, password="Mk-thu-2024!")
    evidence = tmp_path / "bao-cao-ra-soat.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%browser test\n%%EOF\n")
    return plan, focal, reviewer, evidence


def _done_count(page) -> int:
    return int(page.locator('#bang-noi-dung th[data-total="done_late"]').inner_text()) + int(
        page.locator('#bang-noi-dung th[data-total="done_on_time"]').inner_text()
    )


def test_report_accept_and_overview_changes(page, journey):
    plan, focal, reviewer, evidence = journey
    task = plan.tasks.get(code="1.2")
    login(page, focal.username, "Mk-thu-2024!")
    page.goto("/ke-hoach/")
    before = _done_count(page)
    page.goto("/ke-hoach/cua-toi/")
    page.get_by_role("link", name="Rà soát, hệ thống hóa").click()
    page.fill("input[name=progress]", "100")
    page.fill("textarea[name=note]", "Đã hoàn thành rà soát, gửi kèm báo cáo kết quả.")
    page.check("input[name=completed]")
    page.set_input_files("input[name=files]", str(evidence))
    page.shot("bao-cao")
    page.get_by_role("button", name="Gửi báo cáo").click()
    page.get_by_text("chờ Sở Nội vụ thẩm định").wait_for()
    assert page.get_by_text("bao-cao-ra-soat.pdf").count() == 1
    page.goto("/ke-hoach/")
    assert _done_count(page) == before  # not done until accepted
    logout(page)

    login(page, reviewer.username, "Mk-thu-2024!")
    page.goto(f"/ke-hoach/nhiem-vu/{task.pk}/")
    page.fill("input[name=note]", "Đạt yêu cầu.")
    page.get_by_role("button", name="Chấp nhận").click()
    page.get_by_text("Đã chấp nhận báo cáo.").wait_for()
    page.shot("da-chap-nhan")
    page.goto("/ke-hoach/")
    assert _done_count(page) == before + 1
    page.shot("tong-quan")
