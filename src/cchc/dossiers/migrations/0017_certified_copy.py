"""Certified electronic copies (bản sao điện tử có chứng thực, issue 21, 766 sub 3c): the
issued-document kind `certified_copy`, the dossier fact `Dossier.certified_copy` (set with a
"note" event when a copy is issued) and the register of copies `CertifiedCopy` (number per
agency and year). Written by hand (helper "certcopy"); depends on 0015 — the lead chains it
after the other issue-21 migrations (0016 …)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
        ("dossiers", "0016_datastore"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dossier",
            name="certified_copy",
            field=models.BooleanField(
                default=False, verbose_name="Đã cấp bản sao điện tử có chứng thực"
            ),
        ),
        migrations.AlterField(
            model_name="issueddocument",
            name="kind",
            field=models.CharField(
                choices=[
                    ("receipt", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
                    ("supplement", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
                    ("refusal", "Phiếu từ chối tiếp nhận, giải quyết hồ sơ"),
                    ("apology", "Văn bản xin lỗi và hẹn lại ngày trả kết quả"),
                    ("stop", "Thông báo dừng giải quyết hồ sơ"),
                    ("fee_receipt", "Biên lai thu phí, lệ phí"),
                    ("result", "Kết quả giải quyết thủ tục hành chính"),
                    ("certified_copy", "Bản sao điện tử có chứng thực"),
                ],
                max_length=20,
                verbose_name="Loại văn bản",
            ),
        ),
        migrations.CreateModel(
            name="CertifiedCopy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="Năm")),
                ("serial", models.PositiveIntegerField(verbose_name="Số chứng thực")),
                ("book", models.CharField(max_length=40, verbose_name="Quyển số")),
                (
                    "title",
                    models.CharField(
                        max_length=300, verbose_name="Giấy tờ, văn bản được chứng thực"
                    ),
                ),
                ("pages", models.PositiveSmallIntegerField(verbose_name="Số trang")),
                ("copies", models.PositiveSmallIntegerField(verbose_name="Số bản sao")),
                ("scan_sha256", models.CharField(max_length=64, verbose_name="SHA-256 bản quét")),
                ("certified_at", models.DateTimeField(verbose_name="Thời điểm chứng thực")),
                (
                    "certifier_name",
                    models.CharField(max_length=200, verbose_name="Người thực hiện chứng thực"),
                ),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.agency",
                        verbose_name="Cơ quan chứng thực",
                    ),
                ),
                (
                    "certified_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="Người thực hiện chứng thực",
                    ),
                ),
                (
                    "document",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certified_copy",
                        to="dossiers.issueddocument",
                    ),
                ),
                (
                    "dossier",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certified_copies",
                        to="dossiers.dossier",
                    ),
                ),
            ],
            options={
                "verbose_name": "Bản sao điện tử có chứng thực",
                "verbose_name_plural": "Bản sao điện tử có chứng thực",
                "ordering": ["dossier", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("agency", "year", "serial"), name="certified_copy_number_unique"
                    )
                ],
            },
        ),
    ]
