"""The aggregate cells behind every dossier indicator (spec 04).

One `Cell` per (family, day, competent agency, receiving agency, procedure, channel, online
level) holds counts of dossiers. Family "r" counts dossiers by their day of receipt (intake
facts: channel, fees and payments, digitisation); family "f" by their day of finishing
(outcome, apology, supplements, result, rating, complaint, processing time), and only the
dossiers whose final state counts as resolved (`cchc.indicators.resolved`: not a
withdrawal). Days are Vietnamese local days.

Maintenance: `on_dossier_changed` receives `cchc.dossiers.signals.dossier_changed` inside
the event's transaction, subtracts the dossier's old contribution and adds the new one with
one portable upsert per changed cell (``INSERT … ON CONFLICT DO UPDATE SET n = n + ?``).
`rebuild` recomputes every cell with ``INSERT … SELECT … GROUP BY``; `verify` compares the
maintained cells with that recomputation.

Each measure is defined once below, as a Python predicate (for the delta) next to the same
condition as an ORM `Q` (for the rebuild, the verification and the drill-down).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, DateField, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, When
from django.db.models.expressions import RawSQL

from cchc import legaltime
from cchc.dossiers.models import Dossier, DossierResult
from cchc.dossiers.signals import snapshot
from cchc.indicators import cellcache, progress, resolved
from cchc.indicators.models import (
    FINISHED_MEASURES,
    KEY,
    MEASURES,
    RECEIVED_MEASURES,
    Cell,
)

VN = legaltime.VN_TZ
ONLINE_PAY = ("1", "2")

Row = Mapping[str, Any]
Pred = Callable[[Row, bool], bool]


def _overdue_766(d: Row) -> bool:
    return d["outcome"] == "overdue" or int(d["supplement_requests"] or 0) > 1


ALWAYS = Q(pk__isnull=False)
Q_OVERDUE_766 = Q(outcome="overdue") | Q(supplement_requests__gt=1)
# "Has an electronic result": a correlated EXISTS (an index probe per dossier) is safe under
# any memory setting. The full rebuild uses IN (subquery) instead, which the databases hash
# once (2× faster) — but only with the memory to hash every result (PostgreSQL falls back to
# rescanning the results for each dossier under the default work_mem), which `rebuild`
# sets for its transaction.
ELECTRONIC = Exists(DossierResult.objects.filter(dossier=OuterRef("pk"), electronic=True))
ELECTRONIC_HASHED = Q(pk__in=DossierResult.objects.filter(electronic=True).values("dossier_id"))

# measure -> (predicate over a dossier snapshot and "has an electronic result", ORM condition)
DEFINITIONS: dict[str, tuple[Pred, Q]] = {
    "received": (lambda d, e: True, ALWAYS),
    "online": (lambda d, e: d["channel"] == 2, Q(channel=2)),
    "online_paper_return": (
        lambda d, e: d["channel"] == 2 and d["return_channel"] != "online",
        Q(channel=2) & ~Q(return_channel="online"),
    ),
    "full_online": (
        lambda d, e: d["channel"] == 2 and d["online_level"] == "full",
        Q(channel=2, online_level="full"),
    ),
    "fee_bearing": (lambda d, e: d["fee_total"] > 0, Q(fee_total__gt=0)),
    "paid": (
        lambda d, e: d["fee_total"] > 0 and d["paid_amount"] > 0,
        Q(fee_total__gt=0, paid_amount__gt=0),
    ),
    "paid_online": (
        lambda d, e: (
            d["fee_total"] > 0 and d["paid_amount"] > 0 and d["payment_channel"] in ONLINE_PAY
        ),
        Q(fee_total__gt=0, paid_amount__gt=0, payment_channel__in=ONLINE_PAY),
    ),
    "digitised": (lambda d, e: bool(d["digitised"]), Q(digitised=True)),
    "reused": (lambda d, e: bool(d["reused_data"]), Q(reused_data=True)),
    "finished": (lambda d, e: True, ALWAYS),
    "early": (lambda d, e: d["outcome"] == "early", Q(outcome="early")),
    "on_time": (lambda d, e: d["outcome"] == "on_time", Q(outcome="on_time")),
    "overdue": (lambda d, e: d["outcome"] == "overdue", Q(outcome="overdue")),
    "overdue_apology": (
        lambda d, e: d["outcome"] == "overdue" and bool(d["has_apology"]),
        Q(outcome="overdue", has_apology=True),
    ),
    "overdue_766": (lambda d, e: _overdue_766(d), Q_OVERDUE_766),
    "returned": (lambda d, e: d["state"] == "returned", Q(state="returned")),
    # Results are issued on approval, before the return; only returned dossiers count, so
    # the result rows never change under a counted dossier.
    "electronic_result": (
        lambda d, e: d["state"] == "returned" and e,
        Q(state="returned") & ELECTRONIC,
    ),
    # 766 3e: the signed e-result reached the holder's data store (`dossiers.datastore`); a
    # returned dossier with an electronic result, so 3e's numerator is part of its
    # denominator. The flag can flip after the return: the delivery writes a "note" event.
    "datastore": (
        lambda d, e: d["state"] == "returned" and e and bool(d.get("result_in_datastore")),
        Q(state="returned", result_in_datastore=True) & ELECTRONIC,
    ),
    # 766 3c: a returned dossier given a certified electronic copy (`dossiers.
    # certified_copies`); the copy writes a "note" event, so the flag reaches the cells
    # whether it is issued before or after the return.
    "certified_copy": (
        lambda d, e: d["state"] == "returned" and bool(d.get("certified_copy")),
        Q(state="returned", certified_copy=True),
    ),
    "rated": (lambda d, e: d["rating"] != "", ~Q(rating="")),
    "dissatisfied": (lambda d, e: d["rating"] == "dissatisfied", Q(rating="dissatisfied")),
    "with_complaint": (lambda d, e: bool(d["has_complaint"]), Q(has_complaint=True)),
    "unsatisfactory": (
        lambda d, e: d["rating"] == "dissatisfied" or bool(d["has_complaint"]) or _overdue_766(d),
        Q(rating="dissatisfied") | Q(has_complaint=True) | Q_OVERDUE_766,
    ),
}


def local_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(VN).date()


def _seconds(d: Row) -> int:
    return int(d["finished_at"].timestamp()) - int(d["received_at"].timestamp())


def contribution(d: Row | None, electronic: bool = False) -> dict[tuple[Any, ...], dict[str, int]]:
    """{cell key: measures} one dossier (a `snapshot`) adds to the cells."""
    if d is None or d["received_at"] is None:
        return {}
    base = (
        d["competent_agency_id"],
        d["receiving_agency_id"],
        d["procedure_id"],
        int(d["channel"]),
        str(d["online_level"]),
    )
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    out[("r", local_day(d["received_at"]), *base)] = {
        m: int(DEFINITIONS[m][0](d, electronic)) for m in RECEIVED_MEASURES
    }
    # Only a resolution counts as finished (`resolved`: a withdrawal is not one).
    if resolved.counts(d):
        values = {
            m: int(DEFINITIONS[m][0](d, electronic))
            for m in FINISHED_MEASURES
            if m != "processing_seconds"
        }
        values["processing_seconds"] = _seconds(d)
        out[("f", local_day(d["finished_at"]), *base)] = values
    return out


def delta(
    before: Row | None, after: Row | None, electronic: bool = False
) -> dict[tuple[Any, ...], dict[str, int]]:
    """after − before, cell by cell, without all-zero cells."""
    out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    for sign, part in (
        (-1, contribution(before, electronic)),
        (1, contribution(after, electronic)),
    ):
        for key, values in part.items():
            cell = out[key]
            for m, v in values.items():
                cell[m] = cell.get(m, 0) + sign * v
    return {k: v for k, v in out.items() if any(v.values())}


def _upsert_sql(measures: tuple[str, ...]) -> str:
    """Add one cell's measures (SQLite: run with executemany, in process)."""
    table = Cell._meta.db_table
    key = ", ".join(KEY)
    cols = ", ".join((*KEY, *measures))
    marks = ", ".join(["%s"] * (len(KEY) + len(measures)))
    sets = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)
    return (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) "  # noqa: S608 - names from metadata
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )


