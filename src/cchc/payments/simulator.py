"""A local stand-in for the VNPAY gateway (CCHC_PAYMENT_SIMULATOR=true; development and
tests only). It speaks the same protocol as the real one: it checks the signed payment
request, lets the user pick an outcome, sends the signed IPN server-to-server, sends the
browser back with signed return parameters, and answers `querydr` and `refund`.

Test hooks on the payment page reproduce what goes wrong in real life: a lost IPN
(timeout), a duplicated IPN, a forged signature and a wrong amount.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from cchc.payments import gateways
from cchc.payments.gateways import vnpay
from cchc.payments.models import SimulatedTransaction

logger = logging.getLogger(__name__)

CHOICES = {
    "success": ("00", "00"),
    "failure": ("51", "02"),  # insufficient funds
    "cancel": ("24", "02"),  # the customer cancelled
}
HOOKS = {
    "": "Bình thường",
    "timeout": "Mất kết nối: không gửi IPN",
    "duplicate": "Gửi IPN hai lần",
    "forged": "IPN có chữ ký giả",
    "wrong_amount": "IPN sai số tiền",
}
FORGED_SECRET = "NOT-THE-MERCHANT-SECRET"  # noqa: S105 - deliberately wrong, for a test hook


def enabled() -> bool:
    return bool(getattr(settings, "CCHC_PAYMENT_SIMULATOR", False))


def _gateway_for(tmn_code: str) -> vnpay.VnpayGateway | None:
    for name in gateways.configured():
        gw = gateways.get(name)
        if isinstance(gw, vnpay.VnpayGateway) and gw.tmn_code == tmn_code:
            return gw
    return None


@dataclass(frozen=True)
class Checked:
    gateway: vnpay.VnpayGateway | None
    params: dict[str, str]
    errors: list[str]

    @property
    def amount(self) -> int:
        return int(self.params.get("vnp_Amount", "0") or 0) // 100


REQUIRED = (
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_Amount",
    "vnp_CurrCode",
    "vnp_TxnRef",
    "vnp_OrderInfo",
    "vnp_ReturnUrl",
    "vnp_IpAddr",
    "vnp_CreateDate",
    "vnp_SecureHash",
)


def check_request(params: Mapping[str, str], now: dt.datetime | None = None) -> Checked:
    """Validate a payment request like the gateway does (Vietnamese error texts)."""
    data = {k: v for k, v in params.items() if k.startswith("vnp_")}
    errors = [f"Thiếu tham số {name}." for name in REQUIRED if not data.get(name)]
    gw = _gateway_for(data.get("vnp_TmnCode", ""))
    if gw is None:
        errors.append("Mã website (vnp_TmnCode) không tồn tại.")
    elif not vnpay.verify_params(gw.hash_secret, data):
        errors.append("Sai chữ ký (vnp_SecureHash).")
    if data.get("vnp_Version") not in (None, vnpay.VERSION):
        errors.append("Phiên bản không được hỗ trợ.")
    if data.get("vnp_Command") not in (None, "pay"):
        errors.append("vnp_Command phải là pay.")
    expire = vnpay.parse_vnp_date(data.get("vnp_ExpireDate", ""))
    if expire is not None and (now or timezone.now()) > expire:
        errors.append("Giao dịch đã quá thời gian chờ thanh toán.")
    return Checked(gw, data, errors)


def _result_params(
    gw: vnpay.VnpayGateway, request: Mapping[str, str], choice: str, *, now: dt.datetime
) -> dict[str, str]:
    code, status = CHOICES[choice]
    params = {
        "vnp_Amount": request["vnp_Amount"],
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": f"VNP{secrets.randbelow(10**8):08d}" if choice == "success" else "",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": request.get("vnp_OrderInfo", ""),
        "vnp_PayDate": vnpay.vnp_date(now),
        "vnp_ResponseCode": code,
        "vnp_TmnCode": gw.tmn_code,
        "vnp_TransactionNo": f"{14_000_000 + secrets.randbelow(10**6)}",
        "vnp_TransactionStatus": status,
        "vnp_TxnRef": request["vnp_TxnRef"],
    }
    params = {k: v for k, v in params.items() if v != ""}
    params["vnp_SecureHash"] = vnpay.sign_params(gw.hash_secret, params)
    return params


def _record(gw: vnpay.VnpayGateway, params: Mapping[str, str]) -> None:
    """The simulator's own ledger (what 'the bank' knows), for querydr and refund."""
    SimulatedTransaction.objects.update_or_create(
        tmn_code=gw.tmn_code,
        txn_ref=params["vnp_TxnRef"],
        defaults={
            "amount": int(params["vnp_Amount"]),
            "transaction_no": params["vnp_TransactionNo"],
            "response_code": params["vnp_ResponseCode"],
            "transaction_status": params["vnp_TransactionStatus"],
            "bank_code": params.get("vnp_BankCode", ""),
            "pay_date": params["vnp_PayDate"],
            "order_info": params.get("vnp_OrderInfo", ""),
        },
    )


