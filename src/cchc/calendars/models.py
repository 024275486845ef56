"""Working calendars as stored data (the pure engine lives in `cchc.legaltime`)."""

from __future__ import annotations

from django.db import models


class WorkingCalendar(models.Model):
    """A named working calendar; desks point at one. Its dated entries and versions are
    managed in the legal-time administration."""

    code = models.SlugField("Mã lịch", max_length=50, unique=True)
    name = models.CharField("Tên lịch", max_length=200)
    description = models.TextField("Mô tả", blank=True)

    class Meta:
        verbose_name = "Lịch làm việc"
        verbose_name_plural = "Lịch làm việc"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
