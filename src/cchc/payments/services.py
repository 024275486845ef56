"""Payment workflows: online orders and gateway callbacks, cash at the desk, exemptions,
refunds and the reconciliation of pending orders.

Every change runs in a transaction with its audit entry; money received is written to the
dossier as a `pay` event (and a refund as a `refund` event) through
`cchc.dossiers.services.act`, in the same transaction as the payment record.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.dossiers import access
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import OPEN_STATES, Dossier, PaymentChannel, State
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
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
    OrderRequest,
    RefundRequest,
)
from cchc.payments.models import (
    SETTLED,
    CallbackKind,
    Exemption,
    GatewayCallback,
    OrderStatus,
    PaymentOrder,
    Receipt,
    ReceiptCounter,
    Refund,
    RefundState,
    RejectedCallbackCount,
)
from cchc.vietnamese import fold, money, nfc

logger = logging.getLogger(__name__)
PAYABLE_STATES = frozenset(OPEN_STATES | {State.RESOLVED})
LINK_SALT = "cchc.payments.link"
LINK_MAX_AGE = 7 * 24 * 3600
IPN_MESSAGES = {
    "00": "Confirm Success",
    "01": "Order not found",
    "02": "Order already confirmed",
    "04": "invalid amount",
    "97": "Invalid signature",
    "99": "Unknown error",
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or timezone.now()).astimezone(legaltime.VN_TZ)


def _label(actor: Any) -> str:
    if getattr(actor, "pk", None) is None:
        return "hệ thống"
    return getattr(actor, "full_name", "") or actor.username


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


# -- what a dossier owes ------------------------------------------------------------------------


def exempted(dossier: Dossier) -> int:
    total = Exemption.objects.filter(dossier=dossier).aggregate(s=Sum("amount"))["s"]
    return int(total or 0)


def owed(dossier: Dossier) -> int:
    """What is still to pay: fees − paid − exempted (never negative)."""
    return max(dossier.fee_total - dossier.paid_amount - exempted(dossier), 0)


def settled(dossier: Dossier) -> bool:
    return owed(dossier) == 0


@dataclass
class Summary:
    fees: list[tuple[str, int]]
    fee_total: int
    paid: int
    exempted: int
    owed: int
    orders: list[PaymentOrder]
    receipts: list[Receipt]
    exemptions: list[Exemption]
    refunds: list[Refund]


def summary(dossier: Dossier) -> Summary:
    return Summary(
        fees=[(f.name, f.amount) for f in dossier.fees.all()],
        fee_total=dossier.fee_total,
        paid=dossier.paid_amount,
        exempted=exempted(dossier),
        owed=owed(dossier),
        orders=list(dossier.payment_orders.order_by("-created_at")),
        receipts=list(dossier.receipts.order_by("-issued_at")),
        exemptions=list(dossier.fee_exemptions.order_by("-recorded_at")),
        refunds=list(Refund.objects.filter(dossier=dossier).select_related("order")),
    )


# -- who may pay online -------------------------------------------------------------------------


def pay_token(dossier: Dossier) -> str:
    """A signed token letting whoever holds it (the tracking page, after its second factor)
    pay this dossier's fees online without logging in; valid 7 days."""
    return signing.dumps({"d": dossier.code}, salt=LINK_SALT)


def pay_link(dossier: Dossier) -> str:
    return reverse("payments:start", args=[dossier.code]) + "?t=" + pay_token(dossier)


def token_valid(dossier: Dossier, token: str | None) -> bool:
    if not token:
        return False
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(data, dict) and data.get("d") == dossier.code


def may_pay_online(actor: Any, dossier: Dossier, token: str | None = None) -> bool:
    return access.is_applicant(actor, dossier) or token_valid(dossier, token)


def may_desk(actor: Any, dossier: Dossier) -> bool:
    """Cash, exemptions and refunds: desk officers of the receiving agency."""
    return access.may(actor, dossier, "pay")


def may_view(actor: Any, dossier: Dossier) -> bool:
    return access.can_view(actor, dossier)


# -- receipts -----------------------------------------------------------------------------------


def _next_receipt_number(year: int) -> tuple[int, str]:
    """The next receipt number of `year`: one atomic upsert (like dossier codes in
    `dossiers.intake._allocate_code`), safe under concurrent payments."""
    table = ReceiptCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608 - model table
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [year],
        )
        last = int(cursor.fetchone()[0])
    return last, f"{year}-{last:06d}"


