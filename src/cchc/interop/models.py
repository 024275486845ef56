"""A record of every data import run that wrote something (who, which file, what happened)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RunState(models.TextChoices):
    QUEUED = "queued", "Đang chờ xử lý"
    RUNNING = "running", "Đang chạy"
    OK = "ok", "Hoàn tất"
    FAILED = "failed", "Không thực hiện được"
    INTERRUPTED = "interrupted", "Bị gián đoạn"


class ImportRun(models.Model):
    """Written when the run starts (or is queued from the web), updated in the transaction
    of each batch it writes, closed when it ends. A run left "running" by a process that
    died is shown as interrupted (`interop.importing.state_of`)."""

    kind = models.CharField("Loại dữ liệu", max_length=50)
    source = models.CharField("Nguồn dữ liệu", max_length=100, blank=True)
    filename = models.CharField("Tệp", max_length=255, blank=True)
    sha256 = models.CharField("Mã băm SHA-256 của tệp", max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField("Người nhập", max_length=200)
    started_at = models.DateTimeField("Bắt đầu")
    finished_at = models.DateTimeField("Kết thúc", null=True, blank=True)
    rows = models.PositiveIntegerField("Số dòng dữ liệu", default=0)
    created = models.PositiveIntegerField("Thêm mới", default=0)
    updated = models.PositiveIntegerField("Cập nhật", default=0)
    unchanged = models.PositiveIntegerField("Không đổi", default=0)
    rejected = models.PositiveIntegerField("Bị từ chối", default=0)
    # The rejected rows (line, reason, key), up to REJECTED_KEPT of them.
    rejected_rows = models.JSONField(default=list, blank=True)
    # Lines that were not data (title block, blank lines, footer): not in `rows`.
    skipped = models.PositiveIntegerField("Dòng bỏ qua (không phải dữ liệu)", default=0)
    # `cchc.tabular.tables.Skipped.as_dict`: counts by kind and where the lines are.
    skipped_lines = models.JSONField(default=dict, blank=True)
    # The agencies the importer's `dossier.import` grant reached when the run started (ids);
    # None: the whole system. Who may see the run follows from it (`interop.runs`).
    scope = models.JSONField("Phạm vi của người nhập", null=True, blank=True, default=None)
    state = models.CharField(
        "Trạng thái", max_length=12, choices=RunState.choices, default=RunState.QUEUED
    )
    # Data rows in the file when known before the run (the web preview counted them).
    total = models.PositiveIntegerField("Tổng số dòng", null=True, blank=True)
    # The last time a batch committed (or the run started): how fresh `rows` is.
    progress_at = models.DateTimeField("Cập nhật tiến độ lúc", null=True, blank=True)
    message = models.TextField("Thông báo", blank=True)
    host = models.CharField("Máy", max_length=100, blank=True)
    pid = models.IntegerField("Tiến trình", null=True, blank=True)
    # A web import queued for the worker: the stored upload ({"file", "mapping", "name",
    # "source"}, names under <CCHC_VAR_DIR>/imports), removed once the run has ended.
    upload = models.JSONField("Tệp đã tải lên", default=dict, blank=True)

    REJECTED_KEPT = 5000

    class Meta:
        verbose_name = "Lần nhập dữ liệu"
        verbose_name_plural = "Các lần nhập dữ liệu"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["sha256", "state"], name="importrun_by_file")]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} {self.started_at:%d/%m/%Y %H:%M}"
