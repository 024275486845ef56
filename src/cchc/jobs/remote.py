"""One JSON POST to another system, for the worker's outboxes (the national portal's
`cchc.national.client`, the holder's data store `cchc.dossiers.datastore`): a time-out on
every call, an idempotency key when given, and every failure sorted into transient (time-out,
no connection, 5xx, 408, 429, an unreadable answer: worth retrying) or permanent (any other
4xx: the other side refused the content). A path ("/…") is served in-process through URL
resolution, the way `make run` and the tests reach the local simulators.

Errors are raised as `error(message, transient=…, error_code=…)`, the caller's
`cchc.errors.RemoteError` subclass, with `name` (the other system, in Vietnamese) in every
message."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from django.urls import Resolver404, resolve

from cchc.errors import RemoteError

Error = Callable[..., RemoteError]


def post_json(
    url: str,
    body: Mapping[str, Any],
    *,
    timeout: float,
    name: str,
    error: Error,
    key: str = "",
    headers: Mapping[str, str] | None = None,
    simulator_off: str = "",
) -> dict[str, Any]:
    """POST `body` as JSON to `url` and return the answer's JSON object."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    sent = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
    sent.update(headers or {})
    if key:
        sent["Idempotency-Key"] = key
    if url.startswith("/"):
        raw = _in_process(url, data, sent, name=name, error=error, off=simulator_off)
    else:
        raw = _over_http(url, data, sent, timeout, name=name, error=error)
    return _decode(raw, name=name, error=error)


def _http_error(status: int, *, name: str, error: Error) -> RemoteError:
    return error(
        f"{name} trả lỗi HTTP {status}.",
        transient=status >= 500 or status in (408, 429),
        error_code=str(status),
    )


def _over_http(
    url: str, data: bytes, headers: Mapping[str, str], timeout: float, *, name: str, error: Error
) -> bytes:
    request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise _http_error(exc.code, name=name, error=error) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        timed_out = isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError)
        what = "hết thời gian chờ" if timed_out else "không kết nối được"
        raise error(
            f"{name}: {what} ({type(reason).__name__}).",
            transient=True,
            error_code="timeout" if timed_out else "",
        ) from None


def _in_process(
    path: str, data: bytes, headers: Mapping[str, str], *, name: str, error: Error, off: str
) -> bytes:
    """The simulator, called through URL resolution like the web server would."""
    # the test client's request factory: only for the in-process simulator, never in production
    from django.test import RequestFactory

    try:
        match = resolve(path)
    except Resolver404:
        raise error(off or f"Mô phỏng {name} không được bật.", transient=False) from None
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    request = RequestFactory().post(path, data=data, content_type="application/json", **extra)
    response = match.func(request, *match.args, **match.kwargs)
    if response.status_code >= 400:
        raise _http_error(response.status_code, name=name, error=error)
    return bytes(response.content)


def _decode(raw: bytes, *, name: str, error: Error) -> dict[str, Any]:
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise error(f"{name} trả về dữ liệu không đọc được.", transient=True) from None
    if not isinstance(answer, dict):
        raise error(f"{name} trả về dữ liệu không hợp lệ.", transient=True)
    return answer
