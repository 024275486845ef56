"""What the province's system keeps about the national portal.

The outbox (`SyncRecord`): every dossier event that changes what the national portal shows
writes one record in the same transaction as the event; the worker delivers records in
order per dossier, idempotently (the record's `key` travels with the call), with retries and
back-off, and keeps the national error of a dead letter for administrators. `NationalDossier`
links a dossier to its national code and the last status the portal acknowledged.

Inbound (`InboundDossier`): a dossier submitted on the national portal, fetched once per
national code (unique), and the local dossier created from it. `CatalogSync`: a fetched
difference between the national database of procedures and the local catalogue, applied
only after an administrator reviews it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


# --- The outbox (cchc.national.outbox / delivery) -----------------------------------------
class SyncState(models.TextChoices):
    PENDING = "pending", "Chờ gửi"
    SENDING = "sending", "Đang gửi"
    SENT = "sent", "Đã đồng bộ"
    RETRY = "retry", "Chờ gửi lại"
    DEAD = "dead", "Không gửi được"


class SyncRecord(models.Model):
    """One change to push to the national portal. Delivered in `id` order per dossier."""

    dossier = models.ForeignKey(
        "dossiers.Dossier",
        verbose_name="Hồ sơ",
        on_delete=models.PROTECT,
        related_name="national_sync",
    )
    # The event that caused it; empty for a record re-queued by the reconciliation.
    event = models.ForeignKey(
        "dossiers.DossierEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.CharField("Dịch vụ", max_length=40)
    reason = models.CharField("Lý do", max_length=40, blank=True)
    # Idempotency key sent with the call: a retried call cannot create a second step.
    key = models.CharField(max_length=120, unique=True)
    payload = models.JSONField("Dữ liệu gửi", default=dict)
    created_at = models.DateTimeField("Thời điểm ghi", db_index=True)
    state = models.CharField(
        "Trạng thái", max_length=10, choices=SyncState.choices, default=SyncState.PENDING
    )
    attempts = models.PositiveIntegerField("Số lần thử", default=0)
    next_attempt_at = models.DateTimeField("Thử lại lúc", null=True, blank=True)
    claimed_at = models.DateTimeField("Bắt đầu gửi lúc", null=True, blank=True)
    sent_at = models.DateTimeField("Đồng bộ lúc", null=True, blank=True)
    error = models.CharField("Lỗi từ Cổng quốc gia", max_length=500, blank=True)
    # The portal's error_code of the last failure ("" for a time-out or a refused connection).
    error_code = models.CharField("Mã lỗi", max_length=20, blank=True)
    # A dead letter an administrator chose to skip ("bỏ qua"): it stays dead and visible,
    # but no longer blocks the later records of its dossier.
    discarded_at = models.DateTimeField("Bỏ qua lúc", null=True, blank=True)

    class Meta:
        verbose_name = "Bản ghi đồng bộ"
        verbose_name_plural = "Đồng bộ lên Cổng DVCQG"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="national_sync_due"),
            models.Index(fields=["dossier", "id"], name="national_sync_dossier"),
        ]

    def __str__(self) -> str:
        return self.key


class NationalDossier(models.Model):
    """A dossier as the national portal knows it."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", primary_key=True, on_delete=models.PROTECT, related_name="national"
    )
    national_code = models.CharField("Mã hồ sơ trên Cổng quốc gia", max_length=80, blank=True)
    status = models.CharField("Trạng thái đã đồng bộ", max_length=20, blank=True)
    synced_at = models.DateTimeField("Đồng bộ lần cuối", null=True, blank=True)
    # Submitted on the national portal (inbound), not at our desk or portal.
    inbound = models.BooleanField("Nộp trên Cổng quốc gia", default=False)

    class Meta:
        verbose_name = "Hồ sơ trên Cổng quốc gia"
        verbose_name_plural = "Hồ sơ trên Cổng quốc gia"

    def __str__(self) -> str:
        return self.national_code or str(self.dossier_id)


# --- Inbound dossiers and the catalogue (cchc.national.inbound / catalogue) ---------------
class InboundState(models.TextChoices):
    RECEIVED = "received", "Đã nhận"
    CREATED = "created", "Đã tạo hồ sơ"
    REFUSED = "refused", "Không tạo được"


class InboundDossier(models.Model):
    """A dossier submitted on the national portal, as fetched (once per national code)."""

    national_code = models.CharField("Mã hồ sơ trên Cổng quốc gia", max_length=80, unique=True)
    payload = models.JSONField("Dữ liệu nhận", default=dict)
    fetched_at = models.DateTimeField("Nhận lúc", db_index=True)
    state = models.CharField(
        "Trạng thái", max_length=10, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    dossier = models.OneToOneField(
        "dossiers.Dossier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="national_inbound",
    )
    error = models.CharField("Lỗi", max_length=500, blank=True)
    acknowledged_at = models.DateTimeField("Đã xác nhận với Cổng lúc", null=True, blank=True)

    class Meta:
        verbose_name = "Hồ sơ nhận từ Cổng quốc gia"
        verbose_name_plural = "Hồ sơ nhận từ Cổng quốc gia"
        ordering = ["-fetched_at", "-id"]

    def __str__(self) -> str:
        return self.national_code


class CatalogState(models.TextChoices):
    PENDING = "pending", "Chờ xem xét"
    APPLIED = "applied", "Đã áp dụng"
    REJECTED = "rejected", "Đã từ chối"
    SUPERSEDED = "superseded", "Đã có bản mới hơn"


class CatalogSync(models.Model):
    """A difference between the national database of procedures and the local catalogue."""

    fetched_at = models.DateTimeField("Lấy lúc", db_index=True)
    state = models.CharField(
        "Trạng thái", max_length=12, choices=CatalogState.choices, default=CatalogState.PENDING
    )
    diff = models.JSONField("Khác biệt", default=dict)
    summary = models.CharField("Tóm tắt", max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="Người xem xét",
    )
    reviewed_at = models.DateTimeField("Xem xét lúc", null=True, blank=True)
    note = models.TextField("Ghi chú", blank=True)

    class Meta:
        verbose_name = "Đồng bộ danh mục TTHC"
        verbose_name_plural = "Đồng bộ danh mục TTHC từ CSDL quốc gia"
        ordering = ["-fetched_at", "-id"]

    def __str__(self) -> str:
        return f"{self.fetched_at:%d/%m/%Y %H:%M} — {self.get_state_display()}"
