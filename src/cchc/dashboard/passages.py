"""Step passages of dossiers judged by the dossier engine, stored for grouped reads.

A dossier's internal process (`step_plan`, copied from the catalogue at intake) gives each
step a budget; the control slip (phiếu kiểm soát) records each hand-off, and the step's
deadline is derived from the receipt instant, the budgets, the calendar version and the
pauses by the dossier engine itself (`dossiers.replay.project`, the function behind the
stored projection and the dossier page's step table). The event log does not store step
deadlines, so the events of the dossiers concerned are read (only the needed columns,
streamed) and replayed; a passage is "chậm tiến độ" when its hand-off came after its step's
deadline (`legaltime.classify`), and the delay is the working time between the deadline and
the hand-off (`legaltime.elapsed`).

The judged passages are kept in `dashboard.StepPassage`, keyed by the dossier's event count
(`dashboard.JudgedDossier`), so a page replays only dossiers with new events; `cchc
dashboard judge` (scheduled) keeps the store current between page views.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from cchc import legaltime
from cchc.calendars.services import calendar_for
from cchc.dashboard.models import JudgedDossier, StepPassage
from cchc.dossiers import replay
from cchc.dossiers.models import Dossier, DossierEvent, State

# Events that can close a step on the control slip (`replay.HANDOFF`, plus the first
# assignment, whose data carries `handoff`): a dossier without one in the period has no
# step passage to judge there.
PASSAGE_ACTIONS = sorted(replay.HANDOFF | {"assign"})
# Events that change neither a step's deadline nor the control slip: `replay.project` reads
# step deadlines from the receipt, the calendar version and the closed pauses, and hand-offs
# from the events carrying `step`, `agency`, `assignee` or `handoff`; none of these does
# (fees, ratings, complaints, notes, files, the apology's new due, the steps before
# receipt). Leaving them out of the replay reads fewer rows and gives the same passages
# (tests/dashboard/test_leader.py checks it against the full replay).
NOT_READ = sorted(
    {
        "submit",
        "request_completion",
        "resubmit",
        "attach",
        "note",
        "citizen_upload",
        "pay",
        "refund",
        "rate",
        "complaint",
        "apologise",
    }
)


class _Event(NamedTuple):
    """The columns of an event `replay.project` reads."""

    seq: int
    action: str
    to_state: str
    at: dt.datetime
    data: dict[str, Any]
    actor_label: str


@dataclass(frozen=True)
class Passage:
    """One step passage (a hand-off on the control slip) judged against its deadline."""

    dossier_id: int
    procedure_id: int
    step: int  # index in the dossier's step_plan
    step_name: str
    due: dt.datetime
    at: dt.datetime
    late: bool
    delay_seconds: int  # working seconds after the deadline (0 when not late)
    giver: str


class Calendars:
    """Calendars by (code, version, Saturday reception), each read once per computation."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, int | None, bool], legaltime.Calendar] = {}

    def resolver(self, code: str, saturday: bool) -> replay.CalendarResolver:
        def resolve(number: int | None) -> legaltime.Calendar:
            key = (code, number, saturday)
            if key not in self._built:
                self._built[key] = calendar_for(code, number=number, saturday_reception=saturday)
            return self._built[key]

        return resolve


def _active_in(qs: QuerySet[Dossier], start: dt.datetime, end: dt.datetime) -> QuerySet[Dossier]:
    """Dossiers that may have a hand-off in [start, end): received before its end, and not
    finished (and returned) before its start."""
    return qs.filter(received_at__lt=end).filter(
        Q(finished_at__isnull=True)
        | Q(finished_at__gte=start)
        | Q(returned_at__gte=start)
        | Q(state=State.RESOLVED)
    )


