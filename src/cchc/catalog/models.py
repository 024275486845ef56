"""The procedure catalogue (thủ tục hành chính, spec 03) and internal procedures."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Field(models.Model):
    """Lĩnh vực: the field a procedure belongs to (Hộ tịch, Đất đai…)."""

    name = models.CharField("Tên lĩnh vực", max_length=200, unique=True)

    class Meta:
        verbose_name = "Lĩnh vực"
        verbose_name_plural = "Lĩnh vực"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TimeUnit(models.TextChoices):
    """Unit of a legal processing time (national field DonViTinh)."""

    WORKING_DAY = "wd", "Ngày làm việc"
    WORKING_HOUR = "wh", "Giờ làm việc"
    CALENDAR_DAY = "d", "Ngày"
    MONTH = "mo", "Tháng"


class OnlineLevel(models.TextChoices):
    """Online public-service level (NĐ 42/2022 Điều 11)."""

    FULL = "full", "Toàn trình"
    PARTIAL = "partial", "Một phần"
    NONE = "none", "Không"


class ResultType(models.TextChoices):
    PAPER = "paper", "Giấy"
    ELECTRONIC = "electronic", "Điện tử"
    BOTH = "both", "Giấy và điện tử"


class ProcedureTerms(models.Model):
    """What a procedure is at one time: its legal time, result, online service, the decision
    that published it and its reception rule. A procedure row holds the terms in force
    today; each `ProcedureVersion` holds the terms of one effective-dated version."""

    name = models.CharField("Tên thủ tục", max_length=500)
    field = models.ForeignKey(
        Field, verbose_name="Lĩnh vực", on_delete=models.PROTECT, related_name="%(class)s_set"
    )
    competent_agency_type = models.ForeignKey(
        "org.AgencyType",
        verbose_name="Cơ quan thực hiện",
        on_delete=models.PROTECT,
        related_name="%(class)s_set",
    )
    processing_time = models.DecimalField(
        "Thời hạn giải quyết", max_digits=7, decimal_places=2, default=Decimal(0)
    )
    processing_time_unit = models.CharField(
        "Đơn vị thời hạn", max_length=3, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAY
    )
    result_type = models.CharField(
        "Loại kết quả", max_length=12, choices=ResultType.choices, default=ResultType.PAPER
    )
    online_level = models.CharField(
        "Mức độ dịch vụ công trực tuyến",
        max_length=10,
        choices=OnlineLevel.choices,
        default=OnlineLevel.NONE,
    )
    eligible_full_online = models.BooleanField("Đủ điều kiện toàn trình", default=False)
    population_data_connected = models.BooleanField(
        "Kết nối CSDL quốc gia về dân cư", default=False
    )
    decision_number = models.CharField("Số quyết định công bố", max_length=100, blank=True)
    decision_date = models.DateField("Ngày quyết định công bố", null=True, blank=True)
    active = models.BooleanField("Đang áp dụng", default=True)
    # The procedure's own reception cut-off (e.g. chứng thực: a request received after 15:00
    # is counted from the next working day). Empty: the desk calendar's cut-off applies
    # (the global setting, `calendars.WorkingCalendar.cutoff`).
    cutoff = models.TimeField(
        "Giờ chốt tiếp nhận riêng",
        null=True,
        blank=True,
        help_text="Hồ sơ tiếp nhận sau giờ này được tính từ ngày làm việc tiếp theo. Để trống: "
        "dùng giờ chốt chung của lịch làm việc.",
    )
    cutoff_source = models.CharField(
        "Căn cứ pháp lý của giờ chốt", max_length=300, blank=True, default=""
    )
    cutoff_verified = models.BooleanField("Căn cứ giờ chốt đã đối chiếu văn bản", default=False)
    cutoff_note = models.CharField("Ghi chú về giờ chốt", max_length=500, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def duration_spec(self) -> str:
        """The legal time in the legal-time engine's notation, e.g. ``3wd`` or ``0.5wd``."""
        amount = self.processing_time.normalize()
        return f"{amount:f}{self.processing_time_unit}"

    @property
    def total_fee(self) -> int:
        return sum(f.amount for f in self.fees.all())  # type: ignore[attr-defined]

    @property
    def cutoff_label(self) -> str:
        """The reception rule in words, for pages."""
        if self.cutoff is None:
            return "Theo giờ chốt chung của lịch làm việc"
        text = f"Tiếp nhận sau {self.cutoff:%H:%M} tính từ ngày làm việc tiếp theo"
        if self.cutoff_source:
            text += f" ({self.cutoff_source}"
            text += ")" if self.cutoff_verified else ", chưa đối chiếu văn bản pháp lý)"
        return text