def send_ipn(gw: vnpay.VnpayGateway, params: Mapping[str, str]) -> dict[str, Any]:
    """Deliver an IPN: HTTP GET to the configured IPN URL, or in-process to the app's own
    IPN view (the default, used by the tests and `cchc runserver`)."""
    query = urllib.parse.urlencode(params)
    if gw.ipn_url:
        if not gw.ipn_url.startswith(("http://", "https://")):
            return {"error": "invalid IPN URL"}
        try:
            with urllib.request.urlopen(f"{gw.ipn_url}?{query}", timeout=10) as r:  # noqa: S310
                answer: dict[str, Any] = json.loads(r.read().decode("utf-8"))
                return answer
        except (OSError, ValueError) as exc:
            return {"error": str(exc)}
    path = reverse("payments:ipn", args=[gw.name])
    request = RequestFactory().get(path, dict(params))
    response = resolve(path).func(request, gateway=gw.name)
    result: dict[str, Any] = json.loads(response.content.decode("utf-8"))
    return result


@dataclass(frozen=True)
class Completion:
    return_url: str
    ipn_answers: list[dict[str, Any]]


def complete(
    checked: Checked, choice: str, hook: str = "", *, now: dt.datetime | None = None
) -> Completion:
    """The user picked an outcome on the simulator's page: record it, send the IPN(s) as
    the hook says and build the signed return URL."""
    if checked.errors or checked.gateway is None:
        raise ValueError("request not valid")
    if choice not in CHOICES or hook not in HOOKS:
        raise ValueError("unknown choice")
    gw = checked.gateway
    at = now or timezone.now()
    params = _result_params(gw, checked.params, choice, now=at)
    _record(gw, params)
    ipn = dict(params)
    if hook == "wrong_amount":
        ipn["vnp_Amount"] = str(int(params["vnp_Amount"]) + 1_000_000)
        ipn["vnp_SecureHash"] = vnpay.sign_params(gw.hash_secret, ipn)
    elif hook == "forged":
        ipn["vnp_SecureHash"] = vnpay.sign_params(FORGED_SECRET, ipn)
    answers: list[dict[str, Any]] = []
    if hook != "timeout":
        for _ in range(2 if hook == "duplicate" else 1):
            answers.append(send_ipn(gw, ipn))
    back = ipn if hook in ("forged", "wrong_amount") else params
    separator = "&" if "?" in checked.params["vnp_ReturnUrl"] else "?"
    return Completion(
        checked.params["vnp_ReturnUrl"] + separator + urllib.parse.urlencode(back), answers
    )


# -- merchant API: querydr and refund -----------------------------------------------------------


def _signed(gw: vnpay.VnpayGateway, fields: tuple[str, ...], body: dict[str, Any]) -> dict:
    body["vnp_SecureHash"] = vnpay.pipe_checksum(gw.hash_secret, fields, body)
    return body


