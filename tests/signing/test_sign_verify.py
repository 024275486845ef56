"""PKCS#12 signing through pyHanko, verified with pyHanko's own validator and with ours."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature as _validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from cchc.signing import SigningError, SigningUnavailable, UnreadablePdf, sign_pdf, verify_pdf
from cchc.signing.aio import off_the_loop
from tests.signing.pki import Pki

# pyHanko's synchronous validator refuses a thread with a running event loop (a browser
# test earlier in the same process leaves one): the same wrapper as the signing code.
validate_pdf_signature = off_the_loop(_validate_pdf_signature)


def pyhanko_status(signed: bytes, pki: Pki) -> Any:
    reader = PdfFileReader(BytesIO(signed))
    (sig,) = reader.embedded_regular_signatures
    vc = ValidationContext(trust_roots=[pki.root.asn1], allow_fetching=False)
    return validate_pdf_signature(sig, vc)


def test_sign_then_pyhanko_validates(configured: dict[str, Any], pdf: bytes, pki: Pki) -> None:
    signed = sign_pdf(pdf, profile="desk")
    assert signed.startswith(pdf)  # an incremental update: the original bytes are kept
    status = pyhanko_status(signed, pki)
    assert status.intact and status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.signing_cert.subject.native["common_name"] == "Bộ phận Một cửa Thử Nghiệm"


def test_long_term_validation_data_and_document_timestamp(
    configured: dict[str, Any], pdf: bytes, pki: Pki
) -> None:
    signed = sign_pdf(pdf, profile="desk")
    reader = PdfFileReader(BytesIO(signed))
    dss = DocumentSecurityStore.read_dss(reader)
    subjects = {c.subject.native["common_name"] for c in dss.load_certs()}
    assert {"Bộ phận Một cửa Thử Nghiệm", "CA Cấp Dưới Thử Nghiệm", "TSA Thử Nghiệm"} <= subjects
    assert len(dss.crls) >= 2  # the intermediate's CRL (signer) and the root's (TSA, CA)
    assert any("/inter.crl" in r for r in pki.server.requests)
    # PAdES B-LTA: a document timestamp after the DSS.
    assert len(reader.embedded_timestamp_signatures) == 1
    report = verify_pdf(signed, roots=[pki.root.asn1])
    assert report.document_timestamps == 1 and report.has_validation_data


def test_our_report_of_a_valid_signature(configured: dict[str, Any], pdf: bytes) -> None:
    report = verify_pdf(sign_pdf(pdf, profile="desk", purpose="phieu-tiep-nhan"))
    assert report.verdict == "valid" and report.verdict_text == "hợp lệ" and report.ok
    (sig,) = report.signatures
    assert sig.field == "ChuKySo_phieu-tiep-nhan"
    assert sig.signer_name == "Bộ phận Một cửa Thử Nghiệm"
    assert sig.signer_org == "Tỉnh Thử Nghiệm"
    assert sig.issuer == "CA Cấp Dưới Thử Nghiệm"
    assert sig.time_source == "timestamp" and sig.timestamp_valid is True
    assert sig.intact and sig.covers_whole_document and sig.valid_at_signing_time and sig.trusted
    assert sig.problems == []
    assert report.as_dict()["signatures"][0]["signer"]["serial"] == sig.serial


def test_one_byte_change_breaks_the_signature(
    configured: dict[str, Any], pdf: bytes, pki: Pki
) -> None:
    signed = sign_pdf(pdf, profile="desk")
    at = signed.index(b"Phieu tiep nhan")
    tampered = signed[:at] + b"X" + signed[at + 1 :]
    assert len(tampered) == len(signed)
    assert not pyhanko_status(tampered, pki).intact
    report = verify_pdf(tampered)
    assert report.verdict == "invalid" and report.verdict_text == "không hợp lệ"
    assert not report.signatures[0].intact
    assert "thay đổi sau khi ký" in report.signatures[0].problems[0]


def test_a_page_appended_after_signing_is_not_covered(
    configured: dict[str, Any], pdf: bytes
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = sign_pdf(pdf, profile="desk")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/MediaBox"] = generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 300, 300)])
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue())
    assert report.verdict == "invalid"
    assert not report.signatures[0].covers_whole_document


def test_two_signatures_get_two_fields(configured: dict[str, Any], pdf: bytes) -> None:
    twice = sign_pdf(sign_pdf(pdf, profile="desk"), profile="desk")
    report = verify_pdf(twice)
    assert [s.field for s in report.signatures] == ["ChuKySo_desk", "ChuKySo_desk_2"]
    assert report.verdict == "valid"
    first, second = report.signatures
    assert first.later_changes_allowed and not first.covers_whole_document
    assert second.covers_whole_document


def test_untrusted_root(configured: dict[str, Any], pdf: bytes, pki: Pki) -> None:
    signed = sign_pdf(pdf, profile="desk")
    report = verify_pdf(signed, roots=[pki.other_root.asn1])
    assert report.verdict == "untrusted" and report.verdict_text == "không tin cậy"
    assert report.signatures[0].intact and not report.signatures[0].trusted
    # No roots configured at all: nothing is trusted either.
    assert verify_pdf(signed, roots=[]).verdict == "untrusted"


def test_signer_from_another_pki_cannot_sign_with_ltv(
    settings: Any, pki: Pki, pdf: bytes, tmp_path: Any
) -> None:
    """With LTV on, the signer's chain must be validated against the trust list first."""
    path = pki.p12(pki.stranger, "stranger", "x")
    settings.CCHC_SIGNING = {
        "tsa_url": f"{pki.server.base}/tsa",
        "profiles": {"desk": {"backend": "pkcs12", "path": str(path), "password": "x"}},
    }
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    with pytest.raises(SigningError) as caught:
        sign_pdf(pdf, profile="desk")
    assert caught.value.code == "untrusted_signer"
    # Without LTV (B-T) it signs, and verification says "không tin cậy".
    settings.CCHC_SIGNING = {**settings.CCHC_SIGNING, "ltv": False}
    signed = sign_pdf(pdf, profile="desk")
    assert verify_pdf(signed).verdict == "untrusted"
    # Its signer chains to other_root, its timestamp to our root: trusted when both are.
    assert verify_pdf(signed, roots=[pki.other_root.asn1]).verdict == "untrusted"
    assert verify_pdf(signed, roots=[pki.other_root.asn1, pki.root.asn1]).verdict == "valid"


