"""`sign_pdf`: a PAdES baseline signature with a timestamp and long-term validation data.

The levels (ETSI EN 319 142-1): B-B (the CMS signature with the signer's certificate),
B-T (an RFC 3161 signature timestamp from `tsa_url`), B-LT (certificates and the CRLs/OCSP
responses of the signer's and the TSA's chains in the document security store, fetched now
from the addresses in the certificates), B-LTA (a document timestamp over all of that).
Without a `tsa_url` the signature stays B-B (and `lta` cannot apply); with `ltv` off it stays
B-T. A CA that publishes no CRL or OCSP address gives no revocation data to embed: the DSS
then holds the certificates only (see docs/signing.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from io import BytesIO

from asn1crypto import x509
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from cchc.signing import appearance
from cchc.signing.aio import off_the_loop
from cchc.signing.backends import open_signer
from cchc.signing.certs import configured_roots, load_certificate_files
from cchc.signing.errors import SigningError, SigningUnavailable, UnreadablePdf
from cchc.signing.profiles import SigningConfig, parse_config
from cchc.signing.tsa import HttpTimeStamper


def current_config() -> SigningConfig:
    return parse_config(getattr(settings, "CCHC_SIGNING", None) or {})


def field_name(purpose: str) -> str:
    """A signature field named by purpose, safe in a PDF field name (no dots)."""
    return "ChuKySo_" + (re.sub(r"[^A-Za-z0-9_-]+", "_", purpose).strip("_") or "cchc")


def _free_field_name(reader: PdfFileReader, base: str) -> str:
    taken = {name for name, _value, _ref in fields.enumerate_sig_fields(reader)}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


@off_the_loop
def sign_pdf(
    pdf: bytes,
    *,
    profile: str,
    purpose: str = "",
    config: SigningConfig | None = None,
    roots: list[x509.Certificate] | None = None,
) -> bytes:
    """Sign `pdf` with the key of `profile`; return the signed PDF (an incremental update).

    `purpose` names the signature field (default: the profile). Raises SigningUnavailable
    when it may work later (token absent, remote refused/time-out, TSA or CRL server down)
    and SigningError when it will not without a change (configuration, unsignable PDF).
    """
    config = config or current_config()
    chosen = config.profile(profile)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        name = _free_field_name(writer.prev, field_name(purpose or profile))
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise UnreadablePdf(f"Không đọc được tệp PDF cần ký: {exc}") from None
    timestamper = (
        HttpTimeStamper(config.tsa_url, timeout=config.tsa_timeout) if config.tsa_url else None
    )
    ltv = config.ltv
    fetchers = AIOHttpFetcherBackend(per_request_timeout=config.fetch_timeout)
    validation_context = None
    if ltv:
        trust = roots if roots is not None else configured_roots()
        validation_context = ValidationContext(
            trust_roots=trust,
            other_certs=load_certificate_files(chosen.chain),
            allow_fetching=True,
            # A CRL/OCSP address that does not answer fails (and is retried later); a CA
            # that publishes none is accepted: nothing to embed then.
            revocation_mode="hard-fail",
            fetcher_backend=fetchers,
        )
    meta = signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=chosen.reason or None,
        location=chosen.location or None,
        embed_validation_info=ltv,
        validation_context=validation_context,
        use_pades_lta=bool(config.lta and ltv and timestamper),
    )
    out = BytesIO()
    # A visible stamp on the last page when the profile asks for one (appearance.py).
    stamp_style = appearance.stamp_style(chosen.stamp_font, profile) if chosen.stamp else None
    field_spec = (
        fields.SigFieldSpec(name, on_page=-1, box=appearance.stamp_box(writer.prev))
        if chosen.stamp
        else None
    )

    async def run(signer: Signer) -> None:
        try:
            pdf_signer = signers.PdfSigner(
                meta,
                signer=signer,
                timestamper=timestamper,
                stamp_style=stamp_style,
                new_field_spec=field_spec,
            )
            params = (
                appearance.stamp_params(signer.signing_cert, dt.datetime.now(dt.UTC))
                if chosen.stamp
                else None
            )
            await pdf_signer.async_sign_pdf(writer, output=out, appearance_text_params=params)
        finally:  # the CRL/OCSP downloads' HTTP session belongs to this event loop
            await fetchers.close()

    try:
        with open_signer(chosen, description=f"Ký tài liệu ({name})") as signer:
            asyncio.run(run(signer))
    except Exception as exc:
        raise _classify(exc, profile) from None
    return out.getvalue()


def _classify(exc: BaseException, profile: str) -> Exception:
    """Sort whatever pyHanko or a backend raised into SigningUnavailable or SigningError.
    pyHanko wraps errors raised inside a signer, so the cause chain is searched first."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and all(seen is not other for other in chain):
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__

    def find(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if (ours := find(SigningError, SigningUnavailable)) is not None:
        assert isinstance(ours, Exception)
        return ours
    if (found := find(TimestampRequestError)) is not None:
        return SigningUnavailable(
            f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian: {found}",
            code="tsa_down",
        )
    if (found := find(InsufficientRevinfoError)) is not None:
        return SigningUnavailable(
            f"Không lấy được thông tin thu hồi chứng thư (CRL/OCSP) để nhúng: {found}",
            code="revinfo_down",
        )
    if (found := find(RevokedError)) is not None:
        return SigningError(
            f"Chứng thư số của hồ sơ ký {profile!r} đã bị thu hồi: {found}", code="revoked_signer"
        )
    if (found := find(PathBuildingError, PathValidationError)) is not None:
        return SigningError(
            f"Chứng thư số của hồ sơ ký {profile!r} không kiểm tra được theo danh sách gốc tin "
            f"cậy: {found}",
            code="untrusted_signer",
        )
    if any(type(e).__module__.startswith("pkcs11") for e in chain):
        return SigningUnavailable(f"Thiết bị ký số báo lỗi: {exc}")
    if isinstance(exc, PyHankoSigningError):
        return SigningError(f"Không ký được tài liệu: {exc}")
    if isinstance(exc, PdfError):
        return SigningError(f"Không ký được tệp PDF này: {exc}", code="unsignable_pdf")
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))
