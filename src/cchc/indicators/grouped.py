"""Figures of many report contexts read at once: one grouped query per kind of data instead
of the same queries once per agency (the agency ranking scores every agency with data).

Each figure the ranking needs is a sum or a count over rows that carry a stored agency id,
and a per-agency context selects a subset of the base context's agencies (the same filters
plus one agency's subtree). So grouping the base context's rows by stored agency and adding
up, per context, the groups of its agencies gives exactly what each context would have
counted on its own; the catalog's distinct procedures are split by agency type and the
procedures "used" by agency, then counted as sets. The results are handed to each context
with `Context.preload`; the contexts then compute their indicators as usual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, IntegerField, Sum, When
from django.db.models.functions import ExtractMonth, ExtractYear

from cchc.dossiers.models import Dossier
from cchc.indicators import cellcache
from cchc.indicators import progress as past_progress
from cchc.indicators.definitions import SOURCES
from cchc.indicators.measures import Context
from cchc.indicators.models import Progress
from cchc.indicators.periods import Period
from cchc.org.models import Agency

USED = {"online_services_used": "online", "fee_procedures_paid_online": "paid_online"}


def _by_agency(rows: Iterable[dict[str, Any]], field: str) -> dict[int, dict[str, Any]]:
    return {row.pop(field): row for row in rows}


def _add(groups: dict[int, dict[str, Any]], ids: Iterable[int], keys: Iterable[str]) -> dict:
    return {k: sum(int(groups[a].get(k) or 0) for a in ids if a in groups) for k in keys}


def preload(base: Context, contexts: Iterable[Context]) -> None:
    """Fill each context's dossier, in-progress, feedback, catalog and sync (766 1d) figures
    from grouped reads over `base` (each context: `base`'s period, filters and instant, one
    agency).
    The reads run even for no context, so a page issues the same queries whatever the
    number of agencies with data."""
    contexts = list(contexts)
    received = _by_agency(
        cellcache.rows(
            base.cells("r")
            .values("competent_agency_id")
            .annotate(**Context.received_sums())
            .order_by()
        ),
        "competent_agency_id",
    )
    finished = _by_agency(
        cellcache.rows(
            base.cells("f")
            .values("competent_agency_id")
            .annotate(**Context.finished_sums())
            .order_by()
        ),
        "competent_agency_id",
    )
    r_keys = list(Context.received_sums())
    f_keys = list(Context.finished_sums())
    progress = _progress(base)
    feedback = {
        name: {
            row["agency_id"]: row["n"]
            for row in base.feedback_rows(name)
            .values("agency_id")
            .annotate(n=Count("pk"))
            .order_by()
        }
        for name in SOURCES["feedback"]
    }
    catalog = _Catalog(base)
    national = base.national_by_agency()
    for ctx in contexts:
        ids = list(ctx.ids or [])
        ctx.preload(
            "dossiers",
            Context.dossier_values(_add(received, ids, r_keys), _add(finished, ids, f_keys)),
        )
        ctx.preload("_progress", _add(progress, ids, ("in_progress", "in_progress_on_time")))
        ctx.preload(
            "feedback",
            {name: sum(counts.get(a, 0) for a in ids) for name, counts in feedback.items()},
        )
        ctx.preload("catalog", catalog.values(ids))
        ctx.preload("national", Context.national_values(_add(national, ids, ("to_sync", "late"))))


def _progress(base: Context) -> dict[int, dict[str, Any]]:
    """In progress (and within due) at the base's instant, per stored agency: as
    `Context.progress` counts them (stored counts for a past instant, open dossiers now)."""
    if base.instant < base.now:
        rows = base._dossier_filters(
            Progress.objects.filter(at=past_progress.counted(base.instant))
        ).values("competent_agency_id")
        rows = rows.annotate(
            in_progress=Sum("in_progress"), in_progress_on_time=Sum("in_progress_on_time")
        )
    else:
        open_now = base._dossier_filters(
            Dossier.objects.filter(is_open=True, received_at__lt=base.instant)
        )
        rows = open_now.values("competent_agency_id").annotate(
            in_progress=Count("pk"),
            in_progress_on_time=Sum(
                Case(When(base._progress_on_time(), then=1), default=0, output_field=IntegerField())
            ),
        )
    return _by_agency(rows.order_by(), "competent_agency_id")


class _Catalog:
    """The catalog figures of any set of agencies, from one read of the procedures of
    each kind and one of the procedures used by each agency."""

    def __init__(self, base: Context) -> None:
        procedures = base.procedures(every_agency=True)
        self.type_of = dict(procedures.values_list("pk", "competent_agency_type_id").order_by())
        self.agency_type = dict(Agency.objects.values_list("pk", "agency_type_id").order_by())
        self.kinds: dict[str, set[int]] = {}
        for name in SOURCES["catalog"]:
            q = base.catalog_q("procedures_online" if name == "online_services_used" else name)
            if name == "fee_procedures_paid_online":
                q = base.catalog_q("fee_procedures")
            self.kinds[name] = set(procedures.filter(q).values_list("pk", flat=True).order_by())
        self.used: dict[str, dict[int, set[int]]] = {}
        for measure in set(USED.values()):
            per_agency: dict[int, set[int]] = defaultdict(set)
            cells = base.cells("r").filter(**{f"{measure}__gt": 0})
            for agency_id, procedure_id in cellcache.rows(
                cells.values_list("competent_agency_id", "procedure_id").distinct().order_by()
            ):
                per_agency[agency_id].add(procedure_id)
            self.used[measure] = per_agency

    def values(self, ids: list[int]) -> dict[str, int]:
        types = {self.agency_type.get(a) for a in ids} - {None}
        mine = {pk for pk, t in self.type_of.items() if t in types}
        out = {}
        for name in SOURCES["catalog"]:
            found = mine & self.kinds[name]
            if name in USED:
                used: set[int] = set()
                for a in ids:
                    used |= self.used[USED[name]].get(a, set())
                found &= used
            out[name] = len(found)
        return out


def preload_months(base: Context, contexts: dict[Period, Context]) -> None:
    """Fill the dossier figures of one context per calendar month (`contexts`, inside
    `base`'s period) from the base's cells grouped by month."""
    sums = {"r": Context.received_sums(), "f": Context.finished_sums()}
    months: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    for kind, aggregates in sums.items():
        rows = cellcache.rows(
            base.cells(kind)
            .annotate(y=ExtractYear("day"), m=ExtractMonth("day"))
            .values("y", "m")
            .annotate(**aggregates)
            .order_by()
        )
        months[kind] = {(row.pop("y"), row.pop("m")): row for row in rows}
    for period, ctx in contexts.items():
        key = (period.start.year, period.start.month)
        r = months["r"].get(key) or dict.fromkeys(sums["r"])
        f = months["f"].get(key) or dict.fromkeys(sums["f"])
        ctx.preload("dossiers", Context.dossier_values(r, f))
