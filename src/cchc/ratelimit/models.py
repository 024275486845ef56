"""Counters of the rate limiter (`cchc.ratelimit.limiter`): one row per (scope, key, time
bucket), incremented with one atomic upsert, so that every worker process shares the count
without a cache server. Keys are keyed hashes: no address or phone number is stored."""

from __future__ import annotations

from django.db import models


class Hit(models.Model):
    scope = models.CharField("Loại yêu cầu", max_length=30)
    key = models.CharField("Khóa (băm)", max_length=64)
    bucket_start = models.BigIntegerField("Đầu khoảng (giây Unix)")
    count = models.PositiveIntegerField("Số lần", default=0)
    expires_at = models.DateTimeField("Hết tác dụng lúc", db_index=True)

    class Meta:
        verbose_name = "Lượt yêu cầu (giới hạn tần suất)"
        verbose_name_plural = "Lượt yêu cầu (giới hạn tần suất)"
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "bucket_start"], name="ratelimit_hit_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]} @{self.bucket_start} = {self.count}"
