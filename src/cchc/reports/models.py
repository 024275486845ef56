"""A periodic report asked for on the web and made by the worker (`cchc.reports.jobs`).

Rendering a report takes seconds to minutes at province scale, far too long for a request:
the page records what was asked (`ReportRequest`), queues the job and shows the request's
page until the file is ready. The file is kept under ``<MEDIA_ROOT>/reports/`` (never
served as static: only the requester downloads it, through `reports.views.download`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RequestState(models.TextChoices):
    QUEUED = "queued", "Đang chờ xử lý"
    RUNNING = "running", "Đang lập báo cáo"
    DONE = "done", "Đã lập xong"
    FAILED = "failed", "Không lập được"
    # Never stored: a "running" request whose process died (`jobs.state_of`).
    INTERRUPTED = "interrupted", "Bị gián đoạn"


GOING = (RequestState.QUEUED, RequestState.RUNNING)


class ReportRequest(models.Model):
    """One report asked for on the web page: its parameters, where the job stands, and the
    file once made. At most one request with the same parameters per user is queued or
    running at a time (a double click reuses it): the partial unique constraint makes that
    hold even for two POSTs at the same instant."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="report_requests",
        verbose_name="Người yêu cầu",
    )
    period = models.CharField("Kỳ báo cáo", max_length=30)
    issuer = models.CharField("Cơ quan báo cáo (mã)", max_length=60)
    format = models.CharField("Định dạng", max_length=10)
    number = models.CharField("Số báo cáo", max_length=60, blank=True)
    issue_date = models.DateField("Ngày báo cáo")
    # The figures are computed at the instant of the request, not when the worker gets to
    # it: the report says what the system held when the user asked.
    as_of = models.DateTimeField("Số liệu tại thời điểm")
    state = models.CharField(
        "Trạng thái", max_length=12, choices=RequestState.choices, default=RequestState.QUEUED
    )
    progress = models.CharField("Tiến độ", max_length=200, blank=True)
    created_at = models.DateTimeField("Yêu cầu lúc")
    started_at = models.DateTimeField("Bắt đầu lập", null=True, blank=True)
    finished_at = models.DateTimeField("Kết thúc", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("Số lần chạy", default=0)
    error = models.TextField("Lý do không lập được", blank=True)
    # Relative to MEDIA_ROOT (reports/YYYY/MM/<pk>-<random>.<ext>).
    file = models.CharField("Tệp đã lập", max_length=300, blank=True)
    filename = models.CharField("Tên tệp tải về", max_length=255, blank=True)
    content_type = models.CharField("Kiểu nội dung", max_length=120, blank=True)
    size = models.PositiveBigIntegerField("Dung lượng (byte)", null=True, blank=True)
    sha256 = models.CharField("Mã băm SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "Yêu cầu lập báo cáo"
        verbose_name_plural = "Yêu cầu lập báo cáo"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="reportrequest_by_user"),
            models.Index(fields=["state", "finished_at"], name="reportrequest_by_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "period", "issuer", "format", "number", "issue_date"],
                condition=Q(state__in=["queued", "running"]),
                name="reportrequest_one_going",
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.issuer} {self.format} ({self.get_state_display()})"

    @property
    def params(self) -> dict[str, str]:
        """The parameters as the form posts them (to show the form filled in again)."""
        return {
            "period": self.period,
            "issuer": self.issuer,
            "format": self.format,
            "number": self.number,
            "date": self.issue_date.isoformat(),
        }
