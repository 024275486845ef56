"""The VNPAY 2.1.0 protocol: checksums against vectors computed by hand (with `openssl dgst
-sha512 -hmac`, independently of this code), the payment URL, callback verification."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

from cchc.payments.gateways import vnpay
from cchc.payments.gateways.base import CANCELLED, FAILED, PAID, OrderRequest

SECRET = "SECRETKEY"
# printf 'vnp_Amount=1000000&vnp_Command=pay&vnp_OrderInfo=Thanh+toan+ho+so+1&vnp_TmnCode=
# DEMO0001&vnp_TxnRef=TT1&vnp_Version=2.1.0' | openssl dgst -sha512 -hmac SECRETKEY
PAY_VECTOR = (
    "d7fd1793215f21ecc64c2226d880621d0eb4d25e9a754583cdf30c23ba3258f3"
    "3ac84a4eef4e43e9a9dc4ba1041428312f2fbf4550068e1e33b8d45d02e448ed"
)
# printf '1|2.1.0|querydr|DEMO0001|TT1|20240603090000|20240603091500|127.0.0.1|Truy van'
#   | openssl dgst -sha512 -hmac SECRETKEY
QUERY_VECTOR = (
    "09b692e5237334ac01b40d59465c2493dcbe9fdc1bd1f6e6621e9965ceb5b6ce"
    "f3174bc7952c1fb81dd831baaefc35cb33f64a5f43bde4d87633a9f9e4ef1312"
)


def test_payment_checksum_matches_a_hand_computed_vector():
    params = {
        # deliberately unsorted, with the hash fields that must be left out
        "vnp_TxnRef": "TT1",
        "vnp_Version": "2.1.0",
        "vnp_OrderInfo": "Thanh toan ho so 1",
        "vnp_Command": "pay",
        "vnp_Amount": "1000000",
        "vnp_TmnCode": "DEMO0001",
        "vnp_SecureHashType": "HmacSHA512",
        "vnp_SecureHash": "ignored",
        "vnp_BankCode": "",  # empty values are not signed
    }
    assert vnpay.canonical_query(params) == (
        "vnp_Amount=1000000&vnp_Command=pay&vnp_OrderInfo=Thanh+toan+ho+so+1"
        "&vnp_TmnCode=DEMO0001&vnp_TxnRef=TT1&vnp_Version=2.1.0"
    )
    assert vnpay.sign_params(SECRET, params) == PAY_VECTOR
    assert vnpay.verify_params(SECRET, {**params, "vnp_SecureHash": PAY_VECTOR.upper()})
    assert not vnpay.verify_params(SECRET, {**params, "vnp_SecureHash": PAY_VECTOR[:-1] + "0"})
    assert not vnpay.verify_params("OTHER", {**params, "vnp_SecureHash": PAY_VECTOR})


def test_querydr_checksum_matches_a_hand_computed_vector():
    data = {
        "vnp_RequestId": "1",
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": "DEMO0001",
        "vnp_TxnRef": "TT1",
        "vnp_TransactionDate": "20240603090000",
        "vnp_CreateDate": "20240603091500",
        "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": "Truy van",
    }
    assert vnpay.pipe_checksum(SECRET, vnpay.QUERY_REQUEST_FIELDS, data) == QUERY_VECTOR


def _gateway() -> vnpay.VnpayGateway:
    return vnpay.VnpayGateway(
        name="vnpay",
        label="VNPAY",
        channel="2",
        tmn_code="DEMO0001",
        hash_secret=SECRET,
        pay_url="https://sandbox.example/paymentv2/vpcpay.html",
        api_url="https://sandbox.example/merchant_webapi/api/transaction",
    )


def test_payment_url_carries_the_documented_parameters():
    vn = dt.timezone(dt.timedelta(hours=7))
    created = dt.datetime(2024, 6, 3, 9, 0, tzinfo=vn)
    url = _gateway().payment_url(
        OrderRequest(
            txn_ref="TT1",
            amount=200_000,
            info="Thanh toan phi ho so A-1",
            created_at=created,
            expires_at=created + dt.timedelta(minutes=15),
            return_url="https://cchc.example/thanh-toan/ket-qua/?cong=vnpay",
            ip_addr="10.0.0.1",
        )
    )
    parts = urlsplit(url)
    assert parts.netloc == "sandbox.example"
    params = dict(parse_qsl(parts.query))
    assert params["vnp_Amount"] == "20000000"  # ×100
    assert params["vnp_Version"] == "2.1.0"
    assert params["vnp_Command"] == "pay"
    assert params["vnp_CurrCode"] == "VND"
    assert params["vnp_CreateDate"] == "20240603090000"
    assert params["vnp_ExpireDate"] == "20240603091500"
    assert "vnp_SecureHashType" not in params
    assert vnpay.verify_params(SECRET, params)
    # The query string itself is the sorted canonical form followed by the hash.
    assert parts.query.startswith("vnp_Amount=20000000&vnp_Command=pay&vnp_CreateDate=")
    assert parts.query.endswith("&vnp_SecureHash=" + params["vnp_SecureHash"])


def _signed(**values: str) -> dict[str, str]:
    params = {
        "vnp_Amount": "20000000",
        "vnp_TmnCode": "DEMO0001",
        "vnp_TxnRef": "TT1",
        "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00",
        "vnp_TransactionNo": "14000001",
        **values,
    }
    params["vnp_SecureHash"] = vnpay.sign_params(SECRET, params)
    return params


def test_callback_outcomes():
    gw = _gateway()
    ok = gw.verify_callback(_signed())
    assert ok.signature_valid and ok.outcome == PAID and ok.amount == 200_000
    assert gw.verify_callback(_signed(vnp_ResponseCode="24")).outcome == CANCELLED
    failed = _signed(vnp_ResponseCode="51", vnp_TransactionStatus="02")
    assert gw.verify_callback(failed).outcome == FAILED
    tampered = {**_signed(), "vnp_Amount": "100"}
    assert not gw.verify_callback(tampered).signature_valid
    other_merchant = _signed(vnp_TmnCode="OTHER001")
    assert not gw.verify_callback(other_merchant).signature_valid


def test_ipn_answer_body():
    from cchc.payments.gateways.base import IpnAnswer

    body = _gateway().ipn_response(IpnAnswer("00", "Confirm Success"))
    assert body == {"RspCode": "00", "Message": "Confirm Success"}
