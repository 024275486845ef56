"""Signer and retry time of issued documents as columns (issue 21 leftovers): the signer
certificate's subject and serial, the signing profile, and the worker's next attempt after
a failed signing. Until now both lived only in the audit log (`dossier.document.signer`,
`dossier.document.sign_retry`); the audit entries are still written, and existing rows are
filled from them here (the serial was never recorded: it stays blank for documents signed
before this migration). Hand-written; depends on 0015 — 0016/0017 are other changes of
issue 21 (the lead chains them)."""

import datetime as dt

from django.db import migrations, models


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    IssuedDocument = apps.get_model("dossiers", "IssuedDocument")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    signers: dict[int, dict] = {}
    retries: dict[int, dict] = {}
    entries = AuditEntry.objects.filter(
        action__in=("dossier.document.signer", "dossier.document.sign_retry")
    ).order_by("pk")
    for entry in entries.only("action", "data").iterator():
        data = entry.data or {}
        try:
            pk = int(data.get("document", 0))
        except (TypeError, ValueError):
            continue
        (signers if entry.action == "dossier.document.signer" else retries)[pk] = data
    for doc in IssuedDocument.objects.filter(signed__in=("signed", "failed")).iterator():
        if doc.signed == "signed" and doc.pk in signers:
            data = signers[doc.pk]
            who = ", ".join(str(x) for x in (data.get("signer"), data.get("organisation")) if x)
            IssuedDocument.objects.filter(pk=doc.pk).update(
                signed_by_subject=who[:300], signing_profile=str(data.get("profile") or "")[:120]
            )
        elif doc.signed == "failed":
            data = retries.get(doc.pk)
            if data is None:  # no retry record: the next sweep tries it
                when = doc.issued_at
            elif data.get("retry_at"):
                when = dt.datetime.fromisoformat(str(data["retry_at"]))
            else:  # stopped
                continue
            IssuedDocument.objects.filter(pk=doc.pk).update(next_attempt_at=when)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_no_purge_switch"),
        ("dossiers", "0017_certified_copy"),
    ]

    operations = [
        migrations.AddField(
            model_name="issueddocument",
            name="signed_by_subject",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="Người ký (chứng thư số)"
            ),
        ),
        migrations.AddField(
            model_name="issueddocument",
            name="signer_serial",
            field=models.CharField(blank=True, max_length=80, verbose_name="Số hiệu chứng thư ký"),
        ),
        migrations.AddField(
            model_name="issueddocument",
            name="signing_profile",
            field=models.CharField(blank=True, max_length=120, verbose_name="Hồ sơ ký"),
        ),
        migrations.AddField(
            model_name="issueddocument",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="Thử ký lại lúc"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
