"""RFC 3161 time-stamp client over HTTP with a time-out (stdlib only)."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

CONTENT_QUERY = "application/timestamp-query"
CONTENT_REPLY = "application/timestamp-reply"


class HttpTimeStamper(TimeStamper):
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout

    def _post(self, body: bytes) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the URL is the administrator's setting
            self.url, data=body, method="POST", headers={"Content-Type": CONTENT_QUERY}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if response.headers.get("Content-Type", "").split(";")[0] != CONTENT_REPLY:
                    raise TimestampRequestError("the TSA did not answer a timestamp reply")
                return bytes(response.read())
        except (OSError, TimeoutError) as exc:  # HTTPError and URLError are OSErrors
            raise TimestampRequestError(f"TSA {self.url}: {exc}") from exc

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        raw = await asyncio.to_thread(self._post, req.dump())
        try:
            return tsp.TimeStampResp.load(raw)
        except ValueError as exc:
            raise TimestampRequestError("the TSA's reply is not DER") from exc
