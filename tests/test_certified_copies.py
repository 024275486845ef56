"""Certified electronic copies (bản sao điện tử có chứng thực, issue 21, 766 sub 3c): a copy
made from a real scanned PDF (and from scanned images), signed on the worker by the
certifying agency's key, validated by pyHanko, broken by a one-byte change, confirmed by the
public verification page, downloaded by the applicant once signed, counted in 766 3c; refused
for a citizen, another agency and the desk, and for bad uploads — with nothing stored.
Real database, real PDFs (WeasyPrint, Pillow), real signatures (tests/signing/pki.py)."""

# ruff: noqa: F811  (fixtures imported from other test packages are parameters here)
from __future__ import annotations

import datetime as dt
import subprocess
import unicodedata
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature as _validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from cchc import config
from cchc.audit.models import AuditEntry
from cchc.dossiers import certified_copies, files, issued, services, signing_jobs
from cchc.dossiers.models import CertifiedCopy, Dossier, IssuedDocument, IssuedKind, SignState
from cchc.errors import InvalidInput, PermissionDenied
from cchc.indicators import aggregates, periods
from cchc.indicators import services as indicators
from cchc.signing.aio import off_the_loop
from tests.portal.conftest import (  # noqa: F401  # fixtures of the portal tests
    _private_dirs,
    clock,
    portal,
    submitted,
)
from tests.signing.conftest import (  # noqa: F401  # fixtures of the signing tests
    P12_PASSWORD,
    desk_p12,
    pki,
    signing_config,
)
from tests.signing.pki import Pki

pytestmark = pytest.mark.django_db

