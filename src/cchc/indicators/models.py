"""Indicator storage: the aggregate cells maintained with every dossier event, the loaded
definition files (versioned), and published 766 figures for reconciliation."""

from __future__ import annotations

from django.db import models

# Measure columns of a cell. "r" cells (by day of receipt) fill the first group, "f" cells
# (by day of finishing) the second; `cchc.indicators.aggregates` defines each one.
RECEIVED_MEASURES = (
    "received",
    "online",
    "online_paper_return",
    "full_online",
    "fee_bearing",
    "paid",
    "paid_online",
    "digitised",
    "reused",
)
FINISHED_MEASURES = (
    "finished",
    "early",
    "on_time",
    "overdue",
    "overdue_apology",
    "overdue_766",
    "returned",
    "electronic_result",
    "rated",
    "dissatisfied",
    "with_complaint",
    "unsatisfactory",
    "processing_seconds",
)
MEASURES = RECEIVED_MEASURES + FINISHED_MEASURES
KEY = (
    "kind",
    "day",
    "competent_agency_id",
    "receiving_agency_id",
    "procedure_id",
    "channel",
    "online_level",
)


class CellKind(models.TextChoices):
    RECEIVED = "r", "Tiếp nhận trong ngày"
    FINISHED = "f", "Giải quyết xong trong ngày"


def _measure(label: str) -> models.BigIntegerField:
    return models.BigIntegerField(label, default=0, db_default=0)


class Cell(models.Model):
    """Counts of dossiers per (day, competent agency, receiving agency, procedure, channel,
    online level). Level and unit are not keys: they are resolved at read time through the
    agency → unit → level tables (so historic and current units are a join, not a rewrite)."""

    kind = models.CharField("Họ số liệu", max_length=1, choices=CellKind.choices)
    day = models.DateField("Ngày")
    competent_agency = models.ForeignKey(
        "org.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    receiving_agency = models.ForeignKey(
        "org.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.PositiveSmallIntegerField("Kênh nộp")
    online_level = models.CharField("Mức độ DVC trực tuyến", max_length=10)

    received = _measure("Tiếp nhận")
    online = _measure("Nộp trực tuyến")
    online_paper_return = _measure("Nộp trực tuyến, nhận kết quả giấy")
    full_online = _measure("Trực tuyến toàn trình")
    fee_bearing = _measure("Có phí, lệ phí")
    paid = _measure("Đã thanh toán")
    paid_online = _measure("Thanh toán trực tuyến")
    digitised = _measure("Đã số hóa")
    reused = _measure("Tái sử dụng dữ liệu")
    finished = _measure("Đã giải quyết")
    early = _measure("Trước hạn")
    on_time = _measure("Đúng hạn")
    overdue = _measure("Quá hạn")
    overdue_apology = _measure("Quá hạn có xin lỗi")
    overdue_766 = _measure("Quá hạn theo 766 (kể cả bổ sung > 1 lần)")
    returned = _measure("Đã trả kết quả")
    electronic_result = _measure("Có kết quả điện tử")
    rated = _measure("Có đánh giá")
    dissatisfied = _measure("Không hài lòng")
    with_complaint = _measure("Có phản ánh, kiến nghị")
    unsatisfactory = _measure("Không hài lòng, có PAKN hoặc quá hạn")
    processing_seconds = _measure("Tổng thời gian giải quyết (giây)")

    class Meta:
        verbose_name = "Ô số liệu tổng hợp"
        verbose_name_plural = "Ô số liệu tổng hợp"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "kind",
                    "day",
                    "competent_agency",
                    "receiving_agency",
                    "procedure",
                    "channel",
                    "online_level",
                ],
                name="indicator_cell_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.competent_agency_id} {self.procedure_id}"


class DefinitionKind(models.TextChoices):
    PLAN = "plan", "Chỉ tiêu kế hoạch"
    INDEX766 = "index766", "Bộ chỉ số 766"


class DefinitionSet(models.Model):
    """A loaded definition file (`cchc indicators load`); a new version never edits an old
    one. Without any loaded row the shipped files in `cchc/indicators/data/` are used."""

    kind = models.CharField("Loại", max_length=10, choices=DefinitionKind.choices)
    code = models.CharField("Mã", max_length=60)
    version = models.CharField("Phiên bản", max_length=30)
    effective_from = models.DateField("Áp dụng từ")
    content = models.JSONField("Nội dung")
    source = models.CharField("Tệp nguồn", max_length=300)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField("Nạp lúc")

    class Meta:
        verbose_name = "Bộ định nghĩa chỉ tiêu"
        verbose_name_plural = "Bộ định nghĩa chỉ tiêu"
        ordering = ["code", "-effective_from", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="definition_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.version}"


class PublishedFigure(models.Model):
    """A 766 figure as published by the national system (entered or imported), kept to
    reconcile our computation with it (`services.reconcile`)."""

    period = models.CharField("Kỳ", max_length=20)
    unit = models.ForeignKey(
        "org.AdministrativeUnit", verbose_name="Địa bàn", on_delete=models.PROTECT
    )
    code = models.CharField("Chỉ số", max_length=20, help_text="total, nhóm (1–5) hoặc 1a, 2a…")
    value = models.DecimalField("Điểm công bố", max_digits=8, decimal_places=2)
    source = models.CharField("Nguồn", max_length=500)
    updated_at = models.DateTimeField("Cập nhật")

    class Meta:
        verbose_name = "Điểm 766 đã công bố"
        verbose_name_plural = "Điểm 766 đã công bố"
        ordering = ["period", "unit", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "unit", "code"], name="published_figure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.code}: {self.value}"


class ProgressInstant(models.Model):
    """A past report instant whose dossiers in progress have been counted (766 2a counts
    dossiers still in progress at the period's end). Counted once, on first use, from the
    dossiers; then kept up to date by the events like the cells."""

    instant = models.DateTimeField("Thời điểm báo cáo", unique=True)
    computed_at = models.DateTimeField("Tính lúc")

    class Meta:
        verbose_name = "Thời điểm đếm hồ sơ đang giải quyết"
        verbose_name_plural = "Thời điểm đếm hồ sơ đang giải quyết"

    def __str__(self) -> str:
        return self.instant.isoformat()


class Progress(models.Model):
    """Dossiers in progress at a past instant (and those still within their due then), per
    the cells' key without the day."""

    at = models.ForeignKey(ProgressInstant, on_delete=models.CASCADE, related_name="rows")
    competent_agency = models.ForeignKey(
        "org.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    receiving_agency = models.ForeignKey(
        "org.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.PositiveSmallIntegerField("Kênh nộp")
    online_level = models.CharField("Mức độ DVC trực tuyến", max_length=10)
    in_progress = models.BigIntegerField("Đang giải quyết", default=0)
    in_progress_on_time = models.BigIntegerField("Đang giải quyết trong hạn", default=0)

    class Meta:
        verbose_name = "Hồ sơ đang giải quyết tại thời điểm báo cáo"
        verbose_name_plural = "Hồ sơ đang giải quyết tại thời điểm báo cáo"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "at",
                    "competent_agency",
                    "receiving_agency",
                    "procedure",
                    "channel",
                    "online_level",
                ],
                name="indicator_progress_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at_id} {self.competent_agency_id} {self.procedure_id}: {self.in_progress}"
