"""Payment pages: the citizen's payment page, the return page, the gateway IPN endpoint,
receipts, the desk's cash/exemption/refund forms and the local gateway simulator.

Views parse the request and call `cchc.payments.services` (or the simulator); they never
write to the database themselves.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.dossiers import access
from cchc.dossiers.models import Dossier
from cchc.errors import DomainError, NotFound
from cchc.payments import callbacks, gateways, services, simulator
from cchc.payments.documents import print_receipt
from cchc.payments.models import OrderStatus, PaymentOrder
from cchc.ratelimit import limiter
from cchc.ratelimit.web import client_address, in_networks, too_many

RAW_QUERY_CAP = 4096  # bytes of an IPN's or a return's query read at all


def _client_ip(request: HttpRequest) -> str:
    address = client_address(request)
    return "127.0.0.1" if address == "unknown" else address


def _raw_query(request: HttpRequest) -> str:
    if request.method == "POST":  # re-encoded: the body stream has been read
        return request.POST.urlencode()[:RAW_QUERY_CAP]
    return str(request.META.get("QUERY_STRING", "") or "")[:RAW_QUERY_CAP]


def _dossier(code: str) -> Dossier:
    dossier = Dossier.objects.select_related("procedure").filter(code=code).first()
    if dossier is None:
        raise Http404(f"Không tìm thấy hồ sơ {code}.")
    return dossier


# -- the citizen's payment page ------------------------------------------------------------------


def _frame(request: HttpRequest, dossier: Dossier | None) -> dict[str, Any]:
    """Which layout a payment page uses and where its "back" link goes: officials keep the
    staff layout and go back to the dossier's page; citizens and anonymous payers (a pay
    link from tracking) get the public portal's layout and go back to their dossier or to
    the tracking page. (Portal pages are named by URL, never imported: portal sits above.)"""
    user = request.user
    code = dossier.code if dossier is not None else ""
    mine = f"← Quay lại hồ sơ {code}"
    if user.is_authenticated and policy.can(user, "dossier.view"):
        back = reverse("dossiers:detail", args=[code]) if code else ""
        return {"layout": "base.html", "portal": False, "back_url": back, "back_label": mine}
    if dossier is not None and access.is_applicant(user, dossier):
        with contextlib.suppress(NoReverseMatch):
            back = reverse("portal:dossier", args=[code])
            return {
                "layout": "portal/base.html",
                "portal": True,
                "back_url": back,
                "back_label": mine,
            }
    back = ""
    with contextlib.suppress(NoReverseMatch):
        back = reverse("portal:track")
    label = f"← Quay lại tra cứu hồ sơ {code}" if code else "← Quay lại tra cứu hồ sơ"
    return {"layout": "portal/base.html", "portal": True, "back_url": back, "back_label": label}


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, code: str) -> HttpResponse:
    token = request.POST.get("t") or request.GET.get("t") or ""
    dossier = Dossier.objects.select_related("procedure").filter(code=code).first()
    user = request.user
    can_pay = dossier is not None and services.may_pay_online(user, dossier, token)
    if dossier is None or (not can_pay and not services.may_view(user, dossier)):
        # The same answer whether or not the code exists: codes are guessable.
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return render(request, "404.html", {"message": f"Không tìm thấy hồ sơ {code}."}, status=404)
    available = gateways.available()
    if request.method == "POST":
        if not can_pay:
            return deny(request, "Chỉ người nộp hồ sơ mới thanh toán trực tuyến được hồ sơ này.")
        try:  # each attempt creates an order: limited like every anonymous POST
            limiter.check("payment", address=_client_ip(request), target=dossier.code)
        except limiter.RateLimited as exc:
            return too_many(request, exc)
        chosen = request.POST.get("gateway", "")
        return_url = (
            request.build_absolute_uri(reverse("payments:result"))
            + "?"
            + urlencode({"cong": chosen})
        )
        try:
            _order, url = services.start_online(
                user,
                dossier,
                gateway=chosen,
                return_url=return_url,
                ip=_client_ip(request),
                token=token or None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            target = reverse("payments:start", args=[dossier.code])
            return redirect(target + (f"?t={token}" if token else ""))
        return redirect(url)
    return render(
        request,
        "payments/start.html",
        {
            "d": dossier,
            "s": services.summary(dossier),
            "gateways": available,
            "can_pay": can_pay,
            "token": token,
            "can_view": services.may_view(user, dossier),
            **_frame(request, dossier),
        },
    )


def result(request: HttpRequest) -> HttpResponse:
    """Where the gateway sends the browser back. Shows what the IPN established; the
    browser's parameters are logged but never trusted for the order's state."""
    names = list(gateways.configured())
    name = request.GET.get("cong") or (names[0] if names else "")
    params = {k: v for k, v in request.GET.items() if k.startswith("vnp_")}
    try:  # every visit writes a callback record: limited per address and transaction
        limiter.check(
            "payment", address=_client_ip(request), target=params.get("vnp_TxnRef", "")[:100]
        )
    except limiter.RateLimited as exc:
        return too_many(request, exc)
    try:
        info = callbacks.handle_return(name, params, raw_query=_raw_query(request))
    except NotFound:
        raise Http404("Không có cổng thanh toán này.") from None
    order = info.order
    receipt = getattr(order, "receipt", None) if order is not None else None
    return render(
        request,
        "payments/result.html",
        {
            "info": info,
            "order": order,
            "receipt": receipt,
            "waiting": order is not None and order.status == OrderStatus.PENDING,
            "paid": order is not None and order.status == OrderStatus.PAID,
            "can_view": order is not None and services.may_view(request.user, order.dossier),
            **_frame(request, order.dossier if order is not None else None),
        },
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ipn(request: HttpRequest, gateway: str) -> HttpResponse:
    """Server-to-server notification from the gateway (VNPAY sends a GET). Only the
    gateway's addresses when `CCHC_PAYMENT_IPN_ALLOW` lists them; limited per address."""
    address = client_address(request)
    allowed = list(getattr(settings, "CCHC_PAYMENT_IPN_ALLOW", []) or [])
    if allowed and not in_networks(address, allowed):
        return JsonResponse({"RspCode": "99", "Message": "Forbidden"}, status=403)
    try:
        limiter.check("ipn", address=address)
    except limiter.RateLimited as exc:
        response = JsonResponse({"RspCode": "99", "Message": "Too many requests"}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    source = request.GET if request.method == "GET" else request.POST
    params = {k: v for k, v in source.items()}
    try:
        _answer, body = callbacks.handle_ipn(gateway, params, raw_query=_raw_query(request))
    except NotFound:
        return JsonResponse({"RspCode": "99", "Message": "Unknown gateway"}, status=404)
    return JsonResponse(body)


@requires()
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    receipt = services.receipt_for(request.user, number)
    content = print_receipt(request.user, receipt)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="bien-lai-{receipt.number}.pdf"'
    return response


# -- the desk -----------------------------------------------------------------------------------


def _back(dossier: Dossier) -> HttpResponse:
    return redirect(reverse("dossiers:detail", args=[dossier.code]) + "#payments-h")


@require_POST
@requires("dossier.receive")
def cash(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _dossier(code)
    try:
        receipt = services.record_cash(request.user, dossier, request.POST.get("amount"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Đã thu tiền mặt, biên lai số {receipt.number}.")
    return _back(dossier)


@require_POST
@requires("dossier.receive")
def exemption(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _dossier(code)
    try:
        services.record_exemption(
            request.user,
            dossier,
            reason=request.POST.get("reason", ""),
            amount=request.POST.get("amount") or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Đã ghi nhận miễn, giảm phí, lệ phí.")
    return _back(dossier)


@require_POST
@requires("dossier.receive")
def refund(request: HttpRequest, txn_ref: str) -> HttpResponse:
    order = PaymentOrder.objects.select_related("dossier").filter(txn_ref=txn_ref).first()
    if order is None:
        raise Http404("Không tìm thấy giao dịch.")
    try:
        services.refund(
            request.user,
            order,
            request.POST.get("amount"),
            request.POST.get("reason", ""),
            ip=_client_ip(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Đã hoàn trả qua cổng thanh toán giao dịch {order.txn_ref}.")
    return _back(order.dossier)


# -- the local gateway simulator ------------------------------------------------------------------


def _simulator_on() -> None:
    if not simulator.enabled():
        raise Http404("Trình giả lập cổng thanh toán không bật.")


def simulator_page(request: HttpRequest) -> HttpResponse:
    _simulator_on()
    checked = simulator.check_request(request.GET)
    return render(
        request,
        "payments/simulator.html",
        {
            "checked": checked,
            "query": request.GET.urlencode(),
            "hooks": simulator.HOOKS,
        },
        status=400 if checked.errors else 200,
    )


@require_POST
def simulator_submit(request: HttpRequest) -> HttpResponse:
    _simulator_on()
    original = QueryDict(request.POST.get("q", ""))
    checked = simulator.check_request(original)
    if checked.errors:
        return render(
            request,
            "payments/simulator.html",
            {"checked": checked, "query": "", "hooks": simulator.HOOKS},
            status=400,
        )
    try:
        done = simulator.complete(
            checked, request.POST.get("choice", ""), request.POST.get("hook", "")
        )
    except ValueError:
        return render(
            request,
            "payments/simulator.html",
            {"checked": checked, "query": original.urlencode(), "hooks": simulator.HOOKS},
            status=400,
        )
    return redirect(done.return_url)


@csrf_exempt
@require_POST
def simulator_api(request: HttpRequest) -> HttpResponse:
    """The simulated gateway's merchant API (querydr, refund): JSON in, JSON out."""
    _simulator_on()
    try:
        payload: Any = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"vnp_ResponseCode": "99", "vnp_Message": "Bad JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"vnp_ResponseCode": "99", "vnp_Message": "Bad JSON"}, status=400)
    return JsonResponse(simulator.merchant_api(payload))
