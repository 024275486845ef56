"""Gateway callbacks and the reconciliation of pending orders.

Anyone can send a callback, so each is checked against the gateway's signature, logged
with bounded size (unsigned ones counted and sampled), and settles its order at most once:
`handle_ipn` (server to server), `handle_return` (the citizen's browser coming back) and
`reconcile` (asking the gateway about orders still pending) all end in `_settle`, which
writes the `pay` event through the dossier engine in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.dossiers import payloads
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import Dossier
from cchc.errors import DomainError
from cchc.payments import gateways
from cchc.payments.gateways.base import (
    CANCELLED,
    FAILED,
    NOT_FOUND,
    PAID,
    PENDING,
    CallbackResult,
    Gateway,
    GatewayError,
    IpnAnswer,
)
from cchc.payments.models import (
    SETTLED,
    CallbackKind,
    GatewayCallback,
    OrderStatus,
    PaymentOrder,
    Receipt,
    RejectedCallbackCount,
)
from cchc.payments.services import IPN_MESSAGES, PAYABLE_STATES, issue_receipt, lock_order, owed

logger = logging.getLogger(__name__)


# -- settling an order (IPN or reconciliation) ---------------------------------------------------


def _settle(
    order: PaymentOrder,
    *,
    transaction_no: str,
    bank_code: str,
    pay_date: str,
    now: dt.datetime,
    source: str,
) -> Receipt:
    """Money was received for a locked `order`: mark it paid, issue the receipt and write
    the dossier's `pay` event (all in the caller's transaction)."""
    dossier = Dossier.objects.select_for_update().get(pk=order.dossier_id)
    late = order.status != OrderStatus.PENDING
    still_owed = owed(dossier)
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.closed_at = now
    order.gateway_txn_no = transaction_no[:40]
    order.bank_code = bank_code[:20]
    order.pay_date = pay_date[:14]
    order.response_code = "00"
    order.late = late
    order.needs_refund = order.amount > still_owed
    receipt = issue_receipt(
        dossier, amount=order.amount, channel=order.channel, actor=SYSTEM, now=now, order=order
    )
    if dossier.state in PAYABLE_STATES:
        dossier_services.act(
            SYSTEM,
            dossier,
            "pay",
            now=now,
            data=payloads.pay(
                amount=order.amount,
                channel=order.channel,
                order=order.txn_ref,
                receipt=receipt.number,
            ),
        )
        order.recorded_on_dossier = True
    else:  # the dossier has closed: the money cannot count for it and goes back
        order.needs_refund = True
    order.save()
    log.record(
        "payment.order.paid",
        actor=SYSTEM,
        obj=order,
        agency_id=dossier.receiving_agency_id,
        at=now,
        data={
            "dossier": dossier.code,
            "amount": order.amount,
            "source": source,
            "late": late,
            "needs_refund": order.needs_refund,
            "recorded_on_dossier": order.recorded_on_dossier,
            "receipt": receipt.number,
            "transaction_no": transaction_no,
        },
    )
    return receipt


def _close(order: PaymentOrder, status: str, *, now: dt.datetime, code: str, source: str) -> None:
    order.status = status
    order.closed_at = now
    order.response_code = code[:4]
    order.save(update_fields=["status", "closed_at", "response_code"])
    log.record(
        f"payment.order.{status}",
        actor=SYSTEM,
        obj=order,
        at=now,
        data={"dossier_id": order.dossier_id, "code": code, "source": source},
    )


# What a callback may store: anyone can send one, so nothing of it grows without bound.
PARAM_VALUE_CAP = 256  # characters per known parameter
RAW_QUERY_CAP = 2048  # characters of the raw query string
REJECTED_SAMPLES_PER_HOUR = 5  # unsigned callbacks kept whole, per gateway, kind, reason


def _known_params(gw: Any, kind: str, params: Mapping[str, Any]) -> dict[str, str]:
    """What to keep of a callback's parameters, each value capped: of an IPN or a return
    (which anyone can send) only the protocol's own (`gw.callback_fields`), any number of
    junk parameters dropped; of our own query's answer the first 40."""
    fields = getattr(gw, "callback_fields", None)
    if kind == CallbackKind.QUERY or fields is None:
        fields = [str(k) for k in params][:40]
    return {name[:100]: str(params[name])[:PARAM_VALUE_CAP] for name in fields if name in params}


def _log_callback(
    gw: Any,
    kind: str,
    params: Mapping[str, Any],
    *,
    now: dt.datetime,
    txn_ref: str = "",
    order: PaymentOrder | None = None,
    signature_valid: bool,
    outcome: str,
    answer_code: str = "",
    error: str = "",
    raw_query: str = "",
) -> GatewayCallback:
    return GatewayCallback.objects.create(
        gateway=gw.name[:30],
        kind=kind,
        received_at=now,
        txn_ref=str(txn_ref)[:100],
        order=order,
        params=_known_params(gw, kind, params),
        raw_query=raw_query[:RAW_QUERY_CAP],
        signature_valid=signature_valid,
        outcome=outcome,
        answer_code=answer_code,
        error=error[:2000],
    )


