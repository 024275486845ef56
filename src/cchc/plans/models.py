"""The annual reform plan (kế hoạch CCHC) as data, its tasks and progress, and the registers
behind the non-dossier targets (spec 04).

Task status is never stored: it is derived from the deadline, the accepted reports and an
injected `now` (see `cchc.plans.status`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Plan(models.Model):
    """One plan document: issuer, number, year; loaded from a plan file (`cchc plans load`)."""

    code = models.SlugField("Mã kế hoạch", max_length=60, unique=True)
    title = models.CharField("Tên kế hoạch", max_length=300)
    issuer = models.CharField("Cơ quan ban hành", max_length=200)
    number = models.CharField("Số, ký hiệu", max_length=60)
    issued_on = models.DateField("Ngày ban hành", null=True, blank=True)
    year = models.PositiveSmallIntegerField("Năm")
    unit = models.ForeignKey(
        "org.AdministrativeUnit", verbose_name="Địa bàn", on_delete=models.PROTECT
    )
    source = models.CharField("Nguồn", max_length=500, blank=True)
    note = models.TextField("Ghi chú", blank=True)
    loaded_at = models.DateTimeField("Nạp lần đầu")
    updated_at = models.DateTimeField("Cập nhật")

    class Meta:
        verbose_name = "Kế hoạch CCHC"
        verbose_name_plural = "Kế hoạch CCHC"
        ordering = ["-year", "code"]

    def __str__(self) -> str:
        return f"Kế hoạch {self.number} ({self.year})"


class ContentArea(models.Model):
    """Nội dung cải cách: a content area of the plan (cải cách thể chế, …)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField("Mã", max_length=20)
    name = models.CharField("Tên nội dung", max_length=300)
    position = models.PositiveSmallIntegerField("Thứ tự", default=0)

    class Meta:
        verbose_name = "Nội dung cải cách"
        verbose_name_plural = "Nội dung cải cách"
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="area_code_unique")]

    def __str__(self) -> str:
        return self.name


class Comparison(models.TextChoices):
    AT_LEAST = "gte", "≥"
    ABOVE = "gt", ">"
    EQUAL = "eq", "="
    LEADING_GROUP = "leading_group", "thuộc nhóm dẫn đầu"


class Target(models.Model):
    """Chỉ tiêu: an indicator with a target value per level (`values`: level code or 'all' ->
    number as a string), compared with `comparison`."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    code = models.CharField("Mã chỉ tiêu", max_length=20)
    name = models.CharField("Tên chỉ tiêu", max_length=300)
    definition = models.TextField("Cách tính (tử số ÷ mẫu số)", blank=True)
    reference = models.CharField("Căn cứ", max_length=300, blank=True)
    quote = models.TextField("Nguyên văn kế hoạch", blank=True)
    area = models.ForeignKey(
        ContentArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="targets"
    )
    unit = models.CharField("Đơn vị", max_length=20, default="%")
    comparison = models.CharField(
        "So sánh", max_length=20, choices=Comparison.choices, default=Comparison.AT_LEAST
    )
    values = models.JSONField("Giá trị chỉ tiêu theo cấp", default=dict, blank=True)
    position = models.PositiveSmallIntegerField("Thứ tự", default=0)

    class Meta:
        verbose_name = "Chỉ tiêu"
        verbose_name_plural = "Chỉ tiêu"
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="target_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def value_text(self) -> str:
        """'cấp tỉnh > 95%; cấp huyện > 85%; …' as the plan states it."""
        if self.comparison == Comparison.LEADING_GROUP:
            return "Thuộc nhóm dẫn đầu cả nước"
        sign = self.get_comparison_display()
        parts = []
        # jsonb (PostgreSQL) does not keep key order: show levels from the top down.
        order = list(LEVEL_WORDS)
        keys = sorted(self.values, key=lambda k: (order.index(k) if k in order else len(order), k))
        for level, value in ((k, self.values[k]) for k in keys):
            where = LEVEL_WORDS.get(level, level)
            parts.append(f"{where + ' ' if where else ''}{sign} {value}{self.unit}".strip())
        return "; ".join(parts)


LEVEL_WORDS = {"all": "", "province": "cấp tỉnh", "district": "cấp huyện", "commune": "cấp xã"}


class DeadlineKind(models.TextChoices):
    DATE = "date", "Ngày"
    MONTH = "month", "Tháng"
    QUARTER = "quarter", "Quý"
    YEAR = "year", "Cả năm"
    RECURRING = "recurring", "Thường xuyên"


class Rhythm(models.TextChoices):
    MONTHLY = "monthly", "Hằng tháng"
    QUARTERLY = "quarterly", "Hằng quý"
    HALF_YEARLY = "half_yearly", "6 tháng"
    YEARLY = "yearly", "Hằng năm"


class Task(models.Model):
    """Nhiệm vụ: one row of the plan's task list (danh mục nhiệm vụ)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    code = models.CharField("Mã nhiệm vụ", max_length=20)
    area = models.ForeignKey(ContentArea, on_delete=models.PROTECT, related_name="tasks")
    description = models.TextField("Nội dung nhiệm vụ")
    product = models.CharField("Kết quả, sản phẩm", max_length=500, blank=True)
    lead_agency = models.ForeignKey(
        "org.Agency", verbose_name="Cơ quan chủ trì", on_delete=models.PROTECT, related_name="+"
    )
    partners = models.ManyToManyField(
        "org.Agency", verbose_name="Cơ quan phối hợp", blank=True, related_name="+"
    )
    partners_note = models.CharField("Phối hợp (ghi chú)", max_length=300, blank=True)
    deadline_kind = models.CharField("Loại thời hạn", max_length=10, choices=DeadlineKind.choices)
    deadline = models.DateField("Hạn hoàn thành", help_text="Ngày cuối của kỳ hạn")
    deadline_label = models.CharField("Thời gian hoàn thành", max_length=60)
    rhythm = models.CharField("Định kỳ", max_length=12, choices=Rhythm.choices, blank=True)
    illustrative = models.BooleanField("Minh họa", default=False)
    position = models.PositiveSmallIntegerField("Thứ tự", default=0)

    class Meta:
        verbose_name = "Nhiệm vụ"
        verbose_name_plural = "Nhiệm vụ"
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="task_code_unique"),
            models.CheckConstraint(
                condition=Q(deadline_kind="recurring", rhythm__gt="")
                | (~Q(deadline_kind="recurring") & Q(rhythm="")),
                name="rhythm_iff_recurring",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.description[:80]}"


