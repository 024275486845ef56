"""The public verification page of issued documents (issue 21): reached from the QR code
decoded from the issued PDF, it shows only what is safe, confirms the original and rejects a
one-byte-changed copy, answers 404 for an unknown code and 429 over the rate limit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cchc.dossiers import issued
from cchc.dossiers.documents import print_form
from cchc.dossiers.models import IssuedDocument
from tests.dossiers.conftest import World, build_world

pytestmark = pytest.mark.django_db

# The default applicant of tests.dossiers.factories, and what a masked copy would show.
PERSONAL = (
    "Nguyễn Thị Hoà",
    "024190001234",
    "Số 5 đường Hoàng Văn Thụ",
    "0912345678",
    "hoa@example.vn",
    "N*** T*** H***",
)


@pytest.fixture
def world(org, now) -> World:
    return build_world(now, org)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CCHC_SITE_URL = "https://dichvucong.example.gov.vn"
    settings.CCHC_RATE_LIMITS = {**settings.CCHC_RATE_LIMITS, "verify": (50, 15)}


@pytest.fixture
def issued_receipt(world):
    d = world.intake()
    _, content = print_form(world.desk_officer, d, "receipt")
    return d, IssuedDocument.objects.get(dossier=d), content


def qr_url(data: bytes, tmp_path: Path) -> str:
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils and zbar-tools are needed to read the QR code")
    (tmp_path / "doc.pdf").write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "200",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            str(tmp_path / "doc.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    (page,) = tmp_path.glob("page*.png")
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, check=True
    )
    (url,) = out.stdout.split()
    return url


def upload(client, url: str, content: bytes, name: str = "giay-tiep-nhan.pdf"):
    return client.post(url, {"tep": SimpleUploadedFile(name, content, "application/pdf")})


def test_the_qr_code_leads_to_a_page_that_confirms_the_original(client, issued_receipt, tmp_path):
    d, doc, content = issued_receipt
    url = qr_url(content, tmp_path)
    assert url == f"https://dichvucong.example.gov.vn/dich-vu-cong/xac-thuc/{doc.token}/"
    path = urlsplit(url).path
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert d.code in html
    assert d.procedure.name in html and d.procedure.code in html
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in html
    assert doc.agency_name and doc.agency_name in html
    assert "Đã tiếp nhận" in html  # the dossier's state now
    assert "Chưa ký số" in html
    for value in PERSONAL:
        assert value not in html

    same = upload(client, path, content)
    assert same.status_code == 200
    assert "Khớp:" in same.content.decode() and "Không khớp" not in same.content.decode()

    changed = bytearray(content)
    changed[len(changed) // 2] ^= 0x01
    other = upload(client, path, bytes(changed))
    assert other.status_code == 200
    text = other.content.decode()
    assert "Không khớp" in text and "Khớp:" not in text
    for value in PERSONAL:
        assert value not in text


def test_the_page_follows_the_dossier_and_the_signature(client, world, issued_receipt):
    from cchc.dossiers import services

    d, doc, content = issued_receipt
    url = reverse("portal:verify", args=[doc.token])
    services.act(world.leader, d, "assign", data={"assignee": world.officer.pk})
    doc = issued.request_signature(doc)
    signed = content + b"%signed\n"
    issued.replace_with_signed(doc, signed)
    html = client.get(url).content.decode()
    assert "Đang xử lý" in html and "Đã ký số" in html
    assert "Khớp:" in upload(client, url, signed).content.decode()
    assert "Khớp bản trước khi ký số" in upload(client, url, content).content.decode()


def test_uploads_that_are_not_pdf_are_refused(client, issued_receipt):
    _, doc, _ = issued_receipt
    url = reverse("portal:verify", args=[doc.token])
    refused = upload(client, url, b"hello", name="a.txt")
    assert refused.status_code == 400
    assert "không được chấp nhận" in refused.content.decode()
    assert client.post(url, {}).status_code == 400


def test_unknown_code_is_a_vietnamese_404(client, issued_receipt):
    page = client.get(reverse("portal:verify", args=["A" * 32]))
    assert page.status_code == 404
    assert "Không tìm thấy văn bản" in page.content.decode()
    assert client.get(reverse("portal:verify", args=["ngan"])).status_code == 404


def test_typing_the_printed_code(client, issued_receipt):
    _, doc, _ = issued_receipt
    lookup = reverse("portal:verify_lookup")
    assert client.get(lookup).status_code == 200
    typed = issued.token_words(doc.token).lower()
    found = client.get(lookup, {"ma": f" {typed} "})
    assert found.status_code == 302
    assert found["Location"] == reverse("portal:verify", args=[doc.token])
    missing = client.get(lookup, {"ma": "ABCD-EFGH"})
    assert missing.status_code == 404
    assert "Không tìm thấy văn bản" in missing.content.decode()
    # A variant of the code in the address is sent to the canonical one.
    variant = client.get(reverse("portal:verify", args=[doc.token.lower()]))
    assert variant.status_code == 302


def test_rate_limited_with_a_vietnamese_429(client, settings, issued_receipt):
    _, doc, content = issued_receipt
    settings.CCHC_RATE_LIMITS = {**settings.CCHC_RATE_LIMITS, "verify": (3, 15)}
    url = reverse("portal:verify", args=[doc.token])
    assert client.get(url).status_code == 200
    assert upload(client, url, content).status_code == 200
    assert client.get(reverse("portal:verify", args=["B" * 32])).status_code == 404
    limited = client.get(url)
    assert limited.status_code == 429
    assert "Vui lòng thử lại" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0
    assert upload(client, url, content).status_code == 429
    assert client.get(reverse("portal:verify_lookup"), {"ma": doc.token}).status_code == 429


def test_query_count_is_bounded(client, issued_receipt, django_assert_max_num_queries):
    _, doc, content = issued_receipt
    url = reverse("portal:verify", args=[doc.token])
    client.get(url)  # the first request of a window may purge the limiter's old rows
    # The limiter's upsert and sum (plus PostgreSQL's lock-order advisory lock), the portal's
    # branding, and one query for the document, its dossier and procedure.
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(5):
        assert upload(client, url, content).status_code == 200


def test_the_e_result_is_issued_once_with_its_qr(portal, clock, tmp_path):
    from django.test import Client

    from tests.portal.test_citizen_results import returned

    dossier = returned(portal)
    client = Client()
    client.force_login(portal.citizen)
    url = f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/"
    first = client.get(url).content
    clock.advance(minutes=5)
    assert client.get(url).content == first
    doc = IssuedDocument.objects.get(dossier=dossier, kind="result")
    assert doc.source == "result:1" and doc.number == dossier.results.get().code
    assert urlsplit(qr_url(first, tmp_path)).path == reverse("portal:verify", args=[doc.token])
    page = Client().get(reverse("portal:verify", args=[doc.token])).content.decode()
    assert "Kết quả giải quyết thủ tục hành chính" in page and "Đã trả kết quả" in page
    for value in (dossier.applicant_name, dossier.applicant_phone, dossier.applicant_email):
        assert value and value not in page


def test_the_emailed_copy_is_the_issued_document(world, issued_receipt):
    from types import SimpleNamespace

    from cchc.portal.attachments import dossier_form

    d, doc, content = issued_receipt
    name, attached, kind = dossier_form(SimpleNamespace(dossier_id=d.pk), "receipt")
    assert (name, attached, kind) == (doc.filename, content, "application/pdf")
    _, control, _ = dossier_form(SimpleNamespace(dossier_id=d.pk), "control")
    assert control.startswith(b"%PDF-")
    assert IssuedDocument.objects.filter(dossier=d).count() == 1
