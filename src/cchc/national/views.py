"""The administrators' pages for what comes from the national portal: the catalogue sync
to review (the difference as a table, "Áp dụng" / "Từ chối", the history) and the dossiers
received from the portal (refused ones with their reason). Thin views over
`cchc.national.catalogue` and `cchc.national.inbound`; nothing here calls the portal."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cchc.accounts.access import requires
from cchc.errors import DomainError
from cchc.national import catalogue, inbound
from cchc.national.models import CatalogState, CatalogSync, InboundState
from cchc.privacy import mask_name

PERMISSION = catalogue.PERMISSION  # administrators


@requires(PERMISSION)
def catalogue_page(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    history = list(CatalogSync.objects.select_related("reviewed_by")[:50])
    if pk is not None:
        sync = get_object_or_404(CatalogSync.objects.select_related("reviewed_by"), pk=pk)
    else:
        sync = next((s for s in history if s.state == CatalogState.PENDING), None)
        sync = sync or (history[0] if history else None)
    return render(
        request,
        "national/catalogue.html",
        {
            "sync": sync,
            "rows": catalogue.rows(sync) if sync is not None else [],
            "pending": sync is not None and sync.state == CatalogState.PENDING,
            "history": history,
        },
    )


@requires(PERMISSION)
@require_POST
def catalogue_decide(request: HttpRequest, pk: int) -> HttpResponse:
    action = request.POST.get("action", "")
    try:
        if action == "apply":
            sync = catalogue.apply(request.user, pk, timezone.now())
            failed = sum(1 for v in sync.diff.get("outcome", {}).values() if v.startswith("Lỗi"))
            messages.success(
                request,
                "Đã áp dụng thay đổi từ CSDL quốc gia"
                + (f"; {failed} thủ tục chưa áp dụng được (xem cột Kết quả)." if failed else "."),
            )
        elif action == "reject":
            catalogue.reject(request.user, pk, request.POST.get("note", ""), now=timezone.now())
            messages.success(request, "Đã từ chối lần đồng bộ này; danh mục không thay đổi.")
        else:
            messages.error(request, "Thao tác không hợp lệ.")
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        messages.error(request, exc.message)
    return redirect("national:catalogue_sync", pk=pk)


@requires(PERMISSION)
def inbound_page(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("trang-thai") or None
    if state not in InboundState.values:
        state = None
    rows = [
        {
            "row": r,
            "procedure": str((r.payload or {}).get("MaTTHC", "")),
            "applicant": mask_name(str((r.payload or {}).get("ChuHoSo", ""))),
        }
        for r in inbound.listing(state=state)
    ]
    return render(
        request,
        "national/inbound.html",
        {"rows": rows, "state": state, "states": InboundState.choices},
    )
