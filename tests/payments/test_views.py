"""The desk's refund and exemption forms, the simulator's merchant API over HTTP, the
read-only payment page for staff."""

from __future__ import annotations

import pytest

from cchc.payments import services
from cchc.payments.gateways import vnpay
from cchc.payments.models import Exemption, OrderStatus

pytestmark = pytest.mark.django_db


def test_refund_and_exemption_forms(client, pay):
    order, url = pay.start()
    pay.gateway_finishes(url, "success")
    client.force_login(pay.w.desk_officer)
    page = client.get(f"/ho-so/{pay.dossier.code}/").content.decode()
    assert f"/thanh-toan/giao-dich/{order.txn_ref}/hoan-tra/" in page
    response = client.post(
        f"/thanh-toan/giao-dich/{order.txn_ref}/hoan-tra/", {"amount": "200000", "reason": "Rút"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    response = client.post(
        f"/thanh-toan/ho-so/{pay.dossier.code}/mien-giam/", {"reason": "Hộ nghèo", "amount": ""}
    )
    assert response.status_code == 302
    assert Exemption.objects.get().amount == 200_000
    # a processing officer may not
    client.force_login(pay.w.officer)
    forbidden = client.post(
        f"/thanh-toan/giao-dich/{order.txn_ref}/hoan-tra/", {"amount": "1", "reason": "x"}
    )
    assert forbidden.status_code == 403


def test_staff_see_the_payment_page_without_paying(client, pay):
    client.force_login(pay.w.desk_officer)
    page = client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/")
    assert page.status_code == 200
    assert "Chọn cổng thanh toán" not in page.content.decode()
    assert (
        client.post(f"/thanh-toan/ho-so/{pay.dossier.code}/", {"gateway": "vnpay"}).status_code
        == 403
    )


def test_simulator_merchant_api_over_http(client, settings, pay):
    order, url = pay.start()
    pay.gateway_finishes(url, "success")
    conf = settings.CCHC_PAYMENT_GATEWAYS["vnpay"]
    body = {
        "vnp_RequestId": "r1",
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": conf["tmn_code"],
        "vnp_TxnRef": order.txn_ref,
        "vnp_TransactionDate": "20240603090000",
        "vnp_CreateDate": "20240603091500",
        "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": "q",
    }
    body["vnp_SecureHash"] = vnpay.pipe_checksum(
        conf["hash_secret"], vnpay.QUERY_REQUEST_FIELDS, body
    )
    answer = client.post("/gia-lap-thanh-toan/api/", body, content_type="application/json").json()
    assert answer["vnp_ResponseCode"] == "00" and answer["vnp_TransactionStatus"] == "00"
    assert answer["vnp_Amount"] == "20000000"
    assert answer["vnp_SecureHash"] == vnpay.pipe_checksum(
        conf["hash_secret"], vnpay.QUERY_RESPONSE_FIELDS, answer
    )
    bad = client.post(
        "/gia-lap-thanh-toan/api/",
        {**body, "vnp_SecureHash": "00"},
        content_type="application/json",
    ).json()
    assert bad["vnp_ResponseCode"] == "97"


def test_query_answer_with_a_bad_signature_is_not_trusted(pay, later):
    from cchc.payments import gateways

    order, url = pay.start()
    pay.gateway_finishes(url, "success", "timeout")
    gw = gateways.get("vnpay")
    tampered = vnpay.VnpayGateway(
        name="vnpay",
        label=gw.label,
        channel="2",
        tmn_code=gw.tmn_code,
        hash_secret=gw.hash_secret,
        pay_url="/gia-lap-thanh-toan/",
        api_url="/gia-lap-thanh-toan/api/",
        transport=lambda url, payload: {**vnpay.local_transport(url, payload), "vnp_Amount": "1"},
    )
    result = tampered.query(txn_ref=order.txn_ref, created_at=order.created_at, now=later(20))
    assert result.signature_valid is False
    assert services.owed(pay.dossier) == 200_000


def test_administrators_read_callbacks_in_the_admin(client, pay, make_user):
    from cchc.accounts.roles import Role

    order, url = pay.start()
    pay.gateway_finishes(url, "success", "forged")
    client.force_login(make_user(Role.ADMINISTRATOR))
    page = client.get("/admin/payments/gatewaycallback/")
    assert page.status_code == 200 and order.txn_ref in page.content.decode()
    assert client.get("/admin/payments/paymentorder/add/").status_code == 403


def test_the_payment_page_does_not_reveal_which_codes_exist(client, pay):
    # Anonymous: the same login redirect for a real and an invented code.
    real = client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/")
    invented = client.get("/thanh-toan/ho-so/000.00.30.H06-240603-9999/")
    assert real.status_code == invented.status_code == 302
    assert "/dang-nhap" in real["Location"] or "login" in real["Location"]
    # Signed in, but not the applicant nor staff of the dossier: the same 404 for both.
    client.force_login(pay.w.outsider)
    assert client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/").status_code == 404
    assert client.get("/thanh-toan/ho-so/000.00.30.H06-240603-9999/").status_code == 404
    # A forged pay link is no key either.
    client.logout()
    forged = client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/?t=gia-mao")
    assert forged.status_code == 302
