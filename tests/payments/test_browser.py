"""The citizen pays a dossier's fee in a real browser through the gateway simulator."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-congdan-2026!"


def test_citizen_pays_online(page, world, make_user):
    from cchc.accounts.roles import Role
    from cchc.dossiers import intake
    from cchc.dossiers.models import Dossier
    from tests.dossiers.factories import applicant, components_for

    citizen = make_user(Role.CITIZEN, password=PASSWORD)
    dossier = intake.submit_online(
        citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=world.now,
    )
    login(page, citizen.username, PASSWORD)
    page.goto(f"/thanh-toan/ho-so/{dossier.code}/")
    assert page.locator("[data-owed]").inner_text() == "200.000 đ"
    page.shot("payment-page")
    page.get_by_role("button", name="Thanh toán 200.000 đ").click()
    page.wait_for_url("**/gia-lap-thanh-toan/**")
    page.shot("gateway-simulator")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/thanh-toan/ket-qua/**")
    page.shot("result")
    assert "Thanh toán thành công" in page.locator("[data-outcome=paid]").inner_text()
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.paid_amount == 200_000 and dossier.payment_channel == "2"
