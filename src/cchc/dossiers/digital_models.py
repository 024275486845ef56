"""The models of digitisation and digital signatures (issue 21): components scanned at intake
and their reuse (`cchc.dossiers.digitisation`), the signature checks of stored PDFs
(`cchc.dossiers.signature_checks`) and certified electronic copies
(`cchc.dossiers.certified_copies`), in their own module so that `dossiers.models` stays
readable; `dossiers.models` imports them (the app registry loads models from there) and
re-exports them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# -- digitised components (issue 21, item 5) --------------------------------------------------


class DigitisedComponent(models.Model):
    """A dossier component the desk scanned at intake (kết quả số hóa thành phần hồ sơ):
    the stored file, whose it is (the holder's ID number, digits only) and what kind of paper
    it is (`type_code`), so that a later dossier of the same citizen can reuse it instead of
    a new copy (`ComponentReuse`). Written by `cchc.dossiers.digitisation`, never ticked.
    The file is what the desk's signing job signs (`file_id`)."""

    id_number = models.CharField("Số định danh người sở hữu", max_length=20, blank=True)
    # A national document-type code when known, else "ten:" + the folded document name, so
    # the same paper matches across procedures and procedure versions.
    type_code = models.CharField("Loại giấy tờ", max_length=220)
    name = models.CharField("Tên giấy tờ", max_length=500)
    document = models.ForeignKey(
        "catalog.RequiredDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.ForeignKey("dossiers.StoredFile", on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="digitised_components"
    )
    component = models.OneToOneField(
        "dossiers.DossierComponent", on_delete=models.PROTECT, related_name="digitisation"
    )
    scanned_at = models.DateTimeField("Thời điểm số hóa")
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người số hóa",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    valid_until = models.DateField("Giá trị sử dụng đến", null=True, blank=True)
    reused_count = models.PositiveIntegerField("Số lần được tái sử dụng", default=0)

    class Meta:
        verbose_name = "Thành phần hồ sơ đã số hóa"
        verbose_name_plural = "Thành phần hồ sơ đã số hóa"
        ordering = ["-scanned_at", "-id"]
        indexes = [
            models.Index(fields=["id_number", "type_code"], name="digitised_holder_type"),
        ]

    def __str__(self) -> str:
        return self.name


class ComponentReuse(models.Model):
    """A component of a later dossier given by reusing a `DigitisedComponent` (no new
    upload): `DossierComponent.reused` and `Dossier.reused_data` are derived from these."""

    component = models.OneToOneField(
        "dossiers.DossierComponent", on_delete=models.PROTECT, related_name="reuse"
    )
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="component_reuses"
    )
    digitised = models.ForeignKey(
        DigitisedComponent, on_delete=models.PROTECT, related_name="reuses"
    )
    reused_at = models.DateTimeField("Thời điểm tái sử dụng")
    reused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người thực hiện",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "Tái sử dụng thành phần đã số hóa"
        verbose_name_plural = "Tái sử dụng thành phần đã số hóa"
        ordering = ["dossier", "id"]

    def __str__(self) -> str:
        return f"{self.component_id} ← {self.digitised_id}"


# -- signatures of stored PDFs (issue 21, item 2) ---------------------------------------------


class FileCheckState(models.TextChoices):
    """Where the signature check of a stored PDF is (`cchc.dossiers.signature_checks`)."""

    PENDING = "pending", "Chờ kiểm tra chữ ký số"
    CHECKED = "checked", "Đã kiểm tra chữ ký số"
    UNREADABLE = "unreadable", "Không đọc được tệp PDF"


class SignatureVerdict(models.TextChoices):
    """The verdicts of `cchc.signing.verify_pdf` (same values, same Vietnamese words)."""

    VALID = "valid", "hợp lệ"
    INVALID = "invalid", "không hợp lệ"
    UNTRUSTED = "untrusted", "không tin cậy"
    UNSIGNED = "unsigned", "không có chữ ký"


class FileSignature(models.Model):
    """The digital signatures of one stored PDF of a dossier (uploaded at the desk, by the
    citizen, received from the national portal, or a result attached by an officer):
    recorded "pending" when the file is stored, checked on the worker with
    `cchc.signing.verify_pdf`, and checked again when the trust list changes
    (`trust_fingerprint` is that of the list it was checked against)."""

    file = models.OneToOneField(
        "dossiers.StoredFile",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="signature_check",
    )
    state = models.CharField(
        "Tình trạng kiểm tra",
        max_length=12,
        choices=FileCheckState.choices,
        default=FileCheckState.PENDING,
    )
    verdict = models.CharField(
        "Kết luận", max_length=10, choices=SignatureVerdict.choices, blank=True
    )
    # One entry per signature: signer (CN, O), serial, issuer, signing time and its source,
    # intact, valid at signing time, trusted, verdict, problems (Vietnamese).
    signatures = models.JSONField("Chữ ký số", default=list, blank=True)
    document_timestamps = models.PositiveSmallIntegerField(default=0)
    error = models.CharField("Lỗi", max_length=300, blank=True)
    trust_fingerprint = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    checked_at = models.DateTimeField("Kiểm tra lúc", null=True, blank=True)

    class Meta:
        verbose_name = "Chữ ký số của tệp"
        verbose_name_plural = "Chữ ký số của tệp"
        indexes = [models.Index(fields=["state", "trust_fingerprint"], name="file_signature_state")]

    def __str__(self) -> str:
        return f"{self.file_id}: {self.get_state_display()} {self.verdict}".strip()


# -- certified electronic copies (issue 21, 766 sub 3c) ----------------------------------------


class CertifiedCopy(models.Model):
    """One certified electronic copy (bản sao điện tử có chứng thực từ bản chính, NĐ 23/2015
    and NĐ 45/2020 Điều 6) as entered in the certifying agency's register (sổ chứng thực):
    its number per agency and year (`serial`), the register book, the paper certified, its
    pages and copies, who certified it, and the issued document (the scan followed by the
    certification statement, signed by the agency on the worker)."""

    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="certified_copies"
    )
    document = models.OneToOneField(
        "dossiers.IssuedDocument", on_delete=models.PROTECT, related_name="certified_copy"
    )
    agency = models.ForeignKey(
        "org.Agency", verbose_name="Cơ quan chứng thực", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("Năm")
    serial = models.PositiveIntegerField("Số chứng thực")
    book = models.CharField("Quyển số", max_length=40)
    title = models.CharField("Giấy tờ, văn bản được chứng thực", max_length=300)
    pages = models.PositiveSmallIntegerField("Số trang")
    copies = models.PositiveSmallIntegerField("Số bản sao")
    scan_sha256 = models.CharField("SHA-256 bản quét", max_length=64)
    certified_at = models.DateTimeField("Thời điểm chứng thực")
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người thực hiện chứng thực",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    certifier_name = models.CharField("Người thực hiện chứng thực", max_length=200)

    class Meta:
        verbose_name = "Bản sao điện tử có chứng thực"
        verbose_name_plural = "Bản sao điện tử có chứng thực"
        ordering = ["dossier", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "serial"], name="certified_copy_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.serial}/{self.year} {self.book}"