def test_revoked_signer_cannot_sign(settings: Any, pki: Pki, pdf: bytes) -> None:
    path = pki.p12(pki.revoked, "revoked", "x")
    settings.CCHC_SIGNING = {
        "tsa_url": f"{pki.server.base}/tsa",
        "profiles": {"desk": {"backend": "pkcs12", "path": str(path), "password": "x"}},
    }
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    with pytest.raises(SigningError) as caught:
        sign_pdf(pdf, profile="desk")
    assert caught.value.code == "revoked_signer" and "thu hồi" in caught.value.message


def test_signer_revoked_before_signing_is_invalid(settings: Any, pki: Pki, pdf: bytes) -> None:
    """Signed without LTV (B-T), then the intermediate's CRL listing the signer (revoked two
    hours before the timestamp) is added to the DSS: the signature is "không hợp lệ"."""
    from asn1crypto import crl as asn1_crl
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    path = pki.p12(pki.revoked, "revoked-bt", "x")
    settings.CCHC_SIGNING = {
        "tsa_url": f"{pki.server.base}/tsa",
        "ltv": False,
        "profiles": {"desk": {"backend": "pkcs12", "path": str(path), "password": "x"}},
    }
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    signed = sign_pdf(pdf, profile="desk")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    DocumentSecurityStore.supply_dss_in_writer(
        writer,
        None,
        certs=[pki.intermediate.asn1, pki.revoked.asn1],
        crls=[
            asn1_crl.CertificateList.load(pki.server.files[name][1])
            for name in ("/inter.crl", "/root.crl")
        ],
    )
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue())
    (sig,) = report.signatures
    assert report.verdict == "invalid", sig
    assert sig.revoked and not sig.valid_at_signing_time
    assert any("thu hồi" in p for p in sig.problems)


def test_unsigned_pdf(configured: dict[str, Any], pdf: bytes) -> None:
    report = verify_pdf(pdf)
    assert report.verdict == "unsigned" and report.verdict_text == "không có chữ ký"
    assert report.signatures == [] and not report.ok


@pytest.mark.parametrize(
    "garbage",
    [b"", b"hello world", b"%PDF-1.7\n garbage \x00\xff", b"\x00" * 4096, b"%PDF-1.4\n" * 5],
)
def test_garbage_is_a_precise_error(configured: dict[str, Any], garbage: bytes) -> None:
    with pytest.raises(UnreadablePdf) as caught:
        verify_pdf(garbage)
    assert caught.value.exit_code == 2 and caught.value.message


