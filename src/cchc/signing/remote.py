"""Remote signing: the officer confirms on the phone (the way Vietnamese CA providers offer it).

The flow every provider shares (VNPT SmartCA, Viettel MySign… — names as examples only):
the system sends the hash to sign → the provider answers a transaction id and pushes a
request to the officer's phone → the officer confirms (or refuses) → the system polls until
the transaction is signed, refused or expired, and receives the raw signature of the hash.

`RemoteProvider` is the adapter protocol; `HttpRemoteProvider` speaks the generic JSON
protocol below, which the local simulator (`cchc.signing.simulator`) also speaks. A real
provider's API differs in names and authentication (UNVERIFIED: no provider's contract was
available): it gets its own adapter class in ADAPTERS, chosen by the profile's `adapter`.

Generic protocol (base URL = the profile's `url`, header `Authorization: Bearer <api_key>`):
- `GET  certificate?user_id=U` → {"certificate": b64 DER, "chain": [b64 DER, …]}
- `POST sign` {"user_id", "hash": b64, "hash_algorithm": "sha256", "description"}
   → {"transaction_id": "…", "expires_in": seconds}
- `GET  transactions/<id>` → {"status": "pending" | "signed" | "refused" | "expired",
   "signature": b64 (when signed: PKCS#1 v1.5 / ECDSA signature of the hash)}
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from asn1crypto import x509
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from cchc.signing.errors import SigningError, SigningUnavailable

PENDING, SIGNED, REFUSED, EXPIRED = "pending", "signed", "refused", "expired"


@dataclass(frozen=True)
class RemoteStatus:
    status: str
    signature: bytes = b""


class RemoteProvider(Protocol):
    def certificates(self) -> tuple[x509.Certificate, list[x509.Certificate]]:
        """The signer's certificate and its chain (intermediates)."""
        ...

    def request(self, digest: bytes, hash_algorithm: str, description: str) -> str:
        """Ask for a signature of `digest`; return the transaction id."""
        ...

    def status(self, transaction_id: str) -> RemoteStatus: ...


class HttpRemoteProvider:
    """The generic JSON protocol over HTTP(S) with a time-out on every call."""

    def __init__(self, url: str, *, user_id: str, api_key: str = "", timeout: float = 10.0):
        self.url = url if url.endswith("/") else url + "/"
        self.user_id = user_id
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL is the administrator's setting
            urllib.parse.urljoin(self.url, path), data=data, method=method
        )
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise SigningUnavailable(
                    f"Dịch vụ ký số từ xa đang lỗi (HTTP {exc.code}).", code="remote_down"
                ) from None
            raise SigningError(
                f"Dịch vụ ký số từ xa từ chối yêu cầu (HTTP {exc.code}).", code="remote_rejected"
            ) from None
        except (OSError, TimeoutError) as exc:  # URLError is an OSError
            raise SigningUnavailable(
                f"Không kết nối được dịch vụ ký số từ xa: {exc}", code="remote_down"
            ) from None
        except ValueError:
            raise SigningUnavailable(
                "Dịch vụ ký số từ xa trả lời không đúng định dạng.", code="remote_down"
            ) from None

    def certificates(self) -> tuple[x509.Certificate, list[x509.Certificate]]:
        answer = self._call(
            "GET", "certificate?" + urllib.parse.urlencode({"user_id": self.user_id})
        )
        try:
            cert = x509.Certificate.load(base64.b64decode(answer["certificate"]))
            chain = [x509.Certificate.load(base64.b64decode(c)) for c in answer.get("chain", [])]
            cert.native  # noqa: B018 - parse now
        except (KeyError, TypeError, ValueError):
            raise SigningError(
                "Dịch vụ ký số từ xa trả về chứng thư số không đọc được.", code="remote_rejected"
            ) from None
        return cert, chain

    def request(self, digest: bytes, hash_algorithm: str, description: str) -> str:
        answer = self._call(
            "POST",
            "sign",
            {
                "user_id": self.user_id,
                "hash": base64.b64encode(digest).decode(),
                "hash_algorithm": hash_algorithm,
                "description": description,
            },
        )
        tx = answer.get("transaction_id") if isinstance(answer, dict) else None
        if not tx:
            raise SigningUnavailable(
                "Dịch vụ ký số từ xa không trả về mã giao dịch.", code="remote_down"
            )
        return str(tx)

    def status(self, transaction_id: str) -> RemoteStatus:
        answer = self._call("GET", "transactions/" + urllib.parse.quote(transaction_id, safe=""))
        status = str(answer.get("status", "")) if isinstance(answer, dict) else ""
        if status == SIGNED:
            try:
                return RemoteStatus(SIGNED, base64.b64decode(answer["signature"]))
            except (KeyError, TypeError, ValueError):
                raise SigningUnavailable(
                    "Dịch vụ ký số từ xa trả về chữ ký không đọc được.", code="remote_down"
                ) from None
        if status not in (PENDING, REFUSED, EXPIRED):
            raise SigningUnavailable(
                f"Dịch vụ ký số từ xa trả về trạng thái không biết: {status!r}.",
                code="remote_down",
            )
        return RemoteStatus(status)


ADAPTERS: dict[str, type[HttpRemoteProvider]] = {"generic": HttpRemoteProvider}


class RemoteSigner(Signer):
    """A pyHanko signer whose raw signature comes from the provider after the officer's
    confirmation. It waits at most `wait_seconds` (polling every `poll_seconds`)."""

    def __init__(
        self,
        provider: RemoteProvider,
        *,
        description: str = "",
        wait_seconds: float = 180.0,
        poll_seconds: float = 2.0,
    ) -> None:
        cert, chain = provider.certificates()
        registry = SimpleCertificateStore()
        registry.register_multiple(chain)
        super().__init__(signing_cert=cert, cert_registry=registry)
        self.provider = provider
        self.description = description
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:  # a placeholder as long as the real signature (size estimate)
            return bytes(max(256, self.signing_cert.public_key.byte_size * 2 + 16))
        digest = hashlib.new(digest_algorithm, data).digest()
        tx = await asyncio.to_thread(
            self.provider.request, digest, digest_algorithm, self.description
        )
        deadline = time.monotonic() + self.wait_seconds
        while True:
            state = await asyncio.to_thread(self.provider.status, tx)
            if state.status == SIGNED:
                return state.signature
            if state.status == REFUSED:
                raise SigningUnavailable(
                    "Người ký đã từ chối yêu cầu ký số trên điện thoại.", code="remote_refused"
                )
            if state.status == EXPIRED:
                raise SigningUnavailable(
                    "Yêu cầu ký số từ xa đã hết hạn mà chưa được xác nhận.", code="remote_expired"
                )
            if time.monotonic() >= deadline:
                raise SigningUnavailable(
                    f"Quá {self.wait_seconds:g} giây chưa có xác nhận ký số từ xa.",
                    code="remote_timeout",
                )
            await asyncio.sleep(self.poll_seconds)
