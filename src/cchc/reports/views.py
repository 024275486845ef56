"""The "Báo cáo định kỳ" page under the dashboard (/chi-so/bao-cao/): choose a period, an
issuer and a format. The POST checks the form and the permission at once (same messages
and statuses as ever), records the request and queues it for the worker
(`cchc.reports.jobs.ask`), then sends the user to the request's page, which reloads itself
until the file is ready and then offers it. Only the requester sees a request or its file,
and only while they may still view the issuer's indicators. Permission and audit are the
services' (`reports.services`, `reports.jobs`); these views parse and shape the answer."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.access import requires
from cchc.dashboard import selection
from cchc.errors import DomainError, NotFound
from cchc.indicators import periods
from cchc.indicators.services import Filters, check_view
from cchc.jobs import health
from cchc.org.models import AdministrativeUnit
from cchc.reports import jobs, services
from cchc.reports.models import GOING, RequestState

REFRESH_SECONDS = 3  # the request's page reloads itself this often while the job goes on


def _issuers(user: Any) -> dict[str, list[tuple[str, str]]]:
    """Issuer choices (code, label) the user may report for: province-level units (their
    People's Committee) for province-wide viewers, and the agencies in their reach."""

    units: dict[str, list[str]] = {}
    current: set[str] = set()  # codes of units that still exist: listed first (the default)
    if selection.reach(user).province:
        for u in AdministrativeUnit.objects.filter(level__rank=1).order_by("code", "valid_from"):
            try:
                check_view(user, Filters(unit_id=u.pk))
            except DomainError:
                continue
            until = f" đến {u.valid_to - dt.timedelta(days=1):%d/%m/%Y}" if u.valid_to else ""
            units.setdefault(u.code, []).append(f"{u.name}{until}")
            if u.valid_to is None:
                current.add(u.code)
    agencies = []
    for a in policy.visible_agencies(user, "indicator.view").order_by("name", "-valid_from"):
        until = f", đến {a.valid_to - dt.timedelta(days=1):%d/%m/%Y}" if a.valid_to else ""
        agencies.append((a.code, f"{a.name} ({a.code}{until})"))
    return {
        "units": [
            (code, f"UBND — {' / '.join(names)} (mã {code})")
            for code, names in sorted(units.items(), key=lambda kv: kv[0] not in current)
        ],
        "agencies": agencies,
    }


def _context(request: HttpRequest, values: dict[str, str], error: str = "") -> dict[str, Any]:

    year = timezone.localdate().year
    years = {year, year - 1, year - 2}
    with contextlib.suppress(DomainError):
        years.add(periods.parse(values["period"]).end.year)
    return {
        "values": values,
        "error": error,
        "period_groups": [(y, periods.choices(y)) for y in sorted(years, reverse=True)],
        "issuers": _issuers(request.user),
        "formats": [(f.code, f.label) for f in services.FORMATS.values()],
        "recent": jobs.recent(request.user),
    }


@requires("indicator.view")
def periodic(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    values = {
        "period": (source.get("period") or "").strip()
        or periods.report_due(timezone.localdate()).code,
        "issuer": (source.get("issuer") or "").strip(),
        "format": (source.get("format") or "docx").strip(),
        "number": (source.get("number") or "").strip(),
        "date": (source.get("date") or "").strip() or timezone.localdate().isoformat(),
    }
    if request.method != "POST":
        return render(request, "reports/periodic_form.html", _context(request, values))
    try:
        issue_date = dt.date.fromisoformat(values["date"])
    except ValueError:
        return render(
            request,
            "reports/periodic_form.html",
            _context(request, values, f"Ngày báo cáo '{values['date']}' không hợp lệ."),
            status=400,
        )
    try:
        req = jobs.ask(
            request.user,
            period=values["period"],
            issuer=values["issuer"],
            format=values["format"],
            number=values["number"],
            issue_date=issue_date,
        )
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        return render(
            request,
            "reports/periodic_form.html",
            _context(request, values, exc.message),
            status=exc.http_status,
        )
    return HttpResponseRedirect(reverse("reports:request", args=[req.pk]), status=303)


@requires()
def request_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a request stands; reloads itself (meta refresh, no JavaScript needed) while
    the worker has not finished, then offers the download."""
    req = jobs.for_user(request.user, pk)
    state = jobs.state_of(req)
    going = state in GOING
    worker_down = False
    if state == RequestState.QUEUED and not getattr(settings, "Q_CLUSTER", {}).get("sync"):
        worker_down = not health.freshness()["worker"]["fresh"]
    context = {
        "req": req,
        "state": state,
        "state_label": RequestState(state).label,
        "going": going,
        "refresh": REFRESH_SECONDS if going else None,
        "worker_down": worker_down,
        "stored": state == RequestState.DONE and jobs.stored_path(req) is not None,
        "error": req.error or (jobs.INTERRUPTED if state == RequestState.INTERRUPTED else ""),
        "form_query": urlencode(req.params),
    }
    return render(request, "reports/request.html", context)


@requires()
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file of a finished request, to its requester only (404 to anyone else)."""
    req = jobs.for_user(request.user, pk)
    path = jobs.stored_path(req) if req.state == RequestState.DONE else None
    if path is None:
        raise NotFound(
            "Báo cáo chưa lập xong hoặc tệp không còn được lưu; hãy lập lại báo cáo.",
            code="reports.file",
        )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=req.filename,
        content_type=req.content_type,
    )