def merchant_api(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Answer a `querydr` or `refund` JSON request as the gateway would."""
    command = str(payload.get("vnp_Command", ""))
    gw = _gateway_for(str(payload.get("vnp_TmnCode", "")))
    now = timezone.now()
    base: dict[str, Any] = {
        "vnp_ResponseId": secrets.token_hex(16),
        "vnp_Command": command,
        "vnp_TmnCode": payload.get("vnp_TmnCode", ""),
        "vnp_TxnRef": payload.get("vnp_TxnRef", ""),
    }
    if gw is None:
        return {**base, "vnp_ResponseCode": "02", "vnp_Message": "Invalid TmnCode"}
    if command == "querydr":
        fields, answer_fields = vnpay.QUERY_REQUEST_FIELDS, vnpay.QUERY_RESPONSE_FIELDS
    elif command == "refund":
        fields, answer_fields = vnpay.REFUND_REQUEST_FIELDS, vnpay.REFUND_RESPONSE_FIELDS
    else:
        return {**base, "vnp_ResponseCode": "99", "vnp_Message": "Unknown command"}
    expected = vnpay.pipe_checksum(gw.hash_secret, fields, payload)
    if str(payload.get("vnp_SecureHash", "")).lower() != expected:
        return _signed(
            gw, answer_fields, {**base, "vnp_ResponseCode": "97", "vnp_Message": "Invalid Checksum"}
        )
    txn = SimulatedTransaction.objects.filter(
        tmn_code=gw.tmn_code, txn_ref=payload.get("vnp_TxnRef", "")
    ).first()
    if txn is None:
        return _signed(
            gw,
            answer_fields,
            {**base, "vnp_ResponseCode": "91", "vnp_Message": "Transaction not found"},
        )
    found = {
        **base,
        "vnp_Amount": str(txn.amount),
        "vnp_BankCode": txn.bank_code,
        "vnp_PayDate": txn.pay_date,
        "vnp_TransactionNo": txn.transaction_no,
        "vnp_TransactionType": "01",
        "vnp_TransactionStatus": txn.transaction_status,
        "vnp_OrderInfo": txn.order_info,
        "vnp_PromotionCode": "",
        "vnp_PromotionAmount": "",
    }
    if command == "querydr":
        return _signed(gw, answer_fields, {**found, "vnp_ResponseCode": "00", "vnp_Message": "OK"})
    return _refund(gw, txn, payload, found, now)


def _refund(
    gw: vnpay.VnpayGateway,
    txn: SimulatedTransaction,
    payload: Mapping[str, Any],
    found: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    fields = vnpay.REFUND_RESPONSE_FIELDS
    try:
        amount = int(str(payload.get("vnp_Amount", "")))
    except ValueError:
        amount = -1
    kind = str(payload.get("vnp_TransactionType", ""))
    body = {
        **found,
        "vnp_Amount": str(amount),
        "vnp_TransactionType": kind,
        "vnp_PayDate": vnpay.vnp_date(now),
    }
    if txn.transaction_status != "00" and txn.refunded == 0:
        return _signed(
            gw, fields, {**body, "vnp_ResponseCode": "95", "vnp_Message": "Not refundable"}
        )
    left = txn.amount - txn.refunded
    if amount <= 0 or amount > left or (kind == "02" and amount != txn.amount):
        return _signed(gw, fields, {**body, "vnp_ResponseCode": "03", "vnp_Message": "Bad amount"})
    txn.refunded += amount
    txn.transaction_status = "05" if txn.refunded < txn.amount else "06"
    txn.save(update_fields=["refunded", "transaction_status"])
    return _signed(
        gw,
        fields,
        {
            **body,
            "vnp_TransactionStatus": txn.transaction_status,
            "vnp_ResponseCode": "00",
            "vnp_Message": "Refund success",
        },
    )
