"""Signer and retry time as columns of issued documents (issue 21 leftovers, item 1): the
migration fills them from the audit entries written before it, the admin lists the
signature in words, and the sweep picks failed documents by `next_attempt_at`."""

# ruff: noqa: F811  (the signing tests' fixtures, imported below, are parameters here)
from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.dossiers import issued, signing_jobs
from cchc.dossiers.documents.forms import issued_form
from cchc.dossiers.models import IssuedDocument, SignState
from tests.dossiers.conftest import at
from tests.signing.conftest import desk_p12, pki, signing_config  # noqa: F401 (fixtures)
from tests.signing.pki import Pki

pytestmark = pytest.mark.django_db

migration = importlib.import_module("cchc.dossiers.migrations.0018_issued_signer")


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SITE_URL = "https://dichvucong.example.gov.vn"


@pytest.fixture
def configured(settings: Any, pki: Pki, desk_p12: str) -> None:
    settings.CCHC_SIGNING = signing_config(pki, desk_p12)
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]


def receipt(world: Any, day: str = "2024-06-07") -> IssuedDocument:
    d = world.intake(at=at(day, "15:30"))
    return issued_form(d, "receipt", actor=world.desk_officer)


def test_the_migration_fills_the_columns_from_the_audit_log(world: Any, settings: Any) -> None:
    settings.CCHC_SIGNING = {}
    signed = receipt(world, "2024-06-07")
    retrying = receipt(world, "2024-06-10")
    stopped = receipt(world, "2024-06-11")
    no_record = receipt(world, "2024-06-12")
    retry_at = timezone.now() + dt.timedelta(minutes=4)
    # The rows as the code before migration 0018 left them: state only, the rest in the log.
    IssuedDocument.objects.filter(pk=signed.pk).update(
        signed=SignState.SIGNED, signed_at=timezone.now()
    )
    IssuedDocument.objects.filter(pk__in=[retrying.pk, stopped.pk, no_record.pk]).update(
        signed=SignState.FAILED, sign_attempts=1, sign_error="TSA"
    )
    for doc, data in (
        (signed, {"profile": "desk", "signer": "Bộ phận Một cửa", "organisation": "Tỉnh X"}),
    ):
        log.record(signing_jobs.SIGNER_ACTION, actor=None, obj=doc.dossier, data={
            "document": doc.pk, **data})  # fmt: skip
    for doc, when in ((retrying, retry_at.isoformat()), (stopped, None)):
        log.record(
            signing_jobs.RETRY_ACTION,
            actor=None,
            obj=doc.dossier,
            data={"document": doc.pk, "attempts": 1, "retry_at": when, "stopped": when is None},
        )
    migration.backfill(apps, None)
    rows = {d.pk: d for d in IssuedDocument.objects.all()}
    assert rows[signed.pk].signed_by_subject == "Bộ phận Một cửa, Tỉnh X"
    assert rows[signed.pk].signing_profile == "desk" and rows[signed.pk].signer_serial == ""
    assert rows[retrying.pk].next_attempt_at == retry_at
    assert rows[stopped.pk].next_attempt_at is None
    assert signing_jobs.is_stopped(rows[stopped.pk])
    assert rows[no_record.pk].next_attempt_at == rows[no_record.pk].issued_at  # retried at once
    assert not signing_jobs.is_stopped(rows[retrying.pk])


def test_the_sweep_reads_next_attempt_at(world: Any, configured: None) -> None:
    doc = receipt(world)
    doc = issued.request_signature(doc)
    later = timezone.now() + dt.timedelta(minutes=10)
    doc = issued.signing_failed(doc, "máy chủ dấu thời gian không trả lời",
                                retry_after=lambda n: dt.timedelta(minutes=10))  # fmt: skip
    assert doc.next_attempt_at is not None
    # Not due before its time, signed at it.
    assert signing_jobs.sign_due(now=later - dt.timedelta(seconds=5))["signed"] == 0
    assert signing_jobs.sign_due(now=later + dt.timedelta(seconds=5))["signed"] == 1
    doc.refresh_from_db()
    assert doc.signed == SignState.SIGNED and doc.next_attempt_at is None
    assert doc.signed_by_subject.startswith("Bộ phận Một cửa Thử Nghiệm")


def test_the_admin_lists_the_signature_in_words(
    world: Any, configured: None, client: Any, make_user: Any
) -> None:
    doc = receipt(world)
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SIGNED
    client.force_login(make_user(Role.ADMINISTRATOR))
    page = client.get("/admin/dossiers/issueddocument/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Chữ ký số" in html and "Đã ký số bởi Bộ phận Một cửa Thử Nghiệm" in html
    detail = client.get(f"/admin/dossiers/issueddocument/{doc.pk}/change/").content.decode()
    assert "Số hiệu chứng thư ký" in detail and "Hồ sơ ký" in detail