def judge(dossiers: Any) -> int:
    """Store the passages of the dossiers in `dossiers` (a subquery of ids) whose stored
    judgment is missing or older than their events (`models.JudgedDossier`): replay their
    events with the dossier engine and replace their rows. Returns how many were judged.
    When nothing changed this is one query; otherwise a fixed few plus the inserts."""
    stale = Dossier.objects.filter(pk__in=dossiers).exclude(
        Exists(JudgedDossier.objects.filter(dossier_id=OuterRef("pk"), version=OuterRef("version")))
    )
    heads = {
        pk: rest
        for pk, *rest in stale.values_list(
            "pk",
            "version",
            "procedure_id",
            "duration_spec",
            "step_plan",
            "calendar_code",
            "saturday_reception",
            "competent_agency_id",
        )
    }
    if not heads:
        return 0
    # Ids as a list only in chunks, so that no statement exceeds a backend's parameters.
    chunks = [sorted(heads)[i : i + 900] for i in range(0, len(heads), 900)]
    with transaction.atomic():
        for chunk in chunks:
            StepPassage.objects.filter(dossier_id__in=chunk).delete()
            JudgedDossier.objects.filter(dossier_id__in=chunk).delete()
        calendars = Calendars()
        rows: list[StepPassage] = []
        judged: list[JudgedDossier] = []
        events = (
            DossierEvent.objects.filter(dossier_id__in=stale.values("pk"))
            .exclude(action__in=NOT_READ)
            .order_by("dossier_id", "seq")
            .values_list("dossier_id", "seq", "action", "to_state", "at", "data", "actor_label")
        )
        current: int | None = None
        batch: list[_Event] = []

        def flush(pk: int, evs: list[_Event]) -> None:
            if pk not in heads:  # an event appended since the heads were read
                return
            version, procedure, duration, plan, code, saturday, competent = heads[pk]
            judged.append(JudgedDossier(dossier_id=pk, version=version))
            if not plan:
                return
            p = replay.project(
                duration_spec=duration,
                step_plan=plan,
                competent_agency_id=competent,
                events=evs,
                calendar=calendars.resolver(code, saturday),
            )
            if not p.step_dues:
                return
            cal = calendars.resolver(code, saturday)(calendar_version(p.calendar_version))
            number = 0
            for h in p.handoffs:
                if h.step_due is None:
                    continue
                late = h.outcome == legaltime.Outcome.OVERDUE
                number += 1
                rows.append(
                    StepPassage(
                        dossier_id=pk,
                        number=number,
                        procedure_id=procedure,
                        step=h.step,
                        step_name=h.step_name[:500],
                        due=h.step_due,
                        at=h.at,
                        late=late,
                        delay_seconds=legaltime.elapsed(cal, h.step_due, h.at) if late else 0,
                        giver=h.giver[:200],
                    )
                )

        for pk, seq, action, to_state, at, data, label in events.iterator(chunk_size=5000):
            if pk != current:
                if current is not None:
                    flush(current, batch)
                current, batch = pk, []
            batch.append(_Event(seq, action, to_state, at, data or {}, label))
        if current is not None:
            flush(current, batch)
        StepPassage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        JudgedDossier.objects.bulk_create(judged, batch_size=2000, ignore_conflicts=True)
    return len(judged)


def stored_passages(
    dossiers: QuerySet[Dossier], start: dt.datetime, end: dt.datetime
) -> QuerySet[StepPassage]:
    """The stored passages of `dossiers` handed off in [start, end), judged first where the
    stored judgment is missing or stale. The dossiers that may have a hand-off in the
    period (`_active_in`, read from the dossier rows, not the events) are checked: a
    superset of those with a hand-off event in it, so nothing is missed, and the event log
    is read only for dossiers judged again."""
    within = _active_in(dossiers, start, end).values("pk")
    judge(within)
    return StepPassage.objects.filter(dossier_id__in=within, at__gte=start, at__lt=end)


def passages(
    dossiers: QuerySet[Dossier], start: dt.datetime, end: dt.datetime
) -> Iterator[Passage]:
    """Every step passage of `dossiers` handed off in [start, end), as the dossier engine
    judges it (`dossiers.replay.project`: the control slip's hand-offs and the step
    deadlines derived from receipt, budgets, calendar version and pauses)."""
    rows = (
        stored_passages(dossiers, start, end)
        .order_by("dossier_id", "number")
        .values_list(
            "dossier_id",
            "procedure_id",
            "step",
            "step_name",
            "due",
            "at",
            "late",
            "delay_seconds",
            "giver",
        )
    )
    for row in rows.iterator(chunk_size=5000):
        yield Passage(*row)


def calendar_version(label: str) -> int | None:
    """The version number of a calendar label "code@vN" (`legaltime.Calendar.version`)."""
    return int(label.rsplit("@v", 1)[1]) if "@v" in label else None


BATCH = 900  # dossiers per transaction of `judge_all` (and per list of ids in one statement)


def judge_all(*, batch: int = BATCH) -> int:
    """Judge every received dossier with an internal process whose stored judgment is
    missing or older than its events, `batch` dossiers per transaction (each committed on
    its own, so an interrupted run keeps what it did). Returns how many were judged."""
    stale = (
        Dossier.objects.filter(received_at__isnull=False)
        .exclude(step_plan=[])
        .exclude(
            Exists(
                JudgedDossier.objects.filter(dossier_id=OuterRef("pk"), version=OuterRef("version"))
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = 0
    after = 0
    while True:
        ids = list(stale.filter(pk__gt=after)[:batch])
        if not ids:
            return total
        total += judge(ids)
        after = ids[-1]