def _count_rejected(
    gw: Any,
    kind: str,
    reason: str,
    params: Mapping[str, Any],
    *,
    now: dt.datetime,
    answer_code: str = "",
    error: str = "",
    raw_query: str = "",
) -> int:
    """A callback refused before any order was touched (bad signature): one more in its
    hour's counter, kept whole only among the hour's first few samples, never audited.
    Returns the hour's count so far."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    q = connection.ops.quote_name
    table = q(RejectedCallbackCount._meta.db_table)
    unique = ", ".join(q(c) for c in ("gateway", "kind", "reason", "hour"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({unique}, {q('count')}, {q('last_at')}) "  # noqa: S608 - names only
            f"VALUES (%s, %s, %s, %s, 1, %s) ON CONFLICT ({unique}) "
            f"DO UPDATE SET {q('count')} = {table}.{q('count')} + 1, {q('last_at')} = %s "
            f"RETURNING {q('count')}",
            [
                gw.name[:30],
                kind,
                reason,
                connection.ops.adapt_datetimefield_value(hour),
                connection.ops.adapt_datetimefield_value(now),
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        count = int(cursor.fetchone()[0])
    if count <= REJECTED_SAMPLES_PER_HOUR:
        _log_callback(
            gw,
            kind,
            params,
            now=now,
            txn_ref=str(params.get("vnp_TxnRef", ""))[:100],
            signature_valid=False,
            outcome=reason,
            answer_code=answer_code,
            error=error,
            raw_query=raw_query,
        )
    return count


def _ipn_decision(
    gw: Gateway, result: CallbackResult, now: dt.datetime
) -> tuple[str, str, PaymentOrder | None, str]:
    """(answer code, outcome, order, error) for a verified-or-not IPN, inside a transaction."""
    if not result.signature_valid:  # counted by the caller, not audited: anyone can send it
        return "97", "forged", None, "Chữ ký không hợp lệ."
    order = lock_order(txn_ref=result.txn_ref, gateway=gw.name)
    if order is None:
        return "01", "unknown_order", None, "Không có đơn thanh toán với mã này."
    if result.amount != order.amount:
        log.record(
            "payment.callback.rejected",
            actor=SYSTEM,
            obj=order,
            at=now,
            data={"why": "amount", "expected": order.amount, "given": result.amount},
        )
        return (
            "04",
            "wrong_amount",
            order,
            f"Số tiền {result.amount} khác số tiền của đơn {order.amount}.",
        )
    if order.status in SETTLED:
        return "02", "duplicate", order, ""
    if result.outcome == PAID:
        late = order.status != OrderStatus.PENDING
        _settle(
            order,
            transaction_no=result.transaction_no,
            bank_code=result.bank_code,
            pay_date=result.pay_date,
            now=now,
            source="ipn",
        )
        return "00", "paid_late" if late else "paid", order, ""
    if order.status != OrderStatus.PENDING:
        return "02", "already_closed", order, ""
    status = OrderStatus.CANCELLED if result.outcome == CANCELLED else OrderStatus.FAILED
    _close(order, status, now=now, code=result.response_code, source="ipn")
    return "00", str(status), order, ""


def handle_ipn(
    gateway: str,
    params: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    raw_query: str = "",
) -> tuple[IpnAnswer, dict[str, str]]:
    """Process a gateway's server-to-server notification. Idempotent: a repeated success
    confirms nothing twice. A signed call is logged in full (known parameters, capped); an
    unsigned one is only counted (`RejectedCallbackCount`, a few samples an hour). Returns
    the answer and the gateway-specific response body."""
    at = now or timezone.now()
    gw = gateways.get(gateway)
    raw = dict(params)
    try:
        result = gw.verify_callback(raw)
        with transaction.atomic():
            code, outcome, order, error = _ipn_decision(gw, result, at)
            if outcome == "forged":
                _count_rejected(
                    gw,
                    CallbackKind.IPN,
                    outcome,
                    raw,
                    now=at,
                    answer_code=code,
                    error=error,
                    raw_query=raw_query,
                )
            else:
                _log_callback(
                    gw,
                    CallbackKind.IPN,
                    raw,
                    now=at,
                    txn_ref=result.txn_ref,
                    order=order,
                    signature_valid=result.signature_valid,
                    outcome=outcome,
                    answer_code=code,
                    error=error,
                    raw_query=raw_query,
                )
    except Exception as exc:  # never leak a traceback to the gateway; answer 99, keep a trace
        logger.exception("IPN processing failed")
        code = "99"
        with transaction.atomic():
            _count_rejected(
                gw,
                CallbackKind.IPN,
                "error",
                raw,
                now=at,
                answer_code=code,
                error=f"{type(exc).__name__}: {exc}",
                raw_query=raw_query,
            )
    answer = IpnAnswer(code, IPN_MESSAGES[code])
    return answer, gw.ipn_response(answer)


@dataclass(frozen=True)
class ReturnInfo:
    signature_valid: bool
    order: PaymentOrder | None
    gateway_outcome: str  # what the browser return claims (not trusted)
    message: str


def handle_return(
    gateway: str,
    params: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    raw_query: str = "",
) -> ReturnInfo:
    """The citizen's browser came back from the gateway. Logged; never changes any state:
    the order's status is what the IPN (or reconciliation) established."""
    at = now or timezone.now()
    gw = gateways.get(gateway)
    raw = dict(params)
    result = gw.verify_callback(raw)
    order = None
    if result.signature_valid:
        order = (
            PaymentOrder.objects.select_related("dossier")
            .filter(txn_ref=result.txn_ref, gateway=gw.name)
            .first()
        )
    with transaction.atomic():
        if result.signature_valid:
            _log_callback(
                gw,
                CallbackKind.RETURN,
                raw,
                now=at,
                txn_ref=result.txn_ref,
                order=order,
                signature_valid=True,
                outcome=result.outcome,
                raw_query=raw_query,
            )
        else:
            _count_rejected(gw, CallbackKind.RETURN, "forged", raw, now=at, raw_query=raw_query)
    return ReturnInfo(result.signature_valid, order, result.outcome, result.message)