class Procedure(ProcedureTerms):
    """Thủ tục hành chính with its legal time, fees, documents and online service level.

    The row (and its fees, documents and steps) is the version in force today; the
    effective-dated history is `versions` (see `cchc.catalog.versions`)."""

    code = models.CharField("Mã TTHC", max_length=30, unique=True)
    # Lower-cased name without diacritics, for search that ignores them ("cap giay phep").
    search_text = models.CharField(max_length=600, editable=False, db_index=True, default="")
    levels = models.ManyToManyField("org.UnitLevel", verbose_name="Cấp thực hiện")
    # The number of the version this row holds (0: none recorded yet).
    version = models.PositiveIntegerField("Phiên bản đang áp dụng", default=0, editable=False)
    created_at = models.DateTimeField("Ngày tạo")
    updated_at = models.DateTimeField("Ngày cập nhật")
    # Publication facts from the national database of procedures (766 criteria 1a, 1b, 3d),
    # filled by the catalogue sync (`cchc.national.catalogue`); not versioned.
    published_on = models.DateField("Ngày công bố", null=True, blank=True)
    national_published = models.BooleanField("Công khai trên CSDL quốc gia về TTHC", default=False)
    payment_integrated = models.BooleanField(
        "Tích hợp thanh toán trực tuyến trên Cổng DVCQG", default=False
    )
    # The procedure's output is a certified electronic copy (bản sao điện tử có chứng thực,
    # NĐ 23/2015, NĐ 45/2020 Điều 6): its dossiers may be given one (`dossiers.
    # certified_copies`) and they form the denominator of 766 sub 3c. Not versioned.
    output_certified_copy = models.BooleanField("Cấp bản sao điện tử có chứng thực", default=False)

    class Meta:
        verbose_name = "Thủ tục hành chính"
        verbose_name_plural = "Thủ tục hành chính"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(processing_time__gte=0), name="time_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProcedureVersion(ProcedureTerms):
    """One effective-dated version of a procedure: its terms, levels, fees, documents and
    steps as they are from `effective_from` (a law taking effect, a new publication
    decision). Never changed once written: a correction is a new version. A dossier keeps
    the version in force when it was received (`dossiers.Dossier.procedure_version`)."""

    procedure = models.ForeignKey(
        Procedure, verbose_name="Thủ tục", on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField("Phiên bản")
    effective_from = models.DateField("Hiệu lực từ")
    levels = models.JSONField("Cấp thực hiện (mã)", default=list)
    basis = models.CharField("Văn bản căn cứ thay đổi", max_length=300, blank=True, default="")
    created_at = models.DateTimeField("Thời điểm tạo")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người tạo",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "Phiên bản thủ tục"
        verbose_name_plural = "Phiên bản thủ tục (lịch sử theo ngày hiệu lực)"
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "number"], name="procedure_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(processing_time__gte=0), name="version_time_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["procedure", "effective_from", "number"], name="procedure_version_on"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number} (từ {self.effective_from:%d/%m/%Y})"


class ProcedureFee(models.Model):
    # Set on the rows of the version in force (what `procedure.fees` reads); empty on the
    # rows of other versions, which keep theirs through `version`.
    procedure = models.ForeignKey(
        Procedure, null=True, blank=True, on_delete=models.CASCADE, related_name="fees"
    )
    version = models.ForeignKey(
        ProcedureVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fees",
    )
    position = models.PositiveSmallIntegerField("Thứ tự", default=0)
    name = models.CharField("Tên phí, lệ phí", max_length=200)
    amount = models.PositiveBigIntegerField("Mức thu (đồng)")

    class Meta:
        verbose_name = "Phí, lệ phí"
        verbose_name_plural = "Phí, lệ phí"
        ordering = ["procedure", "position"]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount:,} đ".replace(",", ".")


