"""What the background machinery leaves behind: one row per run of a job, and the last
sign of life of each long-running process."""

from __future__ import annotations

from django.db import models


class Outcome(models.TextChoices):
    RUNNING = "running", "Đang chạy"
    OK = "ok", "Thành công"
    FAILED = "failed", "Lỗi"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Theo lịch"
    MANUAL = "manual", "Chạy tay"


class JobRun(models.Model):
    """One run of a periodic command: when, how it ended, and the counts it reported. A run
    left "running" by a worker that died is shown as interrupted (see `runs.state_of`)."""

    name = models.CharField("Công việc", max_length=60)
    trigger = models.CharField(
        "Khởi chạy", max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    command = models.CharField("Lệnh", max_length=300)
    started_at = models.DateTimeField("Bắt đầu")
    finished_at = models.DateTimeField("Kết thúc", null=True, blank=True)
    outcome = models.CharField(
        "Kết quả", max_length=10, choices=Outcome.choices, default=Outcome.RUNNING
    )
    counts = models.JSONField("Số liệu", default=dict, blank=True)
    message = models.TextField("Thông báo", blank=True)
    host = models.CharField("Máy", max_length=100, blank=True)
    pid = models.IntegerField("Tiến trình", null=True, blank=True)

    class Meta:
        verbose_name = "Lần chạy công việc"
        verbose_name_plural = "Lần chạy công việc"
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["name", "-started_at"], name="jobrun_by_name"),
            models.Index(fields=["outcome", "-started_at"], name="jobrun_by_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Heartbeat(models.Model):
    """The last time the worker (or the scheduler) said it was alive; `at` is cleared when
    the process stops cleanly, so a stopped worker turns `/readyz` red at once."""

    name = models.CharField("Tiến trình", max_length=20, primary_key=True)
    at = models.DateTimeField("Lần cuối", null=True, blank=True)
    started_at = models.DateTimeField("Khởi động lúc", null=True, blank=True)
    host = models.CharField("Máy", max_length=100, blank=True)
    pid = models.IntegerField("Mã tiến trình", null=True, blank=True)

    class Meta:
        verbose_name = "Nhịp sống tiến trình"
        verbose_name_plural = "Nhịp sống tiến trình"

    def __str__(self) -> str:
        return self.name
