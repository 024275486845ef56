"""Issued documents signed on the worker (issue 21 item 1): the profile that signs what, the
job and the sweep, back-off on a transient failure, a stop on a permanent one, the claim that
two workers cannot both win, what the dossier page and `cchc documents status` show, and the
demo PKI. Real PDFs, real signatures (tests/signing/pki.py), real database."""

# ruff: noqa: F811  (the signing tests' fixtures, imported below, are parameters here)
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from io import BytesIO, StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature as _validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from cchc.audit.models import AuditEntry
from cchc.demo import signing_pki
from cchc.dossiers import issued, signing_jobs
from cchc.dossiers.documents.forms import issued_form
from cchc.dossiers.models import IssuedDocument, IssuedKind, SignState
from cchc.signing import verify_pdf
from cchc.signing.aio import off_the_loop
from tests.dossiers.conftest import at
from tests.signing.conftest import (  # noqa: F401  # fixtures of the signing tests
    P12_PASSWORD,
    desk_p12,
    pki,
    signing_config,
)
from tests.signing.pki import Pki

pytestmark = pytest.mark.django_db

validate_pdf_signature = off_the_loop(_validate_pdf_signature)


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SITE_URL = "https://dichvucong.example.gov.vn"


@pytest.fixture
def configured(settings: Any, pki: Pki, desk_p12: str) -> dict[str, Any]:
    settings.CCHC_SIGNING = signing_config(pki, desk_p12)
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    return dict(settings.CCHC_SIGNING)


def receipt(world: Any) -> IssuedDocument:
    d = world.intake(at=at("2024-06-07", "15:30"))
    return issued_form(d, "receipt", actor=world.desk_officer)


def pyhanko_status(data: bytes, pki: Pki) -> Any:
    reader = PdfFileReader(BytesIO(data))
    (sig,) = reader.embedded_regular_signatures
    return validate_pdf_signature(sig, ValidationContext(trust_roots=[pki.root.asn1]))


def verify_upload(client: Any, doc: IssuedDocument, data: bytes) -> str:
    response = client.post(
        reverse("portal:verify", args=[doc.token]),
        {"tep": SimpleUploadedFile("ban.pdf", data, content_type="application/pdf")},
    )
    assert response.status_code == 200
    return str(response.context["outcome"])


def test_the_job_signs_a_receipt_that_pyhanko_and_the_verification_page_accept(
    world: Any,
    configured: dict[str, Any],
    pki: Pki,
    client: Any,
    django_assert_num_queries: Any,
) -> None:
    doc = receipt(world)
    first = issued.content(doc)
    assert doc.signed == SignState.UNSIGNED
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SIGNED
    doc.refresh_from_db()
    signed = issued.content(doc)
    assert doc.signed == SignState.SIGNED and doc.signed_at is not None
    assert signed.startswith(first) and signed != first  # an incremental update
    assert doc.unsigned_sha256 == hashlib.sha256(first).hexdigest()
    status = pyhanko_status(signed, pki)
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "Bộ phận Một cửa Thử Nghiệm"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    (ours,) = verify_pdf(signed).signatures
    assert ours.field == "ChuKySo_receipt"
    # The verification page: the signed copy is the issued one, the first copy is recognised.
    assert verify_upload(client, doc, signed) == issued.IDENTICAL
    assert verify_upload(client, doc, first) == issued.EARLIER_UNSIGNED
    body = first.index(b"stream") + 20  # one byte inside the signed range
    tampered = signed[:body] + bytes([signed[body] ^ 1]) + signed[body + 1 :]
    assert len(tampered) == len(signed)
    assert verify_upload(client, doc, tampered) == issued.DIFFERENT
    assert not pyhanko_status(tampered, pki).intact
    # Audit: requested, signed, and who signed; a second run has nothing to do.
    actions = list(
        AuditEntry.objects.filter(action__startswith="dossier.document.").values_list(
            "action", flat=True
        )
    )
    assert actions.count("dossier.document.signed") == 1
    assert actions.count(signing_jobs.SIGNER_ACTION) == 1
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SKIPPED
    # Who signed is stored on the document (migration 0018), from the certificate.
    assert doc.signed_by_subject == "Bộ phận Một cửa Thử Nghiệm, Tỉnh Thử Nghiệm"
    assert doc.signer_serial == ours.serial and len(doc.signer_serial) >= 8
    assert doc.signing_profile == "desk" and doc.next_attempt_at is None
    # The dossier page's rows: one query (signer and retry time are columns).
    dossier = doc.dossier
    with django_assert_num_queries(1):
        (row,) = signing_jobs.signatures(dossier)
    assert row.state == SignState.SIGNED
    assert row.text == (
        "Đã ký số bởi Bộ phận Một cửa Thử Nghiệm, Tỉnh Thử Nghiệm lúc "
        f"{timezone.localtime(doc.signed_at):%H:%M %d/%m/%Y}"
    )
    html = render_to_string("dossiers/_signatures.html", {"signatures": [row]})
    assert "Ký số văn bản đã phát hành" in html and "Giấy tiếp nhận hồ sơ" in html
    assert "Đã ký số bởi Bộ phận Một cửa Thử Nghiệm" in html


