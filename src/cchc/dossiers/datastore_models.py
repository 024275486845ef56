"""The models of e-results delivered to the holder's data store (issue 21 item 4, 766 sub
3e; `cchc.dossiers.datastore`, `cchc.dossiers.datastore_delivery`), in their own module so
that `dossiers.models` stays readable; `dossiers.models` imports them (the app registry
loads models from there) and re-exports them."""

from __future__ import annotations

from django.db import models


class DeliveryState(models.TextChoices):
    """Where the delivery of a signed e-result to the holder's data store is."""

    WAITING = "waiting", "Chờ gửi vào kho dữ liệu"
    SENDING = "sending", "Đang gửi"
    SENT = "sent", "Đã gửi vào kho dữ liệu"
    FAILED = "failed", "Gửi vào kho dữ liệu không thành công"


class DatastoreDelivery(models.Model):
    """One signed result to deliver to the holder's data store (`cchc.dossiers.datastore`):
    written in the transaction that records the signature, delivered by the worker with the
    same idempotency `key` on every attempt; `receipt` is the store's id of what it kept."""

    document = models.ForeignKey(
        "dossiers.IssuedDocument", on_delete=models.PROTECT, related_name="datastore_deliveries"
    )
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="datastore_deliveries"
    )
    holder_id_number = models.CharField("Số định danh người nhận", max_length=20)
    backend = models.CharField("Kho dữ liệu", max_length=20)
    key = models.CharField(max_length=120, unique=True)
    sha256 = models.CharField(max_length=64)
    state = models.CharField(
        "Trạng thái",
        max_length=10,
        choices=DeliveryState.choices,
        default=DeliveryState.WAITING,
    )
    attempts = models.PositiveSmallIntegerField("Số lần thử", default=0)
    next_attempt_at = models.DateTimeField("Thử lại lúc", null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField("Lỗi", max_length=500, blank=True)
    error_code = models.CharField("Mã lỗi", max_length=20, blank=True)
    receipt = models.CharField("Mã biên nhận của kho", max_length=120, blank=True)
    created_at = models.DateTimeField("Tạo lúc")
    sent_at = models.DateTimeField("Gửi xong lúc", null=True, blank=True)

    class Meta:
        verbose_name = "Gửi kết quả vào kho dữ liệu"
        verbose_name_plural = "Gửi kết quả vào kho dữ liệu"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="datastore_delivery_due"),
        ]

    def __str__(self) -> str:
        return self.key


class DatastoreItem(models.Model):
    """A document kept in the local data store of its holder (the "local" store of
    `cchc.dossiers.datastore`): what the citizen sees at "Kho dữ liệu của tôi". The bytes are
    the stored file of the issued document (`dossiers.files`, by content hash)."""

    holder_id_number = models.CharField("Số định danh người sở hữu", max_length=20)
    key = models.CharField(max_length=120, unique=True)
    receipt = models.CharField("Mã biên nhận", max_length=120, unique=True)
    document = models.ForeignKey(
        "dossiers.IssuedDocument", on_delete=models.PROTECT, related_name="+"
    )
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("Loại văn bản", max_length=20)
    title = models.CharField("Tên văn bản", max_length=300, blank=True)
    dossier_code = models.CharField("Mã hồ sơ", max_length=60)
    procedure_code = models.CharField("Mã TTHC", max_length=30)
    issued_on = models.DateField("Ngày cấp")
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    path = models.CharField(max_length=300)
    received_at = models.DateTimeField("Vào kho lúc")

    class Meta:
        verbose_name = "Văn bản trong kho dữ liệu"
        verbose_name_plural = "Kho dữ liệu của công dân, tổ chức"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["holder_id_number", "id"], name="datastore_item_holder")]

    def __str__(self) -> str:
        return f"{self.dossier_code} – {self.receipt}"