class RequiredDocument(models.Model):
    """Thành phần hồ sơ: a document the applicant must provide."""

    # Set on the rows of the version in force (what `procedure.documents` reads); empty on the
    # rows of other versions, which keep theirs through `version`.
    procedure = models.ForeignKey(
        Procedure, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    version = models.ForeignKey(
        ProcedureVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    position = models.PositiveSmallIntegerField("Thứ tự", default=0)
    name = models.CharField("Tên giấy tờ", max_length=500)
    originals = models.PositiveSmallIntegerField("Số bản chính", default=0)
    copies = models.PositiveSmallIntegerField("Số bản sao", default=0)
    mandatory = models.BooleanField("Bắt buộc", default=True)
    # The file must carry a valid, trusted digital signature (`dossiers.signature_checks`).
    signature_required = models.BooleanField("Yêu cầu chữ ký số", default=False)

    class Meta:
        verbose_name = "Thành phần hồ sơ"
        verbose_name_plural = "Thành phần hồ sơ"
        ordering = ["procedure", "position"]

    def __str__(self) -> str:
        return self.name


class ProcedureStep(models.Model):
    """A step of the procedure's internal workflow (quy trình nội bộ) with its budget."""

    # Set on the rows of the version in force (what `procedure.steps` reads); empty on the
    # rows of other versions, which keep theirs through `version`.
    procedure = models.ForeignKey(
        Procedure, null=True, blank=True, on_delete=models.CASCADE, related_name="steps"
    )
    version = models.ForeignKey(
        ProcedureVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="steps",
    )
    position = models.PositiveSmallIntegerField("Thứ tự", default=0)
    name = models.CharField("Tên bước", max_length=300)
    budget = models.DecimalField("Thời gian", max_digits=7, decimal_places=2)
    budget_unit = models.CharField(
        "Đơn vị", max_length=3, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOUR
    )

    class Meta:
        verbose_name = "Bước quy trình nội bộ"
        verbose_name_plural = "Quy trình nội bộ"
        ordering = ["procedure", "position"]

    def __str__(self) -> str:
        return self.name

    @property
    def duration_spec(self) -> str:
        return f"{self.budget.normalize():f}{self.budget_unit}"


class InternalProcedure(models.Model):
    """TTHC nội bộ: a procedure between state agencies; must be published and reviewed."""

    code = models.CharField("Mã", max_length=30, unique=True)
    name = models.CharField("Tên thủ tục nội bộ", max_length=500)
    field = models.ForeignKey(Field, verbose_name="Lĩnh vực", on_delete=models.PROTECT)
    levels = models.ManyToManyField("org.UnitLevel", verbose_name="Cấp thực hiện")
    lead_agency = models.ForeignKey(
        "org.Agency", verbose_name="Cơ quan chủ trì", on_delete=models.PROTECT
    )
    published = models.BooleanField("Đã công bố", default=False)
    decision_number = models.CharField("Số quyết định công bố", max_length=100, blank=True)
    published_on = models.DateField("Ngày công bố", null=True, blank=True)
    reviewed = models.BooleanField("Đã rà soát, đơn giản hóa", default=False)
    reviewed_on = models.DateField("Ngày rà soát", null=True, blank=True)
    created_at = models.DateTimeField("Ngày tạo")
    updated_at = models.DateTimeField("Ngày cập nhật")

    class Meta:
        verbose_name = "Thủ tục hành chính nội bộ"
        verbose_name_plural = "Thủ tục hành chính nội bộ"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(published=False) | Q(published_on__isnull=False),
                name="published_has_date",
            ),
            models.CheckConstraint(
                condition=Q(reviewed=False) | Q(reviewed_on__isnull=False),
                name="reviewed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
