"""`verify_pdf`: who signed, whether the document changed since, whether the certificate was
valid when it signed, and whether it chains to a trusted root — per signature, with an
overall verdict in Vietnamese. Nothing is fetched from the network: the revocation data
are those embedded in the document (its DSS, written by `sign_pdf`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from asn1crypto import cms, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from cchc.signing.aio import off_the_loop
from cchc.signing.certs import configured_roots, subject_field
from cchc.signing.errors import UnreadablePdf

VALID, INVALID, UNTRUSTED, UNSIGNED = "valid", "invalid", "untrusted", "unsigned"
VERDICTS = {
    VALID: "hợp lệ",
    INVALID: "không hợp lệ",
    UNTRUSTED: "không tin cậy",
    UNSIGNED: "không có chữ ký",
}
# Changes after signing that leave the signed content as it was: none, or only the validation
# data and document timestamps that PAdES-LTA adds.
_UNCHANGED = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
# ... and those a later signer may add without touching it: more signatures (form filling).
_ALLOWED = (*_UNCHANGED, ModificationLevel.FORM_FILLING)


@dataclass
class SignatureReport:
    field: str
    signer_name: str = ""  # subject CN
    signer_org: str = ""  # subject O
    serial: str = ""  # certificate serial number, hexadecimal
    issuer: str = ""  # issuer CN
    signing_time: datetime | None = None
    time_source: str = ""  # "timestamp" (RFC 3161, trusted time) or "claimed" (signer's clock)
    timestamp_valid: bool | None = None  # None: no timestamp
    intact: bool = False  # the signed bytes hash to the signed value, the signature verifies
    covers_whole_document: bool = False  # nothing but validation data added after signing
    later_changes_allowed: bool = False  # only validation data or further signatures added
    modification: str = ""  # pyHanko's modification level after signing
    valid_at_signing_time: bool = False  # certificate in its validity period, not revoked
    trusted: bool = False  # chains to a configured root
    revoked: bool = False
    problems: list[str] = dataclasses.field(default_factory=list)
    verdict: str = INVALID

    @property
    def verdict_text(self) -> str:
        return VERDICTS[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "signer": {
                "name": self.signer_name,
                "organization": self.signer_org,
                "serial": self.serial,
                "issuer": self.issuer,
            },
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "time_source": self.time_source or None,
            "timestamp_valid": self.timestamp_valid,
            "intact": self.intact,
            "covers_whole_document": self.covers_whole_document,
            "later_changes_allowed": self.later_changes_allowed,
            "modification": self.modification,
            "valid_at_signing_time": self.valid_at_signing_time,
            "trusted": self.trusted,
            "revoked": self.revoked,
            "problems": self.problems,
            "verdict": self.verdict,
            "verdict_text": self.verdict_text,
        }


@dataclass
class Report:
    signatures: list[SignatureReport] = dataclasses.field(default_factory=list)
    document_timestamps: int = 0
    has_validation_data: bool = False  # a DSS (certificates, CRLs/OCSP) is embedded

    @property
    def verdict(self) -> str:
        verdicts = {s.verdict for s in self.signatures}
        if not verdicts:
            return UNSIGNED
        if INVALID in verdicts:
            return INVALID
        if UNTRUSTED in verdicts:
            return UNTRUSTED
        return VALID

    @property
    def verdict_text(self) -> str:
        return VERDICTS[self.verdict]

    @property
    def ok(self) -> bool:
        return self.verdict == VALID

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "verdict_text": self.verdict_text,
            "document_timestamps": self.document_timestamps,
            "has_validation_data": self.has_validation_data,
            "signatures": [s.as_dict() for s in self.signatures],
        }


@off_the_loop
def verify_pdf(pdf: bytes, *, roots: list[x509.Certificate] | None = None) -> Report:
    """Verify every signature of `pdf` against `roots` (default: CCHC_SIGNING_TRUST_ROOTS).

    Raises UnreadablePdf when the bytes are not a readable PDF; a broken signature inside a
    readable PDF is reported as "không hợp lệ", never raised."""
    trust = list(roots) if roots is not None else configured_roots()
    if not pdf.lstrip()[:5].startswith(b"%PDF-") and b"%PDF-" not in pdf[:1024]:
        raise UnreadablePdf("Tệp không phải là tệp PDF (thiếu phần đầu %PDF-).")
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        found = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:  # pyHanko's parser raises many kinds on damaged files
        raise UnreadablePdf(f"Không đọc được tệp PDF: {exc or type(exc).__name__}") from None
    try:
        dss: DocumentSecurityStore | None = DocumentSecurityStore.read_dss(reader)
    except Exception:  # NoDSSFoundError, or a damaged DSS: verify without it
        dss = None
    report = Report(has_validation_data=dss is not None)
    for name, value, field_ref in found:
        try:
            sig_type = value.get_object().get("/Type") if value is not None else None
            if sig_type == "/DocTimeStamp":
                report.document_timestamps += 1
                continue
            report.signatures.append(_verify_one(reader, name, field_ref, dss, trust))
        except Exception as exc:  # a damaged signature dictionary: report, never raise
            broken = SignatureReport(field=str(name))
            broken.problems.append(f"Chữ ký hỏng, không đọc được: {exc or type(exc).__name__}")
            report.signatures.append(broken)
    return report


def _timestamp_time(sig: EmbeddedPdfSignature) -> datetime | None:
    """The time in the signature's RFC 3161 token (unverified here; validation checks it)."""
    attrs = sig.signer_info["unsigned_attrs"]
    if not attrs:
        return None
    for attr in attrs:
        if attr["type"].native != "signature_time_stamp_token":
            continue
        token: cms.ContentInfo = attr["values"][0]
        tst = token["content"]["encap_content_info"]["content"].parsed
        gen_time: datetime = tst["gen_time"].native
        return gen_time
    return None


