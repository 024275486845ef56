"""Citizen portal records: profiles, drafts of online submissions with their files. (The
anonymous status look-up is rate-limited by `cchc.ratelimit`.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CitizenProfile(models.Model):
    """What a citizen told us once, to prefill every submission."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="citizen_profile"
    )
    id_number = models.CharField("Số định danh cá nhân", max_length=20, blank=True)
    address = models.CharField("Địa chỉ", max_length=300, blank=True)
    identity_provider = models.CharField("Đăng nhập qua", max_length=20, blank=True)
    identity_subject = models.CharField("Mã định danh tại nhà cung cấp", max_length=100, blank=True)
    # Single sign-on (VNeID): the assurance level of the last login (VNeID levels "1"/"2")
    # and when it happened.
    identity_level = models.CharField("Mức định danh", max_length=50, blank=True, default="")
    last_sso_at = models.DateTimeField("Đăng nhập VNeID lần cuối", null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "Hồ sơ người dân"
        verbose_name_plural = "Hồ sơ người dân"
        constraints = [
            # One account per person at a provider: a second login finds it by subject.
            models.UniqueConstraint(
                fields=["identity_provider", "identity_subject"],
                condition=~models.Q(identity_subject=""),
                name="portal_profile_identity_unique",
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class Draft(models.Model):
    """An online submission being prepared: saved and resumed until it is submitted, when
    it becomes a dossier (`dossier`)."""

    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người dân",
        on_delete=models.PROTECT,
        related_name="portal_drafts",
    )
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name="Thủ tục", on_delete=models.PROTECT
    )
    desk = models.ForeignKey(
        "org.Desk", verbose_name="Nơi nộp", null=True, blank=True, on_delete=models.PROTECT
    )
    competent_agency = models.ForeignKey(
        "org.Agency",
        verbose_name="Cơ quan giải quyết",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField("Nội dung đã nhập", default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    dossier = models.OneToOneField(
        "dossiers.Dossier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_draft",
    )
    discarded_at = models.DateTimeField(null=True, blank=True)
    # One draft per submission form: the token is written into the form when it is first
    # shown, so a failed submit, a double click or a re-posted page updates this draft
    # instead of creating another (unique per citizen; empty for drafts made by services).
    client_token = models.CharField("Mã phiên nhập", max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "Hồ sơ nháp"
        verbose_name_plural = "Hồ sơ nháp"
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "client_token"],
                condition=~models.Q(client_token=""),
                name="portal_draft_token_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Nháp {self.pk}: {self.procedure_id}"

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None and self.discarded_at is None


class DraftFile(models.Model):
    """A file uploaded to a draft, stored privately like dossier files (by hash)."""

    draft = models.ForeignKey(Draft, on_delete=models.PROTECT, related_name="files")
    document = models.ForeignKey(
        "catalog.RequiredDocument", null=True, blank=True, on_delete=models.PROTECT
    )
    name = models.CharField("Tên tệp", max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300)
    uploaded_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["draft", "id"]

    def __str__(self) -> str:
        return self.name
