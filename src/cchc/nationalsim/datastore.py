"""A stand-in of the national data store of citizens and organisations (kho quản lý dữ liệu
điện tử của tổ chức, cá nhân), served at ``/gia-lap-dvcqg/kho-du-lieu/api/`` only when
`CCHC_DVCQG_SIMULATOR` is on (404 otherwise). It speaks the protocol of
`cchc.dossiers.datastore.NationalStore` (this system's own, UNVERIFIED against the national
store): the bearer token ``simulator`` (`TOKEN`; the default of `CCHC_DATASTORE_TOKEN` when
the simulator is on), actions ``deliver`` / ``status`` /
``list``, idempotent by key (a repeated key returns the first receipt and keeps one copy).

Its state lives in this process's memory (lost on restart: a simulator, not a store), with
faults on demand for tests and demonstrations (`set_faults`): the next N calls answer HTTP
503 without doing anything (``fail_next``), every call sleeps first (``slow_seconds``: a
client time-out), the work is done but the answer lost (``lost_next``), or deliveries for
some ID numbers are refused as content errors (``refuse_holders``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@dataclass
class Faults:
    fail_next: int = 0
    lost_next: int = 0
    slow_seconds: float = 0.0
    refuse_holders: set[str] = field(default_factory=set)


@dataclass
class State:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> document
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (action, key, outcome)
    faults: Faults = field(default_factory=Faults)


_lock = threading.Lock()
STATE = State()


def reset() -> State:
    """Forget every document and fault (tests)."""
    global STATE
    with _lock:
        STATE = State()
    return STATE


def set_faults(**values: Any) -> Faults:
    with _lock:
        for name, value in values.items():
            if not hasattr(STATE.faults, name):
                raise ValueError(f"unknown fault {name!r}")
            setattr(STATE.faults, name, value)
        return STATE.faults


def _enabled() -> bool:
    return bool(getattr(settings, "CCHC_DVCQG_SIMULATOR", False))


TOKEN = "simulator"  # noqa: S105 - the simulator's published token, not a secret


def _refuse(code: str, message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error_code": code, "message": message})


@csrf_exempt
@require_POST
def api(request: HttpRequest) -> HttpResponse:
    if not _enabled():
        raise Http404("Trình giả lập kho dữ liệu không bật.")
    faults = STATE.faults
    if faults.slow_seconds:
        time.sleep(float(faults.slow_seconds))
    given = request.headers.get("Authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {TOKEN}".encode()):
        return HttpResponse(status=401)
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _refuse("400", "Dữ liệu gửi không phải JSON.")
    if not isinstance(body, dict):
        return _refuse("400", "Dữ liệu gửi không hợp lệ.")
    action, key = str(body.get("action", "")), str(body.get("key", ""))
    with _lock:
        if faults.fail_next > 0:
            faults.fail_next -= 1
            STATE.calls.append((action, key, "failed"))
            return HttpResponse(status=503)
        answer = _work(action, body)
        STATE.calls.append((action, key, "ok" if answer.get("ok") else "refused"))
        if faults.lost_next > 0 and answer.get("ok"):
            faults.lost_next -= 1
            STATE.calls[-1] = (action, key, "lost")
            return HttpResponse(status=503)
    return JsonResponse(answer)


def _work(action: str, body: dict[str, Any]) -> dict[str, Any]:
    holder = str(body.get("holder", ""))
    if not (holder.isdigit() and len(holder) in (9, 10, 12, 13)):
        return {"ok": False, "error_code": "422", "message": "Số định danh không hợp lệ."}
    if action == "deliver":
        return _deliver(holder, body)
    if action == "status":
        found = STATE.documents.get(str(body.get("key", "")))
        if found is None or found["holder"] != holder:
            return {"ok": True, "delivered": False}
        return {"ok": True, "delivered": True, "receipt": found["receipt"]}
    if action == "list":
        mine = [
            {k: v for k, v in doc.items() if k not in ("content", "holder")}
            for doc in STATE.documents.values()
            if doc["holder"] == holder
        ]
        mine.sort(key=lambda d: d["received_at"], reverse=True)
        return {"ok": True, "documents": mine}
    return {"ok": False, "error_code": "400", "message": f"Không có thao tác «{action}»."}


def _deliver(holder: str, body: dict[str, Any]) -> dict[str, Any]:
    key = str(body.get("key", ""))
    if not key:
        return {"ok": False, "error_code": "400", "message": "Thiếu khóa gửi (key)."}
    known = STATE.documents.get(key)
    if known is not None:
        if known["holder"] != holder or known["sha256"] != body.get("sha256"):
            return {
                "ok": False,
                "error_code": "409",
                "message": "Khóa gửi đã dùng cho văn bản khác.",
            }
        return {"ok": True, "receipt": known["receipt"]}
    if holder in STATE.faults.refuse_holders:
        return {
            "ok": False,
            "error_code": "403",
            "message": f"Chủ thể {holder[:3]}…{holder[-3:]} chưa kích hoạt kho dữ liệu.",
        }
    try:
        content = base64.b64decode(str(body.get("content_base64", "")), validate=True)
    except (binascii.Error, ValueError):
        return {"ok": False, "error_code": "400", "message": "Nội dung tệp không hợp lệ."}
    if hashlib.sha256(content).hexdigest() != body.get("sha256"):
        return {"ok": False, "error_code": "422", "message": "Mã băm SHA-256 không khớp nội dung."}
    receipt = f"QG-KDL-{len(STATE.documents) + 1:06d}"
    STATE.documents[key] = {
        "receipt": receipt,
        "holder": holder,
        "kind": str(body.get("kind", "")),
        "title": str(body.get("title", "")),
        "dossier_code": str(body.get("dossier_code", "")),
        "procedure_code": str(body.get("procedure_code", "")),
        "issued_on": str(body.get("issued_on", "")),
        "sha256": str(body["sha256"]),
        "filename": str(body.get("filename", "")),
        "size": len(content),
        "received_at": timezone.now().isoformat(),
        "content": content,
    }
    return {"ok": True, "receipt": receipt}