def _context(
    trust: list[x509.Certificate], dss: DocumentSecurityStore | None, moment: datetime | None
) -> ValidationContext:
    kwargs: dict[str, Any] = {
        "trust_roots": trust,
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
        # CRLs embedded just after signing are newer than the signing time itself.
        "retroactive_revinfo": True,
    }
    if moment is not None:
        kwargs["moment"] = moment
    if dss is not None:
        return dss.as_validation_context(kwargs)
    return ValidationContext(**kwargs)


def _verify_one(
    reader: PdfFileReader,
    name: str,
    field_ref: Any,
    dss: DocumentSecurityStore | None,
    trust: list[x509.Certificate],
) -> SignatureReport:
    out = SignatureReport(field=name)
    try:
        sig = EmbeddedPdfSignature(reader, field_ref, name)
        cert = sig.signer_cert
    except Exception as exc:
        out.problems.append(f"Chữ ký hỏng, không đọc được: {exc or type(exc).__name__}")
        return out
    out.signer_name = subject_field(cert, "common_name")
    out.signer_org = subject_field(cert, "organization_name")
    out.serial = format(cert.serial_number, "X")
    out.issuer = str(cert.issuer.native.get("common_name", ""))
    try:
        ts_time = _timestamp_time(sig)
    except Exception:
        ts_time = None
    try:
        status = validate_pdf_signature(
            sig,
            signer_validation_context=_context(trust, dss, ts_time),
            ts_validation_context=_context(trust, dss, None),
        )
    except Exception as exc:
        out.problems.append(f"Không kiểm tra được chữ ký: {exc or type(exc).__name__}")
        return out

    out.intact = bool(status.intact and status.valid)
    if not out.intact:
        out.problems.append("Nội dung đã bị thay đổi sau khi ký (giá trị băm hoặc chữ ký sai).")
    level = status.modification_level
    out.modification = level.name if level is not None else ""
    out.covers_whole_document = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        level in _UNCHANGED
    )
    out.later_changes_allowed = level in _ALLOWED and status.docmdp_ok is not False
    if not out.later_changes_allowed:
        out.problems.append("Tài liệu có phần được thêm hoặc sửa sau khi ký.")

    ts = status.timestamp_validity
    if ts is not None:
        out.timestamp_valid = bool(ts.intact and ts.valid)
        if out.timestamp_valid:
            out.signing_time, out.time_source = ts.timestamp, "timestamp"
        else:
            out.problems.append("Dấu thời gian của chữ ký không hợp lệ.")
        if not ts.trusted and out.timestamp_valid:
            out.problems.append("Dấu thời gian do đơn vị không có trong danh sách tin cậy cấp.")
    if out.signing_time is None and status.signer_reported_dt is not None:
        out.signing_time, out.time_source = status.signer_reported_dt, "claimed"

    when = out.signing_time or datetime.now(UTC)
    validity = cert["tbs_certificate"]["validity"]
    in_period = validity["not_before"].native <= when <= validity["not_after"].native
    details = status.revocation_details
    out.revoked = details is not None and details.revocation_date <= when
    out.valid_at_signing_time = in_period and not out.revoked
    if not in_period:
        out.problems.append("Chứng thư số không còn hoặc chưa có hiệu lực tại thời điểm ký.")
    if out.revoked:
        out.problems.append("Chứng thư số đã bị thu hồi trước thời điểm ký.")

    out.trusted = status.validation_path is not None and status.trust_problem_indic is None
    ts_trusted = ts is None or ts.trusted
    if not out.trusted and not out.revoked:
        out.problems.append("Chứng thư số không dẫn về một chứng thư gốc trong danh sách tin cậy.")

    whole = out.intact and out.later_changes_allowed and out.valid_at_signing_time
    if not whole or (ts is not None and not out.timestamp_valid):
        out.verdict = INVALID
    elif not (out.trusted and ts_trusted):
        out.verdict = UNTRUSTED
    else:
        out.verdict = VALID
    return out
