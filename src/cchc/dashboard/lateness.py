"""Which agencies are late (issue 18, item 1): one row per agency in the viewer's reach with
the dossiers open past their due now, the dossiers finished late in the period, the open
overdue ones without a letter of apology, the share finished early or on time, and how that
share moved against the previous period of the same kind.

- An agency is the dossier's *competent* agency, placed the way the indicator engine places
  it (`Context.places`: today's agencies by default, or as they were), so a row agrees with
  the agency's T4 and its drill-down, and the page's filters (level, unit, agency,
  procedure, channel) apply exactly as they apply to every other figure of the page.
- *Open overdue now*: a received dossier whose legal clock runs and whose due has passed,
  or one paused (waiting for a supplement or a financial obligation) after its due had
  already passed. A dossier paused before its due is not late: its due moves when the clock
  restarts. *Without apology* is the same set without a letter of apology recorded — exactly
  the daily scan's list (`cchc.dossiers.risk.overdue_without_apology_q`).
- *Finished late*, *finished* and the on-time share are the engine's cells of finished
  dossiers in the period (`early + on_time` over `finished`: the plan's T4 per agency).
- Trend: the on-time share against `periods.previous(period)` (the month before, last
  year's same PAR report…), as an arrow and a word, never colour alone.

Four queries whatever the number of agencies or dossiers: the placement of agencies (shared
with the rest of the page within `memo.reading`), one grouped count over open dossiers and
one grouped sum over the finished cells of each of the two periods.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from cchc.dashboard import selection
from cchc.dossiers.models import CLOCK_RUNNING, PAUSED_STATES, Dossier
from cchc.indicators import cellcache, periods
from cchc.indicators.figures import q2
from cchc.indicators.measures import Context

# Moves of the on-time share smaller than this (percentage points) are "unchanged": a
# handful of dossiers would otherwise flip the arrow every period.
STEADY = Decimal("0.5")
TRENDS = {
    "up": ("↑", "Tốt lên"),
    "down": ("↓", "Xấu đi"),
    "flat": ("→", "Giữ nguyên"),
    "none": ("–", "Chưa so sánh được"),
}


def overdue_q(now: dt.datetime) -> Q:
    """Open dossiers past their due at `now` (see the module's docstring). `is_open` is
    implied by the states (the projection sets it from them) and stated so that the
    database reads the open dossiers' index, not the whole table: SQLite answered the
    province's count at 1 M dossiers in 2.3 s by a full scan, 0.09 s through the index."""
    return Q(is_open=True) & (
        Q(state__in=CLOCK_RUNNING, due__lt=now)
        | Q(state__in=PAUSED_STATES, due__lt=now, paused_since__gt=F("due"))
    )


@dataclass(frozen=True)
class Trend:
    key: str
    icon: str
    text: str


def trend(share: Decimal | None, before: Decimal | None) -> Trend:
    if share is None or before is None:
        key = "none"
    elif share - before >= STEADY:
        key = "up"
    elif before - share >= STEADY:
        key = "down"
    else:
        key = "flat"
    icon, text = TRENDS[key]
    return Trend(key, icon, text)


@dataclass
class Late:
    agency_id: int
    name: str
    open_overdue: int = 0
    without_apology: int = 0
    finished: int = 0
    finished_late: int = 0
    on_time: int = 0
    finished_before: int = 0
    on_time_before: int = 0

    @property
    def share(self) -> Decimal | None:
        """Finished early or on time, % of finished (None without finished dossiers: no
        data is not 0 % nor 100 %)."""
        return q2(Decimal(self.on_time) * 100 / self.finished) if self.finished else None

    @property
    def share_before(self) -> Decimal | None:
        if not self.finished_before:
            return None
        return q2(Decimal(self.on_time_before) * 100 / self.finished_before)

    @property
    def trend(self) -> Trend:
        return trend(self.share, self.share_before)

    def sort_key(self) -> tuple[Any, ...]:
        share = self.share if self.share is not None else Decimal(101)
        return (-self.open_overdue, -self.without_apology, -self.finished_late, share, self.name)


def _finished(ctx: Context) -> dict[int, tuple[int, int, int]]:
    """{competent agency id: (finished, finished late, finished early or on time)}."""
    rows = cellcache.rows(
        ctx.cells("f")
        .values("competent_agency_id")
        .annotate(n=Sum("finished"), late=Sum("overdue"), early=Sum("early"), on=Sum("on_time"))
        .order_by()
    )
    return {
        r["competent_agency_id"]: (
            int(r["n"] or 0),
            int(r["late"] or 0),
            int(r["early"] or 0) + int(r["on"] or 0),
        )
        for r in rows
    }


def lateness(
    user: Any, period: periods.Period, filters: Any, *, now: dt.datetime | None = None
) -> list[Late]:
    """The agencies with something to report (open overdue dossiers, or dossiers finished in
    this period or the previous one) within `user`'s reach, latest first."""
    now = now or timezone.now()
    ctx = Context(period, filters, now=now)
    before = Context(periods.previous(period), filters, now=now, places=ctx.places)
    who = selection.reach(user)
    rows: dict[int, Late] = {}

    def row(competent_id: int) -> Late | None:
        placed = ctx.places.get(competent_id)
        if placed is None or not who.covers(placed.agency_id):
            return None
        if placed.agency_id not in rows:
            rows[placed.agency_id] = Late(placed.agency_id, placed.name)
        return rows[placed.agency_id]

    open_late = ctx.by_agency(Dossier.objects.filter(overdue_q(now)), "competent_agency_id")
    if filters.procedure_id:
        open_late = open_late.filter(procedure_id=filters.procedure_id)
    if filters.channel:
        open_late = open_late.filter(channel=filters.channel)
    counts = (
        open_late.values("competent_agency_id")
        .annotate(n=Count("pk"), bare=Count("pk", filter=Q(has_apology=False)))
        .order_by()
    )
    for c in counts:
        if (r := row(c["competent_agency_id"])) is not None:
            r.open_overdue += c["n"]
            r.without_apology += c["bare"]
    for agency_id, (n, late_n, on) in _finished(ctx).items():
        if (r := row(agency_id)) is not None:
            r.finished += n
            r.finished_late += late_n
            r.on_time += on
    for agency_id, (n, _, on) in _finished(before).items():
        if (r := row(agency_id)) is not None:
            r.finished_before += n
            r.on_time_before += on
    return sorted(rows.values(), key=Late.sort_key)
