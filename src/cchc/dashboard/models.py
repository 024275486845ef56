"""Stored results of the dashboard: the step passages of dossiers as the dossier engine judges
them, so that the agency leader's bottleneck table (`cchc.dashboard.leader`) is a grouped
query instead of a replay of every dossier of the period on every page.

A cache, exact by construction: `JudgedDossier.version` is the dossier's event count
(`Dossier.version`) when its events were replayed, and events are append-only, so a dossier
whose version moved on (any new event, a calendar recompute included) is judged again by the
next page that needs it; nothing else changes a passage. Rows live in the database, so they
follow the dossiers through transactions, rollbacks and restores."""

from __future__ import annotations

from django.db import models


class JudgedDossier(models.Model):
    """The event count of the dossier when its passages below were stored."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.PositiveIntegerField("Số sự kiện khi tính")

    class Meta:
        verbose_name = "Hồ sơ đã tính lượt chuyển bước"
        verbose_name_plural = "Hồ sơ đã tính lượt chuyển bước"

    def __str__(self) -> str:
        return f"{self.dossier_id}@{self.version}"


class StepPassage(models.Model):
    """One hand-off of the control slip (phiếu kiểm soát) judged against its step's deadline
    (`dossiers.replay.Handoff` with a deadline)."""

    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    number = models.PositiveSmallIntegerField("Thứ tự trong hồ sơ")
    procedure_id = models.BigIntegerField("Thủ tục")
    step = models.PositiveSmallIntegerField("Bước (từ 0)")
    step_name = models.CharField("Tên bước", max_length=500)
    due = models.DateTimeField("Hạn của bước")
    at = models.DateTimeField("Chuyển bước lúc")
    late = models.BooleanField("Chậm tiến độ")
    delay_seconds = models.PositiveIntegerField("Chậm (giây làm việc)")
    giver = models.CharField("Người chuyển", max_length=200)

    class Meta:
        verbose_name = "Lượt chuyển bước"
        verbose_name_plural = "Lượt chuyển bước"
        constraints = [
            models.UniqueConstraint(fields=["dossier", "number"], name="step_passage_unique")
        ]
        indexes = [models.Index(fields=["dossier", "at"], name="step_passage_at")]

    def __str__(self) -> str:
        return f"{self.dossier_id}#{self.number} bước {self.step + 1}"
