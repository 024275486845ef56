"""Payments of dossier fees (phí, lệ phí): online orders, the gateway callbacks received,
receipts, refunds and exemptions.

The dossier's own `paid_amount` / `payment_channel` are derived from its `pay`/`refund`
events (`cchc.dossiers.replay`); the rows here are the payment records behind them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Chờ thanh toán"
    PAID = "paid", "Đã thanh toán"
    FAILED = "failed", "Thanh toán không thành công"
    CANCELLED = "cancelled", "Đã hủy"
    EXPIRED = "expired", "Hết hạn thanh toán"
    REFUNDED = "refunded", "Đã hoàn trả toàn bộ"
    PARTIALLY_REFUNDED = "partially_refunded", "Đã hoàn trả một phần"


# Orders whose money was received (refunds may follow).
SETTLED = frozenset({OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED})


class PaymentOrder(models.Model):
    """One online payment attempt: created here, paid (or not) at the gateway."""

    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="payment_orders"
    )
    txn_ref = models.CharField("Mã giao dịch (vnp_TxnRef)", max_length=40, unique=True)
    amount = models.PositiveBigIntegerField("Số tiền (đồng)")
    gateway = models.CharField("Cổng thanh toán", max_length=30)
    channel = models.CharField("Mã 'thanh toán trực tuyến' quốc gia", max_length=1)
    status = models.CharField(
        "Trạng thái", max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("Tạo lúc")
    expires_at = models.DateTimeField("Hết hạn lúc")
    paid_at = models.DateTimeField("Thanh toán lúc", null=True, blank=True)
    closed_at = models.DateTimeField("Kết thúc lúc", null=True, blank=True)
    gateway_txn_no = models.CharField("Mã giao dịch tại cổng", max_length=40, blank=True)
    bank_code = models.CharField("Ngân hàng", max_length=20, blank=True)
    pay_date = models.CharField("Thời điểm thanh toán (cổng)", max_length=14, blank=True)
    response_code = models.CharField("Mã phản hồi của cổng", max_length=4, blank=True)
    refunded_amount = models.PositiveBigIntegerField("Đã hoàn trả (đồng)", default=0)
    late = models.BooleanField("Xác nhận sau khi đơn đã hết hạn/hủy", default=False)
    # Cancelled here because the citizen started a new attempt; the gateway may still have
    # taken the money, so reconciliation keeps asking until the order's expiry has passed.
    superseded = models.BooleanField("Bị thay bằng lần thanh toán mới", default=False)
    needs_refund = models.BooleanField("Thu thừa, cần hoàn trả", default=False)
    # False when the money came in after the dossier had closed: no `pay` event was written.
    recorded_on_dossier = models.BooleanField("Đã ghi vào hồ sơ", default=False)

    class Meta:
        verbose_name = "Đơn thanh toán trực tuyến"
        verbose_name_plural = "Đơn thanh toán trực tuyến"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_order_status")]

    def __str__(self) -> str:
        return self.txn_ref

    @property
    def refundable(self) -> int:
        if self.status not in SETTLED:
            return 0
        return max(self.amount - self.refunded_amount, 0)


class CallbackKind(models.TextChoices):
    IPN = "ipn", "IPN (máy chủ – máy chủ)"
    RETURN = "return", "Trả về trình duyệt"
    QUERY = "query", "Truy vấn đối soát"


class GatewayCallback(models.Model):
    """Every signed callback received from a gateway (and every reconciliation answer),
    accepted or not, and a sample of the unsigned ones (`RejectedCallbackCount` counts them
    all): the protocol's known parameters (values capped), the raw query (capped), signature
    check, outcome, error."""

    gateway = models.CharField(max_length=30)
    kind = models.CharField(max_length=10, choices=CallbackKind.choices)
    received_at = models.DateTimeField()
    txn_ref = models.CharField(max_length=100, blank=True)
    order = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="callbacks"
    )
    params = models.JSONField(default=dict)
    raw_query = models.TextField("Chuỗi tham số gốc (cắt ngắn)", blank=True)
    signature_valid = models.BooleanField(default=False)
    outcome = models.CharField(max_length=30)
    answer_code = models.CharField(max_length=4, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "Phản hồi từ cổng thanh toán"
        verbose_name_plural = "Phản hồi từ cổng thanh toán"
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.txn_ref} {self.outcome}"


class RejectedCallbackCount(models.Model):
    """Callbacks refused before any order was looked at (bad signature, …), counted per
    gateway, kind, reason and hour: anyone can send them, so each one is not a row."""

    gateway = models.CharField(max_length=30)
    kind = models.CharField(max_length=10, choices=CallbackKind.choices)
    reason = models.CharField("Lý do", max_length=30)
    hour = models.DateTimeField("Giờ (đầu giờ)")
    count = models.PositiveIntegerField("Số lần", default=0)
    last_at = models.DateTimeField("Lần cuối")

    class Meta:
        verbose_name = "Số phản hồi giả mạo, không hợp lệ"
        verbose_name_plural = "Số phản hồi giả mạo, không hợp lệ"
        ordering = ["-hour", "gateway", "kind", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "kind", "reason", "hour"], name="rejected_callback_hour"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reason} {self.hour:%Y-%m-%d %H}h: {self.count}"


class ReceiptCounter(models.Model):
    """Receipt numbers run per calendar year; the row is locked while a number is taken."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Receipt(models.Model):
    """Biên lai thu phí, lệ phí: one per payment received (cash or online)."""

    number = models.CharField("Số biên lai", max_length=20, unique=True)
    year = models.PositiveIntegerField()
    seq = models.PositiveIntegerField()
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="receipts"
    )
    order = models.OneToOneField(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="receipt"
    )
    amount = models.PositiveBigIntegerField("Số tiền (đồng)")
    channel = models.CharField("Hình thức thanh toán", max_length=8)
    payer = models.CharField("Người nộp tiền", max_length=200)
    issued_at = models.DateTimeField("Ngày thu")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_by_label = models.CharField("Người thu", max_length=200)
    # Mẫu số and ký hiệu (Nghị định 123/2020/NĐ-CP, Thông tư 78/2021/TT-BTC) as configured
    # when the receipt was issued (CCHC_RECEIPT_FORM / CCHC_RECEIPT_SERIES): a reprint shows
    # what was issued, whatever the configuration says later. Empty on older receipts.
    # (Declared last: the demo generator writes receipt rows in field order.)
    form_number = models.CharField("Mẫu số", max_length=20, blank=True, default="")
    series = models.CharField("Ký hiệu", max_length=20, blank=True, default="")

    class Meta:
        verbose_name = "Biên lai"
        verbose_name_plural = "Biên lai"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "seq"], name="receipt_year_seq_unique")
        ]

    def __str__(self) -> str:
        return self.number


