"""Indicator storage: the aggregate cells maintained with every dossier event, the loaded
definition files (versioned), and published 766 figures for reconciliation."""

from __future__ import annotations

from typing import Any

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
    "datastore",
    "certified_copy",
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
    datastore = _measure("Kết quả đã vào kho dữ liệu của công dân")
    certified_copy = _measure("Có bản sao điện tử có chứng thực")
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


class CellsVersion(models.Model):
    """One row (id 1): a counter incremented in the transaction of every change to the
    cells, and when a procedure is saved (the sums read its online level and result type),
    with a random stamp drawn at each increment: (version, stamp) names one committed state
    of the cells even when a rolled-back transaction or a restored backup reuses a number.
    Pages cache cell reads under it (`cchc.indicators.cellcache`)."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    version = models.BigIntegerField("Phiên bản ô số liệu", default=0)
    stamp = models.BigIntegerField("Dấu ngẫu nhiên của phiên bản", default=0)

    class Meta:
        verbose_name = "Phiên bản ô số liệu"
        verbose_name_plural = "Phiên bản ô số liệu"

    def __str__(self) -> str:
        return f"ô số liệu v{self.version}"


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
    reconcile our computation with it (`published.reconcile`). Codes follow QĐ 766's group
    order (3 = Số hóa hồ sơ, 4 = Cung cấp dịch vụ trực tuyến); the portal's split of group 4
    and its deduction have their own codes (`index766.toml`, [[portal_columns]])."""

    period = models.CharField("Kỳ", max_length=20)
    unit = models.ForeignKey(
        "org.AdministrativeUnit", verbose_name="Địa bàn", on_delete=models.PROTECT
    )
    code = models.CharField(
        "Chỉ số",
        max_length=20,
        help_text=(
            "total, nhóm 1–5 theo QĐ 766, cột của Cổng DVC quốc gia (4-dvc, 4-tt), "
            "điểm trừ do lỗi kỹ thuật, đồng bộ (tru-diem) hoặc chỉ số thành phần 1a, 2a…"
        ),
    )
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


class RankingKind(models.TextChoices):
    """Who a weekly ranking compares, as the national portal's board does inside a province:
    the province-level agencies (sở, ban, ngành) and, separately, the commune-level People's
    Committees (the agencies of the commune level that receive and decide dossiers)."""

    AGENCY = "agency", "Cơ quan cấp tỉnh (sở, ban, ngành)"
    COMMUNE = "commune", "UBND cấp xã"


class RankingSnapshot(models.Model):
    """The 766 ranking of one kind of agency as it stood at the end of one ISO week
    (`cchc.indicators.weekly`): the year to date up to that Sunday, computed at the instant
    the week ended. Taken once and never changed; taking the same week again is a no-op."""

    kind = models.CharField("Đối tượng xếp hạng", max_length=10, choices=RankingKind.choices)
    week = models.CharField("Tuần ISO", max_length=8, help_text="2026-W49")
    monday = models.DateField("Thứ Hai của tuần")
    period_start = models.DateField("Số liệu từ ngày")
    period_end = models.DateField("Số liệu đến hết ngày")
    instant = models.DateTimeField("Thời điểm chốt số liệu")
    taken_at = models.DateTimeField("Chụp lúc")
    units = models.CharField("Quy đổi đơn vị hành chính", max_length=10, default="current")
    definition_version = models.CharField("Phiên bản định nghĩa", max_length=120)
    ranked = models.PositiveIntegerField("Số cơ quan được xếp", default=0)

    class Meta:
        verbose_name = "Ảnh chụp xếp hạng tuần"
        verbose_name_plural = "Ảnh chụp xếp hạng tuần"
        ordering = ["kind", "-monday"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "monday"], name="ranking_snapshot_week")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.week}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Ảnh chụp xếp hạng tuần không được sửa sau khi đã chụp.")
        super().save(*args, **kwargs)


class RankingEntry(models.Model):
    """One agency's line in a weekly snapshot, with the figures it was ranked by."""

    snapshot = models.ForeignKey(RankingSnapshot, on_delete=models.PROTECT, related_name="rows")
    position = models.PositiveIntegerField("Thứ tự")
    rank = models.PositiveIntegerField(
        "Hạng", null=True, blank=True, help_text="Trống khi không có điểm 766 (không có dữ liệu)"
    )
    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("Tên cơ quan khi chụp", max_length=255)
    score_100 = models.DecimalField(
        "Điểm 766 quy về thang 100", max_digits=7, decimal_places=2, null=True, blank=True
    )
    points = models.DecimalField("Điểm đạt", max_digits=7, decimal_places=2, null=True, blank=True)
    max_points = models.DecimalField(
        "Điểm tối đa (chỉ số có dữ liệu)", max_digits=7, decimal_places=2, null=True, blank=True
    )
    on_time = models.DecimalField(
        "Giải quyết trước hạn, đúng hạn (%)", max_digits=7, decimal_places=2, null=True, blank=True
    )
    received = models.PositiveIntegerField("Hồ sơ tiếp nhận", default=0)
    finished = models.PositiveIntegerField("Hồ sơ giải quyết xong", default=0)

    class Meta:
        verbose_name = "Dòng xếp hạng tuần"
        verbose_name_plural = "Dòng xếp hạng tuần"
        ordering = ["snapshot", "position"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "agency"], name="ranking_entry_agency"),
            models.UniqueConstraint(fields=["snapshot", "position"], name="ranking_entry_position"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} #{self.rank}: {self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Dòng xếp hạng tuần không được sửa sau khi đã chụp.")
        super().save(*args, **kwargs)
