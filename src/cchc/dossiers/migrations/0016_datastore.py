"""E-results delivered to the holder's data store (issue 21 item 4, 766 sub-indicator 3e):
`Dossier.result_in_datastore`, the delivery outbox `DatastoreDelivery` and the local store
`DatastoreItem`. Written by hand; depends on 0015 (the lead chains the migrations of issue 21)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0015_digitised_components"),
    ]

    operations = [
        migrations.AddField(
            model_name="dossier",
            name="result_in_datastore",
            field=models.BooleanField(default=False, verbose_name="Kết quả đã vào kho dữ liệu"),
        ),
        migrations.CreateModel(
            name="DatastoreDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "holder_id_number",
                    models.CharField(max_length=20, verbose_name="Số định danh người nhận"),
                ),
                ("backend", models.CharField(max_length=20, verbose_name="Kho dữ liệu")),
                ("key", models.CharField(max_length=120, unique=True)),
                ("sha256", models.CharField(max_length=64)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("waiting", "Chờ gửi vào kho dữ liệu"),
                            ("sending", "Đang gửi"),
                            ("sent", "Đã gửi vào kho dữ liệu"),
                            ("failed", "Gửi vào kho dữ liệu không thành công"),
                        ],
                        default="waiting",
                        max_length=10,
                        verbose_name="Trạng thái",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(default=0, verbose_name="Số lần thử"),
                ),
                (
                    "next_attempt_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="Thử lại lúc"),
                ),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("error", models.CharField(blank=True, max_length=500, verbose_name="Lỗi")),
                (
                    "error_code",
                    models.CharField(blank=True, max_length=20, verbose_name="Mã lỗi"),
                ),
                (
                    "receipt",
                    models.CharField(
                        blank=True, max_length=120, verbose_name="Mã biên nhận của kho"
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="Tạo lúc")),
                (
                    "sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="Gửi xong lúc"),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="datastore_deliveries",
                        to="dossiers.issueddocument",
                    ),
                ),
                (
                    "dossier",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="datastore_deliveries",
                        to="dossiers.dossier",
                    ),
                ),
            ],
            options={
                "verbose_name": "Gửi kết quả vào kho dữ liệu",
                "verbose_name_plural": "Gửi kết quả vào kho dữ liệu",
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["state", "next_attempt_at"], name="datastore_delivery_due")
                ],
            },
        ),
        migrations.CreateModel(
            name="DatastoreItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "holder_id_number",
                    models.CharField(max_length=20, verbose_name="Số định danh người sở hữu"),
                ),
                ("key", models.CharField(max_length=120, unique=True)),
                (
                    "receipt",
                    models.CharField(max_length=120, unique=True, verbose_name="Mã biên nhận"),
                ),
                ("kind", models.CharField(max_length=20, verbose_name="Loại văn bản")),
                (
                    "title",
                    models.CharField(blank=True, max_length=300, verbose_name="Tên văn bản"),
                ),
                ("dossier_code", models.CharField(max_length=60, verbose_name="Mã hồ sơ")),
                ("procedure_code", models.CharField(max_length=30, verbose_name="Mã TTHC")),
                ("issued_on", models.DateField(verbose_name="Ngày cấp")),
                ("filename", models.CharField(max_length=200)),
                ("sha256", models.CharField(max_length=64)),
                ("size", models.PositiveBigIntegerField()),
                ("path", models.CharField(max_length=300)),
                ("received_at", models.DateTimeField(verbose_name="Vào kho lúc")),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="dossiers.issueddocument",
                    ),
                ),
                (
                    "dossier",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="dossiers.dossier",
                    ),
                ),
            ],
            options={
                "verbose_name": "Văn bản trong kho dữ liệu",
                "verbose_name_plural": "Kho dữ liệu của công dân, tổ chức",
                "ordering": ["-received_at", "-id"],
                "indexes": [
                    models.Index(fields=["holder_id_number", "id"], name="datastore_item_holder")
                ],
            },
        ),
    ]
