"""The "Báo cáo định kỳ" page under the dashboard (/chi-so/bao-cao/): choose a period, an
issuer and a format; the POST downloads the file. Permission and audit are the service's
(`cchc.reports.services.generate`); this view only parses the form and shapes the answer."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.access import requires
from cchc.dashboard import selection
from cchc.errors import DomainError
from cchc.indicators import periods
from cchc.indicators.services import Filters, check_view
from cchc.org.models import AdministrativeUnit
from cchc.reports import services


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
    }


@requires("indicator.view")
def periodic(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    values = {
        "period": (source.get("period") or "").strip() or f"{timezone.localdate().year}-BC-Q1",
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
        (output,) = services.generate(
            request.user,
            period=values["period"],
            issuer=values["issuer"],
            formats=[values["format"]],
            issue_date=issue_date,
            number=values["number"] or None,
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
    response = HttpResponse(output.content, content_type=output.content_type)
    response["Content-Disposition"] = f'attachment; filename="{output.filename}"'
    return response
