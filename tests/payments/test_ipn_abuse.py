"""The IPN endpoint cannot be used to fill the disk or the audit log: only the protocol's
known fields are stored (capped), callbacks with a bad signature are counted and sampled
rather than stored and audited one by one, and the gateway's addresses may be listed."""

from __future__ import annotations

import json

import pytest

from cchc.audit.models import AuditEntry
from cchc.payments.gateways import vnpay
from cchc.payments.models import GatewayCallback, RejectedCallbackCount

pytestmark = pytest.mark.django_db
IPN = "/thanh-toan/ipn/vnpay/"


def stored_bytes() -> int:
    rows = GatewayCallback.objects.values_list("params", "raw_query", "error", "txn_ref")
    callbacks = sum(len(json.dumps(p)) + len(r) + len(e) + len(t) for p, r, e, t in rows)
    return callbacks + 100 * RejectedCallbackCount.objects.count()


@pytest.fixture
def unlimited(settings):
    settings.CCHC_RATE_LIMITS = {**settings.CCHC_RATE_LIMITS, "ipn": (0, 1)}


def test_nine_hundred_junk_parameters_store_under_ten_kilobytes(client, pay, unlimited):
    audit_before = AuditEntry.objects.count()
    junk = {f"x{i}": "A" * 1000 for i in range(450)}
    junk |= {f"vnp_Junk{i}": "B" * 1000 for i in range(446)}
    params = {**junk, "vnp_TxnRef": "T" * 1500, "vnp_Amount": "9" * 1500, "vnp_SecureHash": "00"}
    assert len(params) == 899
    response = client.get(IPN, params)
    assert response.json() == {"RspCode": "97", "Message": "Invalid signature"}
    assert stored_bytes() < 10_000
    assert AuditEntry.objects.count() == audit_before
    [sample] = GatewayCallback.objects.all()
    assert set(sample.params) == {"vnp_TxnRef", "vnp_Amount", "vnp_SecureHash"}
    assert all(len(v) <= 256 for v in sample.params.values()) and len(sample.raw_query) <= 2048


def test_two_hundred_forged_ipns_are_counted_not_stored(client, pay, unlimited):
    order, _url = pay.start()
    audit_before = AuditEntry.objects.count()
    for i in range(200):
        answer = client.get(IPN, {"vnp_TxnRef": order.txn_ref, "vnp_SecureHash": f"{i:04d}"})
        assert answer.json()["RspCode"] == "97"
    assert GatewayCallback.objects.count() == 5  # the hour's first samples
    [tally] = RejectedCallbackCount.objects.all()
    assert (tally.kind, tally.reason, tally.count) == ("ipn", "forged", 200)
    assert AuditEntry.objects.count() == audit_before
    order.refresh_from_db()
    assert order.status == "pending"


def test_forged_browser_returns_are_counted_too(client, pay, settings):
    settings.CCHC_RATE_LIMITS = {**settings.CCHC_RATE_LIMITS, "payment": (0, 1)}
    for i in range(20):
        page = client.get("/thanh-toan/ket-qua/", {"cong": "vnpay", "vnp_TxnRef": f"R{i}"})
        assert page.status_code == 200
    assert GatewayCallback.objects.filter(kind="return").count() == 5
    assert RejectedCallbackCount.objects.get(kind="return").count == 20


def test_a_signed_callback_keeps_its_full_record_of_known_fields(client, pay, unlimited):
    from django.conf import settings

    order, _url = pay.start()
    secret = settings.CCHC_PAYMENT_GATEWAYS["vnpay"]["hash_secret"]
    params = {
        "vnp_Amount": str(order.amount * 100),
        "vnp_TmnCode": settings.CCHC_PAYMENT_GATEWAYS["vnpay"]["tmn_code"],
        "vnp_TxnRef": order.txn_ref,
        "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00",
        "vnp_TransactionNo": "14000001",
        "vnp_NewField": "a field a later protocol version might add",
    }
    params["vnp_SecureHash"] = vnpay.sign_params(secret, params)
    assert client.get(IPN, params).json()["RspCode"] == "00"
    logged = GatewayCallback.objects.get(kind="ipn")
    assert logged.signature_valid and logged.outcome == "paid" and logged.order == order
    assert "vnp_NewField" not in logged.params and logged.params["vnp_TxnRef"] == order.txn_ref
    assert "vnp_NewField" in logged.raw_query  # the raw query still proves the signature
    assert AuditEntry.objects.filter(action="payment.order.paid").count() == 1


def test_only_listed_gateway_addresses_may_call(client, pay, settings):
    settings.CCHC_PAYMENT_IPN_ALLOW = ["203.0.113.0/24"]
    refused = client.get(IPN, {"vnp_TxnRef": "X"}, REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 403
    assert refused.json() == {"RspCode": "99", "Message": "Forbidden"}
    assert GatewayCallback.objects.count() == 0 and RejectedCallbackCount.objects.count() == 0
    allowed = client.get(IPN, {"vnp_TxnRef": "X"}, REMOTE_ADDR="203.0.113.7")
    assert allowed.status_code == 200 and allowed.json()["RspCode"] == "97"


def test_the_ipn_is_rate_limited_per_address(client, pay, settings):
    settings.CCHC_RATE_LIMITS = {**settings.CCHC_RATE_LIMITS, "ipn": (3, 1)}
    codes = [client.get(IPN, {"vnp_TxnRef": "X"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert RejectedCallbackCount.objects.get().count == 3
