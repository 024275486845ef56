"""Generating the periodic reform report: one function for the page and the command.

`generate` checks that the actor may view the issuer's indicators (the dashboard's rule,
`indicators.services.check_view`), builds the report at one instant, renders the requested
formats and records the generation in the audit log (period, issuer, formats, the instant
the figures were computed at and a SHA-256 of each file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cchc import legaltime
from cchc.audit import log
from cchc.errors import InvalidInput
from cchc.indicators import periods
from cchc.indicators.periods import Period
from cchc.indicators.services import check_view
from cchc.reports import issuer as issuers
from cchc.reports import periodic
from cchc.reports.document import Report
from cchc.reports.plan_tasks import plan_for

VN = legaltime.VN_TZ


def _docx(report: Report) -> bytes:
    from cchc.reports import word  # startup cost: python-docx loads only for a Word file

    return word.render(report)


def _pdf(report: Report) -> bytes:
    from cchc.reports import pdf  # startup cost: WeasyPrint loads only for a PDF

    return pdf.render(report)


def _xlsx(report: Report) -> bytes:
    from cchc.reports import workbook  # startup cost: xlsxwriter loads only for a workbook

    return workbook.render(report)


@dataclass(frozen=True)
class Format:
    code: str
    label: str
    content_type: str
    render: Callable[[Report], bytes]


FORMATS: dict[str, Format] = {
    "docx": Format(
        "docx",
        "Word (.docx)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _docx,
    ),
    "pdf": Format("pdf", "PDF", "application/pdf", _pdf),
    "xlsx": Format(
        "xlsx",
        "Bảng số liệu Excel (.xlsx)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _xlsx,
    ),
}


@dataclass(frozen=True)
class Output:
    format: str
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def parse_formats(raw: str | Iterable[str]) -> list[str]:
    """ "docx,pdf" → ["docx", "pdf"] (order kept, duplicates dropped); InvalidInput for an
    unknown format."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        if item not in FORMATS:
            raise InvalidInput(
                f"Định dạng '{item}' không hợp lệ: dùng docx, pdf hoặc xlsx.",
                code="reports.format",
            )
        if item not in out:
            out.append(item)
    if not out:
        raise InvalidInput(
            "Cần chọn ít nhất một định dạng (docx, pdf, xlsx).", code="reports.format"
        )
    return out


def _instant(now: dt.datetime | None) -> dt.datetime:
    clock = timezone.now()
    instant = (now or clock).astimezone(VN)
    if instant > clock + dt.timedelta(minutes=1):
        raise InvalidInput(
            f"Thời điểm tổng hợp số liệu {instant:%H:%M %d/%m/%Y} ở tương lai.",
            code="reports.as_of",
        )
    return instant


@dataclass(frozen=True)
class Checked:
    """What `check` found: the period, the issuer's scope and the instant of the figures."""

    period: Period
    scope: issuers.Scope
    now: dt.datetime


def check(
    actor: object,
    *,
    period: str | Period,
    issuer: str,
    now: dt.datetime | None = None,
    formats: str | Iterable[str] | None = None,
) -> Checked:
    """Every refusal `generate` can give before it starts computing, in the same order and
    with the same messages, without computing anything: the formats, the period, the
    instant, the issuer, the actor's right to view its indicators and the plan the period
    is measured against. The web page calls it in the request and leaves the (long) work to
    the worker, which calls `generate` and so checks again at run time."""
    if formats is not None:
        parse_formats(formats)
    p = periods.parse(period) if isinstance(period, str) else period
    instant = _instant(now)
    if p.start > instant.date():
        raise InvalidInput(
            f"Kỳ báo cáo {p.label} chưa bắt đầu tại thời điểm tổng hợp số liệu "
            f"({instant:%d/%m/%Y}).",
            code="reports.period",
        )
    scope = issuers.resolve(issuer, p)
    check_view(actor, scope.filters)
    plan_for(p)  # NotFound when no plan applies (cheap: one selector)
    return Checked(p, scope, instant)


def build(
    actor: object,
    *,
    period: str | Period,
    issuer: str,
    now: dt.datetime | None = None,
    issue_date: dt.date | None = None,
    number: str | None = None,
    recipients: list[str] | None = None,
) -> Report:
    """The report for `issuer` (agency or unit code) and `period`, with figures computed at
    `now` (default: now). PermissionDenied unless `actor` may view those indicators."""
    checked = check(actor, period=period, issuer=issuer, now=now)
    return periodic.build(
        checked.scope,
        checked.period,
        now=checked.now,
        issue_date=issue_date or timezone.localdate(),
        number_=number,
        recipients=recipients,
    )


def generate(
    actor: object,
    *,
    period: str | Period,
    issuer: str,
    formats: str | Iterable[str] = ("docx", "pdf", "xlsx"),
    now: dt.datetime | None = None,
    issue_date: dt.date | None = None,
    number: str | None = None,
    recipients: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Output]:
    """Build, render every format in `formats` and record the generation (audited).
    `progress`, if given, is told (in Vietnamese) which step starts: the worker shows it on
    the request's page while a large report is made."""
    wanted = parse_formats(formats)
    tell = progress or (lambda _step: None)
    tell("Đang tổng hợp số liệu")
    report = build(
        actor,
        period=period,
        issuer=issuer,
        now=now,
        issue_date=issue_date,
        number=number,
        recipients=recipients,
    )
    outputs = []
    for code in wanted:
        f = FORMATS[code]
        tell(f"Đang dựng tệp {f.label}")
        outputs.append(Output(code, f"{report.file_stem}.{code}", f.content_type, f.render(report)))
    scope_agency = getattr(report.issuer, "code", "")
    with transaction.atomic():
        log.record(
            "reports.periodic.generated",
            actor=actor,
            data={
                "period": report.period_code,
                "issuer": scope_agency,
                "issuer_name": report.issuer.display_name,
                "formats": wanted,
                "as_of": report.as_of,
                "issue_date": report.issue_date,
                "number": report.number.replace("\u00a0", " ").strip(),
                "files": {o.filename: o.sha256 for o in outputs},
            },
            agency_id=report.summary.get("agency_id"),
            at=timezone.now(),
        )
    return outputs
