"""A DEMO public-key infrastructure for `make run`: a root CA clearly labelled "DEMO — KHÔNG
CÓ GIÁ TRỊ PHÁP LÝ", a desk signer and an agency signer as PKCS#12 files, and the
`CCHC_SIGNING` settings that use them.

Created once under `<CCHC_VAR_DIR>/signing-demo/` and reused afterwards (idempotent: a file
already there is never rewritten). The demo signs without a time-stamping authority and
without long-term validation data (`ltv` off): PAdES B-B, the signing time is the one the
computer claims. Never for production: the keys' password is written in the settings.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

DIRECTORY = "signing-demo"
PASSWORD = "demo-khong-dung-that"  # noqa: S105  # demo keys only, labelled as such
LABEL = "DEMO — KHÔNG CÓ GIÁ TRỊ PHÁP LÝ"
ORG = "Hệ thống CCHC (DEMO)"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, LABEL),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _certificate(
    cn: str, key: rsa.RSAPrivateKey, *, issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    ca = issuer is None
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer[0].subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650 if ca else 1825))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _root(directory: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert_path, key_path = directory / "demo-root.pem", directory / "demo-root.key"
    if cert_path.is_file() and key_path.is_file():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), PASSWORD.encode())
        assert isinstance(key, rsa.RSAPrivateKey)
        return cert, key
    key = _key()
    cert = _certificate("DEMO Root CA (CCHC)", key, issuer=None)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _signer(
    directory: Path, name: str, cn: str, root: tuple[x509.Certificate, rsa.RSAPrivateKey]
) -> Path:
    path = directory / f"{name}.p12"
    if path.is_file():
        return path
    key = _key()
    cert = _certificate(cn, key, issuer=root)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name.encode(),
            key,
            cert,
            [root[0]],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    path.chmod(0o600)
    return path


def ensure(var_dir: Path | str) -> dict[str, Any]:
    """Create the demo PKI under `<var_dir>/signing-demo/` if missing and return the settings
    that use it: {"CCHC_SIGNING": {...}, "CCHC_SIGNING_TRUST_ROOTS": [root PEM]}."""
    directory = Path(var_dir) / DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    root = _root(directory)
    desk = _signer(directory, "desk", "DEMO Bộ phận Một cửa", root)
    agency = _signer(directory, "agency", "DEMO Cơ quan giải quyết", root)
    (directory / "README.txt").write_text(
        f"{LABEL}\nKhóa và chứng thư ký số dùng thử cho môi trường phát triển (make run).\n"
        "Không dùng cho văn bản thật. Xoá thư mục này để tạo lại.\n",
        encoding="utf-8",
    )

    def profile(path: Path, reason: str) -> dict[str, Any]:
        return {
            "backend": "pkcs12",
            "path": str(path),
            "password": PASSWORD,
            "reason": f"{reason} ({LABEL})",
            "location": ORG,
            "stamp": True,  # the visible stamp on the last page (signing/appearance.py)
        }

    return {
        "CCHC_SIGNING": {
            "ltv": False,
            "lta": False,
            "profiles": {
                "desk": profile(desk, "Tiếp nhận hồ sơ"),
                "agency": profile(agency, "Kết quả giải quyết thủ tục hành chính"),
            },
        },
        "CCHC_SIGNING_TRUST_ROOTS": [str(directory / "demo-root.pem")],
    }