class RefundState(models.TextChoices):
    REQUESTED = "requested", "Đang yêu cầu cổng hoàn trả"
    DONE = "done", "Đã hoàn trả"
    FAILED = "failed", "Cổng từ chối hoàn trả"


class Refund(models.Model):
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="refunds")
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveBigIntegerField("Số tiền hoàn (đồng)")
    reason = models.TextField("Lý do")
    state = models.CharField(max_length=10, choices=RefundState.choices)
    request_id = models.CharField(max_length=32, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    response_code = models.CharField(max_length=4, blank=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "Hoàn trả"
        verbose_name_plural = "Hoàn trả"
        ordering = ["-requested_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self) -> str:
        return f"{self.order_id} −{self.amount}"


class Exemption(models.Model):
    """Miễn, giảm phí, lệ phí recorded by a desk officer: counts as settled."""

    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="fee_exemptions"
    )
    amount = models.PositiveBigIntegerField("Số tiền được miễn (đồng)")
    reason = models.TextField("Căn cứ, lý do")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = "Miễn, giảm phí"
        verbose_name_plural = "Miễn, giảm phí"
        ordering = ["-recorded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="exemption_positive")]

    def __str__(self) -> str:
        return f"{self.dossier_id} miễn {self.amount}"


class SimulatedTransaction(models.Model):
    """The local gateway simulator's own ledger (what 'the bank' knows): used only when
    CCHC_PAYMENT_SIMULATOR is on, to answer querydr and refund like the real gateway."""

    tmn_code = models.CharField(max_length=20)
    txn_ref = models.CharField(max_length=100)
    amount = models.PositiveBigIntegerField()  # ×100, as the protocol carries it
    transaction_no = models.CharField(max_length=20, unique=True)
    response_code = models.CharField(max_length=4)
    transaction_status = models.CharField(max_length=4)
    bank_code = models.CharField(max_length=20, default="NCB")
    pay_date = models.CharField(max_length=14)
    order_info = models.CharField(max_length=255, blank=True)
    refunded = models.PositiveBigIntegerField(default=0)  # ×100

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tmn_code", "txn_ref"], name="simulated_txn_unique")
        ]

    def __str__(self) -> str:
        return f"{self.txn_ref} {self.transaction_status}"
