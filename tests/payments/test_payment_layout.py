"""Payment pages in the citizen's portal layout (issue 17, item 7): a citizen or an anonymous
payer sees the public portal's frame and a way back to the dossier; officials keep theirs."""

from __future__ import annotations

import pytest

from cchc.payments import services

pytestmark = pytest.mark.django_db

PORTAL_NAV = 'aria-label="Cổng dịch vụ công"'


def test_the_citizen_pays_in_the_portal_and_can_go_back(client, pay):
    d = pay.dossier
    client.force_login(pay.w.citizen)
    page = client.get(f"/thanh-toan/ho-so/{d.code}/").content.decode()
    assert PORTAL_NAV in page and "Hồ sơ của tôi" in page
    assert f'href="/dich-vu-cong/ho-so/{d.code}/">← Quay lại hồ sơ {d.code}</a>' in page


def test_an_anonymous_payer_goes_back_to_tracking(client, pay):
    d = pay.dossier
    page = client.get(f"/thanh-toan/ho-so/{d.code}/?t={services.pay_token(d)}")
    text = page.content.decode()
    assert page.status_code == 200 and PORTAL_NAV in text
    assert f'href="/dich-vu-cong/tra-cuu/">← Quay lại tra cứu hồ sơ {d.code}</a>' in text


def test_officials_keep_the_staff_layout(client, pay):
    d = pay.desk_dossier
    client.force_login(pay.w.desk_officer)
    page = client.get(f"/thanh-toan/ho-so/{d.code}/").content.decode()
    assert PORTAL_NAV not in page
    assert f'href="/ho-so/{d.code}/">← Quay lại hồ sơ {d.code}</a>' in page


def test_the_result_page_leads_back_to_the_dossier(client, pay):
    order, url = pay.start()
    back = pay.gateway_finishes(url)
    client.force_login(pay.w.citizen)
    page = client.get(back.return_url).content.decode()
    assert PORTAL_NAV in page and 'data-outcome="paid"' in page
    assert f"← Quay lại hồ sơ {order.dossier.code}" in page


def test_payment_pages_query_count_is_bounded(client, pay, django_assert_max_num_queries):
    d = pay.dossier
    client.force_login(pay.w.citizen)
    client.get(f"/thanh-toan/ho-so/{d.code}/")
    with django_assert_max_num_queries(25):
        assert client.get(f"/thanh-toan/ho-so/{d.code}/").status_code == 200
