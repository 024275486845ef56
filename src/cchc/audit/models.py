"""The audit log (nhật ký): append-only, written in the same transaction as each change,
hash-chained so that tampering shows (`cchc.audit.chain`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models, router, transaction

from cchc.audit import chain


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditEntry(models.Model):
    action = models.CharField("Hành động", max_length=100, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người thực hiện",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept apart from the FK so that the entry stays readable whatever becomes of the user.
    actor_label = models.CharField("Tài khoản", max_length=150, blank=True)
    at = models.DateTimeField("Thời điểm", db_index=True)
    object_type = models.CharField("Loại đối tượng", max_length=100, blank=True)
    object_id = models.CharField("Mã đối tượng", max_length=100, blank=True)
    object_repr = models.CharField("Đối tượng", max_length=300, blank=True)
    # The agency whose data changed, for scoping who may read the entry.
    agency_id = models.BigIntegerField("Cơ quan", null=True, blank=True, db_index=True)
    data = models.JSONField("Dữ liệu", default=dict, blank=True)
    # Hex SHA-256 chain: `hash` covers this entry's content and `prev_hash` (chain.py).
    prev_hash = models.CharField("Mã băm bản ghi trước", max_length=64, blank=True, default="")
    hash = models.CharField("Mã băm", max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "Bản ghi nhật ký"
        verbose_name_plural = "Nhật ký hệ thống"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise AppendOnlyError("Nhật ký chỉ được ghi thêm, không được sửa.")
        using = kwargs.get("using") or router.db_for_write(type(self))
        # The head is read and the entry inserted in one transaction, under the chain's lock.
        with transaction.atomic(using=using, savepoint=False):
            chain.link([self], transaction.get_connection(using))
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Nhật ký chỉ được ghi thêm, không được xóa.")