def test_the_hook_queues_the_job_after_commit(
    world: Any, configured: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_JOBS_SYNC = True
    doc = receipt(world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        signing_jobs.on_issued(doc)
    assert len(callbacks) == 1
    doc.refresh_from_db()
    assert doc.signed == SignState.SIGNED


def test_tsa_down_fails_with_a_retry_time_then_the_next_sweep_signs(
    world: Any,
    configured: dict[str, Any],
    settings: Any,
    pki: Pki,
) -> None:
    doc = receipt(world)
    first = issued.content(doc)
    good = settings.CCHC_SIGNING
    settings.CCHC_SIGNING = {**good, "tsa_url": f"{pki.server.base}/tsa-hong"}  # 404
    t0 = timezone.now()
    counts = signing_jobs.sign_due(now=t0)
    assert counts["retry"] == 1 and counts["signed"] == 0
    doc.refresh_from_db()
    assert doc.signed == SignState.FAILED and doc.sign_attempts == 1
    assert "dấu thời gian" in doc.sign_error
    assert issued.content(doc) == first  # the unsigned copy stays in force
    (row,) = signing_jobs.signatures(doc.dossier)
    retry_at = t0 + dt.timedelta(minutes=1)
    assert doc.next_attempt_at == retry_at  # the column the sweep reads
    assert row.retry_at == retry_at
    assert row.text == (
        f"Ký số chưa thành công, thử lại lúc {timezone.localtime(retry_at):%H:%M %d/%m/%Y} "
        f"(lỗi: {doc.sign_error})"
    )
    # Not due yet: nothing happens, even with the TSA back.
    settings.CCHC_SIGNING = good
    assert signing_jobs.sign_due(now=t0 + dt.timedelta(seconds=30))["signed"] == 0
    # Still down at the retry: the wait doubles.
    settings.CCHC_SIGNING = {**good, "tsa_url": f"{pki.server.base}/tsa-hong"}
    assert signing_jobs.sign_due(now=t0 + dt.timedelta(seconds=61))["retry"] == 1
    t1 = t0 + dt.timedelta(seconds=61)
    assert signing_jobs.retry_info([doc.pk])[doc.pk].retry_at == t1 + dt.timedelta(minutes=2)
    doc.refresh_from_db()
    assert doc.next_attempt_at == t1 + dt.timedelta(minutes=2)
    status = signing_jobs.status()
    assert status["retrying"] == 1 and status["stopped"] == 0
    # Back up: the next sweep after the retry time signs.
    settings.CCHC_SIGNING = good
    assert signing_jobs.sign_due(now=t1 + dt.timedelta(minutes=2, seconds=1))["signed"] == 1
    doc.refresh_from_db()
    assert doc.signed == SignState.SIGNED and doc.sign_attempts == 3
    assert doc.unsigned_sha256 == hashlib.sha256(first).hexdigest()
    assert doc.next_attempt_at is None


def test_transient_failures_stop_after_the_last_attempt(
    world: Any,
    configured: dict[str, Any],
    settings: Any,
    pki: Pki,
) -> None:
    settings.CCHC_SIGNING_MAX_ATTEMPTS = 2
    settings.CCHC_SIGNING = {**settings.CCHC_SIGNING, "tsa_url": f"{pki.server.base}/tsa-hong"}
    doc = receipt(world)
    t0 = timezone.now()
    assert signing_jobs.sign_document(doc.pk, now=t0) == signing_jobs.RETRY
    t1 = t0 + dt.timedelta(minutes=2)
    assert signing_jobs.sign_document(doc.pk, now=t1) == signing_jobs.STOPPED
    assert signing_jobs.sign_due(now=t1 + dt.timedelta(hours=5))["skipped"] == 0
    doc.refresh_from_db()
    assert doc.signed == SignState.FAILED and doc.sign_attempts == 2
    assert doc.next_attempt_at is None
    (row,) = signing_jobs.signatures(doc.dossier)
    assert row.retry_at is None and "đã dừng thử lại" in row.text
    assert row.text.startswith("Ký số chưa thành công: ")


def test_a_signing_error_stops_at_once_and_is_visible_until_retried(
    world: Any, configured: dict[str, Any], settings: Any
) -> None:
    good = settings.CCHC_SIGNING
    wrong = json.loads(json.dumps(good))
    wrong["profiles"]["desk"]["password"] = "sai-mat-khau"
    settings.CCHC_SIGNING = wrong
    doc = receipt(world)
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.STOPPED
    doc.refresh_from_db()
    assert doc.signed == SignState.FAILED and doc.sign_attempts == 1 and doc.sign_error
    settings.CCHC_SIGNING = good  # fixed, but a stopped document waits for the operator
    later = timezone.now() + dt.timedelta(hours=3)
    assert signing_jobs.sign_due(now=later)["signed"] == 0
    out = StringIO()
    call_command("documents", "status", "--json", stdout=out)
    found = json.loads(out.getvalue().splitlines()[-1])
    assert found["stopped"] == 1 and found["stopped_documents"][0]["document"] == doc.pk
    out = StringIO()
    call_command("documents", "sign", "--json", "--retry-stopped", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["signed"] == 1
    doc.refresh_from_db()
    assert doc.signed == SignState.SIGNED


def test_no_profile_leaves_the_document_unsigned_with_the_reason(
    world: Any,
    settings: Any,
    pki: Pki,
    desk_p12: str,
) -> None:
    settings.CCHC_SIGNING = {}
    doc = receipt(world)
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.NO_PROFILE
    assert signing_jobs.sign_due()["signed"] == 0
    doc.refresh_from_db()
    assert doc.signed == SignState.UNSIGNED and doc.sign_attempts == 0
    (row,) = signing_jobs.signatures(doc.dossier)
    assert row.text == "Chưa ký số: Chưa cấu hình ký số (CCHC_SIGNING không có hồ sơ ký nào)."
    # Only an agency profile: a form is the desk's, so it still waits, and says which.
    config = signing_config(pki, desk_p12)
    config["profiles"] = {"agency": config["profiles"]["desk"]}
    settings.CCHC_SIGNING = config
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.NO_PROFILE
    out = StringIO()
    call_command("documents", "status", stdout=out)
    assert f"Chưa cấu hình hồ sơ ký «desk:{world.desk.code}» hoặc «desk»." in out.getvalue()
    out = StringIO()
    call_command("documents", "status", "--json", stdout=out)
    found = json.loads(out.getvalue())
    assert found["unsignable"] == 1 and found["queued"] == 0


def test_the_desks_own_profile_wins_and_results_go_to_the_agency(
    world: Any,
    settings: Any,
    pki: Pki,
    desk_p12: str,
) -> None:
    doc = receipt(world)
    d = doc.dossier
    desk_only = f"desk:{d.desk.code}"
    base = signing_config(pki, desk_p12)["profiles"]["desk"]
    settings.CCHC_SIGNING = {"profiles": {"desk": base, desk_only: base}}
    assert signing_jobs.profile_for(doc) == desk_only
    result = IssuedDocument(dossier=d, kind=IssuedKind.RESULT)
    assert signing_jobs.profile_for(result) is None
    agency = f"agency:{d.competent_agency.code}"
    settings.CCHC_SIGNING = {"profiles": {"agency": base}}
    assert signing_jobs.profile_for(result) == "agency"
    settings.CCHC_SIGNING = {"profiles": {"agency": base, agency: base}}
    assert signing_jobs.profile_for(result) == agency
    assert signing_jobs.profile_for(doc) is None


def test_the_claim_has_one_winner(world: Any, configured: dict[str, Any]) -> None:
    doc = receipt(world)
    now = timezone.now()
    won = signing_jobs.claim(doc.pk, now)
    assert won is not None and won.signed == SignState.WAITING
    assert signing_jobs.claim(doc.pk, now) is None  # already waiting: nothing to claim
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SKIPPED
    assert AuditEntry.objects.filter(action="dossier.document.sign_requested").count() == 1
    # A worker that died mid-signing: after the lease the sweep takes it back and signs.
    later = now + signing_jobs.lease() + dt.timedelta(seconds=1)
    counts = signing_jobs.sign_due(now=later)
    assert counts["reclaimed"] == 1 and counts["signed"] == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_in_parallel_sign_once(settings: Any, pki: Pki, desk_p12: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two connections racing: PostgreSQL leg")
    from tests.conftest import NOW
    from tests.dossiers.conftest import build_world

    world = build_world(NOW)
    # Issued before signing is configured (else the issue's own job, run at once in the
    # tests, would sign it): the two sweeps then race for an unsigned document.
    doc = receipt(world)
    assert doc.signed == SignState.UNSIGNED
    settings.CCHC_SIGNING = signing_config(pki, desk_p12)
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def sweep() -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(signing_jobs.sign_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["signed"] for r in results) == [0, 1]
    doc.refresh_from_db()
    assert doc.signed == SignState.SIGNED and doc.sign_attempts == 1
    assert AuditEntry.objects.filter(action="dossier.document.signed").count() == 1


def test_demo_pki_is_idempotent_and_signs(world: Any, settings: Any, tmp_path: Any) -> None:
    made = signing_pki.ensure(tmp_path)
    p12 = tmp_path / "signing-demo" / "desk.p12"
    before = p12.read_bytes()
    assert signing_pki.ensure(tmp_path) == made and p12.read_bytes() == before
    settings.CCHC_SIGNING = made["CCHC_SIGNING"]
    settings.CCHC_SIGNING_TRUST_ROOTS = made["CCHC_SIGNING_TRUST_ROOTS"]
    doc = receipt(world)
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SIGNED
    doc.refresh_from_db()
    report = verify_pdf(issued.content(doc))
    assert report.verdict == "valid", report.as_dict()
    (sig,) = report.signatures
    assert "DEMO" in sig.signer_name and sig.time_source == "claimed"