# -- reconciliation -----------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    checked: int = 0
    paid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "paid": self.paid,
            "failed": self.failed,
            "expired": self.expired,
            "pending": self.pending,
            "unchanged": self.unchanged,
            "errors": [{"order": ref, "message": msg} for ref, msg in self.errors],
        }


def reconcile(
    *, now: dt.datetime | None = None, older_than_minutes: int | None = None
) -> ReconcileReport:
    """Ask the gateway about every pending order older than N minutes: record payments whose
    IPN never arrived, close failed ones, expire abandoned ones. Run it from cron."""
    at = now or timezone.now()
    minutes = (
        older_than_minutes
        if older_than_minutes is not None
        else int(getattr(settings, "CCHC_PAYMENT_RECONCILE_MINUTES", 15))
    )
    report = ReconcileReport()
    due = PaymentOrder.objects.filter(
        Q(status=OrderStatus.PENDING, created_at__lte=at - dt.timedelta(minutes=minutes))
        # superseded attempts the gateway has not given a verdict on yet (last 24 hours)
        | Q(
            status=OrderStatus.CANCELLED,
            superseded=True,
            response_code="",
            created_at__gte=at - dt.timedelta(days=1),
        )
    ).order_by("created_at")
    for candidate in list(due):
        report.checked += 1
        try:
            gw = gateways.get(candidate.gateway)
            answer = gw.query(txn_ref=candidate.txn_ref, created_at=candidate.created_at, now=at)
        except (GatewayError, DomainError) as exc:
            report.errors.append((candidate.txn_ref, str(exc)))
            continue
        with transaction.atomic():
            order = lock_order(pk=candidate.pk)
            assert order is not None
            outcome, error = _reconcile_one(order, answer, at)
            _log_callback(
                gw,
                CallbackKind.QUERY,
                answer.raw,
                now=at,
                txn_ref=order.txn_ref,
                order=order,
                signature_valid=answer.signature_valid,
                outcome=outcome,
                error=error,
            )
        if error:
            report.errors.append((order.txn_ref, error))
        else:
            getattr(report, outcome).append(order.txn_ref)
    return report


def _reconcile_one(order: PaymentOrder, answer: Any, now: dt.datetime) -> tuple[str, str]:
    superseded = order.status == OrderStatus.CANCELLED and order.superseded
    if order.status != OrderStatus.PENDING and not (superseded and not order.response_code):
        return "unchanged", ""  # an IPN arrived meanwhile; nothing to do
    if not answer.signature_valid:
        return "pending", "Chữ ký phản hồi truy vấn không hợp lệ."
    if superseded and answer.outcome != PAID:
        if now >= order.expires_at:  # the gateway can no longer take money for it
            order.response_code = (answer.response_code or "91")[:4]
            order.save(update_fields=["response_code"])
        return "unchanged", ""
    if answer.outcome == PAID:
        if answer.amount != order.amount:
            return "pending", f"Số tiền cổng báo ({answer.amount}) khác đơn ({order.amount})."
        _settle(
            order,
            transaction_no=answer.transaction_no,
            bank_code=answer.bank_code,
            pay_date=answer.pay_date,
            now=now,
            source="reconcile",
        )
        return "paid", ""
    if answer.outcome == FAILED:
        _close(order, OrderStatus.FAILED, now=now, code=answer.response_code, source="reconcile")
        return "failed", ""
    if answer.outcome in (NOT_FOUND, PENDING) and now >= order.expires_at:
        _close(order, OrderStatus.EXPIRED, now=now, code=answer.response_code, source="reconcile")
        return "expired", ""
    return "pending", ""
