"""Working calendars as stored, versioned data (the pure engine lives in `cchc.legaltime`).

A calendar's dated entries (days off, swapped working days) arrive in numbered versions,
each with an effective date and a source document. Version N of a calendar is every entry
of versions 1..N, a later version's entry winning for its date; a year is covered (has an
official schedule) once a version declares it. Nothing is deleted: a correction is a new
version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WorkingCalendar(models.Model):
    """A named working calendar; desks point at one."""

    code = models.SlugField("Mã lịch", max_length=50, unique=True)
    name = models.CharField("Tên lịch", max_length=200)
    description = models.TextField("Mô tả", blank=True)
    # Working sessions as [["07:30", "11:30"], ["13:30", "17:30"]] (local time).
    sessions = models.JSONField("Các buổi làm việc", default=list, blank=True)
    cutoff = models.TimeField(
        "Giờ chốt tiếp nhận",
        null=True,
        blank=True,
        help_text="Hồ sơ tiếp nhận sau giờ này bắt đầu tính từ ngày làm việc tiếp theo",
    )
    saturday_advances_clock = models.BooleanField(
        "Giờ tiếp nhận thứ Bảy được tính vào thời hạn", default=False
    )
    provisional_years_ok = models.BooleanField(
        "Cho phép tạm tính năm chưa có lịch chính thức",
        default=False,
        help_text="Năm chưa có thông báo lịch nghỉ: chỉ tính ngày lễ theo Bộ luật Lao động",
    )

    class Meta:
        verbose_name = "Lịch làm việc"
        verbose_name_plural = "Lịch làm việc"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CalendarVersion(models.Model):
    """One change to a calendar (a decree, a notice, a local decision) with its source."""

    calendar = models.ForeignKey(
        WorkingCalendar, verbose_name="Lịch", on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField("Phiên bản")
    effective_from = models.DateField("Hiệu lực từ")
    title = models.CharField("Nội dung", max_length=300)
    source = models.CharField("Văn bản căn cứ", max_length=300, blank=True)
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
        verbose_name = "Phiên bản lịch"
        verbose_name_plural = "Phiên bản lịch (văn bản điều chỉnh)"
        ordering = ["calendar", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "number"], name="calendar_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.calendar.code} v{self.number}: {self.title}"


class CalendarYear(models.Model):
    """Declares that `year` has an official schedule from `version` on (coverage)."""

    version = models.ForeignKey(
        CalendarVersion, verbose_name="Phiên bản", on_delete=models.PROTECT, related_name="years"
    )
    year = models.PositiveSmallIntegerField("Năm")
    title = models.CharField("Tiêu đề", max_length=300, blank=True)

    class Meta:
        verbose_name = "Năm có lịch chính thức"
        verbose_name_plural = "Năm có lịch chính thức"
        constraints = [
            models.UniqueConstraint(fields=["version", "year"], name="calendar_year_unique")
        ]

    def __str__(self) -> str:
        return str(self.year)


class DayKind(models.TextChoices):
    OFF = "off", "Nghỉ"
    WORK = "work", "Làm việc"


class DayLayer(models.TextChoices):
    DECREE = "decree", "Lịch nghỉ theo thông báo của Chính phủ"
    LOCAL = "local", "Điều chỉnh của địa phương"


class CalendarDay(models.Model):
    """A day off or a (swapped) working day introduced by a version."""

    version = models.ForeignKey(
        CalendarVersion, verbose_name="Phiên bản", on_delete=models.PROTECT, related_name="days"
    )
    date = models.DateField("Ngày")
    kind = models.CharField("Loại", max_length=4, choices=DayKind.choices)
    name = models.CharField("Tên ngày nghỉ / lý do", max_length=200)
    source = models.CharField(
        "Văn bản căn cứ",
        max_length=300,
        blank=True,
        help_text="Số hiệu, ngày và cơ quan ban hành văn bản; nguồn khác (báo chí, thư viện "
        "holidays) ghi rõ là nguồn khác",
    )
    layer = models.CharField(
        "Tầng", max_length=6, choices=DayLayer.choices, default=DayLayer.DECREE
    )
    # False unless someone checked the date against the act itself: entries taken from the
    # press or from the `holidays` package stay unverified, with the reason in `note`.
    verified = models.BooleanField(
        "Đã đối chiếu văn bản",
        default=False,
        help_text="Chỉ đánh dấu khi đã đối chiếu ngày với bản gốc văn bản căn cứ; nếu chưa, "
        "ghi lý do ở cột Ghi chú",
    )
    note = models.CharField("Ghi chú", max_length=300, blank=True)
    swapped_with = models.DateField("Hoán đổi với ngày", null=True, blank=True)

    class Meta:
        verbose_name = "Ngày điều chỉnh"
        verbose_name_plural = "Ngày điều chỉnh"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["version", "date"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.get_kind_display()}: {self.name}"
