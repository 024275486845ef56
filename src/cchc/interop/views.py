"""Downloads of the exports (`cchc.interop.exports`) under /xuat-du-lieu/: the officers'
dossier list (dossiers and their events, with the list's filters) and the dashboard's full
indicator results. CSV is streamed as it is produced; XLSX and Parquet are written to an
anonymous temporary file, then sent. Every download is audited by the export itself."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from cchc.accounts.access import requires
from cchc.dashboard import selection
from cchc.dossiers import queries
from cchc.errors import InvalidInput
from cchc.indicators.plan_choice import plan_for
from cchc.interop import exports


def _format(request: HttpRequest) -> str:
    return exports.check_format((request.GET.get("format") or "csv").strip().lower())


def send(export: exports.Export, fmt: str) -> HttpResponse:
    """The download response of `export` in `fmt`."""
    name = export.filename(fmt)
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(
            export.csv_stream(), content_type=exports.content_type(fmt)
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            exports.spool(export, fmt),
            as_attachment=True,
            filename=name,
            content_type=exports.content_type(fmt),
        )
    response["Cache-Control"] = "no-store"  # may hold personal data
    return response


def _back(request: HttpRequest, name: str) -> HttpResponse:
    query = request.GET.copy()
    query.pop("format", None)
    target = reverse(name)
    return redirect(f"{target}?{query.urlencode()}" if query else target)


def _dossier_like(request: HttpRequest, build: Any) -> HttpResponse:

    try:
        fmt = _format(request)
        filters = exports.filters_from_query(request.GET, queue=queries.queue_filters(request.GET))
        export = build(request.user, filters, now=timezone.now())
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return _back(request, "dossiers:queue")
    return send(export, fmt)


@requires("dossier.view")
def dossiers(request: HttpRequest) -> HttpResponse:
    return _dossier_like(request, exports.dossier_export)


@requires("dossier.view")
def events(request: HttpRequest) -> HttpResponse:
    return _dossier_like(request, exports.event_export)


@requires("indicator.view")
def indicators(request: HttpRequest) -> HttpResponse:
    """Plan targets and the 766 index for the dashboard's selection (its filters, its
    scope rules: an agency leader gets their own agency only)."""
    try:
        fmt = _format(request)
        sel = selection.parse(request.GET, request.user)
        plan = plan_for(sel.period)
        export = exports.indicator_export(
            request.user,
            sel.period,
            sel.filters,
            plan_code=plan.code if plan else None,
            now=timezone.now(),
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return _back(request, "dashboard:overview")
    return send(export, fmt)