def _issue_receipt(
    dossier: Dossier,
    *,
    amount: int,
    channel: str,
    actor: Any,
    now: dt.datetime,
    order: PaymentOrder | None = None,
) -> Receipt:
    seq, number = _next_receipt_number(now.year)
    receipt = Receipt.objects.create(
        number=number,
        year=now.year,
        seq=seq,
        dossier=dossier,
        order=order,
        amount=amount,
        channel=channel,
        payer=dossier.applicant_name,
        issued_at=now,
        issued_by=_user(actor),
        issued_by_label=_label(actor)
        if order is None
        else f"Cổng thanh toán {order.gateway.upper()}",
    )
    log.record(
        "payment.receipt.issued",
        actor=actor,
        obj=receipt,
        agency_id=dossier.receiving_agency_id,
        at=now,
        data={"dossier": dossier.code, "amount": amount, "channel": channel},
    )
    return receipt


def receipt_for(actor: Any, number: str) -> Receipt:
    receipt = Receipt.objects.select_related("dossier", "order").filter(number=number).first()
    if receipt is None or not may_view(actor, receipt.dossier):
        raise NotFound(f"Không tìm thấy biên lai số {number}.", code="payment.receipt_not_found")
    return receipt


# -- online payment: create an order ------------------------------------------------------------


def _txn_ref(now: dt.datetime) -> str:
    return f"TT{now:%y%m%d%H%M%S}{secrets.token_hex(3).upper()}"


def _order_info(dossier: Dossier) -> str:
    # VNPAY asks for Vietnamese without diacritics.
    return f"Thanh toan phi, le phi ho so {fold(dossier.code).upper()}"[:255]


