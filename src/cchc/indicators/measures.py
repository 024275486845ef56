"""Measure values over each source for one report context (period, filters, instant).

Every dossier figure is a SQL aggregate over the cells (`cchc.indicators.aggregates`) or,
for dossiers in progress at the report instant, an indexed count over open dossiers; every
other figure is a count over its register. Nothing here loops over dossiers in Python.
The `*_rows` functions return exactly the rows a figure counts (drill-down).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from cchc import legaltime
from cchc.catalog.models import (
    InternalProcedure,
    Procedure,
    ProcedureFee,
    ProcedureStep,
    RequiredDocument,
)
from cchc.dossiers.models import Dossier
from cchc.feedback.models import Feedback
from cchc.indicators import aggregates, cellcache, resolved
from cchc.indicators import progress as past_progress
from cchc.indicators.definitions import SOURCES, DefinitionFile, Expr
from cchc.indicators.models import FINISHED_MEASURES, RECEIVED_MEASURES, Cell
from cchc.indicators.periods import Period
from cchc.indicators.scope import Placed, agency_ids, placement
from cchc.national import client as national_client
from cchc.national.models import SyncRecord, SyncState
from cchc.org.models import Agency
from cchc.plans.models import ExternalIndex, LegalDocument, Plan, Task, WorkRecordStat
from cchc.plans.services import task_states
from cchc.plans.status import TaskStatus
from cchc.vietnamese import fold

VN = legaltime.VN_TZ
WORK_KINDS = ("year", "half", "quarter", "month")


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=VN)


class Context:
    """One report: period, filters, report instant, selected agencies; caches figures."""

    def __init__(
        self,
        period: Period,
        filters: Any,
        *,
        now: dt.datetime | None = None,
        places: dict[int, Placed] | None = None,
    ) -> None:
        self.period = period
        self.filters = filters
        self.now = (now or timezone.now()).astimezone(VN)
        self.today = self.now.date()
        self.start = start_of(period.start)
        self.end = start_of(period.end + dt.timedelta(days=1))  # exclusive
        self.instant = min(self.now, self.end)
        self.places = places if places is not None else placement(filters.units, today=self.today)
        self.ids = agency_ids(
            self.places, level=filters.level, unit_id=filters.unit_id, agency_id=filters.agency_id
        )
        self._cache: dict[str, dict[str, Any]] = {}

    def derive(self, period: Period) -> Context:
        return Context(period, self.filters, now=self.now, places=self.places)

    def by_agency(self, qs: QuerySet[Any], field: str) -> QuerySet[Any]:
        return qs if self.ids is None else qs.filter(**{f"{field}__in": self.ids})

    # -- sources --------------------------------------------------------------------------

    def values(
        self, source: str, definition: DefinitionFile | None = None, *exprs: Expr | None
    ) -> dict[str, Any]:
        """The figures of `source` (cached); with `exprs`, also the in-progress counts
        when one of them names them."""
        if source not in self._cache:
            self._cache[source] = getattr(self, f"_{source}")(definition)
        values = self._cache[source]
        names = {n for e in exprs if e is not None for n in e.names}
        if source == "dossiers" and names & {"in_progress", "in_progress_on_time"}:
            values = {**values, **self.progress()}
        return values

    def cells(self, kind: str) -> QuerySet[Cell]:
        qs = Cell.objects.filter(kind=kind, day__gte=self.period.start, day__lte=self.period.end)
        qs = self.by_agency(qs, "competent_agency_id")
        if self.filters.procedure_id:
            qs = qs.filter(procedure_id=self.filters.procedure_id)
        if self.filters.channel:
            qs = qs.filter(channel=self.filters.channel)
        return qs

    def _dossiers(self, definition: Any = None) -> dict[str, Any]:
        r = cellcache.aggregate(self.cells("r"), **self.received_sums())
        f = cellcache.aggregate(self.cells("f"), **self.finished_sums())
        return self.dossier_values(r, f)

    @staticmethod
    def received_sums() -> dict[str, Any]:
        """The aggregates summed over "received" cells (one report, or one group of a
        grouped read: `cchc.indicators.grouped`)."""
        zero = IntegerField()
        return {
            **{f"s_{m}": Sum(m) for m in RECEIVED_MEASURES},
            "online_service_received": Sum(
                Case(
                    When(~Q(procedure__online_level="none"), then=F("received")),
                    default=0,
                    output_field=zero,
                )
            ),
            "online_counted": Sum(
                Case(
                    When(
                        procedure__result_type="paper", then=F("online") - F("online_paper_return")
                    ),
                    default=F("online"),
                    output_field=zero,
                )
            ),
        }

    @staticmethod
    def finished_sums() -> dict[str, Any]:
        return {
            **{f"s_{m}": Sum(m) for m in FINISHED_MEASURES},
            # 766 3c's denominator: returned dossiers of procedures whose output is a
            # certified electronic copy (the procedure's flag as it is now, like
            # `online_service_received`; a change of the flag bumps the cells' version).
            "certification_returned": Sum(
                Case(
                    When(procedure__output_certified_copy=True, then=F("returned")),
                    default=0,
                    output_field=IntegerField(),
                )
            ),
        }

    @staticmethod
    def dossier_values(r: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        """The dossier measures from the sums of `received_sums` and `finished_sums`."""
        out: dict[str, Any] = {k.removeprefix("s_"): int(v or 0) for k, v in {**r, **f}.items()}
        out["finished_on_time_766"] = out["finished"] - out["overdue_766"]
        out["processing_hours"] = Decimal(out["processing_seconds"]) / 3600
        return out

    def preload(self, source: str, values: dict[str, Any]) -> None:
        """Hand the context figures read in bulk for many contexts at once (`grouped`);
        `source` "_progress" for the in-progress counts."""
        self._cache[source] = values

    def progress(self) -> dict[str, int]:
        """Dossiers in progress at the instant (and those within their due), computed only
        when a definition asks for them. Now: an indexed count over the open dossiers
        (dossier_open_received). A past instant: the stored count of that instant."""
        if "_progress" in self._cache:
            return self._cache["_progress"]
        if self.instant < self.now:
            # A past instant: counted once and kept by the events (`indicators.progress`).
            out = past_progress.totals(self.instant, self._dossier_filters)
            self._cache["_progress"] = out
            return out
        open_now = self._dossier_filters(
            Dossier.objects.filter(is_open=True, received_at__lt=self.instant)
        )
        counts = open_now.aggregate(
            total=Count("pk"),
            on_time=Sum(
                Case(When(self._progress_on_time(), then=1), default=0, output_field=IntegerField())
            ),
        )
        out = {
            "in_progress": int(counts["total"] or 0),
            "in_progress_on_time": int(counts["on_time"] or 0),
        }
        self._cache["_progress"] = out
        return out

    def _dossier_filters(self, qs: QuerySet[Dossier]) -> QuerySet[Dossier]:
        qs = self.by_agency(qs, "competent_agency_id")
        if self.filters.procedure_id:
            qs = qs.filter(procedure_id=self.filters.procedure_id)
        if self.filters.channel:
            qs = qs.filter(channel=self.filters.channel)
        return qs

    def in_progress_rows(self) -> QuerySet[Dossier]:
        """Dossiers received and not finished at the report instant."""
        qs = Dossier.objects.filter(received_at__isnull=False, received_at__lt=self.instant)
        if self.instant >= self.now:
            qs = qs.filter(is_open=True)
        else:
            # Not finished at the instant: still open (a received dossier is open exactly
            # while it has no finishing instant), or finished after it. Both sides use an
            # index (the partial open-queue index, dossier_finished).
            qs = qs.filter(Q(is_open=True) | Q(finished_at__gte=self.instant))
        qs = self.by_agency(qs, "competent_agency_id")
        if self.filters.procedure_id:
            qs = qs.filter(procedure_id=self.filters.procedure_id)
        if self.filters.channel:
            qs = qs.filter(channel=self.filters.channel)
        return qs

    def _progress_on_time(self) -> Q:
        return past_progress.on_time_q(self.instant)

    def _tasks(self, definition: DefinitionFile | None) -> dict[str, Any]:
        codes = [definition.code, *definition.aliases] if definition else []
        tasks = self.by_agency(
            Task.objects.filter(plan__code__in=codes).select_related("plan"), "lead_agency_id"
        )
        last = min(self.period.end, (self.instant - dt.timedelta(microseconds=1)).date())
        due_ids, done_ids = set(), set()
        due = done = 0
        for state in task_states(tasks, now=self.now):
            for item in state.deliverables:
                if self.period.start <= item.due <= last:
                    due += 1
                    due_ids.add(state.task.pk)
                    if item.status == TaskStatus.DONE_ON_TIME:
                        done += 1
                        done_ids.add(state.task.pk)
        return {
            "due": due,
            "done_on_time": done,
            "_rows": {"due": due_ids, "done_on_time": done_ids},
        }

    def _registers(self, definition: Any = None) -> dict[str, Any]:
        legal = self.legal_rows()
        proper = Q(appraised=True, consulted=True, published=True)
        internal = self.internal_rows()
        done = self.internal_done_q()
        out: dict[str, Any] = {
            "legal_documents": legal.count(),
            "legal_documents_proper": legal.filter(proper).count(),
            "internal_procedures": internal.count(),
            "internal_procedures_done": internal.filter(done).count(),
        }
        stats = self.work_rows()
        levels: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in stats:
            placed = self.places.get(row.agency_id)
            level = placed.level if placed else row.level.code
            levels[level][0] += row.online
            levels[level][1] += row.total
        out["work_records_online"] = sum(v[0] for v in levels.values())
        out["work_records"] = sum(v[1] for v in levels.values())
        out["_levels"] = dict(levels)
        return out

    def legal_rows(self) -> QuerySet[Any]:
        qs = LegalDocument.objects.filter(
            issued_on__gte=self.period.start, issued_on__lte=self.period.end
        )
        return self.by_agency(qs, "drafting_agency_id")

    def internal_rows(self) -> QuerySet[InternalProcedure]:
        return self.by_agency(InternalProcedure.objects.all(), "lead_agency_id")

    def internal_done_q(self) -> Q:
        end = self.period.end
        return Q(published=True, reviewed=True, published_on__lte=end, reviewed_on__lte=end)

    def work_rows(self) -> list[Any]:
        """Work-record statistics inside the period; per agency the coarsest kind of period
        present (a year row wins over its quarters), so nothing is counted twice."""
        qs = self.by_agency(
            WorkRecordStat.objects.filter(
                period_start__gte=self.period.start, period_end__lte=self.period.end
            ).select_related("level"),
            "agency_id",
        )
        rows = list(qs)

        def kind(row: Any) -> int:
            key = row.period
            if len(key) == 4:
                return 0
            if "-H" in key:
                return 1
            if "-Q" in key:
                return 2
            return 3

        best: dict[int, int] = {}
        for row in rows:
            best[row.agency_id] = min(best.get(row.agency_id, 9), kind(row))
        return [row for row in rows if kind(row) == best[row.agency_id]]

    def _external(self, definition: DefinitionFile | None) -> dict[str, Any]:
        item = (
            next((i for i in definition.indicators if i.source == "external"), None)
            if definition
            else None
        )
        params = item.params if item else {}
        names = list(params.get("indices", ["PCI", "PAPI", "PAR_INDEX"]))
        leading = int(params.get("leading_rank", 10))
        qs = ExternalIndex.objects.filter(year=self.period.end.year, index__in=names)
        codes = [definition.code, *definition.aliases] if definition else []
        plan = Plan.objects.filter(code__in=codes).first()
        if self.filters.unit_id:
            qs = qs.filter(unit_id=self.filters.unit_id)
        elif plan is not None:
            qs = qs.filter(unit__code=plan.unit.code)
        rows = list(qs)
        lead = [
            r
            for r in rows
            if (r.rank is not None and r.rank <= leading)
            or any(w in fold(r.group) for w in ("dan dau", "rat tot"))
        ]
        return {
            "indices_entered": len(rows),
            "indices_leading": len(lead),
            "_rows": rows,
            "_expected": len(names),
        }

    def procedures(self, *, every_agency: bool = False) -> QuerySet[Procedure]:
        """Active procedures selected by the filters; those of the selected agencies' types
        unless `every_agency` (a grouped read splits them by type itself)."""
        qs = Procedure.objects.filter(active=True)
        if self.filters.level:
            levels = Procedure.levels.through.objects.filter(unitlevel__code=self.filters.level)
            qs = qs.filter(pk__in=levels.values("procedure_id"))
        if self.ids is not None and not every_agency:
            types = Agency.objects.filter(pk__in=self.ids).values("agency_type_id")
            qs = qs.filter(competent_agency_type_id__in=types)
        if self.filters.procedure_id:
            qs = qs.filter(pk=self.filters.procedure_id)
        return qs

    def catalog_q(self, name: str) -> Q:
        end = self.period.end
        online = Q(online_level__in=("full", "partial"))
        fees = Exists(ProcedureFee.objects.filter(procedure=OuterRef("pk"), amount__gt=0))

        def used(measure: str) -> set[int]:
            # one pass over the period's cells, not one correlated subquery per procedure
            key = f"_used_{measure}"
            if key not in self._cache:
                cells = self.cells("r").filter(**{f"{measure}__gt": 0})
                ids = cells.values_list("procedure_id", flat=True).distinct()
                self._cache[key] = {"ids": set(cellcache.rows(ids))}
            found: set[int] = self._cache[key]["ids"]
            return found

        def among(ids: set[int]) -> Q:
            # None used: an always-false condition rather than an empty IN list, which
            # Django answers without a query; a page's query count stays independent of
            # the data.
            return Q(pk__in=ids) if ids else Q(pk__isnull=True)

        return {
            "procedures": Q(),
            "procedures_published": Q(decision_date__lte=end) & ~Q(decision_number=""),
            "procedures_complete": Q(processing_time__gte=0)
            & ~Q(name="")
            & Q(levels__isnull=False)
            & Exists(RequiredDocument.objects.filter(procedure=OuterRef("pk")))
            & Exists(ProcedureStep.objects.filter(procedure=OuterRef("pk"))),
            "procedures_online": online,
            "online_services_used": online & among(used("online")),
            "fee_procedures": fees,
            "fee_procedures_paid_online": fees & among(used("paid_online")),
            "procedures_population": Q(population_data_connected=True),
        }[name]

    def _catalog(self, definition: Any = None) -> dict[str, Any]:
        base = self.procedures()
        return {
            name: base.filter(self.catalog_q(name)).values("pk").distinct().count()
            for name in SOURCES["catalog"]
        }

    def feedback_rows(self, name: str = "feedback_handled") -> QuerySet[Any]:
        """PAKN counted by `name`: handled ones (published, rejected or answered, with the
        on-time flag set) by the instant they were closed; rated ones by the rating instant."""
        qs = Feedback.objects.all()
        if name in ("feedback_rated", "feedback_not_dissatisfied"):
            qs = qs.filter(rated_at__gte=self.start, rated_at__lt=self.end)
        else:
            qs = (
                qs.filter(is_open=False, handled_on_time__isnull=False)
                .annotate(closed_at=Coalesce("published_at", "rejected_at", "resolved_at"))
                .filter(closed_at__gte=self.start, closed_at__lt=self.end)
            )
        return self.by_agency(qs, "agency_id").filter(self.feedback_q(name))

    def feedback_q(self, name: str) -> Q:
        return {
            "feedback_handled": Q(handled_on_time__isnull=False),
            "feedback_on_time": Q(handled_on_time=True),
            "feedback_rated": ~Q(satisfaction=""),
            "feedback_not_dissatisfied": Q(satisfaction__in=("satisfied", "neutral")),
        }[name]

    def _feedback(self, definition: Any = None) -> dict[str, Any]:
        return {name: self.feedback_rows(name).count() for name in SOURCES["feedback"]}

    def _none(self, definition: Any = None) -> dict[str, Any]:
        return {}

    def national_rows(self) -> QuerySet[SyncRecord]:
        """The outbox records toward the national portal (`cchc.national`) of dossiers received
        in the period (competent agency, procedure and channel filters): one row per record,
        so sums count distinct dossiers. Read from the records' side — records are written
        after receipt, so none of them was created before the period began — never by walking
        the period's dossiers (a year of dossiers at province scale) to look for records."""
        qs = SyncRecord.objects.filter(
            created_at__gte=self.start,
            dossier__received_at__gte=self.start,
            dossier__received_at__lt=self.end,
        )
        qs = self.by_agency(qs, "dossier__competent_agency_id")
        if self.filters.procedure_id:
            qs = qs.filter(dossier__procedure_id=self.filters.procedure_id)
        if self.filters.channel:
            qs = qs.filter(dossier__channel=self.filters.channel)
        return qs

    def national_sums(self) -> dict[str, Any]:
        """Per group of `national_rows`: the dossiers, and those with a record late: sent
        more than `CCHC_DVCQG["on_time_hours"]` after its event, or not sent (a discarded dead
        letter included) when that allowance has run out at the context's instant."""
        allowance = dt.timedelta(hours=float(national_client.config().get("on_time_hours", 24)))
        late = Q(state=SyncState.SENT, sent_at__gt=F("created_at") + allowance) | (
            ~Q(state=SyncState.SENT) & Q(created_at__lt=self.instant - allowance)
        )
        return {
            "to_sync": Count("dossier_id", distinct=True),
            "late": Count("dossier_id", distinct=True, filter=late),
        }

    @staticmethod
    def national_values(sums: dict[str, Any], definition: Any = None) -> dict[str, Any]:
        to_sync = int(sums.get("to_sync") or 0)
        if not to_sync and not national_client.connected():
            return {"_missing": _no_data_reason(definition, "national")}
        return {"to_sync": to_sync, "synced_on_time": to_sync - int(sums.get("late") or 0)}

    def national_by_agency(self) -> dict[int, dict[str, Any]]:
        """`national_sums` per competent agency, in one grouped query (for the ranking's
        `grouped.preload`: ``Context.national_values(_add(groups, ids, ("to_sync",
        "late")))``)."""
        rows = (
            self.national_rows()
            .values("dossier__competent_agency_id")
            .annotate(**self.national_sums())
            .order_by()
        )
        return {row.pop("dossier__competent_agency_id"): row for row in rows}

    def _national(self, definition: Any = None) -> dict[str, Any]:
        """766 1d: `to_sync` dossiers received in the period with outbox records, and
        `synced_on_time` those whose every record was sent within
        `CCHC_DVCQG["on_time_hours"]` of its event (UNVERIFIED rule: the index's own text
        does not say how "đồng bộ" is timed; the simulator counts the same way). One
        query. No data when no portal is configured and no dossier of the period has a
        record."""
        sums = self.national_rows().aggregate(**self.national_sums())
        return self.national_values(sums, definition)

    # -- drill-down -----------------------------------------------------------------------

    def dossier_q(self, name: str) -> tuple[str, Q]:
        """(family, condition) of a dossier measure; family "r", "f" or "p" (in progress)."""
        paper = Q(procedure__result_type="paper") & ~Q(return_channel="online")
        derived: dict[str, tuple[str, Q]] = {
            "online_service_received": ("r", ~Q(procedure__online_level="none")),
            "online_counted": ("r", Q(channel=2) & ~paper),
            "finished_on_time_766": ("f", ~aggregates.Q_OVERDUE_766),
            "certification_returned": (
                "f",
                Q(state="returned", procedure__output_certified_copy=True),
            ),
            "processing_hours": ("f", aggregates.ALWAYS),
            "processing_seconds": ("f", aggregates.ALWAYS),
            "in_progress": ("p", aggregates.ALWAYS),
            "in_progress_on_time": ("p", self._progress_on_time()),
        }
        if name in derived:
            return derived[name]
        family = "r" if name in RECEIVED_MEASURES else "f"
        return family, aggregates.DEFINITIONS[name][1]

    def dossier_order(self, expr: Expr) -> tuple[str, str]:
        """The order of a drill-down's rows: by completion when every counted term is of
        dossiers finished in the period (the period's range on `finished_at` then walks the
        `dossier_finished` index in order: a page of June's finished dossiers reads 50 rows,
        not every dossier received before June), else by receipt — and by receipt too for
        some agencies (their index, `dossier_competent`, is in receipt order: SQLite walked
        the whole year's finished index for one agency's page, 3 s at 1 M)."""
        families = {self.dossier_q(name)[0] for sign, name in expr.terms if sign > 0}
        by_completion = families == {"f"} and self.ids is None
        return ("finished_at", "id") if by_completion else ("received_at", "id")

    def dossier_rows(self, expr: Expr) -> QuerySet[Dossier]:
        # Received and finished terms are conditions on the row itself (every measure's
        # condition reads single-valued columns, the procedure or an EXISTS), not
        # `pk IN (subquery)`: PostgreSQL hashes such a subquery over every dossier of the
        # period before the agency filter applies (8.5 s to count an agency's dossiers
        # finished on time in 2024 among 1 M), while the plain condition walks the
        # agency's index (dossier_competent). In progress stays a subquery (open dossiers).
        families = {
            "r": Q(received_at__gte=self.start, received_at__lt=self.end),
            "f": Q(received_at__isnull=False, finished_at__gte=self.start, finished_at__lt=self.end)
            & resolved.q(),
        }
        plus: Q | None = None
        minus = Q()
        # The added terms of one family share its period range: `range AND (a OR b)`, not
        # `(range AND a) OR (range AND b)`, which SQLite answers with one range scan of the
        # whole period per term instead of the agency's index.
        conds: dict[str, Q] = {}
        for sign, name in expr.terms:
            family, cond = self.dossier_q(name)
            if sign > 0:
                conds[family] = conds[family] | cond if family in conds else cond
                continue
            if family == "p":
                minus |= Q(pk__in=self.in_progress_rows().filter(cond).values("pk"))
            else:
                minus |= families[family] & cond
        for family, cond in conds.items():
            if family == "p":
                term = Q(pk__in=self.in_progress_rows().filter(cond).values("pk"))
            else:
                term = families[family] & cond
            plus = term if plus is None else plus | term
        qs = Dossier.objects.filter(plus if plus is not None else Q(pk__in=[]))
        if minus:
            qs = qs.exclude(minus)
        qs = self.by_agency(qs, "competent_agency_id")
        if self.filters.procedure_id:
            qs = qs.filter(procedure_id=self.filters.procedure_id)
        if self.filters.channel:
            qs = qs.filter(channel=self.filters.channel)
        return qs


NATIONAL_NOT_CONNECTED = "Hệ thống chưa kết nối đồng bộ trạng thái hồ sơ với Cổng DVC quốc gia."


def _no_data_reason(definition: Any, source: str) -> str:
    """The no-data reason the definition gives the item of `source` (else the default)."""
    items = [*getattr(definition, "subs", ()), *getattr(definition, "indicators", ())]
    for item in items:
        if item.source == source and getattr(item, "no_data_reason", ""):
            return str(item.no_data_reason)
    return NATIONAL_NOT_CONNECTED
