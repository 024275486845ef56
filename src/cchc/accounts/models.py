"""Users and their scoped role assignments."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from cchc.accounts.roles import Role


class User(AbstractUser):
    """A person using cchc: an officer or a citizen. Roles come from RoleAssignment."""

    full_name = models.CharField("Họ và tên", max_length=150, blank=True)
    phone = models.CharField("Số điện thoại", max_length=20, blank=True)

    class Meta:
        verbose_name = "Người dùng"
        verbose_name_plural = "Người dùng"

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name() or self.username


class RoleAssignment(models.Model):
    """A role held by a user, scoped to an agency or a unit, during a validity interval."""

    user = models.ForeignKey(
        User, verbose_name="Người dùng", on_delete=models.PROTECT, related_name="roles"
    )
    role = models.CharField("Vai trò", max_length=40, choices=Role.choices)
    agency = models.ForeignKey(
        "org.Agency",
        verbose_name="Cơ quan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    unit = models.ForeignKey(
        "org.AdministrativeUnit",
        verbose_name="Địa bàn",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    desk = models.ForeignKey(
        "org.Desk",
        verbose_name="Bộ phận một cửa",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField("Đang hiệu lực", default=True)
    granted_at = models.DateTimeField("Ngày giao")
    granted_by = models.ForeignKey(
        User,
        verbose_name="Người giao",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "Phân quyền"
        verbose_name_plural = "Phân quyền"
        constraints = [
            models.CheckConstraint(
                condition=~Q(
                    role__in=[
                        Role.DESK_OFFICER,
                        Role.PROCESSING_OFFICER,
                        Role.AGENCY_LEADER,
                        Role.PAR_FOCAL_POINT,
                    ]
                )
                | Q(agency__isnull=False),
                name="agency_role_has_agency",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.PROVINCIAL_SUPERVISOR) | Q(unit__isnull=False),
                name="supervisor_role_has_unit",
            ),
        ]

    def __str__(self) -> str:
        where = self.agency or self.unit or ""
        return f"{self.get_role_display()} {where}".strip()


class ApiToken(models.Model):
    """A bearer token for integrations (mã truy cập API). The secret is shown once at
    creation and never stored: only its prefix (for lookup) and SHA-256 hash are kept.
    Revoked and expired tokens stay for the record."""

    user = models.ForeignKey(
        User, verbose_name="Người dùng", on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField("Tên (mục đích sử dụng)", max_length=100)
    prefix = models.CharField("Tiền tố", max_length=16, unique=True)
    key_hash = models.CharField("SHA-256 của mã", max_length=64)
    created_at = models.DateTimeField("Ngày tạo")
    expires_at = models.DateTimeField("Hết hạn", null=True, blank=True)
    last_used_at = models.DateTimeField("Dùng lần cuối", null=True, blank=True)
    revoked_at = models.DateTimeField("Thu hồi lúc", null=True, blank=True)

    class Meta:
        verbose_name = "Mã truy cập API"
        verbose_name_plural = "Mã truy cập API"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
