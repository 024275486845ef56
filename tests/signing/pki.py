"""A test PKI built with `cryptography`: root CA → intermediate CA → signer certificates, a
TSA certificate with the timeStamping EKU, CRLs, and an HTTP server (stdlib, in a thread)
that publishes the CRLs and answers RFC 3161 requests with pyHanko's DummyTimeStamper."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

NOW = dt.datetime.now(dt.UTC)


class PkiServer:
    """GET <path> serves bytes registered in `files`; POST /tsa answers timestamp queries."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}
        self.tsa: Callable[[bytes], bytes] | None = None
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(f"GET {self.path}")
                found = server.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                self._send(*found)

            def do_POST(self) -> None:
                server.requests.append(f"POST {self.path}")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/tsa" or server.tsa is None:
                    self.send_error(404)
                    return
                self._send("application/timestamp-reply", server.tsa(body))

            def _send(self, content_type: str, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str = "Tỉnh Thử Nghiệm") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issue(
    cn: str,
    *,
    issuer: Issued | None = None,
    ca: bool = False,
    tsa: bool = False,
    crl_url: str = "",
    org: str = "Tỉnh Thử Nghiệm",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    key = _key()
    subject = _name(cn, org)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=not ca and not tsa,
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
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url)], None, None, None
                    )
                ]
            ),
            critical=False,
        )
    signing_key = issuer.key if issuer else key
    return Issued(key, builder.sign(signing_key, hashes.SHA256()))


def crl(issuer: Issued, revoked: list[x509.Certificate] = ()) -> bytes:  # type: ignore[assignment]
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=7))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
        .add_extension(x509.CRLNumber(1), False)
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(NOW - dt.timedelta(hours=2))
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@dataclass
class Pki:
    server: PkiServer
    directory: Path
    root: Issued
    intermediate: Issued
    tsa: Issued
    desk: Issued  # signs with a PKCS#12 file
    token: Issued  # lives in the SoftHSM2 token
    officer: Issued  # held by the remote-signing simulator
    other_root: Issued  # a root nobody configured
    stranger: Issued  # signed by other_root
    revoked: Issued  # on the intermediate's CRL
    files: dict[str, Path] = field(default_factory=dict)

    def write(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(data)
        self.files[name] = path
        return path

    def p12(self, who: Issued, name: str, password: str) -> Path:
        data = pkcs12.serialize_key_and_certificates(
            name.encode(),
            who.key,
            who.cert,
            [self.intermediate.cert],
            serialization.BestAvailableEncryption(password.encode()),
        )
        return self.write(f"{name}.p12", data)


def build(directory: Path) -> Pki:
    server = PkiServer()
    root_crl, inter_crl = f"{server.base}/root.crl", f"{server.base}/inter.crl"
    root = issue("Root CA Thử Nghiệm", ca=True, org="Bộ Thử Nghiệm")
    inter = issue("CA Cấp Dưới Thử Nghiệm", issuer=root, ca=True, crl_url=root_crl)
    tsa = issue("TSA Thử Nghiệm", issuer=root, tsa=True, crl_url=root_crl)
    desk = issue("Bộ phận Một cửa Thử Nghiệm", issuer=inter, crl_url=inter_crl)
    token = issue("Sở Thử Nghiệm", issuer=inter, crl_url=inter_crl)
    officer = issue("Nguyễn Văn Ký", issuer=inter, crl_url=inter_crl)
    other_root = issue("Root CA Lạ", ca=True, org="Không Ai Cấu Hình")
    stranger = issue("Người Lạ", issuer=other_root, org="Không Ai Cấu Hình")
    revoked = issue("Cán bộ Đã Nghỉ", issuer=inter, crl_url=inter_crl)
    server.files["/root.crl"] = ("application/pkix-crl", crl(root))
    server.files["/inter.crl"] = ("application/pkix-crl", crl(inter, [revoked.cert]))

    stamper = DummyTimeStamper(
        tsa_cert=tsa.asn1,
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        certs_to_embed=[root.asn1],
    )

    def answer(body: bytes) -> bytes:
        return bytes(stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump())

    server.tsa = answer
    pki = Pki(
        server, directory, root, inter, tsa, desk, token, officer, other_root, stranger, revoked
    )
    pki.write("root.pem", root.cert_pem())
    pki.write("intermediate.pem", inter.cert_pem())
    pki.write("other-root.pem", other_root.cert_pem())
    return pki


def minimal_pdf(text: str = "Phieu tiep nhan 000.00.01.H00-240603-0001") -> bytes:
    """A one-page PDF with a text line, written by hand with a correct xref table."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
