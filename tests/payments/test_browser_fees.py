"""Fees before results in a real browser (issue 17, items 1 and 7): the desk officer tries to
return a dossier whose fee is unpaid, is told the amount, collects the cash in the same step
and returns it; a citizen pays online from the portal and goes back to the dossier. Every
page: axe-core (no serious/critical violation), screenshots at 1366 px and 375 px, no
horizontal scroll at 375 px."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import check_page as check
from tests.browser.fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-thu-phi-2026!"


def resolved_unpaid(world, dossier, settings):
    """Brought to "resolved" with the rule off, as before the rule existed."""
    from cchc.dossiers import services

    settings.CCHC_FEES_BEFORE_RESULT = False
    services.act(world.leader, dossier, "assign", data={"assignee": world.officer.pk})
    services.act(world.officer, dossier, "propose")
    services.act(world.leader, dossier, "approve")
    settings.CCHC_FEES_BEFORE_RESULT = True
    return dossier


def test_desk_returns_only_after_collecting_the_fee(page, world, settings):
    from cchc.accounts.roles import Role
    from cchc.dossiers.models import Dossier, State
    from cchc.payments.models import Receipt
    from tests.factories import make_user

    desk = make_user(
        Role.DESK_OFFICER,
        now=world.now,
        agency=world.desk.host_agency,
        desk=world.desk,
        password=PASSWORD,
    )
    dossier = resolved_unpaid(world, world.intake(), settings)
    login(page, desk.username, PASSWORD)
    page.goto(f"/ho-so/{dossier.code}/")
    action = page.locator("details.action", has=page.locator("input[value=return_result]"))
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    assert "Hồ sơ còn nợ 200.000 đ phí, lệ phí" in action.inner_text()
    check(page, "return-form")
    action.get_by_role("button", name="Trả kết quả").click()
    page.wait_for_load_state()
    message = page.locator(".msg.error").first.inner_text()
    assert f"Hồ sơ {dossier.code} còn nợ 200.000 đ phí, lệ phí" in message
    assert Dossier.objects.get(pk=dossier.pk).state == State.RESOLVED
    check(page, "refused")
    action = page.locator("details.action", has=page.locator("input[value=return_result]"))
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    action.get_by_label("Thu tiền mặt ngay trong bước này").fill("200000")
    action.get_by_role("button", name="Trả kết quả").click()
    page.wait_for_load_state()
    assert "Trả kết quả: đã ghi nhận." in page.locator(".msg.success").first.inner_text()
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == State.RETURNED and dossier.paid_amount == 200_000
    receipt = Receipt.objects.get(dossier=dossier)
    assert page.get_by_role("link", name=f"Biên lai số {receipt.number}").is_visible()
    check(page, "returned-with-receipt")


def test_citizen_pays_online_and_goes_back_to_the_dossier(page, world, settings):
    from cchc.accounts.roles import Role
    from cchc.dossiers import intake, services
    from cchc.dossiers.models import Dossier
    from tests.dossiers.factories import applicant, components_for
    from tests.factories import make_user

    citizen = make_user(Role.CITIZEN, now=world.now, password=PASSWORD)
    dossier = intake.submit_online(
        citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=world.now,
    )
    services.act(world.desk_officer, dossier, "receive")
    login(page, citizen.username, PASSWORD)
    page.goto(f"/dich-vu-cong/ho-so/{dossier.code}/")
    page.get_by_role("link", name="Thanh toán trực tuyến").click()
    page.wait_for_url(f"**/thanh-toan/ho-so/{dossier.code}/**")
    assert page.locator("nav[aria-label='Cổng dịch vụ công']").is_visible()
    check(page, "portal-payment")
    page.get_by_role("button", name="Thanh toán 200.000 đ").click()
    page.wait_for_url("**/gia-lap-thanh-toan/**")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/thanh-toan/ket-qua/**")
    assert "Thanh toán thành công" in page.locator("[data-outcome=paid]").inner_text()
    check(page, "portal-payment-result")
    page.get_by_role("link", name=f"← Quay lại hồ sơ {dossier.code}").click()
    page.wait_for_url(f"**/dich-vu-cong/ho-so/{dossier.code}/")
    text = page.locator("[data-status=payment]").inner_text()
    assert "đã thanh toán đủ 200.000 đ" in text
    assert Dossier.objects.get(pk=dossier.pk).paid_amount == 200_000
    check(page, "portal-dossier-paid")
