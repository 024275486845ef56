"""The periodic reform report (báo cáo định kỳ kết quả công tác CCHC) as a `Report`.

Every figure comes from the indicator engine (`plan_results`, `index766`) and the plan
monitor (`task_states`) computed at one instant (`now`); every sentence is written from
those figures, and says so when a figure is missing. Nothing here is invented: no
achievements, no causes, no directions for the next period.

Who issues it: `reports.issuer`; the plan and its due tasks: `reports.plan_tasks`; each
section: `reports.sections` (sentences and tables in `reports.sentences`, `reports.tables`).
"""

from __future__ import annotations

import datetime as dt

from cchc import legaltime
from cchc.indicators.periods import Period
from cchc.reports import sections, wording
from cchc.reports.document import Report
from cchc.reports.issuer import Scope, default_recipients

VN = legaltime.VN_TZ


def metadata_date(period: Period) -> dt.datetime:
    """The document date written into file metadata: the first instant after the period
    (the data cut-off), so the same report gives the same bytes whenever it is made."""
    return dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), tzinfo=VN)


def number_text(symbol: str, number_: str | None) -> str:
    """ "…/BC-UBND" with the number blank (as in drafts) unless given; a full number with a
    slash ("45/BC-SNV") is used as it is."""
    raw = (number_ or "").strip()
    if "/" in raw:
        return raw
    return f"{raw or chr(0xA0) * 6}/BC-{symbol}"


def build(
    scope: Scope,
    period: Period,
    *,
    now: dt.datetime,
    issue_date: dt.date,
    number_: str | None = None,
    recipients: list[str] | None = None,
) -> Report:
    """The report for `scope` and `period` with the figures as they stand at `now`.
    NotFound when no plan applies to the period."""
    figures = sections.gather(scope, period, now=now)
    issuer = scope.issuer
    return Report(
        issuer=issuer,
        number=number_text(issuer.symbol, number_),
        place_date=wording.place_and_date(issuer.place, issue_date),
        title="BÁO CÁO",
        subject=f"Kết quả công tác cải cách hành chính {figures.phrase}",
        data_window=wording.data_window(period),
        period_code=period.code,
        sections=sections.all_sections(figures),
        recipients=list(recipients) if recipients else default_recipients(scope, period),
        metadata_date=metadata_date(period),
        as_of=figures.as_of,
        issue_date=issue_date,
        file_stem=f"bao-cao-cchc-{wording.slug(period.code)}-{wording.slug(scope.code)}",
        summary={
            "agency_id": scope.agency_id,
            "targets": {r.code: r for r in figures.results},
            "late": [
                (line.task.code, line.item.period, line.item.status.value)
                for line in figures.lines
                if not line.on_time
            ],
            "index766": figures.idx,
        },
    )
