"""Online payment end to end through the simulator: success, failure, cancel, forged,
duplicate, wrong amount, lost IPN + reconciliation, expiry and late callbacks, unknown
orders."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from cchc.dossiers.models import DossierEvent
from cchc.payments import callbacks, services
from cchc.payments.gateways import vnpay
from cchc.payments.models import GatewayCallback, OrderStatus, PaymentOrder, Receipt

pytestmark = pytest.mark.django_db


def pay_events(dossier):
    return list(DossierEvent.objects.filter(dossier=dossier, action="pay"))


def test_success_through_the_pages(client, pay):
    client.force_login(pay.w.citizen)
    page = client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Phí cung cấp thông tin lý lịch tư pháp" in text
    assert 'data-owed="200000"' in text

    response = client.post(f"/thanh-toan/ho-so/{pay.dossier.code}/", {"gateway": "vnpay"})
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith("/gia-lap-thanh-toan/?")
    order = PaymentOrder.objects.get(dossier=pay.dossier)
    assert order.status == OrderStatus.PENDING and order.amount == 200_000
    assert order.channel == "2"

    gateway_page = client.get(target)
    assert gateway_page.status_code == 200
    assert "200.000" in gateway_page.content.decode()
    back = client.post(
        "/gia-lap-thanh-toan/xu-ly/",
        {"q": urlsplit(target).query, "choice": "success", "hook": ""},
    )
    assert back.status_code == 302
    assert back["Location"].startswith("http://testserver/thanh-toan/ket-qua/?cong=vnpay&vnp_")
    result = client.get(back["Location"])
    assert 'data-outcome="paid"' in result.content.decode()

    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.gateway_txn_no
    assert pay.dossier.paid_amount == 200_000
    assert pay.dossier.payment_channel == "2"
    [event] = pay_events(pay.dossier)
    receipt = Receipt.objects.get(order=order)
    assert event.data == {
        "amount": 200_000,
        "channel": "2",
        "order": order.txn_ref,
        "receipt": receipt.number,
    }
    assert event.actor_id is None
    kinds = sorted(GatewayCallback.objects.values_list("kind", "outcome"))
    assert kinds == [("ipn", "paid"), ("return", "paid")]
    # the applicant downloads the receipt
    pdf = client.get(f"/thanh-toan/bien-lai/{receipt.number}/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("choice", "status"), [("failure", OrderStatus.FAILED), ("cancel", OrderStatus.CANCELLED)]
)
def test_failure_and_cancel_pay_nothing(client, pay, choice, status):
    order, url = pay.start()
    done = pay.gateway_finishes(url, choice)
    assert done.ipn_answers == [{"RspCode": "00", "Message": "Confirm Success"}]
    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == status
    assert pay.dossier.paid_amount == 0 and pay_events(pay.dossier) == []
    page = client.get(done.return_url)
    assert f'data-outcome="{status}"' in page.content.decode()


def test_forged_signature_is_rejected_and_logged(client, pay):
    order, url = pay.start()
    done = pay.gateway_finishes(url, "success", "forged")
    assert done.ipn_answers == [{"RspCode": "97", "Message": "Invalid signature"}]
    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert pay.dossier.paid_amount == 0 and pay_events(pay.dossier) == []
    logged = GatewayCallback.objects.get(kind="ipn")
    assert logged.signature_valid is False and logged.outcome == "forged"
    assert logged.params["vnp_TxnRef"] == order.txn_ref
    page = client.get(done.return_url)
    assert 'data-outcome="invalid"' in page.content.decode()


def test_duplicate_ipn_pays_once(pay):
    _order, url = pay.start()
    done = pay.gateway_finishes(url, "success", "duplicate")
    assert [a["RspCode"] for a in done.ipn_answers] == ["00", "02"]
    pay.dossier.refresh_from_db()
    assert pay.dossier.paid_amount == 200_000
    assert len(pay_events(pay.dossier)) == 1
    assert Receipt.objects.filter(dossier=pay.dossier).count() == 1
    outcomes = list(GatewayCallback.objects.filter(kind="ipn").values_list("outcome", flat=True))
    assert sorted(outcomes) == ["duplicate", "paid"]


def test_wrong_amount_is_rejected(pay):
    order, url = pay.start()
    done = pay.gateway_finishes(url, "success", "wrong_amount")
    assert done.ipn_answers[0]["RspCode"] == "04"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert pay_events(pay.dossier) == []
    assert GatewayCallback.objects.get(kind="ipn").outcome == "wrong_amount"


def test_lost_ipn_is_fixed_by_reconciliation(client, pay, later):
    order, url = pay.start()
    done = pay.gateway_finishes(url, "success", "timeout")
    assert done.ipn_answers == []
    # the browser says success, but only the IPN (or reconciliation) is trusted
    page = client.get(done.return_url).content.decode()
    assert 'data-outcome="waiting"' in page and "Đang chờ xác nhận" in page
    assert callbacks.reconcile(now=later(5)).checked == 0  # too recent to ask
    report = callbacks.reconcile(now=later(20))
    assert report.paid == [order.txn_ref]
    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == OrderStatus.PAID and not order.late
    assert pay.dossier.paid_amount == 200_000
    assert len(pay_events(pay.dossier)) == 1
    assert GatewayCallback.objects.filter(kind="query", outcome="paid").count() == 1
    # a second run has nothing left to do
    assert callbacks.reconcile(now=later(40)).checked == 0


def test_abandoned_order_expires(pay, later):
    order, _url = pay.start()  # the citizen never pays
    report = callbacks.reconcile(now=later(20))
    assert report.expired == [order.txn_ref]
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


def test_failed_payment_found_by_reconciliation(pay, later):
    order, url = pay.start()
    pay.gateway_finishes(url, "failure", "timeout")
    assert callbacks.reconcile(now=later(20)).failed == [order.txn_ref]


def test_late_success_after_expiry_is_recorded(pay, later):
    order, url = pay.start()
    checked_before_expiry = pay.gateway_finishes  # the citizen is still on the gateway page
    callbacks.reconcile(now=later(20))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    done = checked_before_expiry(url, "success")  # ...and pays after all
    assert done.ipn_answers[0]["RspCode"] == "00"
    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.late
    assert not order.needs_refund
    assert pay.dossier.paid_amount == 200_000
    assert GatewayCallback.objects.get(kind="ipn").outcome == "paid_late"


def test_late_failure_after_expiry_changes_nothing(pay, later):
    order, url = pay.start()
    callbacks.reconcile(now=later(20))
    done = pay.gateway_finishes(url, "failure")
    assert done.ipn_answers[0]["RspCode"] == "02"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


def test_superseded_order_paid_late_is_flagged_for_refund(pay):
    first, first_url = pay.start()
    _second, second_url = pay.start()
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED
    pay.gateway_finishes(second_url, "success")
    pay.gateway_finishes(first_url, "success")  # both tabs were paid
    first.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert first.status == OrderStatus.PAID and first.needs_refund
    assert pay.dossier.paid_amount == 400_000  # the money is real; the desk refunds it


def test_unknown_order_is_logged_without_side_effects(client, pay):
    from django.conf import settings

    secret = settings.CCHC_PAYMENT_GATEWAYS["vnpay"]["hash_secret"]
    params = {
        "vnp_Amount": "20000000",
        "vnp_TmnCode": settings.CCHC_PAYMENT_GATEWAYS["vnpay"]["tmn_code"],
        "vnp_TxnRef": "KHONGCO123",
        "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00",
        "vnp_TransactionNo": "1",
    }
    params["vnp_SecureHash"] = vnpay.sign_params(secret, params)
    response = client.get("/thanh-toan/ipn/vnpay/", params)
    assert response.status_code == 200
    assert response.json() == {"RspCode": "01", "Message": "Order not found"}
    logged = GatewayCallback.objects.get()
    assert logged.outcome == "unknown_order" and logged.signature_valid and logged.order is None
    assert PaymentOrder.objects.count() == 0
    assert pay_events(pay.dossier) == []


def test_ipn_endpoint_rejects_garbage_and_unknown_gateways(client, pay):
    response = client.get("/thanh-toan/ipn/vnpay/", {"vnp_TxnRef": "X", "vnp_SecureHash": "00"})
    assert response.json()["RspCode"] == "97"
    assert client.post("/thanh-toan/ipn/vnpay/", {"vnp_TxnRef": "X"}).json()["RspCode"] == "97"
    assert client.get("/thanh-toan/ipn/khong-co/").status_code == 404
    assert GatewayCallback.objects.filter(outcome="forged").count() == 2


def test_simulator_refuses_a_tampered_request(client, pay):
    _order, url = pay.start()
    params = dict(parse_qsl(urlsplit(url).query))
    params["vnp_Amount"] = "100"
    response = client.get("/gia-lap-thanh-toan/", params)
    assert response.status_code == 400
    assert "Sai chữ ký" in response.content.decode()


def test_simulator_is_off_in_production(client, settings, pay):
    settings.CCHC_PAYMENT_SIMULATOR = False
    assert client.get("/gia-lap-thanh-toan/").status_code == 404
    assert (
        client.post("/gia-lap-thanh-toan/api/", "{}", content_type="application/json").status_code
        == 404
    )


def test_superseded_attempt_paid_without_ipn_is_found_by_reconciliation(pay, later):
    first, first_url = pay.start()
    _second, _ = pay.start()
    pay.gateway_finishes(first_url, "success", "timeout")  # paid in the old tab, IPN lost
    report = callbacks.reconcile(now=later(20))
    assert first.txn_ref in report.paid
    first.refresh_from_db()
    assert first.status == OrderStatus.PAID and first.late
    pay.dossier.refresh_from_db()
    assert pay.dossier.paid_amount == 200_000


def test_superseded_unpaid_attempt_is_asked_about_until_it_expires(pay, later):
    first, _ = pay.start()
    pay.start()
    assert first.txn_ref in callbacks.reconcile(now=later(5)).unchanged
    callbacks.reconcile(now=later(20))
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED and first.response_code == "91"
    assert first.txn_ref not in callbacks.reconcile(now=later(40)).unchanged


def test_money_arriving_after_the_dossier_closed_is_flagged_for_refund(pay):
    from cchc.dossiers import services as dossier_services

    order, url = pay.start()
    dossier_services.act(pay.w.desk_officer, pay.dossier, "withdraw", reason="Người nộp rút")
    done = pay.gateway_finishes(url, "success")
    assert done.ipn_answers[0]["RspCode"] == "00"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.needs_refund
    assert not order.recorded_on_dossier and pay_events(pay.dossier) == []
    services.refund(pay.w.desk_officer, order, 200_000, "Hồ sơ đã rút")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and not order.needs_refund
    assert list(DossierEvent.objects.filter(dossier=pay.dossier, action="refund")) == []
