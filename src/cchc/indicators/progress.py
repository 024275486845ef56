"""Dossiers in progress at a past report instant (766 2a counts the dossiers still being
processed at the end of the period, and those of them still within their due).

For the running period the instant is "now" and the count is an indexed query over the open
dossiers (`cchc.indicators.measures`). For a past instant the same question would read
every dossier finished after it, which grows with the history; so a past instant is counted
once, on first use, from the dossiers (`counted`), stored per cell key (without the day) in
`Progress`, and from then on kept up to date by the dossier events in their own transaction,
like the cells (`follow`). `cchc indicators rebuild` forgets the stored instants (they are
counted again on use); `cchc indicators verify` recounts them.

A dossier is in progress at T when it was received before T and not finished before T; it is
within its due at T when its due is at or after T and it had at most one supplement request
(766: a second request counts as overdue).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Q, Sum, When
from django.utils import timezone

from cchc import legaltime
from cchc.dossiers.models import Dossier
from cchc.indicators.models import Progress, ProgressInstant

Row = Mapping[str, Any]
VN = legaltime.VN_TZ
KEY = ("competent_agency_id", "receiving_agency_id", "procedure_id", "channel", "online_level")


def on_time_q(instant: dt.datetime) -> Q:
    return Q(due__gte=instant) & Q(supplement_requests__lte=1)


def in_progress_q(instant: dt.datetime) -> Q:
    return Q(received_at__lt=instant) & (Q(finished_at__isnull=True) | Q(finished_at__gte=instant))


def _in_progress(d: Row | None, instant: dt.datetime) -> bool:
    if d is None or d["received_at"] is None or d["received_at"] >= instant:
        return False
    return d["finished_at"] is None or d["finished_at"] >= instant


def _on_time(d: Row, instant: dt.datetime) -> bool:
    return d["due"] is not None and d["due"] >= instant and d["supplement_requests"] <= 1


def count_from_dossiers(instant: dt.datetime) -> list[tuple[Any, ...]]:
    """[(*key, in progress, within due)] at `instant`, straight from the dossiers, as two
    indexed parts: still open (the partial open-dossier index) and finished since (the
    `dossier_finished` index). For a recent instant both are small, so counting the instant
    that has just passed is cheap (`cchc indicators snapshot`)."""
    parts = (
        Dossier.objects.filter(is_open=True, received_at__lt=instant),
        Dossier.objects.filter(finished_at__gte=instant, received_at__lt=instant),
    )
    merged: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for part in parts:
        rows = (
            part.order_by()
            .values(*KEY)
            .annotate(
                n=Count("pk"),
                ok=Sum(
                    Case(When(on_time_q(instant), then=1), default=0, output_field=IntegerField())
                ),
            )
            .values_list(*KEY, "n", "ok")
        )
        for row in rows.iterator(chunk_size=5000):
            cell = merged[tuple(row[:5])]
            cell[0] += row[5]
            cell[1] += int(row[6] or 0)
    return [(*key, n, ok) for key, (n, ok) in merged.items()]


def report_instants(year: int, *, now: dt.datetime, cutoff_day: int) -> list[dt.datetime]:
    """The ends of the reporting periods of `year` that have passed by `now`: the start of
    every month (calendar periods) and the PAR cut-off day of March, June, September and
    December (the day after the periods' last day), at 00:00 Vietnamese time."""
    out = []
    for month in range(1, 13):
        days = [dt.date(year, month, 1)]
        if month in (3, 6, 9, 12):
            days.append(dt.date(year, month, cutoff_day))
        out += [dt.datetime.combine(d, dt.time(0), tzinfo=VN) for d in days]
    out.append(dt.datetime(year + 1, 1, 1, tzinfo=VN))
    return sorted(t for t in set(out) if t <= now)


def snapshot(*, now: dt.datetime, cutoff_day: int) -> list[dt.datetime]:
    """Count every report instant of this and last year that has passed and is not stored
    yet; returns the instants counted. Run daily (after midnight): the instant that has just
    passed is counted from the few dossiers open or finished since."""
    done = []
    for year in (now.year - 1, now.year):
        for instant in report_instants(year, now=now, cutoff_day=cutoff_day):
            if not ProgressInstant.objects.filter(instant=instant).exists():
                counted(instant)
                done.append(instant)
    return done


def _lock() -> None:
    """Serialise counting an instant with the events that change stored counts (PostgreSQL;
    SQLite has a single writer anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Progress._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def counted(instant: dt.datetime) -> ProgressInstant:
    """The stored count of `instant`, counting it first if needed."""
    found = ProgressInstant.objects.filter(instant=instant).first()
    if found is not None:
        return found
    with transaction.atomic():
        _lock()
        found = ProgressInstant.objects.filter(instant=instant).first()
        if found is not None:
            return found
        at = ProgressInstant.objects.create(instant=instant, computed_at=timezone.now())
        Progress.objects.bulk_create(
            [
                Progress(
                    at=at,
                    **dict(zip(KEY, row[:5], strict=True)),
                    in_progress=row[5],
                    in_progress_on_time=int(row[6] or 0),
                )
                for row in count_from_dossiers(instant)
            ],
            batch_size=2000,
        )
    return at


def totals(instant: dt.datetime, narrow: Any) -> dict[str, int]:
    """In progress and within due at a past `instant`, over the stored rows that `narrow`
    (a function filtering a queryset by the report's agencies, procedure, channel) keeps."""
    at = counted(instant)
    sums = narrow(Progress.objects.filter(at=at)).aggregate(
        n=Sum("in_progress"), ok=Sum("in_progress_on_time")
    )
    return {"in_progress": int(sums["n"] or 0), "in_progress_on_time": int(sums["ok"] or 0)}


def _contribution(d: Row | None, instant: dt.datetime) -> dict[tuple[Any, ...], list[int]]:
    if not _in_progress(d, instant):
        return {}
    assert d is not None
    key = (d["competent_agency_id"], d["receiving_agency_id"], d["procedure_id"])
    key += (int(d["channel"]), str(d["online_level"]))
    return {key: [1, int(_on_time(d, instant))]}


def _upsert_sql(values: str) -> str:
    table = Progress._meta.db_table
    return (
        f"INSERT INTO {table} (at_id, {', '.join(KEY)}, in_progress, "
        f"in_progress_on_time) {values} "
        f"ON CONFLICT (at_id, {', '.join(KEY)}) DO UPDATE SET "
        f"in_progress = {table}.in_progress + excluded.in_progress, "
        f"in_progress_on_time = {table}.in_progress_on_time + excluded.in_progress_on_time"
    )


# One stored count (SQLite: executemany); many at once from arrays (PostgreSQL).
_UPSERT = _upsert_sql("VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")
_UPSERT_ARRAYS = _upsert_sql(
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
    "%s::integer[], %s::text[], %s::bigint[], %s::bigint[])"
)


def follow(before: Row | None, after: Row | None) -> None:
    """Apply one dossier's change to every stored instant it may touch (those after its
    receipt). Called inside the event's transaction."""
    follow_many([(before, after)])


def follow_many(changes: Sequence[tuple[Row | None, Row | None]]) -> None:
    """`follow` for a batch of dossier changes (an import): one read of the stored instants
    and one upsert per touched count for the whole batch."""
    received = [
        d["received_at"] for pair in changes for d in pair if d and d["received_at"] is not None
    ]
    if not received:
        return
    # Lock first, read the stored instants second: an instant being counted right now is
    # then either waited for (and seen) or counted after this event commits.
    _lock_rows()
    instants = list(
        ProgressInstant.objects.filter(instant__gt=min(received))
        .order_by("instant")
        .values_list("pk", "instant")
    )
    if not instants:
        return
    times = [instant for _, instant in instants]
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for before, after in changes:
        for sign, d in ((-1, before), (1, after)):
            if d is None or d["received_at"] is None:
                continue
            # Only the instants in (received, finished] can count the dossier.
            lo = bisect_right(times, d["received_at"])
            hi = len(times) if d["finished_at"] is None else bisect_right(times, d["finished_at"])
            for pk, instant in instants[lo:hi]:
                for key, (n, ok) in _contribution(d, instant).items():
                    cell = totals[(pk, *key)]
                    cell[0] += sign * n
                    cell[1] += sign * ok
    todo = sorted(
        ((k, v) for k, v in totals.items() if any(v)), key=lambda kv: tuple(map(str, kv[0]))
    )
    if not todo:
        return
    rows = [[*key, n, ok] for key, (n, ok) in todo]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1:
            cursor.execute(_UPSERT_ARRAYS, [list(col) for col in zip(*rows, strict=True)])
        else:
            cursor.executemany(_UPSERT, rows)


def _lock_rows() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Progress._meta.db_table} IN ROW EXCLUSIVE MODE")


def forget() -> None:
    """Drop every stored instant (a rebuild: they are counted again on use)."""
    Progress.objects.all().delete()
    ProgressInstant.objects.all().delete()


def differences() -> list[str]:
    """Stored counts that differ from a recount, in words (`cchc indicators verify`)."""
    out = []
    for at in ProgressInstant.objects.order_by("instant"):
        stored = {
            tuple(r[:5]): (r[5], r[6])
            for r in Progress.objects.filter(at=at).values_list(
                *KEY, "in_progress", "in_progress_on_time"
            )
            if r[5] or r[6]
        }
        fresh = {tuple(r[:5]): (r[5], int(r[6] or 0)) for r in count_from_dossiers(at.instant)}
        for key in sorted(set(stored) | set(fresh), key=str):
            if stored.get(key, (0, 0)) != fresh.get(key, (0, 0)):
                out.append(
                    f"Hồ sơ đang giải quyết tại {timezone.localtime(at.instant):%H:%M %d/%m/%Y}, "
                    f"ô {key}: lưu {stored.get(key, (0, 0))}, đếm lại {fresh.get(key, (0, 0))}"
                )
    return out