validate_pdf_signature = off_the_loop(_validate_pdf_signature)
JUNE = periods.parse("2024-06")
REPORT_AT = dt.datetime(2024, 7, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
SITE = "https://dichvucong.example.gov.vn"


# -- helpers ----------------------------------------------------------------------------------


def scanned_pdf(pages: int = 2, text: str = "GIAY KHAI SINH") -> bytes:
    """A scanner's output: page images (paper-coloured, with text) saved as an image PDF."""
    images = []
    for n in range(pages):
        image = Image.new("RGB", (1240, 1754), (250, 248, 240))
        draw = ImageDraw.Draw(image)
        draw.rectangle((80, 80, 1160, 1674), outline=(40, 40, 40), width=4)
        draw.text((140, 160 + 30 * n), f"{text} - BAN CHINH - TRANG {n + 1}", fill=(0, 0, 0))
        images.append(image)
    out = BytesIO()
    images[0].save(out, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return out.getvalue()


def scanned_png(text: str) -> bytes:
    image = Image.new("RGB", (900, 1270), (255, 255, 255))
    ImageDraw.Draw(image).text((60, 60), text, fill=(0, 0, 0))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return " ".join(unicodedata.normalize("NFC", out.stdout.decode("utf-8")).split())


def pages_of(data: bytes) -> int:
    return int(PdfFileReader(BytesIO(data)).root["/Pages"]["/Count"])


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def flagged(portal: Any) -> Any:
    procedure = portal.procedure
    procedure.output_certified_copy = True
    procedure.save(update_fields=["output_certified_copy"])
    return procedure


def received(portal: Any) -> Dossier:
    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    dossier.refresh_from_db()
    return dossier


def certify(portal: Any, dossier: Dossier, *, pages: int = 2, **kw: Any) -> CertifiedCopy:
    uploads = kw.pop("uploads", None) or [files.check("giay-khai-sinh.pdf", scanned_pdf(pages))]
    return certified_copies.certify(
        kw.pop("actor", portal.leader),
        dossier,
        title=kw.pop("title", "Giấy khai sinh"),
        pages=pages,
        copies=kw.pop("copies", 1),
        uploads=uploads,
        **kw,
    )


def returned(portal: Any, dossier: Dossier) -> Dossier:
    from cchc.payments.services import record_cash

    services.act(portal.leader, dossier, "assign", data={"assignee": portal.officer.pk})
    services.act(portal.officer, dossier, "propose")
    if dossier.fee_total:
        record_cash(portal.desk_officer, dossier, dossier.fee_total)
    services.act(portal.leader, dossier, "approve")
    services.act(portal.desk_officer, dossier, "return_result")
    dossier.refresh_from_db()
    return dossier


def sub_3c(now: dt.datetime = REPORT_AT) -> Any:
    index = indicators.index766(JUNE, now=now)
    return {s.code: s for g in index.groups for s in g.subs}["3c"]


@pytest.fixture
def agency_signing(settings: Any, pki: Pki, desk_p12: str) -> None:
    """The desk's key and the agency's key (the certifying authority, "Sở Thử Nghiệm")."""
    agency_p12 = str(pki.p12(pki.token, "agency", P12_PASSWORD))
    settings.CCHC_SIGNING = signing_config(
        pki,
        desk_p12,
        agency={
            "backend": "pkcs12",
            "path": agency_p12,
            "password": P12_PASSWORD,
            "reason": "Chứng thực bản sao điện tử từ bản chính",
            "location": "Sở Tư pháp",
        },
    )
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    settings.CCHC_SITE_URL = SITE


def stored_files(settings: Any) -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# -- the copy, its signature, its verification, the citizen's download -----------------------


def test_a_scanned_pdf_becomes_a_signed_certified_copy_the_verification_page_confirms(
    portal: Any, agency_signing: None, pki: Pki
) -> None:
    flagged(portal)
    dossier = received(portal)
    copy = certify(portal, dossier, pages=2, copies=3)
    dossier.refresh_from_db()
    doc = copy.document
    assert (copy.serial, copy.year, copy.book) == (1, 2024, "01/2024-SCT/BS")
    assert (copy.pages, copy.copies, copy.title) == (2, 3, "Giấy khai sinh")
    assert doc.kind == IssuedKind.CERTIFIED_COPY and doc.get_kind_display() == (
        "Bản sao điện tử có chứng thực"
    )
    assert dossier.certified_copy is True
    # Unsigned until the worker signs it, and the officers' page says it is waiting.
    assert doc.signed == SignState.UNSIGNED
    page = signed_in(portal.leader).get(reverse("dossiers:certified_copies", args=[dossier.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "1/2024" in html and "01/2024-SCT/BS" in html and "Chờ ký số" in html
    # The document: both scan pages stamped, then the statement with number, book, QR code.
    unsigned = issued.content(doc)
    assert pages_of(unsigned) == 3
    text = pdf_text(unsigned)
    assert "Chứng thực bản sao đúng với bản chính." in text
    assert "Số chứng thực: 1/2024. Quyển số: 01/2024-SCT/BS." in text
    assert "trang 1/2" in text and "trang 2/2" in text
    assert "cấp 3 bản" in text and "Giấy khai sinh" in text
    assert issued.token_words(doc.token) in text
    # The agency's key signs it on the worker (not the desk's).
    assert signing_jobs.profile_for(doc) == "agency"
    assert signing_jobs.sign_document(doc.pk) == signing_jobs.SIGNED
    doc.refresh_from_db()
    signed = issued.content(doc)
    assert doc.signed == SignState.SIGNED and signed.startswith(unsigned)
    (sig,) = PdfFileReader(BytesIO(signed)).embedded_regular_signatures
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[pki.root.asn1]))
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "Sở Thử Nghiệm"
    # One byte changed inside the signed range: pyHanko and the verification page refuse it.
    body = unsigned.index(b"stream") + 20
    tampered = signed[:body] + bytes([signed[body] ^ 1]) + signed[body + 1 :]
    (bad,) = PdfFileReader(BytesIO(tampered)).embedded_regular_signatures
    assert not validate_pdf_signature(bad, ValidationContext(trust_roots=[pki.root.asn1])).intact
    public = Client()
    url = reverse("portal:verify", args=[doc.token])
    shown = public.get(url)
    assert shown.status_code == 200
    facts = shown.content.decode()
    assert "Bản sao điện tử có chứng thực" in facts and dossier.code in facts
    assert dossier.applicant_name not in facts  # no personal data on the public page
    for data, outcome in ((signed, issued.IDENTICAL), (tampered, issued.DIFFERENT)):
        answer = public.post(url, {"tep": SimpleUploadedFile("ban-sao.pdf", data)})
        assert answer.status_code == 200 and answer.context["outcome"] == outcome
    # Audited: the copy, the "note" event that carries the fact to the cells.
    entry = AuditEntry.objects.get(action=certified_copies.AUDIT)
    assert entry.data["serial"] == 1 and entry.data["document"] == doc.pk
    assert entry.actor_id == portal.leader.pk
    note = dossier.events.filter(action="note").order_by("-seq").first()
    assert note is not None and note.data["certified_copy"]["serial"] == 1
    # The next copy of the agency that year takes the next number.
    second = certify(portal, dossier, pages=1, title="Bằng tốt nghiệp")
    assert second.serial == 2


def test_the_applicant_downloads_the_copy_once_it_is_signed(
    portal: Any, agency_signing: None
) -> None:
    flagged(portal)
    dossier = received(portal)
    copy = certify(portal, dossier)
    citizen = signed_in(portal.citizen)
    url = reverse("portal:dossier_certified_copy", args=[dossier.code, copy.pk])
    page = citizen.get(reverse("portal:dossier", args=[dossier.code])).content.decode()
    assert "Đang chờ cơ quan chứng thực ký số." in page and url not in page
    waiting = citizen.get(url, follow=True)
    assert "đang chờ cơ quan chứng thực ký số" in waiting.content.decode()
    assert signing_jobs.sign_document(copy.document.pk) == signing_jobs.SIGNED
    page = citizen.get(reverse("portal:dossier", args=[dossier.code])).content.decode()
    assert f'href="{url}"' in page
    got = citizen.get(url)
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    copy.document.refresh_from_db()
    assert got.content == issued.content(copy.document)
    assert AuditEntry.objects.filter(action=certified_copies.DOWNLOAD_AUDIT).count() == 1
    # Nobody else downloads it from the portal, not even an officer.
    with pytest.raises(PermissionDenied):
        certified_copies.for_applicant(portal.leader, dossier, copy.pk)


def test_scanned_images_become_pages_of_the_copy(portal: Any, agency_signing: None) -> None:
    flagged(portal)
    dossier = received(portal)
    uploads = [
        files.check("trang-1.png", scanned_png("TRANG 1")),
        files.check("trang-2.jpg", _jpeg()),
    ]
    copy = certify(portal, dossier, pages=2, uploads=uploads)
    data = issued.content(copy.document)
    assert pages_of(data) == 3
    assert "trang 2/2" in pdf_text(data)


def _jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (800, 1100), (240, 240, 240)).save(out, "JPEG")
    return out.getvalue()


# -- 766 sub 3c ---------------------------------------------------------------------------------


def test_3c_counts_returned_dossiers_with_a_copy_over_those_of_certifying_procedures(
    portal: Any, agency_signing: None
) -> None:
    # Before the procedure is marked, 3c has no certifying dossiers to count.
    plain = returned(portal, received(portal))
    assert plain.certified_copy is False
    before = sub_3c()
    assert (before.numerator, before.denominator) == (0, 0)
    flagged(portal)
    # Now: one returned without a copy, one returned with a copy issued while resolved.
    with_copy = received(portal)
    services.act(portal.leader, with_copy, "assign", data={"assignee": portal.officer.pk})
    services.act(portal.officer, with_copy, "propose")
    if with_copy.fee_total:
        from cchc.payments.services import record_cash

        record_cash(portal.desk_officer, with_copy, with_copy.fee_total)
    services.act(portal.leader, with_copy, "approve")
    with_copy.refresh_from_db()
    open_one = received(portal)
    certify(portal, open_one)  # not returned yet: not counted
    mid = sub_3c()
    # The procedure's flag is read with the cells: the plain dossier, returned before the
    # procedure was marked, counts in the denominator; the resolved one not yet.
    assert (mid.numerator, mid.denominator) == (0, 1)
    certify(portal, with_copy)  # resolved, then returned: the cell moves with the events
    services.act(portal.desk_officer, with_copy, "return_result")
    s = sub_3c()
    assert (s.numerator, s.denominator) == (1, 2)
    assert s.rate == Decimal("50.00")
    # Counted by hand from the stored facts.
    returned_flagged = Dossier.objects.filter(
        state="returned", procedure__output_certified_copy=True
    )
    assert returned_flagged.count() == 2
    assert returned_flagged.filter(certified_copy=True).count() == 1
    report = aggregates.verify()
    assert report.clean, report.differences


# -- who may, and bad input ---------------------------------------------------------------------


def test_only_the_approving_officers_of_the_agency_may_certify(
    portal: Any, agency_signing: None, make_user: Any, org: Any, settings: Any
) -> None:
    from cchc.accounts.roles import Role

    flagged(portal)
    dossier = received(portal)
    before = stored_files(settings)
    other = make_user(Role.AGENCY_LEADER, agency=org.construction)
    for actor in (portal.citizen, other, portal.desk_officer, portal.officer):
        with pytest.raises(PermissionDenied):
            certify(portal, dossier, actor=actor)
    assert not CertifiedCopy.objects.exists()
    assert not IssuedDocument.objects.filter(kind=IssuedKind.CERTIFIED_COPY).exists()
    assert stored_files(settings) == before
    refused = AuditEntry.objects.filter(action="dossier.refused")
    assert refused.count() == 4
    dossier.refresh_from_db()
    assert dossier.certified_copy is False
    # The web: the citizen has no workspace; the other agency does not see the dossier.
    url = reverse("dossiers:certified_copies", args=[dossier.code])
    assert signed_in(portal.citizen).get(url).status_code == 403
    assert signed_in(other).post(url, {"title": "X", "pages": "1"}).status_code == 404
    # The processing officer sees the page but not the form.
    page = signed_in(portal.officer).get(url).content.decode()
    assert "Chứng thực và cấp bản sao điện tử" not in page


@pytest.mark.parametrize(
    ("name", "content", "pages", "message"),
    [
        ("ghi-chu.txt", b"khong phai ban quet", "1", "có định dạng không được chấp nhận"),
        ("rong.pdf", b"", "1", "rỗng"),
        ("bang.docx", b"PK\x03\x04 not a scan", "1", "không phải bản quét"),
        ("hong.pdf", b"%PDF-1.4\nthis is not a pdf\n%%EOF", "1", "Không đọc được tệp PDF"),
        ("anh.png", b"GIF89a", "1", "không đúng định dạng .png"),
        ("giay-khai-sinh.pdf", None, "3", "Số trang khai báo (3) khác số trang của bản quét (2)"),
        ("giay-khai-sinh.pdf", None, "0", "Số trang phải là số nguyên từ 1 đến 300"),
        ("", None, "2", "Chọn tệp bản quét bản chính"),
    ],
)
def test_bad_uploads_are_refused_in_vietnamese_and_nothing_is_stored(
    portal: Any,
    agency_signing: None,
    settings: Any,
    name: str,
    content: bytes | None,
    pages: str,
    message: str,
) -> None:
    flagged(portal)
    dossier = received(portal)
    before = stored_files(settings)
    form: dict[str, Any] = {"title": "Giấy khai sinh", "pages": pages, "copies": "1"}
    if name:
        data = scanned_pdf(2) if content is None else content
        form["scans"] = SimpleUploadedFile(name, data)
    url = reverse("dossiers:certified_copies", args=[dossier.code])
    response = signed_in(portal.leader).post(url, form)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'value="Giấy khai sinh"' in body  # what the officer typed is kept
    assert not CertifiedCopy.objects.exists()
    assert not IssuedDocument.objects.filter(kind=IssuedKind.CERTIFIED_COPY).exists()
    assert stored_files(settings) == before
    dossier.refresh_from_db()
    assert dossier.certified_copy is False


def test_a_procedure_not_marked_or_a_returned_dossier_is_refused(
    portal: Any, agency_signing: None
) -> None:
    dossier = received(portal)
    with pytest.raises(InvalidInput, match="không cấp bản sao điện tử có chứng thực"):
        certify(portal, dossier)
    flagged(portal)
    done = returned(portal, dossier)
    with pytest.raises(InvalidInput, match="chưa trả kết quả"):
        certify(portal, done)
    assert not CertifiedCopy.objects.exists()


def test_the_web_form_issues_a_copy(portal: Any, agency_signing: None) -> None:
    flagged(portal)
    dossier = received(portal)
    detail = signed_in(portal.leader).get(reverse("dossiers:detail", args=[dossier.code]))
    link = reverse("dossiers:certified_copies", args=[dossier.code])
    assert f'href="{link}"' in detail.content.decode()
    response = signed_in(portal.leader).post(
        link,
        {
            "title": "Giấy khai sinh",
            "pages": "2",
            "copies": "2",
            "scans": SimpleUploadedFile("ban-chinh.pdf", scanned_pdf(2)),
        },
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Đã cấp bản sao điện tử có chứng thực số 1/2024" in body
    copy = CertifiedCopy.objects.get()
    download = signed_in(portal.leader).get(
        reverse("dossiers:certified_copy_file", args=[dossier.code, copy.pk])
    )
    assert download.status_code == 200 and download.content == issued.content(copy.document)


def test_the_register_book_setting_is_checked() -> None:
    assert certified_copies.book_label(2026) == "01/2026-SCT/BS"
    built = config.build({"DEBUG": "true", "CCHC_CERTIFIED_COPY_BOOK": "02/{yy}-SCT/BS"})
    assert built["CCHC_CERTIFIED_COPY_BOOK"] == "02/{yy}-SCT/BS"
    with pytest.raises(ImproperlyConfigured, match="CCHC_CERTIFIED_COPY_BOOK"):
        config.build({"DEBUG": "true", "CCHC_CERTIFIED_COPY_BOOK": "{nam}-SCT"})
