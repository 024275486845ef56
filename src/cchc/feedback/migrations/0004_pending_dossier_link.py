"""A PAKN naming a dossier is linked to it (and counts as a complaint on it) only once the
sender is proven to be the applicant: the typed code, the link state and one-time codes.
PAKN linked before this are marked linked (they were checked by the old rule)."""

import django.db.models.deletion
from django.db import migrations, models


def mark_linked(apps, schema_editor):
    Feedback = apps.get_model("feedback", "Feedback")
    for feedback in Feedback.objects.exclude(dossier=None).select_related("dossier"):
        Feedback.objects.filter(pk=feedback.pk).update(
            dossier_claim=feedback.dossier.code[:60], dossier_link="linked"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0005_imported_source'),
        ('feedback', '0003_event_guard_without_switch'),
    ]

    operations = [
        migrations.AddField(
            model_name='feedback',
            name='dossier_claim',
            field=models.CharField(blank=True, max_length=60, verbose_name='Mã hồ sơ người gửi ghi'),
        ),
        migrations.AddField(
            model_name='feedback',
            name='dossier_link',
            field=models.CharField(blank=True, choices=[('', 'Không ghi mã hồ sơ'), ('pending', 'Chờ xác minh hồ sơ'), ('linked', 'Đã xác minh hồ sơ')], default='', max_length=10, verbose_name='Xác minh hồ sơ liên quan'),
        ),
        migrations.CreateModel(
            name='DossierLinkCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code_hash', models.CharField(max_length=100)),
                ('channel', models.CharField(max_length=10, verbose_name='Kênh gửi')),
                ('sent_to', models.CharField(max_length=60, verbose_name='Gửi tới (đã che)')),
                ('created_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField()),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='Số lần nhập')),
                ('used_at', models.DateTimeField(blank=True, null=True)),
                ('dossier', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='dossiers.dossier')),
                ('feedback', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='link_codes', to='feedback.feedback')),
            ],
            options={
                'verbose_name': 'Mã xác nhận hồ sơ của phản ánh',
                'verbose_name_plural': 'Mã xác nhận hồ sơ của phản ánh',
                'ordering': ['feedback', '-created_at'],
            },
        ),
        migrations.RunPython(mark_linked, migrations.RunPython.noop),
    ]