class ReportState(models.TextChoices):
    SUBMITTED = "submitted", "Chờ thẩm định"
    ACCEPTED = "accepted", "Đã chấp nhận"
    RETURNED = "returned", "Trả lại, yêu cầu bổ sung"


class TaskReport(models.Model):
    """A progress report by the lead agency's focal point, for one period of a recurring
    task (`period` like '2024-Q2') or the whole task (`period` = '')."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reports")
    period = models.CharField("Kỳ", max_length=10, blank=True)
    progress = models.PositiveSmallIntegerField("Tiến độ (%)")
    completed = models.BooleanField("Báo cáo hoàn thành", default=False)
    note = models.TextField("Nội dung báo cáo")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField("Thời điểm báo cáo")
    state = models.CharField(
        "Trạng thái", max_length=10, choices=ReportState.choices, default=ReportState.SUBMITTED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("Thời điểm thẩm định", null=True, blank=True)
    review_note = models.TextField("Ý kiến thẩm định", blank=True)

    class Meta:
        verbose_name = "Báo cáo tiến độ"
        verbose_name_plural = "Báo cáo tiến độ"
        ordering = ["task", "reported_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="progress_max_100"),
            models.CheckConstraint(
                condition=Q(state="submitted") | Q(reviewed_at__isnull=False),
                name="review_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Báo cáo {self.task.code} {self.period} ({self.reported_at:%d/%m/%Y})"


class Evidence(models.Model):
    """Tài liệu kiểm chứng: a file attached to a report, stored outside the web root."""

    report = models.ForeignKey(TaskReport, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField("Tệp", upload_to="plans/evidence/%Y/%m/")
    name = models.CharField("Tên tệp gốc", max_length=255)
    size = models.PositiveIntegerField("Dung lượng (byte)")
    content_type = models.CharField("Loại tệp", max_length=100)
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = "Tài liệu kiểm chứng"
        verbose_name_plural = "Tài liệu kiểm chứng"

    def __str__(self) -> str:
        return self.name


class LegalDocType(models.TextChoices):
    RESOLUTION = "nq", "Nghị quyết HĐND"
    DECISION = "qd", "Quyết định UBND"


class LegalDocument(models.Model):
    """Văn bản quy phạm pháp luật issued by the province, with the procedure checks that
    decide 'issued by the proper procedure' (target T2)."""

    number = models.CharField("Số, ký hiệu", max_length=60, unique=True)
    issued_on = models.DateField("Ngày ban hành")
    doc_type = models.CharField("Loại văn bản", max_length=4, choices=LegalDocType.choices)
    title = models.CharField("Trích yếu", max_length=500)
    drafting_agency = models.ForeignKey(
        "org.Agency", verbose_name="Cơ quan chủ trì soạn thảo", on_delete=models.PROTECT
    )
    appraised = models.BooleanField("Đã thẩm định", default=False)
    consulted = models.BooleanField("Đã lấy ý kiến", default=False)
    published = models.BooleanField("Đã đăng công báo", default=False)
    note = models.CharField("Ghi chú", max_length=300, blank=True)
    updated_at = models.DateTimeField("Cập nhật")

    class Meta:
        verbose_name = "Văn bản QPPL"
        verbose_name_plural = "Văn bản QPPL"
        ordering = ["-issued_on", "number"]

    def __str__(self) -> str:
        return self.number

    @property
    def proper_procedure(self) -> bool:
        return self.appraised and self.consulted and self.published


class WorkRecordStat(models.Model):
    """Hồ sơ công việc (internal work records, not TTHC dossiers) per agency and period:
    total and processed online (target T7, by level)."""

    agency = models.ForeignKey("org.Agency", verbose_name="Cơ quan", on_delete=models.PROTECT)
    level = models.ForeignKey("org.UnitLevel", verbose_name="Cấp", on_delete=models.PROTECT)
    period = models.CharField("Kỳ", max_length=10, help_text="2024, 2024-Q1 hoặc 2024-03")
    period_start = models.DateField("Từ ngày")
    period_end = models.DateField("Đến ngày")
    total = models.PositiveIntegerField("Tổng số hồ sơ công việc")
    online = models.PositiveIntegerField("Xử lý trên môi trường mạng")
    note = models.CharField("Ghi chú", max_length=300, blank=True)
    updated_at = models.DateTimeField("Cập nhật")

    class Meta:
        verbose_name = "Thống kê hồ sơ công việc"
        verbose_name_plural = "Thống kê hồ sơ công việc"
        ordering = ["-period_start", "agency"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "period"], name="work_stat_unique"),
            models.CheckConstraint(condition=Q(online__lte=models.F("total")), name="online_le"),
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.period}"


class IndexName(models.TextChoices):
    PCI = "PCI", "PCI — Năng lực cạnh tranh cấp tỉnh"
    PAPI = "PAPI", "PAPI — Hiệu quả quản trị và hành chính công cấp tỉnh"
    PAR_INDEX = "PAR_INDEX", "PAR INDEX — Chỉ số cải cách hành chính"
    SIPAS = "SIPAS", "SIPAS — Chỉ số hài lòng về sự phục vụ hành chính"


class ExternalIndex(models.Model):
    """An external annual index result for a province: entered with its source, not computed."""

    index = models.CharField("Chỉ số", max_length=10, choices=IndexName.choices)
    year = models.PositiveSmallIntegerField("Năm")
    unit = models.ForeignKey(
        "org.AdministrativeUnit", verbose_name="Tỉnh", on_delete=models.PROTECT
    )
    score = models.DecimalField("Điểm", max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveSmallIntegerField("Xếp hạng", null=True, blank=True)
    group = models.CharField("Nhóm", max_length=100, blank=True)
    source = models.CharField("Nguồn", max_length=500)
    updated_at = models.DateTimeField("Cập nhật")

    class Meta:
        verbose_name = "Chỉ số bên ngoài"
        verbose_name_plural = "Chỉ số bên ngoài"
        ordering = ["-year", "index"]
        constraints = [
            models.UniqueConstraint(fields=["index", "year", "unit"], name="index_year_unique"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(rank__isnull=True) | Q(rank__gte=1),
                name="rank_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.index} {self.year}"


class SelfScore(models.Model):
    """PAR INDEX self-assessment: an agency's score on one sub-criterion of a year's
    scorecard (criteria live in a data file, see `cchc.plans.parindex`), with evidence and
    the appraisal adjustment by the Department of Home Affairs."""

    year = models.PositiveSmallIntegerField("Năm")
    agency = models.ForeignKey("org.Agency", verbose_name="Cơ quan", on_delete=models.PROTECT)
    criterion = models.CharField("Tiêu chí thành phần", max_length=20)
    self_score = models.DecimalField("Điểm tự đánh giá", max_digits=5, decimal_places=2)
    evidence = models.TextField("Tài liệu kiểm chứng", blank=True)
    appraised_score = models.DecimalField(
        "Điểm thẩm định", max_digits=5, decimal_places=2, null=True, blank=True
    )
    appraisal_note = models.TextField("Ý kiến thẩm định", blank=True)
    updated_at = models.DateTimeField("Cập nhật")

    class Meta:
        verbose_name = "Điểm tự đánh giá PAR INDEX"
        verbose_name_plural = "Điểm tự đánh giá PAR INDEX"
        ordering = ["year", "agency", "criterion"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "agency", "criterion"], name="self_score_unique"
            ),
            models.CheckConstraint(condition=Q(self_score__gte=0), name="self_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.year} {self.criterion}"
