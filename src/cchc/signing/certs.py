"""Certificates from files: the trust roots (`CCHC_SIGNING_TRUST_ROOTS`) and chains to embed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from asn1crypto import pem, x509
from django.conf import settings

from cchc.signing.errors import SigningError


def load_certificates(data: bytes, *, source: str = "") -> list[x509.Certificate]:
    """Every certificate in PEM (one or many) or DER bytes."""
    try:
        if pem.detect(data):
            return [
                x509.Certificate.load(der)
                for kind, _headers, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"
            ]
        cert = x509.Certificate.load(data)
        cert.native  # noqa: B018 - parse now, so that garbage fails here and not later
        return [cert]
    except (ValueError, TypeError) as exc:
        raise SigningError(
            f"Không đọc được chứng thư số {source or ''}: {exc}".strip(), code="bad_certificate"
        ) from None


def load_certificate_files(paths: Iterable[str | Path]) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SigningError(
                f"Không đọc được tệp chứng thư {path}: {exc.strerror}", code="bad_certificate"
            ) from None
        found = load_certificates(data, source=str(path))
        if not found:
            raise SigningError(f"Tệp {path} không chứa chứng thư số nào.", code="bad_certificate")
        certs.extend(found)
    return certs


def configured_roots() -> list[x509.Certificate]:
    """The administrator's trust list: the national root CA and licensed providers."""

    return load_certificate_files(getattr(settings, "CCHC_SIGNING_TRUST_ROOTS", None) or [])


def subject_field(cert: x509.Certificate, key: str) -> str:
    value = cert.subject.native.get(key, "")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value or "")