# PostgreSQL types of the key columns, for the array form below.
_KEY_TYPES = ("text", "date", "bigint", "bigint", "bigint", "integer", "text")


def _upsert_arrays_sql(measures: tuple[str, ...]) -> str:
    """Add many cells' measures in one statement (PostgreSQL): one array per column,
    unnested server side — one round trip and one execution for a whole batch of cells."""
    table = Cell._meta.db_table
    key = ", ".join(KEY)
    cols = ", ".join((*KEY, *measures))
    arrays = ", ".join(f"%s::{kind}[]" for kind in (*_KEY_TYPES, *(["bigint"] * len(measures))))
    sets = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)
    return (
        f"INSERT INTO {table} ({cols}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )


_SQL = {"r": _upsert_sql(RECEIVED_MEASURES), "f": _upsert_sql(FINISHED_MEASURES)}
_SQL_ARRAYS = {
    "r": _upsert_arrays_sql(RECEIVED_MEASURES),
    "f": _upsert_arrays_sql(FINISHED_MEASURES),
}


def apply(changes: Mapping[tuple[Any, ...], Mapping[str, int]]) -> None:
    """Add `changes` to the cells (one upsert per cell)."""
    if not changes:
        return
    # The version first: its row lock comes before any cell's in every transaction.
    cellcache.bump()
    rows: dict[str, list[list[Any]]] = {"r": [], "f": []}
    # One order for every transaction, so concurrent events never deadlock on cells.
    for key, values in sorted(changes.items(), key=lambda kv: tuple(map(str, kv[0]))):
        measures = RECEIVED_MEASURES if key[0] == "r" else FINISHED_MEASURES
        rows[key[0]].append([*key, *[values.get(m, 0) for m in measures]])
    with connection.cursor() as cursor:
        for kind in ("f", "r"):  # the sort above puts "f" before "r"
            todo = rows[kind]
            if not todo:
                continue
            if connection.vendor == "postgresql" and len(todo) > 1:
                # Rows keep their order inside the arrays (unnest), so locks still come
                # in one order for every transaction.
                cursor.execute(_SQL_ARRAYS[kind], [list(col) for col in zip(*todo, strict=True)])
            else:
                cursor.executemany(_SQL[kind], todo)


def on_dossier_changed(sender: Any, *, before: Row | None, after: Dossier, **kwargs: Any) -> None:
    """Receiver of `dossier_changed`: apply the dossier's change to the cells."""
    now = snapshot(after)
    electronic = False
    if "returned" in (now["state"], (before or {}).get("state")):
        electronic = DossierResult.objects.filter(dossier_id=after.pk, electronic=True).exists()
    apply(delta(before, now, electronic))
    progress.follow(before, now)


def on_dossiers_imported(
    sender: Any, *, changes: list[tuple[Row | None, Row, bool, bool]], **kwargs: Any
) -> None:
    """Receiver of `dossiers_imported`: a batch of dossier changes; their deltas are summed
    first, so each touched cell takes one upsert for the whole batch."""
    total: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    for before, after, had, has in changes:
        for sign, part in ((-1, contribution(before, had)), (1, contribution(after, has))):
            for key, values in part.items():
                cell = total[key]
                for m, v in values.items():
                    cell[m] = cell.get(m, 0) + sign * v
    apply({k: v for k, v in total.items() if any(v.values())})
    progress.follow_many([(before, after) for before, after, _, _ in changes])


def on_bulk_loaded(sender: Any, **kwargs: Any) -> None:
    """Receiver of `dossiers_bulk_loaded`: rows were written without events; rebuild."""
    rebuild()


# -- full recomputation -----------------------------------------------------------------------


def _seconds_sql() -> RawSQL:
    if connection.vendor == "postgresql":
        expr = (
            "EXTRACT(EPOCH FROM date_trunc('second', finished_at))::bigint"
            " - EXTRACT(EPOCH FROM date_trunc('second', received_at))::bigint"
        )
    else:
        expr = (
            "CAST(strftime('%%s', finished_at) AS INTEGER)"
            " - CAST(strftime('%%s', received_at) AS INTEGER)"
        )
    return RawSQL(expr, [], output_field=IntegerField())  # noqa: S611 - constant SQL


def _local_day_sql(column: str) -> RawSQL:
    """The Vietnamese local day of a timestamp column, natively (no per-row Python
    function): Vietnam keeps UTC+7 all year, without daylight saving time."""
    table = Dossier._meta.db_table
    if connection.vendor == "postgresql":
        # UTC + 7 hours is cheaper per row than a zone lookup and the same for Vietnam.
        expr = f"((\"{table}\".\"{column}\" AT TIME ZONE 'UTC') + interval '7 hours')::date"
    else:
        expr = f'date("{table}"."{column}", \'+7 hours\')'
    return RawSQL(expr, [], output_field=DateField())  # noqa: S611 - constant SQL


def family(
    kind: str, dossiers: QuerySet[Dossier] | None = None, *, hashed: bool = False
) -> QuerySet[Any]:
    """The GROUP BY query that computes every cell of family `kind` from the dossiers
    (`hashed`: the electronic-result test as a hashed IN, for `rebuild`)."""
    qs = (dossiers if dossiers is not None else Dossier.objects.all()).filter(
        received_at__isnull=False
    )
    if kind == "r":
        measures = RECEIVED_MEASURES
        day = _local_day_sql("received_at")
    else:
        measures = FINISHED_MEASURES
        qs = qs.filter(resolved.q())
        day = _local_day_sql("finished_at")
    sums: dict[str, Any] = {}
    for m in measures:
        if m == "processing_seconds":
            sums[f"m_{m}"] = Sum(_seconds_sql())
        else:
            condition = DEFINITIONS[m][1]
            if m == "electronic_result" and hashed:
                condition = Q(state="returned") & ELECTRONIC_HASHED
            elif m == "datastore" and hashed:
                condition = Q(state="returned", result_in_datastore=True) & ELECTRONIC_HASHED
            sums[f"m_{m}"] = Sum(
                Case(When(condition, then=1), default=0, output_field=IntegerField())
            )
    return (
        qs.order_by()
        .annotate(cell_day=day)
        .values("cell_day", *KEY[2:])
        .annotate(**sums)
        .values_list("cell_day", *KEY[2:], *(f"m_{m}" for m in measures))
    )


def rebuild() -> int:
    """Recompute every cell from the dossiers (pure SQL); returns the number of cells."""
    table = Cell._meta.db_table
    with transaction.atomic():
        cellcache.bump()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # TRUNCATE takes the table's exclusive lock for the whole rebuild: an event
                # committing meanwhile waits and then applies its change to the rebuilt
                # cells (its dossier change was not yet visible to the rebuild's reads).
                # (Deferred foreign-key checks of this transaction run first: TRUNCATE
                # refuses a table with pending ones.)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {table}")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                # Hash aggregation in memory instead of sorting on disk (4 MB default).
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # JIT compilation costs more than it saves on these 22-measure aggregates.
                cursor.execute("SET LOCAL jit = off")
            else:
                Cell.objects.all().delete()
            progress.forget()
            for kind, measures in (("r", RECEIVED_MEASURES), ("f", FINISHED_MEASURES)):
                # SQLite hashes IN (subquery) regardless; PostgreSQL has the memory set above.
                sql, params = family(kind, hashed=True).query.sql_with_params()
                cols = ", ".join((*KEY, *measures))
                picked = ", ".join(
                    (
                        "sub.cell_day",
                        *(f"sub.{c}" for c in KEY[2:]),
                        *(f"sub.m_{m}" for m in measures),
                    )
                )
                cursor.execute(
                    f"INSERT INTO {table} ({cols}) SELECT '{kind}', {picked} FROM ({sql}) sub",  # noqa: S608
                    params,
                )
        return Cell.objects.count()


@dataclass
class Difference:
    key: tuple[Any, ...]
    measure: str
    stored: int
    expected: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": dict(
                zip(KEY, [str(k) if isinstance(k, dt.date) else k for k in self.key], strict=True)
            ),
            "measure": self.measure,
            "stored": self.stored,
            "expected": self.expected,
        }

    def __str__(self) -> str:
        kind, day, comp, recv, proc, channel, level = self.key
        return (
            f"Ô {kind} {day:%d/%m/%Y} cơ quan {comp} (tiếp nhận {recv}) thủ tục {proc} kênh "
            f"{channel} mức {level}: {self.measure} lưu {self.stored}, tính lại {self.expected}"
        )


