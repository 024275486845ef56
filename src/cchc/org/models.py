"""Organisation: administrative units over time, agencies, one-stop desks (spec 05).

Everything here is effective-dated: `valid_from` inclusive, `valid_to` exclusive (None =
still valid). Levels are rows, not code: 2024 has three local levels, mid-2025 on two.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q


class ValidityQuerySet(models.QuerySet):
    def valid_on(self, day: dt.date) -> ValidityQuerySet:
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gt=day))


class EffectiveDated(models.Model):
    valid_from = models.DateField("Hiệu lực từ")
    valid_to = models.DateField("Hết hiệu lực từ", null=True, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class UnitLevel(models.Model):
    """An administrative level (cấp): province, district, commune — data, not code."""

    code = models.SlugField("Mã cấp", max_length=30, unique=True)
    name = models.CharField("Tên cấp", max_length=100)
    rank = models.PositiveSmallIntegerField("Thứ bậc", help_text="1 = cao nhất (cấp tỉnh)")

    class Meta:
        verbose_name = "Cấp hành chính"
        verbose_name_plural = "Cấp hành chính"
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class AdministrativeUnit(EffectiveDated):
    """Đơn vị hành chính with its official code (mã ĐVHC) during its validity interval."""

    code = models.CharField("Mã đơn vị hành chính", max_length=20)
    name = models.CharField("Tên", max_length=200)
    kind = models.CharField("Loại", max_length=50, help_text="Tỉnh, Huyện, Thị xã, Xã, Phường…")
    level = models.ForeignKey(UnitLevel, verbose_name="Cấp", on_delete=models.PROTECT)
    parent = models.ForeignKey(
        "self",
        verbose_name="Trực thuộc",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_demo = models.BooleanField("Dữ liệu mẫu", default=False)

    class Meta:
        verbose_name = "Đơn vị hành chính"
        verbose_name_plural = "Đơn vị hành chính"
        ordering = ["level__rank", "code", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="unit_code_from_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="unit_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UnitSuccession(models.Model):
    """A predecessor unit continues (wholly or partly) as a successor from `effective`."""

    predecessor = models.ForeignKey(
        AdministrativeUnit,
        verbose_name="Đơn vị cũ",
        on_delete=models.PROTECT,
        related_name="successions_out",
    )
    successor = models.ForeignKey(
        AdministrativeUnit,
        verbose_name="Đơn vị kế thừa",
        on_delete=models.PROTECT,
        related_name="successions_in",
    )
    effective = models.DateField("Ngày hiệu lực")
    primary = models.BooleanField(
        "Kế thừa chính",
        default=True,
        help_text="Đơn vị nhận số liệu khi quy đổi sang đơn vị mới",
    )
    source = models.CharField("Căn cứ", max_length=300, blank=True)

    class Meta:
        verbose_name = "Sắp xếp đơn vị hành chính"
        verbose_name_plural = "Sắp xếp đơn vị hành chính"
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor"], name="succession_unique"),
            models.UniqueConstraint(
                fields=["predecessor"], condition=Q(primary=True), name="one_primary_successor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor} ({self.effective:%d/%m/%Y})"


class AgencyType(models.Model):
    """A kind of agency as the national catalogue names it (Sở Tư pháp, UBND cấp xã)."""

    code = models.SlugField("Mã loại", max_length=50, unique=True)
    name = models.CharField("Tên loại cơ quan", max_length=200, unique=True)
    level = models.ForeignKey(UnitLevel, verbose_name="Cấp", on_delete=models.PROTECT)

    class Meta:
        verbose_name = "Loại cơ quan"
        verbose_name_plural = "Loại cơ quan"
        ordering = ["level__rank", "name"]

    def __str__(self) -> str:
        return self.name


class Agency(EffectiveDated):
    """Cơ quan: a department, board or people's committee with its identifier code.

    `code` is the mã định danh (QCVN 102) used as the prefix of dossier codes.
    """

    code = models.CharField("Mã định danh", max_length=40)
    name = models.CharField("Tên cơ quan", max_length=255)
    short_name = models.CharField("Tên ngắn", max_length=100, blank=True)
    agency_type = models.ForeignKey(AgencyType, verbose_name="Loại", on_delete=models.PROTECT)
    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name="Địa bàn",
        on_delete=models.PROTECT,
        related_name="agencies",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="Cơ quan cấp trên",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    successor = models.ForeignKey(
        "self",
        verbose_name="Cơ quan kế thừa",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )
    head_name = models.CharField("Người đứng đầu", max_length=150, blank=True)
    head_title = models.CharField("Chức danh người đứng đầu", max_length=100, blank=True)
    address = models.CharField("Địa chỉ", max_length=300, blank=True)
    phone = models.CharField("Điện thoại", max_length=50, blank=True)
    email = models.EmailField("Thư điện tử", blank=True)
    is_demo = models.BooleanField("Dữ liệu mẫu", default=False)

    class Meta:
        verbose_name = "Cơ quan"
        verbose_name_plural = "Cơ quan"
        ordering = ["agency_type__level__rank", "name"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="agency_code_from_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="agency_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> UnitLevel:
        return self.agency_type.level


class Desk(EffectiveDated):
    """Bộ phận một cửa / Trung tâm Phục vụ hành chính công: receives for many agencies."""

    code = models.SlugField("Mã bộ phận", max_length=50)
    name = models.CharField("Tên bộ phận một cửa", max_length=255)
    unit = models.ForeignKey(AdministrativeUnit, verbose_name="Địa bàn", on_delete=models.PROTECT)
    host_agency = models.ForeignKey(
        Agency, verbose_name="Cơ quan chủ quản", on_delete=models.PROTECT, related_name="+"
    )
    receives_for = models.ManyToManyField(
        Agency, verbose_name="Tiếp nhận hồ sơ cho", related_name="desks", blank=True
    )
    calendar = models.ForeignKey(
        "calendars.WorkingCalendar",
        verbose_name="Lịch làm việc",
        on_delete=models.PROTECT,
        related_name="desks",
    )
    saturday_reception = models.BooleanField("Tiếp nhận sáng thứ Bảy", default=False)
    address = models.CharField("Địa chỉ", max_length=300, blank=True)
    is_demo = models.BooleanField("Dữ liệu mẫu", default=False)

    class Meta:
        verbose_name = "Bộ phận một cửa"
        verbose_name_plural = "Bộ phận một cửa"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="desk_code_from_unique"),
        ]

    def __str__(self) -> str:
        return self.name
