"""The gateway protocol every payment gateway adapter implements, and its data types.

A gateway turns an order into a redirect URL, checks the signed parameters it sends back
(IPN and browser return), answers a status query and performs refunds. It knows nothing of
dossiers or the database: `cchc.payments.services` does the bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# Normalised outcomes of a callback or a query.
PAID = "paid"
FAILED = "failed"
CANCELLED = "cancelled"
PENDING = "pending"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class OrderRequest:
    txn_ref: str
    amount: int  # đồng
    info: str
    created_at: dt.datetime
    expires_at: dt.datetime
    return_url: str
    ip_addr: str


@dataclass(frozen=True)
class CallbackResult:
    """What the signed parameters of an IPN or a browser return say."""

    signature_valid: bool
    txn_ref: str = ""
    amount: int | None = None  # đồng
    outcome: str = FAILED  # PAID, FAILED or CANCELLED
    transaction_no: str = ""
    bank_code: str = ""
    pay_date: str = ""
    response_code: str = ""
    message: str = ""


@dataclass(frozen=True)
class QueryResult:
    outcome: str  # PAID, FAILED, PENDING, NOT_FOUND
    signature_valid: bool = True
    amount: int | None = None
    transaction_no: str = ""
    bank_code: str = ""
    pay_date: str = ""
    response_code: str = ""
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundRequest:
    request_id: str
    txn_ref: str
    amount: int  # đồng
    full: bool
    transaction_no: str
    transaction_date: dt.datetime  # when the order was created
    created_by: str
    info: str
    ip_addr: str
    now: dt.datetime


@dataclass(frozen=True)
class RefundResult:
    ok: bool
    response_code: str = ""
    message: str = ""
    transaction_no: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IpnAnswer:
    """The merchant's answer to an IPN: a protocol code and message (VNPAY: RspCode)."""

    code: str
    message: str


class GatewayError(Exception):
    """The gateway could not be reached or answered nonsense (a network/config problem)."""


class Gateway(Protocol):
    name: str
    label: str
    channel: str  # national "paid online" code: "1" via DVCQG, "2" via a provincial gateway

    def payment_url(self, order: OrderRequest) -> str:
        """The URL the citizen's browser is redirected to."""
        ...

    def verify_callback(self, params: Mapping[str, str]) -> CallbackResult:
        """Check the signature of IPN / return parameters and read them."""
        ...

    def query(self, *, txn_ref: str, created_at: dt.datetime, now: dt.datetime) -> QueryResult:
        """Ask the gateway what became of a transaction."""
        ...

    def refund(self, request: RefundRequest) -> RefundResult: ...

    def ipn_response(self, answer: IpnAnswer) -> dict[str, str]:
        """The JSON body answering an IPN."""
        ...
