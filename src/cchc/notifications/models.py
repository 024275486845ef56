"""Notifications to officers and citizens: an in-app inbox row, delivered by e-mail (and,
through an adapter, SMS) by the worker after the transaction that caused it commits.

The table is the outbox: a row's `state` says where its delivery stands (pending → sending
→ sent, or retry → … → dead), so a message is never lost with a crashed process and never
sent from inside a request (`cchc.notifications.delivery`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    IN_APP = "in_app", "Trên hệ thống"
    EMAIL = "email", "Thư điện tử"
    SMS = "sms", "Tin nhắn SMS"


class State(models.TextChoices):
    """Where a row's delivery stands. `none`: nothing to deliver (in-app messages, or no
    address). `sending`: claimed by one worker (`claimed_at`); a claim older than the lease
    is taken back by `delivery.send_due`. `dead`: given up (attempts spent or a permanent
    refusal); an administrator may send it again."""

    NONE = "none", "Không cần gửi"
    PENDING = "pending", "Chờ gửi"
    SENDING = "sending", "Đang gửi"
    SENT = "sent", "Đã gửi"
    RETRY = "retry", "Chờ gửi lại"
    DEAD = "dead", "Gửi không được"


class Notification(models.Model):
    """One message to one recipient. `key` makes scheduled reminders idempotent: a job that
    runs twice on the same day does not send the same reminder twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người nhận",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    address = models.CharField(
        "Địa chỉ nhận", max_length=254, blank=True, help_text="E-mail hoặc số điện thoại"
    )
    channel = models.CharField(
        "Kênh", max_length=10, choices=Channel.choices, default=Channel.IN_APP
    )
    kind = models.CharField("Loại", max_length=60)
    subject = models.CharField("Tiêu đề", max_length=300)
    body = models.TextField("Nội dung", blank=True)
    link = models.CharField("Đường dẫn", max_length=300, blank=True)
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    agency = models.ForeignKey(
        "org.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The dossier the message is about (citizens' notifications), shown on its pages.
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        verbose_name="Hồ sơ",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    # A document rendered and attached when the e-mail is sent, e.g. "dossier-form:receipt"
    # (a renderer registered in `services.ATTACHMENT_RENDERERS` under the part before ":").
    attachment = models.CharField("Tệp đính kèm", max_length=100, blank=True)
    created_at = models.DateTimeField("Thời điểm tạo", db_index=True)
    sent_at = models.DateTimeField("Thời điểm gửi", null=True, blank=True)
    read_at = models.DateTimeField("Đã đọc lúc", null=True, blank=True)
    # The last delivery error (addresses masked: administrators and dossier pages show it).
    error = models.CharField("Lỗi gửi", max_length=300, blank=True)
    state = models.CharField(
        "Trạng thái gửi", max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField("Số lần thử", default=0)
    next_attempt_at = models.DateTimeField("Thử lại lúc", null=True, blank=True)
    claimed_at = models.DateTimeField("Bắt đầu gửi lúc", null=True, blank=True)

    class Meta:
        verbose_name = "Thông báo"
        verbose_name_plural = "Thông báo"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_inbox"),
            # The worker's sweep: due rows by state and time.
            models.Index(fields=["state", "next_attempt_at"], name="notification_outbox"),
        ]

    def __str__(self) -> str:
        return self.subject


class OutgoingNotification(Notification):
    """The e-mail/SMS rows of the table as their own admin list (`admin.py`): what is
    waiting, retrying or given up."""

    class Meta:
        proxy = True
        verbose_name = "Thông báo gửi đi"
        verbose_name_plural = "Thông báo gửi đi (thư điện tử, SMS)"