def test_truncated_signed_pdf_is_unreadable_or_invalid(
    configured: dict[str, Any], pdf: bytes
) -> None:
    signed = sign_pdf(pdf, profile="desk")
    try:
        report = verify_pdf(signed[: len(signed) // 2])
    except UnreadablePdf:
        return
    assert report.verdict != "valid"


def test_tsa_down_is_transient(settings: Any, configured: dict[str, Any], pdf: bytes) -> None:
    settings.CCHC_SIGNING = {**configured, "tsa_url": "http://127.0.0.1:9/tsa", "tsa_timeout": 2}
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(pdf, profile="desk")
    assert caught.value.code == "tsa_down"


def test_crl_server_down_is_transient(
    settings: Any, configured: dict[str, Any], pdf: bytes, pki: Pki
) -> None:
    saved = pki.server.files.pop("/inter.crl")
    try:
        with pytest.raises(SigningUnavailable) as caught:
            sign_pdf(pdf, profile="desk")
        assert caught.value.code == "revinfo_down"
    finally:
        pki.server.files["/inter.crl"] = saved


def test_without_tsa_the_signature_has_no_timestamp(
    settings: Any, configured: dict[str, Any], pdf: bytes
) -> None:
    settings.CCHC_SIGNING = {**configured, "tsa_url": ""}
    report = verify_pdf(sign_pdf(pdf, profile="desk"))
    (sig,) = report.signatures
    assert sig.timestamp_valid is None and sig.time_source == "claimed"
    assert report.verdict == "valid" and report.document_timestamps == 0


def test_permanent_failures(settings: Any, configured: dict[str, Any], pdf: bytes) -> None:
    with pytest.raises(SigningError) as caught:
        sign_pdf(pdf, profile="agency:000.00.01.H00")
    assert caught.value.code == "unknown_profile" and "desk" in caught.value.message
    desk = configured["profiles"]["desk"]
    settings.CCHC_SIGNING = {**configured, "profiles": {"desk": {**desk, "password": "sai"}}}
    with pytest.raises(SigningError, match="sai mật khẩu"):
        sign_pdf(pdf, profile="desk")
    with pytest.raises(UnreadablePdf):
        settings.CCHC_SIGNING = configured
        sign_pdf(b"not a pdf", profile="desk")


def test_password_from_the_environment(
    settings: Any, configured: dict[str, Any], pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = {k: v for k, v in configured["profiles"]["desk"].items() if k != "password"}
    settings.CCHC_SIGNING = {**configured, "profiles": {"desk": {**desk, "password_env": "P"}}}
    with pytest.raises(SigningError, match="biến môi trường P"):
        sign_pdf(pdf, profile="desk")
    monkeypatch.setenv("P", "mat-khau-thu")
    assert verify_pdf(sign_pdf(pdf, profile="desk")).ok


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"profiles": {"desk": {"backend": "usb"}}}, "backend"),
        ({"profiles": {"desk": {"backend": "pkcs12"}}}, "thiếu path"),
        ({"profiles": {"Bad Name": {"backend": "pkcs12", "path": "x"}}}, "tên hồ sơ"),
        ({"tsa_url": "ftp://x"}, "tsa_url"),
        ({"tsa_timeout": 0}, "tsa_timeout"),
        ({"lta": "yes"}, "lta"),
        ({"profile": {}}, "khóa không biết"),
    ],
)
def test_config_mistakes_are_named(raw: dict[str, Any], message: str) -> None:
    from cchc.signing.profiles import parse_config

    with pytest.raises(SigningError, match=message):
        parse_config(raw)


def test_damaged_copies_never_raise_anything_else(configured: dict[str, Any], pdf: bytes) -> None:
    """Random damage to a signed PDF: a report or UnreadablePdf, never another exception, and
    never "hợp lệ" when a byte the signature covers was changed."""
    import random

    signed = sign_pdf(pdf, profile="desk")
    reader = PdfFileReader(BytesIO(signed))
    start, length, after, rest = reader.embedded_regular_signatures[0].byte_range
    rng = random.Random(21)
    for _ in range(30):
        at = rng.randrange(len(signed))
        damaged = bytearray(signed)
        damaged[at] = (damaged[at] + rng.randrange(1, 256)) % 256
        try:
            report = verify_pdf(bytes(damaged))
        except UnreadablePdf:
            continue
        covered = start <= at < start + length or after <= at < after + rest
        if covered and report.signatures:
            assert report.signatures[0].verdict != "valid", at