def start_online(
    actor: Any,
    dossier: Dossier,
    *,
    gateway: str,
    return_url: str,
    ip: str = "",
    token: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[PaymentOrder, str]:
    """Create an order for what the dossier owes and return it with the gateway URL the
    citizen is sent to. Only the applicant (logged in) or the holder of a pay link may."""
    at = _now(now)
    if not may_pay_online(actor, dossier, token):
        raise PermissionDenied(
            f"Chỉ người nộp hồ sơ {dossier.code} mới thanh toán trực tuyến được hồ sơ này.",
            code="payment.forbidden",
        )
    gw = gateways.get(gateway)
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if locked.state not in PAYABLE_STATES:
            raise InvalidInput(
                f"Hồ sơ {locked.code} ở trạng thái «{State(locked.state).label}», không thể "
                "thanh toán phí, lệ phí.",
                code="payment.dossier_closed",
            )
        amount = owed(locked)
        if amount <= 0:
            raise InvalidInput(
                f"Hồ sơ {locked.code} không còn khoản phí, lệ phí nào phải nộp.",
                code="payment.nothing_owed",
            )
        # A new attempt supersedes unfinished ones (the citizen abandoned them).
        for old in PaymentOrder.objects.select_for_update().filter(
            dossier=locked, status=OrderStatus.PENDING
        ):
            old.status = OrderStatus.CANCELLED
            old.superseded = True
            old.closed_at = at
            old.save(update_fields=["status", "superseded", "closed_at"])
            log.record(
                "payment.order.superseded",
                actor=actor,
                obj=old,
                agency_id=locked.receiving_agency_id,
                at=at,
                data={"dossier": locked.code},
            )
        minutes = int(getattr(settings, "CCHC_PAYMENT_ORDER_MINUTES", 15))
        order = PaymentOrder.objects.create(
            dossier=locked,
            txn_ref=_txn_ref(at),
            amount=amount,
            gateway=gw.name,
            channel=gw.channel,
            created_by=_user(actor),
            created_at=at,
            expires_at=at + dt.timedelta(minutes=minutes),
        )
        log.record(
            "payment.order.created",
            actor=actor,
            obj=order,
            agency_id=locked.receiving_agency_id,
            at=at,
            data={
                "dossier": locked.code,
                "amount": amount,
                "gateway": gw.name,
                "channel": gw.channel,
                "via_link": not access.is_applicant(actor, dossier),
            },
        )
    url = gw.payment_url(
        OrderRequest(
            txn_ref=order.txn_ref,
            amount=order.amount,
            info=_order_info(dossier),
            created_at=order.created_at,
            expires_at=order.expires_at,
            return_url=return_url,
            ip_addr=ip,
        )
    )
    return order, url


def _lock_order(**lookup: Any) -> PaymentOrder | None:
    """Lock an order and its dossier, always the dossier first (the order every workflow
    here and in `cchc.dossiers.services` takes locks in, so that they cannot deadlock)."""
    dossier_id = PaymentOrder.objects.filter(**lookup).values_list("dossier_id", flat=True)
    first = dossier_id.first()
    if first is None:
        return None
    Dossier.objects.select_for_update().get(pk=first)
    return PaymentOrder.objects.select_for_update().filter(**lookup).first()


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
    receipt = _issue_receipt(
        dossier, amount=order.amount, channel=order.channel, actor=SYSTEM, now=now, order=order
    )
    if dossier.state in PAYABLE_STATES:
        dossier_services.act(
            SYSTEM,
            dossier,
            "pay",
            now=now,
            data={
                "amount": order.amount,
                "channel": order.channel,
                "order": order.txn_ref,
                "receipt": receipt.number,
            },
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
    order = _lock_order(txn_ref=result.txn_ref, gateway=gw.name)
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
    at = _now(now)
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
    at = _now(now)
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
    at = _now(now)
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
            order = _lock_order(pk=candidate.pk)
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


# -- the desk: cash, exemptions, refunds ---------------------------------------------------------


def _require_desk(actor: Any, dossier: Dossier, what: str) -> None:
    if not may_desk(actor, dossier):
        raise PermissionDenied(
            f"Chỉ công chức một cửa của cơ quan tiếp nhận hồ sơ {dossier.code} mới được {what}.",
            code="payment.forbidden",
        )


def _amount(value: Any) -> int:
    try:
        amount = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("Số tiền không hợp lệ.", code="payment.amount") from None
    if amount <= 0:
        raise InvalidInput("Số tiền phải lớn hơn 0.", code="payment.amount")
    return amount


def record_cash(
    officer: Any, dossier: Dossier, amount: Any, *, now: dt.datetime | None = None
) -> Receipt:
    """Cash taken at the desk: a receipt and the dossier's `pay` event (channel "cash")."""
    at = _now(now)
    _require_desk(officer, dossier, "thu tiền mặt")
    value = _amount(amount)
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        remaining = owed(locked)
        if value > remaining:
            raise InvalidInput(
                f"Số tiền {money(value)} lớn hơn số còn phải nộp ({money(remaining)}).",
                code="payment.amount_too_high",
            )
        receipt = _issue_receipt(
            locked, amount=value, channel=PaymentChannel.CASH, actor=officer, now=at
        )
        dossier_services.act(
            officer,
            locked,
            "pay",
            now=at,
            data={"amount": value, "channel": "cash", "receipt": receipt.number},
        )
        log.record(
            "payment.cash",
            actor=officer,
            obj=receipt,
            agency_id=locked.receiving_agency_id,
            at=at,
            data={"dossier": locked.code, "amount": value},
        )
    dossier.refresh_from_db()
    return receipt


def record_exemption(
    officer: Any,
    dossier: Dossier,
    *,
    reason: str,
    amount: Any = None,
    now: dt.datetime | None = None,
) -> Exemption:
    """A fee exemption (miễn, giảm) with its legal basis; the exempted part counts as
    settled. Default amount: everything still owed."""
    at = _now(now)
    _require_desk(officer, dossier, "ghi nhận miễn, giảm phí")
    text = nfc(reason or "").strip()
    if not text:
        raise InvalidInput("Cần ghi rõ căn cứ, lý do miễn, giảm phí.", code="payment.reason")
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        remaining = owed(locked)
        value = remaining if amount in (None, "") else _amount(amount)
        if value <= 0 or value > remaining:
            raise InvalidInput(
                f"Số tiền miễn phải từ 1 đồng đến số còn phải nộp ({money(remaining)}).",
                code="payment.amount_too_high",
            )
        exemption = Exemption.objects.create(
            dossier=locked,
            amount=value,
            reason=text,
            recorded_by=_user(officer),
            recorded_at=at,
        )
        dossier_services.act(
            officer,
            locked,
            "note",
            now=at,
            reason=f"Miễn, giảm phí, lệ phí {money(value)}: {text}",
            data={"exemption": value},
        )
        log.record(
            "payment.exemption",
            actor=officer,
            obj=exemption,
            agency_id=locked.receiving_agency_id,
            at=at,
            data={"dossier": locked.code, "amount": value, "reason": text},
        )
    return exemption


def refund(
    officer: Any,
    order: PaymentOrder,
    amount: Any,
    reason: str,
    *,
    ip: str = "",
    now: dt.datetime | None = None,
) -> Refund:
    """Refund all or part of an online payment through its gateway, then write the
    dossier's `refund` event."""
    at = _now(now)
    dossier = order.dossier
    _require_desk(officer, dossier, "hoàn trả phí, lệ phí")
    text = nfc(reason or "").strip()
    if not text:
        raise InvalidInput("Cần ghi rõ lý do hoàn trả.", code="payment.reason")
    value = _amount(amount)
    with transaction.atomic():
        locked = _lock_order(pk=order.pk)
        assert locked is not None
        if locked.refundable <= 0:
            raise InvalidInput(
                f"Giao dịch {locked.txn_ref} không có khoản nào có thể hoàn trả.",
                code="payment.not_refundable",
            )
        if value > locked.refundable:
            raise InvalidInput(
                f"Số tiền hoàn {money(value)} lớn hơn số có thể hoàn ({money(locked.refundable)}).",
                code="payment.amount_too_high",
            )
        if Refund.objects.filter(order=locked, state=RefundState.REQUESTED).exists():
            raise Conflict(
                f"Giao dịch {locked.txn_ref} đang có một yêu cầu hoàn trả chưa xong.",
                code="payment.refund_in_progress",
            )
        full = value == locked.amount and locked.refunded_amount == 0
        record = Refund.objects.create(
            order=locked,
            dossier=dossier,
            amount=value,
            reason=text,
            state=RefundState.REQUESTED,
            request_id=secrets.token_hex(16),
            requested_by=_user(officer),
            requested_at=at,
        )
        log.record(
            "payment.refund.requested",
            actor=officer,
            obj=record,
            agency_id=dossier.receiving_agency_id,
            at=at,
            data={"order": locked.txn_ref, "amount": value, "reason": text},
        )
    gw = gateways.get(order.gateway)
    try:
        result = gw.refund(
            RefundRequest(
                request_id=record.request_id,
                txn_ref=order.txn_ref,
                amount=value,
                full=full,
                transaction_no=order.gateway_txn_no,
                transaction_date=order.created_at,
                created_by=(getattr(officer, "username", "") or "cchc")[:250],
                info=f"Hoan tra {fold(dossier.code).upper()}",
                ip_addr=ip,
                now=at,
            )
        )
        ok, code, message = result.ok, result.response_code, result.message
    except GatewayError as exc:
        ok, code, message = False, "", str(exc)
    with transaction.atomic():
        locked = _lock_order(pk=order.pk)
        assert locked is not None
        record = Refund.objects.select_for_update().get(pk=record.pk)
        record.finished_at = at
        record.response_code = code[:4]
        record.message = message[:300]
        if not ok:
            record.state = RefundState.FAILED
            record.save()
            log.record(
                "payment.refund.failed",
                actor=officer,
                obj=record,
                agency_id=dossier.receiving_agency_id,
                at=at,
                data={"order": locked.txn_ref, "code": code, "message": message},
            )
        else:
            record.state = RefundState.DONE
            record.save()
            locked.refunded_amount += value
            locked.status = (
                OrderStatus.REFUNDED
                if locked.refunded_amount >= locked.amount
                else OrderStatus.PARTIALLY_REFUNDED
            )
            if locked.status == OrderStatus.REFUNDED:
                locked.needs_refund = False
            locked.save(update_fields=["refunded_amount", "status", "needs_refund"])
            if locked.recorded_on_dossier:
                dossier_services.act(
                    officer,
                    dossier,
                    "refund",
                    now=at,
                    reason=text,
                    data={"amount": value, "order": locked.txn_ref, "refund": record.pk},
                )
            log.record(
                "payment.refund.done",
                actor=officer,
                obj=record,
                agency_id=dossier.receiving_agency_id,
                at=at,
                data={"order": locked.txn_ref, "amount": value, "status": locked.status},
            )
    if not ok:
        raise InvalidInput(
            f"Cổng thanh toán không hoàn trả được giao dịch {order.txn_ref}"
            + (f" (mã {code})" if code else "")
            + (f": {message}" if message else "."),
            code="payment.refund_failed",
        )
    order.refresh_from_db()
    return record