@dataclass
class VerifyReport:
    cells: int = 0
    differences: list[Difference] = field(default_factory=list)
    # Stored counts of dossiers in progress at past instants that differ from a recount.
    progress: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences and not self.progress

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "cells": self.cells,
            "differences": [d.as_dict() for d in self.differences],
            "progress": self.progress,
        }


def expected_cells() -> dict[tuple[Any, ...], dict[str, int]]:
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for kind, measures in (("r", RECEIVED_MEASURES), ("f", FINISHED_MEASURES)):
        for row in family(kind).iterator(chunk_size=5000):
            key = (kind, *row[: len(KEY) - 1])
            values = {m: int(v or 0) for m, v in zip(measures, row[len(KEY) - 1 :], strict=True)}
            if any(values.values()):
                out[key] = values
    return out


def stored_cells() -> dict[tuple[Any, ...], dict[str, int]]:
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in Cell.objects.values_list(*KEY, *MEASURES).iterator(chunk_size=5000):
        key = tuple(row[: len(KEY)])
        measures = RECEIVED_MEASURES if key[0] == "r" else FINISHED_MEASURES
        values = dict(zip(MEASURES, row[len(KEY) :], strict=True))
        picked = {m: int(values[m]) for m in measures}
        if any(values.values()):
            # A measure of the other family must stay 0.
            for m in MEASURES:
                if m not in measures and values[m]:
                    picked[m] = int(values[m])
            out[key] = picked
    return out


def verify() -> VerifyReport:
    """Maintained cells == full recomputation? (Differences listed cell by cell.)"""
    stored, expected = stored_cells(), expected_cells()
    report = VerifyReport(cells=len(stored))
    for key in sorted(set(stored) | set(expected), key=lambda k: tuple(str(x) for x in k)):
        a, b = stored.get(key, {}), expected.get(key, {})
        for m in sorted(set(a) | set(b)):
            if a.get(m, 0) != b.get(m, 0):
                report.differences.append(Difference(key, m, a.get(m, 0), b.get(m, 0)))
    report.progress = progress.differences()
    return report
