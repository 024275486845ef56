"""Issued documents (issue 21): each form and fee receipt is issued once, in full, with a QR
code leading to the public verification page; later full downloads return the stored bytes;
readers without the personal-data right get a masked preview without a QR code."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from cchc.audit.models import AuditEntry
from cchc.dossiers import issued, services
from cchc.dossiers.access import TO_APPLICANT
from cchc.dossiers.documents import print_form
from cchc.dossiers.documents.forms import issued_form
from cchc.dossiers.models import IssuedDocument, SignState
from cchc.errors import Conflict, InvalidInput, NotFound
from tests.dossiers.conftest import at

pytestmark = pytest.mark.django_db

NAME = "Nguyễn Thị Hoà"  # the default applicant of tests.dossiers.factories
PHONE = "0912345678"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SITE_URL = "https://dichvucong.example.gov.vn"


def pdf_text(data: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return " ".join(unicodedata.normalize("NFC", out.stdout.decode("utf-8")).split())


def qr_codes(data: bytes, tmp_path: Path) -> list[str]:
    """The QR codes on page 1 of the PDF: rendered by poppler, decoded by zbar."""
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils and zbar-tools are needed to read the QR code")
    source = tmp_path / "doc.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "p")],
        check=True,
    )
    (page,) = tmp_path.glob("p*.png")
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
        capture_output=True,
        text=True,
    )
    return [line for line in found.stdout.splitlines() if line.strip()]


def walked(world):
    d = world.intake(at=at("2024-06-07", "15:30"))
    services.act(
        world.leader,
        d,
        "assign",
        now=at("2024-06-10", "10:00"),
        data={"assignee": world.officer.pk},
    )
    services.act(
        world.officer,
        d,
        "request_supplement",
        now=at("2024-06-10", "14:00"),
        reason="Thiếu bản sao căn cước.",
    )
    d.refresh_from_db()
    return d


def test_the_receipt_is_issued_once_and_downloads_never_change(world, tmp_path, settings):
    d = world.intake(at=at("2024-06-07", "15:30"))
    name1, first = print_form(world.desk_officer, d, "receipt")
    name2, second = print_form(world.desk_officer, d, "receipt")
    assert first == second
    assert name1 == name2 == f"01-{d.code}.pdf"
    doc = IssuedDocument.objects.get(dossier=d)
    assert doc.kind == "receipt" and doc.source.startswith("event:") and doc.number == "01"
    assert doc.sha256 == hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert doc.issued_by == world.desk_officer
    assert doc.signed == SignState.UNSIGNED
    assert len(doc.token) == 32 and doc.token.isalnum()
    # The stored file lies under MEDIA_ROOT, named by its hash (dossiers.files).
    assert (Path(settings.MEDIA_ROOT) / doc.path).read_bytes() == first
    # The applicant's copy (e-mail) is the same issued document.
    assert issued.content(issued_form(d, "receipt", actor=None)) == first
    assert IssuedDocument.objects.count() == 1
    assert AuditEntry.objects.filter(action="dossier.document.issued").count() == 1

    text = pdf_text(first)
    assert NAME in text and PHONE in text
    assert f"Mã tra cứu: {issued.token_words(doc.token)}" in text
    assert issued.PREVIEW_MARK not in text
    # The QR code on page 1 leads to the verification page of this document.
    (url,) = qr_codes(first, tmp_path)
    assert url == issued.verify_url(doc.token)
    assert url.startswith("https://dichvucong.example.gov.vn/")
    match = resolve(urlsplit(url).path)
    assert match.view_name == "portal:verify" and match.kwargs == {"token": doc.token}


def test_masked_readers_get_a_preview_without_qr(world, tmp_path):
    d = world.intake(at=at("2024-06-07", "15:30"))
    _, masked = print_form(world.supervisor, d, "receipt")
    assert IssuedDocument.objects.count() == 0  # a preview issues nothing
    text = pdf_text(masked)
    assert issued.PREVIEW_MARK in text
    assert NAME not in text and PHONE not in text
    assert "Mã tra cứu" not in text
    assert qr_codes(masked, tmp_path) == []
    _, full = print_form(world.desk_officer, d, "receipt")
    assert issued.PREVIEW_MARK not in pdf_text(full)
    _, masked_again = print_form(world.supervisor, d, "receipt")
    assert issued.PREVIEW_MARK in pdf_text(masked_again)
    assert hashlib.sha256(masked_again).hexdigest() != IssuedDocument.objects.get().sha256
    entries = AuditEntry.objects.filter(action="dossier.form.printed").order_by("id")
    assert [e.data["personal_data"] for e in entries] == [False, True, False]


def test_each_event_issues_its_own_document_and_the_control_slip_is_never_issued(world):
    d = walked(world)
    print_form(world.desk_officer, d, "receipt")
    _, supplement = print_form(world.desk_officer, d, "supplement")
    print_form(world.desk_officer, d, "control")
    print_form(world.desk_officer, d, "control")
    kinds = sorted(IssuedDocument.objects.values_list("kind", flat=True))
    assert kinds == ["receipt", "supplement"]
    with pytest.raises(InvalidInput):
        issued_form(d, "control", actor=None)
    # A second supplement request is another event: another issued document.
    services.act(world.desk_officer, d, "supplement_received", now=at("2024-06-11", "10:00"))
    services.act(
        world.officer,
        d,
        "request_supplement",
        now=at("2024-06-11", "14:00"),
        reason="Thiếu giấy ủy quyền.",
    )
    d.refresh_from_db()
    _, second = print_form(world.desk_officer, d, "supplement")
    assert second != supplement
    assert IssuedDocument.objects.filter(kind="supplement").count() == 2
    # The first request's note is still the one issued for its event.
    first_event = d.events.filter(action="request_supplement").order_by("seq").first()
    _, again = print_form(world.desk_officer, d, "supplement", event=first_event)
    assert again == supplement


def test_fee_receipt_is_issued_once_with_its_qr(world, tmp_path):
    from cchc.payments import services as payments
    from cchc.payments.documents import print_receipt

    d = world.intake()
    receipt = payments.record_cash(world.desk_officer, d, 200_000)
    first = print_receipt(world.desk_officer, receipt)
    assert print_receipt(world.desk_officer, receipt) == first
    doc = IssuedDocument.objects.get(kind="fee_receipt")
    assert doc.source == f"receipt:{receipt.pk}"
    assert doc.sha256 == hashlib.sha256(first).hexdigest()
    assert qr_codes(first, tmp_path) == [issued.verify_url(doc.token)]
    assert NAME in pdf_text(first)
    masked = print_receipt(world.supervisor, receipt)
    assert issued.PREVIEW_MARK in pdf_text(masked) and NAME not in pdf_text(masked)
    (tmp_path / "masked").mkdir()
    assert qr_codes(masked, tmp_path / "masked") == []


def test_signing_hook_replaces_the_bytes_and_keeps_the_first_hash(world):
    d = world.intake()
    doc = issued_form(d, "receipt", actor=world.desk_officer)
    original = issued.content(doc)
    with pytest.raises(Conflict):  # only a document waiting for its signature is signed
        issued.replace_with_signed(doc, original + b"%signed\n")
    doc = issued.request_signature(doc)
    doc = issued.signing_failed(doc, "Hết thời gian chờ dịch vụ ký số")
    assert doc.signed == SignState.FAILED and doc.sign_attempts == 1
    assert issued.content(doc) == original  # a failure never loses the document
    doc = issued.request_signature(doc)
    signed = original + b"%signed\n"
    doc = issued.replace_with_signed(doc, signed)
    assert doc.signed == SignState.SIGNED and doc.signed_at is not None
    assert doc.unsigned_sha256 == hashlib.sha256(original).hexdigest()
    assert issued.content(doc) == signed
    assert issued.compare(doc, signed) == issued.IDENTICAL
    assert issued.compare(doc, original) == issued.EARLIER_UNSIGNED
    assert issued.compare(doc, signed[:-2] + b"X\n") == issued.DIFFERENT
    with pytest.raises(Conflict):
        issued.request_signature(doc)
    with pytest.raises(InvalidInput):
        issued.replace_with_signed(doc, b"not a pdf")
    # Downloads now return the signed copy.
    _, got = print_form(world.desk_officer, d, "receipt")
    assert got == signed


def test_supersede_links_the_old_document_and_a_damaged_file_is_never_served(world, settings):
    d = world.intake()
    old = issued_form(d, "receipt", actor=world.desk_officer)

    def render(token: str) -> tuple[str, bytes, str]:
        from cchc.dossiers.documents import build_form
        from cchc.dossiers.documents.pdf import html_to_pdf

        form = build_form(d, "receipt", viewer=TO_APPLICANT, token=token)
        return form.filename, html_to_pdf(form.html), form.agency_name

    new = issued.supersede(old, render=render, actor=world.desk_officer)
    old.refresh_from_db()
    assert old.superseded_by == new and old.superseded_at is not None
    assert new.token != old.token and new.sha256 != old.sha256
    assert issued_form(d, "receipt", actor=None) == new
    with pytest.raises(Conflict):
        issued.supersede(old, render=render, actor=world.desk_officer)
    assert issued.by_token(issued.token_words(old.token).lower()) == old
    with pytest.raises(NotFound):
        issued.by_token("A" * 32)

    path = Path(settings.MEDIA_ROOT) / new.path
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(Conflict):
        print_form(world.desk_officer, d, "receipt")
