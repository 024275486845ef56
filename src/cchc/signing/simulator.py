"""A local remote-signing provider for tests and development (never production).

It speaks the generic protocol of `cchc.signing.remote`, holds the signer's key, and lets a
test (or a developer) play the officer's phone over HTTP:
`GET transactions?status=pending`, `POST transactions/<id>/confirm` or `…/refuse`.
A transaction not confirmed within `ttl` seconds expires. Run it in a thread:

    sim = RemoteSigningSimulator(key, cert, chain=[intermediate], api_key="k")
    sim.start()  # sim.url = "http://127.0.0.1:<port>/"
    …
    sim.stop()
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from cchc.signing.remote import EXPIRED, PENDING, REFUSED, SIGNED

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass
class _Transaction:
    id: str
    user_id: str
    digest: bytes
    hash_algorithm: str
    description: str
    created: float
    status: str = PENDING
    signature: bytes = b""


class RemoteSigningSimulator:
    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        cert: pyca_x509.Certificate,
        *,
        chain: list[pyca_x509.Certificate] | None = None,
        user_id: str = "",
        api_key: str = "",
        ttl: float = 120.0,
    ) -> None:
        self.key = key
        self.cert = cert
        self.chain = list(chain or [])
        self.user_id = user_id
        self.api_key = api_key
        self.ttl = ttl
        self.transactions: dict[str, _Transaction] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- the phone ---------------------------------------------------------------------
    def _expire(self) -> None:
        now = time.monotonic()
        for tx in self.transactions.values():
            if tx.status == PENDING and now - tx.created > self.ttl:
                tx.status = EXPIRED

    def pending(self) -> list[str]:
        with self.lock:
            self._expire()
            return [t.id for t in self.transactions.values() if t.status == PENDING]

    def confirm(self, tx_id: str) -> bool:
        with self.lock:
            self._expire()
            tx = self.transactions.get(tx_id)
            if tx is None or tx.status != PENDING:
                return False
            algorithm = _HASHES[tx.hash_algorithm]()
            if isinstance(self.key, rsa.RSAPrivateKey):
                tx.signature = self.key.sign(
                    tx.digest, padding.PKCS1v15(), utils.Prehashed(algorithm)
                )
            else:
                tx.signature = self.key.sign(tx.digest, ec.ECDSA(utils.Prehashed(algorithm)))
            tx.status = SIGNED
            return True

    def refuse(self, tx_id: str) -> bool:
        with self.lock:
            tx = self.transactions.get(tx_id)
            if tx is None or tx.status != PENDING:
                return False
            tx.status = REFUSED
            return True

    # -- the provider's API ---------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str
    ) -> tuple[int, dict[str, Any]]:
        if self.api_key and auth != f"Bearer {self.api_key}":
            return 401, {"error": "unauthorized"}
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["certificate"]:
            if self.user_id and query.get("user_id", [""])[0] != self.user_id:
                return 404, {"error": "unknown user"}
            return 200, {
                "certificate": _b64(self.cert.public_bytes(serialization.Encoding.DER)),
                "chain": [_b64(c.public_bytes(serialization.Encoding.DER)) for c in self.chain],
            }
        if method == "POST" and parts == ["sign"]:
            try:
                digest = base64.b64decode(body["hash"], validate=True)
                algorithm = str(body.get("hash_algorithm", "sha256"))
                user_id = str(body.get("user_id", ""))
            except (KeyError, TypeError, ValueError):
                return 400, {"error": "bad request"}
            if algorithm not in _HASHES or len(digest) != _HASHES[algorithm]().digest_size:
                return 400, {"error": "bad hash"}
            if self.user_id and user_id != self.user_id:
                return 404, {"error": "unknown user"}
            tx = _Transaction(
                id=uuid.uuid4().hex,
                user_id=user_id,
                digest=digest,
                hash_algorithm=algorithm,
                description=str(body.get("description", "")),
                created=time.monotonic(),
            )
            with self.lock:
                self.transactions[tx.id] = tx
            return 200, {"transaction_id": tx.id, "expires_in": self.ttl}
        if method == "GET" and parts == ["transactions"]:
            return 200, {"pending": self.pending()}
        if len(parts) == 2 and parts[0] == "transactions" and method == "GET":
            with self.lock:
                self._expire()
                found = self.transactions.get(parts[1])
                if found is None:
                    return 404, {"error": "unknown transaction"}
                answer: dict[str, Any] = {"status": found.status}
                if found.status == SIGNED:
                    answer["signature"] = _b64(found.signature)
                return 200, answer
        if len(parts) == 3 and parts[0] == "transactions" and method == "POST":
            action = {"confirm": self.confirm, "refuse": self.refuse}.get(parts[2])
            if action is None:
                return 404, {"error": "unknown action"}
            return (200, {"ok": True}) if action(parts[1]) else (409, {"ok": False})
        return 404, {"error": "not found"}

    # -- the server ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = None
                status, answer = simulator.handle(
                    self.command,
                    split.path,
                    parse_qs(split.query),
                    body,
                    self.headers.get("Authorization", ""),
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
