"""Feedback and complaints (phản ánh, kiến nghị — PAKN): an append-only event list and the
columns derived from it (`cchc.feedback.replay`), like dossiers but simpler.

The indicators (766 group 5) read `agency_id`, `received_at`, `state`, `resolve_due`,
`resolved_at`, `published_at`, `publish_due`, `handled_on_time`, `satisfaction`,
`dossier_id`: keep these names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cchc.eventlog.models import event_model


class State(models.TextChoices):
    RECEIVED = "received", "Mới tiếp nhận"
    ACCEPTED = "accepted", "Đã tiếp nhận xử lý"
    REJECTED = "rejected", "Từ chối xử lý"
    IN_PROGRESS = "in_progress", "Đang xử lý"
    AWAITING_SUPPLEMENT = "awaiting_supplement", "Chờ bổ sung thông tin"
    RESOLVED = "resolved", "Đã trả lời"
    PUBLISHED = "published", "Đã công khai trả lời"
    WITHDRAWN = "withdrawn", "Đã rút"


OPEN_STATES = frozenset(
    {State.RECEIVED, State.ACCEPTED, State.IN_PROGRESS, State.AWAITING_SUPPLEMENT}
)
TERMINAL_STATES = frozenset({State.REJECTED, State.PUBLISHED, State.WITHDRAWN})


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "Hài lòng"
    NEUTRAL = "neutral", "Bình thường"
    DISSATISFIED = "dissatisfied", "Không hài lòng"


class DossierLink(models.TextChoices):
    """Whether the dossier a PAKN names is proven to be the sender's. Only a linked dossier
    gets the `complaint` event that counts in index 766; the form answers the same either
    way, so it tells nobody whether a code and a phone number belong together."""

    NONE = "", "Không ghi mã hồ sơ"
    PENDING = "pending", "Chờ xác minh hồ sơ"
    LINKED = "linked", "Đã xác minh hồ sơ"


class Feedback(models.Model):
    code = models.CharField("Mã phản ánh", max_length=40, unique=True)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Tài khoản người gửi",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Personal data (NĐ 13/2023): shown in full only to the handling agency and the sender.
    name = models.CharField("Họ tên người gửi", max_length=200)
    phone = models.CharField("Điện thoại", max_length=20, blank=True)
    email = models.EmailField("Thư điện tử", blank=True)
    subject = models.CharField("Tiêu đề", max_length=300)
    content = models.TextField("Nội dung phản ánh, kiến nghị")
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        verbose_name="Hồ sơ liên quan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The code the sender typed, and whether it is proven theirs (`dossier` is set only then).
    dossier_claim = models.CharField("Mã hồ sơ người gửi ghi", max_length=60, blank=True)
    dossier_link = models.CharField(
        "Xác minh hồ sơ liên quan",
        max_length=10,
        choices=DossierLink.choices,
        blank=True,
        default=DossierLink.NONE,
    )
    agency = models.ForeignKey(
        "org.Agency", verbose_name="Cơ quan xử lý", on_delete=models.PROTECT, related_name="+"
    )
    calendar_code = models.CharField("Lịch làm việc", max_length=50)
    calendar_version = models.PositiveIntegerField("Phiên bản lịch")
    rules_version = models.PositiveIntegerField("Phiên bản quy tắc thời hạn")
    received_at = models.DateTimeField("Thời điểm tiếp nhận")
    is_demo = models.BooleanField("Dữ liệu mẫu", default=False)
    version = models.PositiveIntegerField(default=0)

    # -- projection (derived from the events by `replay.project`) ------------------------------
    state = models.CharField("Trạng thái", max_length=24, choices=State.choices)
    is_open = models.BooleanField("Đang mở", default=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người xử lý",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reject_due = models.DateTimeField("Hạn tiếp nhận hoặc từ chối")
    supplement_due = models.DateTimeField("Hạn yêu cầu bổ sung")
    resolve_due = models.DateTimeField("Hạn trả lời")
    publish_due = models.DateTimeField("Hạn công khai trả lời", null=True, blank=True)
    decided_at = models.DateTimeField("Thời điểm tiếp nhận/từ chối xử lý", null=True, blank=True)
    rejected_at = models.DateTimeField("Thời điểm từ chối", null=True, blank=True)
    reject_reason = models.TextField("Lý do từ chối", blank=True)
    supplement_requests = models.PositiveSmallIntegerField("Số lần yêu cầu bổ sung", default=0)
    first_supplement_at = models.DateTimeField("Lần đầu yêu cầu bổ sung", null=True, blank=True)
    paused_since = models.DateTimeField("Tạm dừng từ", null=True, blank=True)
    paused_seconds = models.PositiveIntegerField("Thời gian chờ bổ sung (giây làm việc)", default=0)
    resolved_at = models.DateTimeField("Thời điểm trả lời", null=True, blank=True)
    answer = models.TextField("Nội dung trả lời", blank=True)
    answered_at = models.DateTimeField("Thời điểm trả lời", null=True, blank=True)
    published_at = models.DateTimeField("Thời điểm công khai", null=True, blank=True)
    public_content = models.TextField("Nội dung công khai (đã bỏ dữ liệu cá nhân)", blank=True)
    withdrawn_at = models.DateTimeField("Thời điểm rút", null=True, blank=True)
    # On-time flags: null while the deadline is still ahead (or does not apply).
    decision_on_time = models.BooleanField("Tiếp nhận/từ chối đúng hạn", null=True)
    supplement_on_time = models.BooleanField("Yêu cầu bổ sung đúng hạn", null=True)
    resolve_on_time = models.BooleanField("Trả lời đúng hạn", null=True)
    publish_on_time = models.BooleanField("Công khai đúng hạn", null=True)
    handled_on_time = models.BooleanField("Xử lý đúng hạn", null=True)
    satisfaction = models.CharField(
        "Mức độ hài lòng", max_length=16, choices=Satisfaction.choices, blank=True
    )
    satisfaction_comment = models.TextField("Ý kiến về trả lời", blank=True)
    rated_at = models.DateTimeField("Thời điểm đánh giá", null=True, blank=True)

    class Meta:
        verbose_name = "Phản ánh, kiến nghị"
        verbose_name_plural = "Phản ánh, kiến nghị"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "received_at"], name="feedback_agency_received"),
            models.Index(fields=["state", "resolve_due"], name="feedback_state_due"),
            models.Index(fields=["published_at"], name="feedback_published"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_paused(self) -> bool:
        return self.state == State.AWAITING_SUPPLEMENT


FeedbackEventBase = event_model(
    "feedback",
    "feedback.Feedback",
    action_length=30,
    state_length=24,
    reason_label="Nội dung, lý do",
)


class FeedbackEvent(FeedbackEventBase):
    """One step of a PAKN's life. Append-only (model and database triggers). The columns are
    the shared event-log shape (`cchc.eventlog`)."""

    class Meta(FeedbackEventBase.Meta):
        verbose_name = "Sự kiện phản ánh"
        verbose_name_plural = "Sự kiện phản ánh"


class FeedbackFile(models.Model):
    """An attachment (checked like dossier uploads), stored outside the web root."""

    feedback = models.ForeignKey(Feedback, on_delete=models.PROTECT, related_name="files")
    event = models.ForeignKey(
        FeedbackEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="files"
    )
    name = models.CharField("Tên tệp", max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["feedback", "id"]

    def __str__(self) -> str:
        return self.name


class DossierLinkCode(models.Model):
    """A one-time code sent to the registered contact of the dossier a PAKN names: typing it
    back proves the sender holds that contact (only a keyed hash is stored)."""

    feedback = models.ForeignKey(Feedback, on_delete=models.PROTECT, related_name="link_codes")
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="+")
    code_hash = models.CharField(max_length=100)  # salt$HMAC-SHA256
    channel = models.CharField("Kênh gửi", max_length=10)
    sent_to = models.CharField("Gửi tới (đã che)", max_length=60)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField("Số lần nhập", default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Mã xác nhận hồ sơ của phản ánh"
        verbose_name_plural = "Mã xác nhận hồ sơ của phản ánh"
        ordering = ["feedback", "-created_at"]

    def __str__(self) -> str:
        return f"{self.feedback_id} → {self.dossier_id} ({self.channel})"


class CodeCounter(models.Model):
    """Per-day sequence of PAKN codes, incremented with one atomic upsert."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"
