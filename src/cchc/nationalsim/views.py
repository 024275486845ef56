"""The simulated national portal over HTTP (only when `CCHC_DVCQG_SIMULATOR` is on; 404
otherwise): the integration endpoint `api` and the page `/gia-lap-dvcqg/`."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cchc import privacy
from cchc.errors import DomainError
from cchc.nationalsim import faults, seeding
from cchc.nationalsim import services as _services  # also registers the services
from cchc.nationalsim.models import (
    CallOutcome,
    SimCall,
    SimDossier,
    SimInbound,
    SimProcedure,
    SimSession,
)
from cchc.nationalsim.registry import HANDLERS, Refusal

logger = logging.getLogger(__name__)
LOGIN = "LayPhienLamViec"  # UNVERIFIED name (cchc.national.client.LOGIN)


def enabled() -> bool:
    return bool(getattr(settings, "CCHC_DVCQG_SIMULATOR", False))


def _on() -> None:
    if not enabled():
        raise Http404("Trình giả lập Cổng DVCQG không bật.")


def _config() -> dict[str, Any]:
    return dict(getattr(settings, "CCHC_DVCQG", {}) or {})


def _answer(
    service: str,
    body: dict[str, Any],
    outcome: str,
    *,
    error_code: str = "0",
    message: str = "OK",
    status: int = 200,
    **extra: Any,
) -> JsonResponse:
    _services.log_call(service, body, outcome, error_code=error_code, message=message)
    if status >= 500:
        return JsonResponse({"error_code": "503", "message": message}, status=status)
    code: int | str = 0 if error_code == "0" else error_code
    return JsonResponse(
        {"error_code": code, "message": message, **extra},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _login(body: dict[str, Any]) -> JsonResponse:
    cfg = _config()
    expected = (cfg.get("username", ""), cfg.get("password", ""), cfg.get("madonvi", ""))
    given = (body.get("username", ""), body.get("password", ""), body.get("madonvi", ""))
    if given != expected:
        return _answer(
            LOGIN,
            body,
            CallOutcome.REFUSED,
            error_code="401",
            message="Sai tên đăng nhập, mật khẩu hoặc mã đơn vị.",
        )
    token = _services.open_session(str(body["madonvi"]))
    return _answer(LOGIN, body, CallOutcome.OK, session=token)


@csrf_exempt
@require_POST
def api(request: HttpRequest) -> HttpResponse:
    """One call of the integration protocol: ``{"service", "session", "madonvi", …}``."""
    if not enabled():  # an answer, not Http404: the in-process client calls the view directly
        return JsonResponse(
            {"error_code": "404", "message": "Trình giả lập Cổng DVCQG không bật."}, status=404
        )
    try:
        body: Any = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        return _answer(
            "?",
            {},
            CallOutcome.BAD,
            error_code="400",
            message="Dữ liệu gửi lên không phải JSON hợp lệ.",
            status=400,
        )
    name = str(body.get("service") or "")
    key = str(body.get("idempotency_key") or request.headers.get("Idempotency-Key") or "")
    body["idempotency_key"] = key
    setting = faults.current()
    if setting.slow_seconds > 0:
        time.sleep(setting.slow_seconds)
    if faults.hit(setting.fail_rate, "fail"):
        return _answer(
            name, body, CallOutcome.FAILED, message="Lỗi giả lập: dịch vụ tạm ngừng.", status=503
        )
    if name == LOGIN:
        return _login(body)
    if name not in HANDLERS:
        return _answer(
            name or "?",
            body,
            CallOutcome.BAD,
            error_code="400",
            message=f"Dịch vụ không tồn tại: {name or '(trống)'}.",
        )
    session = SimSession.objects.filter(token=str(body.get("session") or "")).first()
    if session is None:
        return _answer(
            name,
            body,
            CallOutcome.REFUSED,
            error_code="401",
            message="Phiên làm việc không hợp lệ hoặc đã hết hạn.",
        )
    if str(body.get("madonvi") or "") not in ("", session.madonvi):
        return _answer(
            name,
            body,
            CallOutcome.REFUSED,
            error_code="403",
            message=f"Phiên làm việc không thuộc đơn vị {body.get('madonvi')}.",
        )
    body["madonvi"] = session.madonvi
    try:
        with transaction.atomic():
            result = HANDLERS[name](body)
    except Refusal as refusal:
        return _answer(
            name, body, CallOutcome.REFUSED, error_code=refusal.error_code, message=refusal.message
        )
    if setting.slow_answer_seconds > 0:
        time.sleep(setting.slow_answer_seconds)
    if faults.hit(setting.lost_answer_rate, "lost"):
        return _answer(
            name, body, CallOutcome.LOST, message="Lỗi giả lập: mất câu trả lời.", status=503
        )
    return _answer(name, body, CallOutcome.OK, result=result)


# --- The page ------------------------------------------------------------------------------
def _masked_inbound(row: SimInbound) -> dict[str, Any]:
    b = row.body
    return {
        "row": row,
        "applicant": privacy.mask_name(str(b.get("ChuHoSo") or "")),
        "procedure": f"{row.ma_tthc} — {b.get('TenTTHC', '')}",
    }


def page(request: HttpRequest) -> HttpResponse:
    _on()
    dossiers = list(SimDossier.objects.prefetch_related("steps").order_by("-id")[:50])
    calls = SimCall.objects.values("service", "outcome").annotate(n=Count("id")).order_by("service")
    return render(
        request,
        "nationalsim/page.html",
        {
            "dossiers": dossiers,
            "inbound": [_masked_inbound(r) for r in SimInbound.objects.order_by("-id")[:50]],
            "calls": list(calls),
            "call_total": SimCall.objects.count(),
            "faults": faults.current(),
            "procedures": SimProcedure.objects.filter(withdrawn=False),
            "procedure_count": SimProcedure.objects.count(),
            "madonvi": seeding.madonvi(),
        },
    )


@require_POST
def submit(request: HttpRequest) -> HttpResponse:
    _on()
    try:
        row = seeding.submit_inbound(
            request.POST.get("procedure", ""),
            request.POST.get("applicant", ""),
            id_number=request.POST.get("id_number", ""),
            phone=request.POST.get("phone", ""),
            email=request.POST.get("email", ""),
            address=request.POST.get("address", ""),
            summary=request.POST.get("summary", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Đã nộp hồ sơ {row.ma_ho_so_qg} trên Cổng (giả lập).")
    return redirect("nationalsim:page")


@require_POST
def faults_form(request: HttpRequest) -> HttpResponse:
    _on()
    if request.POST.get("reset"):
        faults.reset()
        messages.success(request, "Đã tắt mọi lỗi giả lập.")
        return redirect("nationalsim:page")
    try:
        faults.set(
            fail_rate=float(request.POST.get("fail_rate") or 0),
            lost_answer_rate=float(request.POST.get("lost_answer_rate") or 0),
            slow_seconds=float(request.POST.get("slow_seconds") or 0),
            slow_answer_seconds=float(request.POST.get("slow_answer_seconds") or 0),
            duplicate_inbound=bool(request.POST.get("duplicate_inbound")),
            shuffle_inbound=bool(request.POST.get("shuffle_inbound")),
            seed=int(request.POST.get("seed") or 766),
        )
    except ValueError:
        messages.error(request, "Giá trị không hợp lệ: nhập số (tỷ lệ 0–1, giây, hạt giống).")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Đã lưu cấu hình lỗi giả lập.")
    return redirect("nationalsim:page")


@require_POST
def seed(request: HttpRequest) -> HttpResponse:
    _on()
    changes = seeding.seed_catalogue(from_local=True)
    messages.success(
        request,
        f"Đã tạo CSDL TTHC quốc gia giả lập: {changes['count']} thủ tục "
        f"(đổi phí: {changes['fee'] or '—'}, đổi thời hạn: {changes['time'] or '—'}, "
        f"mới: {changes['new']}, bãi bỏ: {changes['withdrawn'] or '—'}).",
    )
    return redirect("nationalsim:page")
