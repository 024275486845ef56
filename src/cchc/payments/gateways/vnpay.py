"""VNPAY payment gateway, API version 2.1.0, written from VNPAY's public integration
documentation (sandbox.vnpayment.vn/apis/docs).

- Payment: the browser is redirected to `pay_url` with `vnp_*` parameters. The checksum
  `vnp_SecureHash` is HMAC-SHA512 (hex), keyed with the merchant's hash secret, over the
  parameters sorted by name and joined as a URL query (`name=value&…`, values URL-encoded
  with spaces as `+`); `vnp_SecureHash`/`vnp_SecureHashType` themselves are left out. Amounts
  are sent ×100 (no decimal separator). Dates are `yyyyMMddHHmmss` in GMT+7.
- IPN and return: the same parameters come back signed the same way; success is
  `vnp_ResponseCode == "00"` and `vnp_TransactionStatus == "00"`; `24` = cancelled by the
  customer. The merchant answers an IPN with JSON `{"RspCode": "00", "Message": "Confirm
  Success"}` (01 order not found, 02 already confirmed, 04 invalid amount, 97 invalid
  signature, 99 other error).
- `querydr` and `refund`: JSON POSTs to the merchant API whose checksums are HMAC-SHA512 over
  the listed fields joined with `|` in a fixed order (requests and responses differ).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote_plus

from cchc.payments.gateways.base import (
    CANCELLED,
    FAILED,
    NOT_FOUND,
    PAID,
    PENDING,
    CallbackResult,
    GatewayError,
    IpnAnswer,
    OrderRequest,
    QueryResult,
    RefundRequest,
    RefundResult,
)

VERSION = "2.1.0"
GMT7 = dt.timezone(dt.timedelta(hours=7))
UNSIGNED = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})

QUERY_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
QUERY_RESPONSE_FIELDS = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
REFUND_RESPONSE_FIELDS = QUERY_RESPONSE_FIELDS[:13]
# The parameters of an IPN and of a browser return: the only ones stored with a callback.
CALLBACK_FIELDS = (
    "vnp_TmnCode",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_BankTranNo",
    "vnp_CardType",
    "vnp_PayDate",
    "vnp_OrderInfo",
    "vnp_TransactionNo",
    "vnp_ResponseCode",
    "vnp_TransactionStatus",
    "vnp_TxnRef",
    "vnp_SecureHashType",
    "vnp_SecureHash",
)

IPN_MESSAGES = {
    "00": "Confirm Success",
    "01": "Order not found",
    "02": "Order already confirmed",
    "04": "invalid amount",
    "97": "Invalid signature",
    "99": "Unknown error",
}

# Customer-facing meaning of common vnp_ResponseCode values (payment).
RESPONSE_TEXT = {
    "00": "Giao dịch thành công",
    "07": "Trừ tiền thành công, giao dịch bị nghi ngờ",
    "09": "Thẻ/Tài khoản chưa đăng ký dịch vụ Internet Banking",
    "10": "Xác thực thông tin thẻ/tài khoản không đúng quá 3 lần",
    "11": "Đã hết hạn chờ thanh toán",
    "12": "Thẻ/Tài khoản bị khóa",
    "13": "Nhập sai mật khẩu xác thực giao dịch (OTP)",
    "24": "Khách hàng hủy giao dịch",
    "51": "Tài khoản không đủ số dư",
    "65": "Tài khoản đã vượt quá hạn mức giao dịch trong ngày",
    "75": "Ngân hàng thanh toán đang bảo trì",
    "79": "Nhập sai mật khẩu thanh toán quá số lần quy định",
    "99": "Lỗi khác",
}


def canonical_query(params: Mapping[str, Any]) -> str:
    """The string the payment checksum is computed over: `vnp_*` parameters except the hash
    itself, non-empty, sorted by name, `name=value` URL-encoded (space → `+`), joined by `&`."""
    items = sorted(
        (str(k), str(v))
        for k, v in params.items()
        if str(k).startswith("vnp_") and k not in UNSIGNED and v is not None and str(v) != ""
    )
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in items)


def hmac_sha512(secret: str, data: str) -> str:
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def sign_params(secret: str, params: Mapping[str, Any]) -> str:
    return hmac_sha512(secret, canonical_query(params))


def verify_params(secret: str, params: Mapping[str, Any]) -> bool:
    given = str(params.get("vnp_SecureHash", "")).lower()
    return bool(given) and hmac.compare_digest(given, sign_params(secret, params))


def pipe_checksum(secret: str, fields: tuple[str, ...], data: Mapping[str, Any]) -> str:
    return hmac_sha512(secret, "|".join(str(data.get(name, "") or "") for name in fields))


def vnp_date(moment: dt.datetime) -> str:
    return moment.astimezone(GMT7).strftime("%Y%m%d%H%M%S")


def parse_vnp_date(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=GMT7)
    except (TypeError, ValueError):
        return None


def _amount(raw: Any) -> int | None:
    """Protocol amount (×100) → đồng; None when malformed or not whole."""
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    if value < 0 or value % 100:
        return None
    return value // 100


Transport = Callable[[str, dict[str, Any]], dict[str, Any]]


def http_transport(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise GatewayError(f"URL API cổng thanh toán không hợp lệ: {url}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise GatewayError(f"Không kết nối được cổng thanh toán: {exc}") from exc
    return answer


def local_transport(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A relative API URL means the built-in simulator: call it in-process."""
    from cchc.payments import simulator  # import cycle: the simulator signs with this module

    return simulator.merchant_api(payload)


