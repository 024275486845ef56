"""The client of the national portal's integration service (Cổng DVCQG).

The protocol, as the open-source OpenCPS integration shows it (docs/national-platform.md
says which parts are verified): every call is one JSON object POSTed to one endpoint, naming
its service (``"service": "DongBoHoSoMC"``, ``"LayThuTuc"`` …) and carrying the session
token (``"session"``) and the province's unit code (``"madonvi"``); the answer is a JSON
object whose ``error_code`` is 0 on success, with the data under ``result``. A session is
obtained with the service `LOGIN` from the configured account and reused until the portal
refuses it.

We add an ``Idempotency-Key`` header (and the same ``"idempotency_key"`` in the body) to
every call that changes something: the simulator honours it; for the real portal, the
protection is the body itself (`DongBoHoSoMC` with ``isUpdating`` keyed by ``MaHoSo``).

Every call has a time-out (`CCHC_DVCQG_TIMEOUT`). Failures are `NationalError`:
``transient`` (a time-out, a refused connection, a 5xx, a lost session) may be retried by
the caller with back-off; otherwise the portal refused the content and retrying the same
call will not help (a dead letter). This module is called only by the worker and commands,
never inside a request.

A relative URL (``/gia-lap-dvcqg/api/``, the default when the simulator is on) is served
in-process: the request goes through the same URL resolution and view as over HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from cchc.errors import RemoteError
from cchc.jobs import remote

LOGIN = "LayPhienLamViec"  # UNVERIFIED service name of the session call (OpenCPS reads a token)


class NationalError(RemoteError):
    """A call to the national portal failed. `transient`: worth retrying later."""

    code = "national.error"


class NotConnected(NationalError):
    code = "national.not_connected"
    http_status = 503

    def __init__(self) -> None:
        super().__init__(
            "Hệ thống chưa kết nối Cổng Dịch vụ công quốc gia (chưa cấu hình CCHC_DVCQG_URL).",
            transient=False,
        )


def config() -> dict[str, Any]:
    return dict(getattr(settings, "CCHC_DVCQG", {}) or {})


def connected() -> bool:
    """Whether a national portal (or the simulator) is configured."""
    return bool(config().get("url"))


# Error codes of the answer that mean "the session is no longer valid" (log in again).
SESSION_ERRORS = frozenset({"401", "session_expired"})  # UNVERIFIED codes

_sessions: dict[str, str] = {}
_lock = threading.Lock()


def _post(url: str, body: Mapping[str, Any], *, key: str, timeout: float) -> dict[str, Any]:
    return remote.post_json(
        url,
        body,
        timeout=timeout,
        name="Cổng quốc gia",
        error=NationalError,
        key=key,
        simulator_off="Mô phỏng Cổng quốc gia không được bật (CCHC_DVCQG_SIMULATOR).",
    )


def _session(cfg: Mapping[str, Any], *, fresh: bool = False) -> str:
    url = cfg["url"]
    with _lock:
        if not fresh and url in _sessions:
            return _sessions[url]
    answer = _post(
        url,
        {
            "service": LOGIN,
            "madonvi": cfg.get("madonvi", ""),
            "username": cfg.get("username", ""),
            "password": cfg.get("password", ""),
        },
        key="",
        timeout=float(cfg.get("timeout", 15)),
    )
    session = str(answer.get("session") or "")
    if str(answer.get("error_code", "")) != "0" or not session:
        raise NationalError(
            "Cổng quốc gia không cấp phiên làm việc: "
            + str(answer.get("message") or answer.get("error_code") or "không rõ lý do"),
            transient=False,
            error_code=str(answer.get("error_code", "")),
        )
    with _lock:
        _sessions[url] = session
    return session


def call(
    service: str,
    data: Any = None,
    *,
    key: str = "",
    extra: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> Any:
    """Call `service` with `data` (the body's ``data``) and `extra` top-level fields; return
    the answer's ``result``. `key`: the idempotency key of a call that changes something.
    Raises `NotConnected` when no portal is configured, `NationalError` otherwise."""
    cfg = config()
    if not cfg.get("url"):
        raise NotConnected()
    wait = float(timeout if timeout is not None else cfg.get("timeout", 15))
    for attempt in (0, 1):
        body: dict[str, Any] = {
            "service": service,
            "session": _session(cfg, fresh=attempt == 1),
            "madonvi": cfg.get("madonvi", ""),
            **dict(extra or {}),
        }
        if data is not None:
            body["data"] = data
        if key:
            body["idempotency_key"] = key
        answer = _post(cfg["url"], body, key=key, timeout=wait)
        code = str(answer.get("error_code", ""))
        if code == "0":
            return answer.get("result")
        if code in SESSION_ERRORS and attempt == 0:
            continue  # the session expired: log in again once
        raise NationalError(
            f"Cổng quốc gia từ chối ({service}): "
            + str(answer.get("message") or f"mã lỗi {code or 'không rõ'}"),
            transient=code in SESSION_ERRORS or code.startswith("5"),
            error_code=code,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def forget_sessions() -> None:
    """Drop cached sessions (tests, or after the account changed)."""
    with _lock:
        _sessions.clear()
