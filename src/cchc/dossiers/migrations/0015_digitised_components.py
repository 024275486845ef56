"""Digitised components (issue 21, item 5): `DigitisedComponent` (a component scanned at
intake, with its stored file, the holder's ID number and the component type) and
`ComponentReuse` (a later dossier's component given by reusing one). Depends on 0013; 0014
is another change of issue 21 (the lead chains them)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_national_publication"),
        ("dossiers", "0014_file_signatures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DigitisedComponent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "id_number",
                    models.CharField(
                        blank=True, max_length=20, verbose_name="Số định danh người sở hữu"
                    ),
                ),
                ("type_code", models.CharField(max_length=220, verbose_name="Loại giấy tờ")),
                ("name", models.CharField(max_length=500, verbose_name="Tên giấy tờ")),
                ("scanned_at", models.DateTimeField(verbose_name="Thời điểm số hóa")),
                (
                    "valid_until",
                    models.DateField(blank=True, null=True, verbose_name="Giá trị sử dụng đến"),
                ),
                (
                    "reused_count",
                    models.PositiveIntegerField(default=0, verbose_name="Số lần được tái sử dụng"),
                ),
                (
                    "component",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="digitisation",
                        to="dossiers.dossiercomponent",
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="catalog.requireddocument",
                    ),
                ),
                (
                    "dossier",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="digitised_components",
                        to="dossiers.dossier",
                    ),
                ),
                (
                    "file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="dossiers.storedfile",
                    ),
                ),
                (
                    "scanned_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="Người số hóa",
                    ),
                ),
            ],
            options={
                "verbose_name": "Thành phần hồ sơ đã số hóa",
                "verbose_name_plural": "Thành phần hồ sơ đã số hóa",
                "ordering": ["-scanned_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ComponentReuse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reused_at", models.DateTimeField(verbose_name="Thời điểm tái sử dụng")),
                (
                    "component",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reuse",
                        to="dossiers.dossiercomponent",
                    ),
                ),
                (
                    "dossier",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="component_reuses",
                        to="dossiers.dossier",
                    ),
                ),
                (
                    "reused_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="Người thực hiện",
                    ),
                ),
                (
                    "digitised",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reuses",
                        to="dossiers.digitisedcomponent",
                    ),
                ),
            ],
            options={
                "verbose_name": "Tái sử dụng thành phần đã số hóa",
                "verbose_name_plural": "Tái sử dụng thành phần đã số hóa",
                "ordering": ["dossier", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="digitisedcomponent",
            index=models.Index(fields=["id_number", "type_code"], name="digitised_holder_type"),
        ),
    ]
