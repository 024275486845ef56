"""What the simulated national portal remembers. Kept in the database because the worker
(which calls the portal) and the web server (which shows the simulator's page) are
different processes.

Everything here belongs to the simulator: nothing in `cchc.national` reads these tables."""

from __future__ import annotations

from django.db import models


class CallOutcome(models.TextChoices):
    OK = "ok", "Thành công"
    REFUSED = "refused", "Từ chối"
    FAILED = "failed", "Lỗi giả lập (503)"
    LOST = "lost", "Xử lý xong nhưng mất trả lời (503)"
    BAD = "bad", "Yêu cầu không hợp lệ"


class SimCall(models.Model):
    """One call received by the simulated portal."""

    service = models.CharField("Dịch vụ", max_length=60, db_index=True)
    madonvi = models.CharField("Mã đơn vị", max_length=40, blank=True)
    idempotency_key = models.CharField("Khóa chống lặp", max_length=200, blank=True)
    outcome = models.CharField("Kết quả", max_length=10, choices=CallOutcome.choices)
    error_code = models.CharField("Mã lỗi", max_length=20, blank=True)
    message = models.CharField("Thông điệp", max_length=500, blank=True)
    at = models.DateTimeField("Thời điểm", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "Lượt gọi (giả lập DVCQG)"
        verbose_name_plural = "Lượt gọi (giả lập DVCQG)"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.service} {self.outcome}"


class SimSession(models.Model):
    """A session token issued by `LayPhienLamViec`."""

    token = models.CharField(max_length=80, unique=True)
    madonvi = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.madonvi


class SimDossier(models.Model):
    """A dossier as the national portal knows it (received with `DongBoHoSoMC`)."""

    madonvi = models.CharField("Mã đơn vị", max_length=40)
    ma_ho_so = models.CharField("Mã hồ sơ (địa phương)", max_length=80)
    ma_ho_so_qg = models.CharField("Mã hồ sơ quốc gia", max_length=80, unique=True)
    ma_tthc = models.CharField("Mã TTHC", max_length=80, blank=True)
    trang_thai = models.CharField("Trạng thái hồ sơ", max_length=10, blank=True)
    ngay_tiep_nhan = models.DateTimeField("Ngày tiếp nhận", null=True, blank=True)
    ngay_hen_tra = models.DateTimeField("Ngày hẹn trả", null=True, blank=True)
    body = models.JSONField("Dữ liệu nhận lần cuối", default=dict)
    supplements = models.JSONField("Hồ sơ bổ sung", default=list)
    results = models.JSONField("Giấy tờ kết quả", default=list)
    updates = models.PositiveIntegerField("Số lần cập nhật", default=0)
    first_received_at = models.DateTimeField("Nhận lần đầu lúc")
    last_received_at = models.DateTimeField("Nhận lần cuối lúc")

    class Meta:
        verbose_name = "Hồ sơ (giả lập DVCQG)"
        verbose_name_plural = "Hồ sơ (giả lập DVCQG)"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["madonvi", "ma_ho_so"], name="nationalsim_dossier_once")
        ]

    def __str__(self) -> str:
        return self.ma_ho_so_qg


