"""Weekly ranking snapshots (issue 18): the province's own copy of the board the national
portal (Cổng DVC quốc gia, "Bộ chỉ số phục vụ người dân, doanh nghiệp", QĐ 766) publishes,
taken once a week and kept, so a leader sees how each agency's rank moved week after week.

What a snapshot measures. The portal shows each agency's 766 total on 100 for the year to
date at the moment it refreshes. The snapshot of ISO week W is therefore the ranking
(`services.ranking`, the same computation as the dashboard's "Xếp hạng cơ quan") over the
year to date up to the end of W's Sunday, at the instant the week ended (Monday 00:00,
Vietnamese time): 1 January of the Sunday's year to that Sunday. Week 1 of a year that
starts in December (2026-W01 runs 29/12/2025–04/01/2026) thus measures 1–4 January 2026.
The dossiers in progress at that instant (766 2a) are the engine's stored count of a past
instant (`cchc.indicators.progress`), so taking the week on Monday morning or weeks later
gives the same figures.

Who is ranked. Two boards, as the portal ranks inside a province: the province-level
agencies (sở, ban, ngành — agencies whose type is of the province level) and the
commune-level People's Committees (UBND xã, phường: the commune-level agencies, which
receive and decide the commune's dossiers). Agencies are placed under today's organisation
("current" units: figures of a merged agency go to its successor), as the dashboard does.

Rank: 1 + the number of agencies with a strictly higher score (equal scores share a rank);
an agency without a 766 score (no sub-indicator with data) is listed without a rank. The
change in rank is read against the latest earlier snapshot of the same kind (`changes`).

Snapshots are immutable: a week already taken is reported and left as it is; every
snapshot written is audited (`indicators.ranking.snapshot`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cchc import legaltime
from cchc.audit import log
from cchc.errors import InvalidInput
from cchc.indicators import definitions, services
from cchc.indicators.figures import Filters, q2
from cchc.indicators.models import RankingEntry, RankingKind, RankingSnapshot
from cchc.indicators.periods import Period
from cchc.webkit.params import shown

VN = legaltime.VN_TZ
UNITS = "current"
# The level of the agencies each board ranks (`org.UnitLevel.code`).
LEVELS = {RankingKind.AGENCY: "province", RankingKind.COMMUNE: "commune"}
KIND_LABELS = {RankingKind.AGENCY: "Cơ quan", RankingKind.COMMUNE: "Cấp xã"}
SCHEDULE_TEXT = "thứ Hai 06:00"
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday, Vietnamese calendar days)."""

    year: int
    number: int

    @property
    def code(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def end(self) -> dt.datetime:
        """The instant the week ends: the next Monday at 00:00, Vietnamese time."""
        return dt.datetime.combine(self.monday + dt.timedelta(days=7), dt.time(0), tzinfo=VN)

    @property
    def label(self) -> str:
        return f"Tuần {self.number:02d}/{self.year} ({self.monday:%d/%m}–{self.sunday:%d/%m/%Y})"

    @property
    def period(self) -> Period:
        """The year to date at the week's end (see the module's docstring)."""
        start = dt.date(self.sunday.year, 1, 1)
        return Period(
            f"{self.code}-YTD",
            f"Lũy kế từ {start:%d/%m/%Y} đến hết {self.sunday:%d/%m/%Y}",
            "ytd",
            start,
            self.sunday,
        )

    @classmethod
    def of(cls, day: dt.date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def previous(self) -> Week:
        return Week.of(self.monday - dt.timedelta(days=7))


def parse_week(raw: str) -> Week:
    """`2026-W49` (also `2026W49`, `2026-w49`); InvalidInput for anything else, or a week
    number the year does not have (W53 exists only in some years)."""
    match = _WEEK.match((raw or "").strip())
    if not match:
        raise InvalidInput(
            f"Tuần không hợp lệ: '{shown(raw)}'. Hãy ghi theo ISO 8601, ví dụ 2026-W49.",
            code="indicators.week",
        )
    year, number = int(match[1]), int(match[2])
    try:
        dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise InvalidInput(
            f"Năm {year} không có tuần {number} (tuần ISO từ 1 đến 52 hoặc 53).",
            code="indicators.week",
        ) from None
    return Week(year, number)


def last_ended(now: dt.datetime) -> Week:
    """The latest week that has ended by `now` (on Monday 06:00: the week just ended)."""
    return Week.of(now.astimezone(VN).date()).previous()


def check_ended(week: Week, now: dt.datetime) -> None:
    if week.end > now:
        raise InvalidInput(
            f"{week.label} chưa kết thúc (số liệu chốt lúc 00:00 ngày "
            f"{week.end:%d/%m/%Y}); chỉ chụp được xếp hạng của tuần đã qua.",
            code="indicators.week_future",
        )


@dataclass
class Taken:
    """The outcome of taking one kind of one week: `created`, `exists` (already taken,
    left unchanged) or `dry-run` (computed, not written)."""

    week: Week
    kind: str
    outcome: str
    rows: list[RankingEntry] = field(default_factory=list)
    snapshot: RankingSnapshot | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "week": self.week.code,
            "kind": self.kind,
            "outcome": self.outcome,
            "ranked": len(self.rows) if self.snapshot is None else self.snapshot.ranked,
        }


def definition_version(period: Period) -> str:
    """The definitions the figures come from: the 766 set and the plan giving T4."""
    d766 = definitions.current("index766", on=period.end)
    plan = definitions.current("plan", services.DEFAULT_PLAN, on=period.end)
    return f"{d766.code}@{d766.version}; {plan.code}@{plan.version}"


def ranks(scores: Iterable[Any]) -> list[int | None]:
    """Competition ranks of scores listed best first (None = no score, no rank)."""
    scores = list(scores)
    out: list[int | None] = []
    for n, score in enumerate(scores):
        if score is None:
            out.append(None)
        elif n and scores[n - 1] == score:
            out.append(out[-1])
        else:
            out.append(n + 1)
    return out


def compute(week: Week, kind: str, *, now: dt.datetime) -> list[RankingEntry]:
    """The rows of `kind`'s ranking at the end of `week` (unsaved)."""
    ranked = services.ranking(
        week.period, Filters(level=LEVELS[RankingKind(kind)], units=UNITS), now=now
    )
    return [
        RankingEntry(
            position=n,
            rank=rank,
            agency_id=r.agency_id,
            name=r.name[:255],
            score_100=q2(r.total_100),
            points=q2(r.total),
            max_points=q2(r.max_total),
            on_time=q2(r.t4),
            received=r.received,
            finished=r.finished,
        )
        for n, (r, rank) in enumerate(
            zip(ranked, ranks(r.total_100 for r in ranked), strict=True), 1
        )
    ]


def take(
    week: Week,
    *,
    actor: Any,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    kinds: Iterable[str] = tuple(RankingKind.values),
) -> list[Taken]:
    """Take the snapshots of `week` (each kind once; a kind already taken is left as it is
    and reported). InvalidInput for a week that has not ended."""
    now = now or timezone.now()
    check_ended(week, now)
    out = []
    for kind in kinds:
        existing = RankingSnapshot.objects.filter(kind=kind, monday=week.monday).first()
        if existing is not None:
            out.append(Taken(week, kind, "exists", snapshot=existing))
            continue
        rows = compute(week, kind, now=now)
        if dry_run:
            out.append(Taken(week, kind, "dry-run", rows=rows))
            continue
        out.append(_write(week, kind, rows, actor=actor, now=now))
    return out


def _write(
    week: Week, kind: str, rows: list[RankingEntry], *, actor: Any, now: dt.datetime
) -> Taken:
    period = week.period
    try:
        with transaction.atomic():
            snap = RankingSnapshot.objects.create(
                kind=kind,
                week=week.code,
                monday=week.monday,
                period_start=period.start,
                period_end=period.end,
                instant=week.end,
                taken_at=now,
                units=UNITS,
                definition_version=definition_version(period),
                ranked=len(rows),
            )
            for row in rows:
                row.snapshot = snap
            RankingEntry.objects.bulk_create(rows)
            log.record(
                "indicators.ranking.snapshot",
                actor=actor,
                obj=snap,
                at=now,
                data={
                    "kind": kind,
                    "week": week.code,
                    "period": [period.start, period.end],
                    "instant": week.end,
                    "definition_version": snap.definition_version,
                    "ranked": len(rows),
                    "first": rows[0].name if rows else None,
                },
            )
    except IntegrityError:
        # Taken by a concurrent run between the check and the write: that one stands.
        existing = RankingSnapshot.objects.get(kind=kind, monday=week.monday)
        return Taken(week, kind, "exists", snapshot=existing)
    return Taken(week, kind, "created", rows=rows, snapshot=snap)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A rank against the previous snapshot: `up`/`down` by `steps`, `same`, `new` (not
    ranked then), `none` (no rank now, or no earlier snapshot to compare with)."""

    kind: str
    steps: int = 0

    @property
    def symbol(self) -> str:
        return {
            "up": f"▲{self.steps}",
            "down": f"▼{self.steps}",
            "same": "=",
            "new": "mới",
        }.get(self.kind, "—")

    @property
    def words(self) -> str:
        """The change for a screen reader (and the downloads): never the colour alone."""
        return {
            "up": f"tăng {self.steps} bậc",
            "down": f"giảm {self.steps} bậc",
            "same": "giữ nguyên hạng",
            "new": "mới có trong bảng xếp hạng",
        }.get(self.kind, "không so sánh được")


def change(rank: int | None, before: int | None, *, compared: bool) -> Change:
    """`rank` now against `before` (the agency's rank in the previous snapshot, None when it
    was not ranked there); `compared` False when there is no previous snapshot."""
    if rank is None or not compared:
        return Change("none")
    if before is None:
        return Change("new")
    if before > rank:
        return Change("up", before - rank)
    if before < rank:
        return Change("down", rank - before)
    return Change("same")


def changes(
    current: list[RankingEntry], previous: list[RankingEntry] | None
) -> list[tuple[RankingEntry, Change]]:
    """Each row of `current` with its change against `previous` (None: no earlier
    snapshot of that kind)."""
    before = {r.agency_id: r.rank for r in previous or []}
    return [
        (r, change(r.rank, before.get(r.agency_id), compared=previous is not None)) for r in current
    ]