class VnpayGateway:
    """`cchc.payments.gateways.base.Gateway` for VNPAY 2.1.0."""

    callback_fields = CALLBACK_FIELDS

    def __init__(
        self,
        *,
        name: str,
        label: str,
        channel: str,
        tmn_code: str,
        hash_secret: str,
        pay_url: str,
        api_url: str,
        ipn_url: str = "",
        server_ip: str = "127.0.0.1",
        transport: Transport | None = None,
    ) -> None:
        self.name = name
        self.label = label
        self.channel = channel
        self.tmn_code = tmn_code
        self.hash_secret = hash_secret
        self.pay_url = pay_url
        self.api_url = api_url
        self.ipn_url = ipn_url
        self.server_ip = server_ip
        self.transport = transport or (
            local_transport if api_url.startswith("/") else http_transport
        )

    # -- payment ------------------------------------------------------------------------------

    def payment_params(self, order: OrderRequest) -> dict[str, str]:
        params = {
            "vnp_Version": VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(order.amount * 100),
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": order.txn_ref,
            "vnp_OrderInfo": order.info,
            "vnp_OrderType": "other",
            "vnp_Locale": "vn",
            "vnp_ReturnUrl": order.return_url,
            "vnp_IpAddr": order.ip_addr or self.server_ip,
            "vnp_CreateDate": vnp_date(order.created_at),
            "vnp_ExpireDate": vnp_date(order.expires_at),
        }
        params["vnp_SecureHash"] = sign_params(self.hash_secret, params)
        return params

    def payment_url(self, order: OrderRequest) -> str:
        params = self.payment_params(order)
        query = canonical_query(params) + "&vnp_SecureHash=" + params["vnp_SecureHash"]
        return f"{self.pay_url}?{query}"

    def verify_callback(self, params: Mapping[str, str]) -> CallbackResult:
        if not verify_params(self.hash_secret, params) or params.get("vnp_TmnCode") not in (
            self.tmn_code,
            None,
        ):
            return CallbackResult(signature_valid=False, txn_ref=params.get("vnp_TxnRef", ""))
        code = params.get("vnp_ResponseCode", "")
        status = params.get("vnp_TransactionStatus", "")
        if code == "00" and status == "00":
            outcome = PAID
        elif code == "24":
            outcome = CANCELLED
        else:
            outcome = FAILED
        return CallbackResult(
            signature_valid=True,
            txn_ref=params.get("vnp_TxnRef", ""),
            amount=_amount(params.get("vnp_Amount")),
            outcome=outcome,
            transaction_no=params.get("vnp_TransactionNo", ""),
            bank_code=params.get("vnp_BankCode", ""),
            pay_date=params.get("vnp_PayDate", ""),
            response_code=code,
            message=RESPONSE_TEXT.get(code, f"Mã phản hồi {code}"),
        )

    def ipn_response(self, answer: IpnAnswer) -> dict[str, str]:
        return {"RspCode": answer.code, "Message": answer.message}

    # -- merchant API -------------------------------------------------------------------------

    def _call(self, payload: dict[str, Any], response_fields: tuple[str, ...]) -> dict[str, Any]:
        answer = self.transport(self.api_url, payload)
        if not isinstance(answer, dict):
            raise GatewayError("Cổng thanh toán trả lời không đúng định dạng.")
        expected = pipe_checksum(self.hash_secret, response_fields, answer)
        given = str(answer.get("vnp_SecureHash", "")).lower()
        answer["_signature_valid"] = bool(given) and hmac.compare_digest(given, expected)
        return answer

    def query(self, *, txn_ref: str, created_at: dt.datetime, now: dt.datetime) -> QueryResult:
        payload = {
            "vnp_RequestId": secrets.token_hex(16),
            "vnp_Version": VERSION,
            "vnp_Command": "querydr",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TxnRef": txn_ref,
            "vnp_OrderInfo": f"Truy van giao dich {txn_ref}",
            "vnp_TransactionDate": vnp_date(created_at),
            "vnp_CreateDate": vnp_date(now),
            "vnp_IpAddr": self.server_ip,
        }
        payload["vnp_SecureHash"] = pipe_checksum(self.hash_secret, QUERY_REQUEST_FIELDS, payload)
        answer = self._call(payload, QUERY_RESPONSE_FIELDS)
        raw = {k: v for k, v in answer.items() if not k.startswith("_")}
        if not answer["_signature_valid"]:
            return QueryResult(outcome=PENDING, signature_valid=False, raw=raw)
        code = str(answer.get("vnp_ResponseCode", ""))
        status = str(answer.get("vnp_TransactionStatus", ""))
        if code == "91":
            outcome = NOT_FOUND
        elif code != "00":
            raise GatewayError(f"Cổng thanh toán từ chối truy vấn (mã {code}).")
        elif status == "00":
            outcome = PAID
        elif status == "01":
            outcome = PENDING
        else:
            outcome = FAILED
        return QueryResult(
            outcome=outcome,
            amount=_amount(answer.get("vnp_Amount")),
            transaction_no=str(answer.get("vnp_TransactionNo", "") or ""),
            bank_code=str(answer.get("vnp_BankCode", "") or ""),
            pay_date=str(answer.get("vnp_PayDate", "") or ""),
            response_code=status or code,
            message=str(answer.get("vnp_Message", "") or ""),
            raw=raw,
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        payload = {
            "vnp_RequestId": request.request_id,
            "vnp_Version": VERSION,
            "vnp_Command": "refund",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TransactionType": "02" if request.full else "03",
            "vnp_TxnRef": request.txn_ref,
            "vnp_Amount": str(request.amount * 100),
            "vnp_OrderInfo": request.info,
            "vnp_TransactionNo": request.transaction_no,
            "vnp_TransactionDate": vnp_date(request.transaction_date),
            "vnp_CreateBy": request.created_by,
            "vnp_CreateDate": vnp_date(request.now),
            "vnp_IpAddr": request.ip_addr or self.server_ip,
        }
        payload["vnp_SecureHash"] = pipe_checksum(self.hash_secret, REFUND_REQUEST_FIELDS, payload)
        answer = self._call(payload, REFUND_RESPONSE_FIELDS)
        raw = {k: v for k, v in answer.items() if not k.startswith("_")}
        code = str(answer.get("vnp_ResponseCode", ""))
        if not answer["_signature_valid"]:
            return RefundResult(
                ok=False, response_code=code, message="Chữ ký phản hồi không hợp lệ", raw=raw
            )
        return RefundResult(
            ok=code == "00",
            response_code=code,
            message=str(answer.get("vnp_Message", "") or ""),
            transaction_no=str(answer.get("vnp_TransactionNo", "") or ""),
            raw=raw,
        )
