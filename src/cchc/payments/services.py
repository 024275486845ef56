"""Payment workflows: what a dossier owes, online orders, receipts, cash at the desk,
exemptions and refunds (gateway callbacks and reconciliation: `cchc.payments.callbacks`).

Every change runs in a transaction with its audit entry; money received is written to the
dossier as a `pay` event (and a refund as a `refund` event) through
`cchc.dossiers.services.act`, in the same transaction as the payment record.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from cchc import legaltime
from cchc.audit import log
from cchc.dossiers import access, payloads
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import OPEN_STATES, Dossier, PaymentChannel, State
from cchc.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cchc.payments import gateways
from cchc.payments.gateways.base import (
    GatewayError,
    OrderRequest,
    RefundRequest,
)
from cchc.payments.models import (
    Exemption,
    OrderStatus,
    PaymentOrder,
    Receipt,
    ReceiptCounter,
    Refund,
    RefundState,
)
from cchc.vietnamese import fold, money, nfc

logger = logging.getLogger(__name__)
# Fees can be collected until settled, also once the result is returned (dossiers returned
# unpaid before the fees-before-results rule); not after a refusal or withdrawal, where
# nothing more is owed for a result.
PAYABLE_STATES = frozenset(OPEN_STATES | {State.RESOLVED, State.RETURNED})
# Actions that hand a result out: refused while fees are owed (`fees_before_result`).
RESULT_ACTIONS = frozenset({"approve", "return_result"})
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


def receipt_form_and_series(year: int) -> tuple[str, str]:
    """The form number (mẫu số) and series (ký hiệu) a receipt issued in `year` carries:
    `CCHC_RECEIPT_FORM`, and `CCHC_RECEIPT_SERIES` with {yy}/{yyyy} put in."""
    form_number = str(getattr(settings, "CCHC_RECEIPT_FORM", "") or "01BLP0-001")
    template = str(getattr(settings, "CCHC_RECEIPT_SERIES", "") or "AA-{yy}E")
    series = template.format(yy=f"{year % 100:02d}", yyyy=f"{year:04d}")
    return form_number[:20], series[:20]


def issue_receipt(
    dossier: Dossier,
    *,
    amount: int,
    channel: str,
    actor: Any,
    now: dt.datetime,
    order: PaymentOrder | None = None,
) -> Receipt:
    seq, number = _next_receipt_number(now.year)
    form_number, series = receipt_form_and_series(now.year)
    receipt = Receipt.objects.create(
        number=number,
        form_number=form_number,
        series=series,
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


def lock_order(**lookup: Any) -> PaymentOrder | None:
    """Lock an order and its dossier, always the dossier first (the order every workflow
    here and in `cchc.dossiers.services` takes locks in, so that they cannot deadlock)."""
    dossier_id = PaymentOrder.objects.filter(**lookup).values_list("dossier_id", flat=True)
    first = dossier_id.first()
    if first is None:
        return None
    Dossier.objects.select_for_update().get(pk=first)
    return PaymentOrder.objects.select_for_update().filter(**lookup).first()


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
        receipt = issue_receipt(
            locked, amount=value, channel=PaymentChannel.CASH, actor=officer, now=at
        )
        dossier_services.act(
            officer,
            locked,
            "pay",
            now=at,
            data=payloads.pay(amount=value, channel="cash", receipt=receipt.number),
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
        locked = lock_order(pk=order.pk)
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
        locked = lock_order(pk=order.pk)
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


# -- fees before results -----------------------------------------------------------------------

# Keys of an approve/return action's data through which the officer settles the fees in the
# same step: cash taken now (đồng) and/or an exemption of what is still owed, with its reason.
FEE_CASH = "fee_cash"
FEE_EXEMPTION_REASON = "fee_exemption_reason"


def fees_owed_message(dossier: Dossier, amount: int) -> str:
    return (
        f"Hồ sơ {dossier.code} còn nợ {money(amount)} phí, lệ phí: thu tiền, ghi nhận thanh "
        "toán trực tuyến hoặc miễn/giảm có lý do trước khi trả kết quả."
    )


def fees_before_result(
    actor: Any, dossier: Dossier, action: str, data: dict[str, Any], now: dt.datetime
) -> bool:
    """The dossier engine's pre-action guard (`dossiers.services.register_pre_action_guard`):
    a result is not approved or returned while fees are owed (Nghị định 61/2018/NĐ-CP: the
    one-stop desk collects fees and charges before handing the result over), unless the
    same step collects cash (`fee_cash`, a receipt issued in the same transaction) and/or
    exempts the rest with a reason (`fee_exemption_reason`). Runs under the dossier's lock
    inside `act`'s transaction; returns True when it wrote events (cash, exemption).
    Raises Conflict `payment.fees_owed` (details: `owed`, đồng) while something is still
    owed; `CCHC_FEES_BEFORE_RESULT=false` turns the refusal off (fees collected elsewhere)."""
    cash = data.pop(FEE_CASH, None)
    reason = nfc(str(data.pop(FEE_EXEMPTION_REASON, None) or ""))
    collecting = cash not in (None, "", 0) or bool(reason)
    if action not in RESULT_ACTIONS:
        if collecting:
            raise InvalidInput(
                "Chỉ thu phí, lệ phí hoặc miễn, giảm kèm thao tác phê duyệt hoặc trả kết quả; "
                "các lúc khác dùng mục «Phí, lệ phí và thanh toán» của hồ sơ.",
                code="payment.fees_not_with_action",
            )
        return False
    enforced = bool(getattr(settings, "CCHC_FEES_BEFORE_RESULT", True))
    if not collecting and (not enforced or dossier.fee_total == 0):
        return False
    wrote = False
    if cash not in (None, "", 0):
        record_cash(actor, dossier, cash, now=now)
        wrote = True
    if reason and owed(dossier) > 0:
        record_exemption(actor, dossier, reason=reason, now=now)
        wrote = True
    remaining = owed(dossier)
    if remaining > 0 and enforced:
        raise Conflict(
            fees_owed_message(dossier, remaining), code="payment.fees_owed", owed=remaining
        )
    return wrote


def fee_status_text(dossier: Dossier) -> str:
    """The dossier's fees in one honest sentence for the citizen: what was paid (and how),
    what was exempted and why, and what is still owed — never "paid 0 / 200 000" without
    saying whether it is owed or exempted."""
    if dossier.fee_total == 0:
        return "Thủ tục không thu phí, lệ phí."
    exemptions = list(Exemption.objects.filter(dossier=dossier).order_by("recorded_at", "pk"))
    exempt = sum(e.amount for e in exemptions)
    remaining = max(dossier.fee_total - dossier.paid_amount - exempt, 0)
    parts = [f"Tổng phí, lệ phí {money(dossier.fee_total)}"]
    if dossier.paid_amount:
        how = f" ({dossier.get_payment_channel_display()})" if dossier.payment_channel else ""
        full = "đủ " if dossier.paid_amount >= dossier.fee_total else ""
        parts.append(f"đã thanh toán {full}{money(dossier.paid_amount)}{how}")
    if exempt:
        reasons = "; ".join(e.reason for e in exemptions)
        parts.append(f"miễn/giảm {money(exempt)}: {reasons}")
    if remaining:
        parts.append(f"còn nợ {money(remaining)} (chưa thu)")
    return " · ".join(parts) + "."