class SimStep(models.Model):
    """One processing step received with `CapNhatTienDoHoSoMC`, once per idempotency key."""

    dossier = models.ForeignKey(SimDossier, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField("Khóa chống lặp", max_length=200)
    seq = models.PositiveIntegerField("Thứ tự nhận")
    body = models.JSONField("Dữ liệu", default=dict)
    trang_thai = models.CharField("Trạng thái", max_length=10, blank=True)
    processed_at = models.DateTimeField("Thời điểm xử lý", null=True, blank=True)
    out_of_order = models.BooleanField("Sai thứ tự", default=False)
    received_at = models.DateTimeField("Nhận lúc")

    class Meta:
        verbose_name = "Bước xử lý (giả lập DVCQG)"
        verbose_name_plural = "Bước xử lý (giả lập DVCQG)"
        ordering = ["dossier_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "key"], name="nationalsim_step_once"),
            models.UniqueConstraint(fields=["dossier", "seq"], name="nationalsim_step_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}#{self.seq}"


class SimReceipt(models.Model):
    """A record of a dossier as received, with the event time it reports: the portal's own
    count of timely synchronisation (1d) compares the two."""

    dossier = models.ForeignKey(SimDossier, on_delete=models.CASCADE, related_name="receipts")
    kind = models.CharField(max_length=20)  # "DongBo" (first receipt) | "TienDo" (a step)
    event_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.dossier_id}"


class SimInbound(models.Model):
    """A dossier submitted on the national portal, waiting for the province to fetch it."""

    madonvi = models.CharField("Mã đơn vị", max_length=40)
    ma_ho_so_qg = models.CharField("Mã hồ sơ quốc gia", max_length=80, unique=True)
    ma_tthc = models.CharField("Mã TTHC", max_length=80)
    body = models.JSONField("Hồ sơ", default=dict)
    submitted_at = models.DateTimeField("Nộp lúc")
    listed = models.PositiveIntegerField("Số lần đã trả về", default=0)
    acknowledged_at = models.DateTimeField("Xác nhận lúc", null=True, blank=True)
    local_code = models.CharField("Mã hồ sơ địa phương", max_length=80, blank=True)

    class Meta:
        verbose_name = "Hồ sơ nộp trên Cổng (giả lập)"
        verbose_name_plural = "Hồ sơ nộp trên Cổng (giả lập)"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.ma_ho_so_qg


class SimProcedure(models.Model):
    """A procedure of the national database of procedures (CSDL TTHC quốc gia)."""

    ma_tthc = models.CharField("Mã TTHC", max_length=80, unique=True)
    ten_tthc = models.CharField("Tên TTHC", max_length=500)
    cap_thuc_hien = models.CharField("Cấp thực hiện", max_length=80, blank=True)
    linh_vuc = models.CharField("Lĩnh vực", max_length=200, blank=True)
    ngay_cong_bo = models.CharField("Ngày công bố", max_length=14, blank=True)
    detail = models.JSONField("Chi tiết (LayThuTuc)", default=dict)
    withdrawn = models.BooleanField("Đã bãi bỏ", default=False)

    class Meta:
        verbose_name = "TTHC quốc gia (giả lập)"
        verbose_name_plural = "TTHC quốc gia (giả lập)"
        ordering = ["ma_tthc"]

    def __str__(self) -> str:
        return self.ma_tthc


class SimPublished(models.Model):
    """The 766 figures the portal publishes for a unit and a period."""

    madonvi = models.CharField("Mã đơn vị", max_length=40)
    ky = models.CharField("Kỳ", max_length=20)
    figures = models.JSONField("Số liệu", default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["madonvi", "ky"], name="nationalsim_published_once")
        ]

    def __str__(self) -> str:
        return f"{self.madonvi} {self.ky}"


class SimFaults(models.Model):
    """The simulator's fault settings: one row (pk=1)."""

    fail_rate = models.FloatField("Tỷ lệ lỗi 503 (không xử lý)", default=0.0)
    lost_answer_rate = models.FloatField("Tỷ lệ mất trả lời (xử lý rồi trả 503)", default=0.0)
    slow_seconds = models.FloatField("Trả lời chậm (giây)", default=0.0)
    # The work is done (and committed), then the answer waits: a caller killed meanwhile
    # leaves a call that happened but was never recorded as sent.
    slow_answer_seconds = models.FloatField("Xử lý xong, trả lời chậm (giây)", default=0.0)
    duplicate_inbound = models.BooleanField("Danh sách hồ sơ mới lặp lại hồ sơ cũ", default=False)
    shuffle_inbound = models.BooleanField("Danh sách hồ sơ mới sai thứ tự", default=False)
    seed = models.IntegerField("Hạt giống ngẫu nhiên", default=766)
    draws = models.PositiveIntegerField("Số lần rút ngẫu nhiên", default=0)

    class Meta:
        verbose_name = "Cấu hình lỗi giả lập"
        verbose_name_plural = "Cấu hình lỗi giả lập"

    def __str__(self) -> str:
        return "Cấu hình lỗi giả lập"
