"""The notification table becomes the outbox: a delivery state per row, attempts, the next
attempt's time and the claim of the worker sending it (cchc.notifications.delivery).

Existing rows: those with `sent_at` were sent; in-app rows, and e-mail/SMS rows without an
address, have nothing to deliver; e-mail/SMS rows that failed before this migration (an
error and no `sent_at`) are dead letters, not retried on their own — a message retried days
late may say something stale (a reset link that has expired) — and an administrator may
send them again; rows never tried (the process stopped before its after-commit hook ran)
are pending, and the worker sends them."""

from django.db import migrations, models

DELIVERED = ("email", "sms")


def forwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.filter(sent_at__isnull=False).update(state="sent", attempts=1)
    unsent = Notification.objects.filter(sent_at__isnull=True)
    unsent.exclude(channel__in=DELIVERED).update(state="none")
    unsent.filter(channel__in=DELIVERED, address="").update(state="none")
    failed = unsent.filter(channel__in=DELIVERED).exclude(address="").exclude(error="")
    failed.update(state="dead", attempts=1)
    # The rest keep the default: pending.


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_notification_dossier"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="attempts",
            field=models.PositiveIntegerField(default=0, verbose_name="Số lần thử"),
        ),
        migrations.AddField(
            model_name="notification",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="Bắt đầu gửi lúc"),
        ),
        migrations.AddField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="Thử lại lúc"),
        ),
        migrations.AddField(
            model_name="notification",
            name="state",
            field=models.CharField(
                choices=[
                    ("none", "Không cần gửi"),
                    ("pending", "Chờ gửi"),
                    ("sending", "Đang gửi"),
                    ("sent", "Đã gửi"),
                    ("retry", "Chờ gửi lại"),
                    ("dead", "Gửi không được"),
                ],
                default="pending",
                max_length=10,
                verbose_name="Trạng thái gửi",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["state", "next_attempt_at"], name="notification_outbox"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        # The e-mail/SMS rows as their own admin list.
        migrations.CreateModel(
            name="OutgoingNotification",
            fields=[],
            options={
                "verbose_name": "Thông báo gửi đi",
                "verbose_name_plural": "Thông báo gửi đi (thư điện tử, SMS)",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("notifications.notification",),
        ),
    ]
