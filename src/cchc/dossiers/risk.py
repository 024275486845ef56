"""The daily breach-prediction scan (`cchc dossiers scan`, spec 03 "Overdue and apology").

For each open, received dossier whose clock runs (paused ones are skipped: their clock is
stopped and their flag is left as it was):

- remaining = working time from now to the current due (negative once overdue);
- needed = the working time the dossier typically still needs. From history: over the
  finished (resolved/returned) dossiers of the same procedure that reached the current step,
  T(k) = median working time from reaching step k to finishing and T(k+1) the same from the
  next step (0 for those that finished without reaching it); pauses are not counted. With
  fewer than MIN_HISTORY such dossiers, T(k) and T(k+1) are the sums of the step budgets from
  step k and from step k+1. Then needed = max(T(k+1), T(k) − time already spent in step k):
  the time spent in the current step counts towards it, the later steps still have to run.
  (Comparing with T(k) alone would flag every dossier whose budgets sum to the legal time as
  soon as its first minute in a step has passed.)
- at risk when remaining < needed, or when already overdue.

The risk columns are not derived from events (by design): the scan writes them with
queryset updates in one transaction, with one audit entry summarising the run, and
notifies the assignee and the agency's leaders once per dossier per day.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Prefetch, Q

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.dossiers import replay, services
from cchc.dossiers.models import (
    CLOCK_RUNNING,
    OPEN_STATES,
    PAUSED_STATES,
    Dossier,
    DossierEvent,
    State,
)
from cchc.errors import DomainError
from cchc.notifications.services import notify

MIN_HISTORY = 5  # finished examples needed before the median replaces the step budgets
HISTORY_LIMIT = 200  # most recent finished dossiers of a procedure looked at
BATCH = 500
RECEIVED_OPEN = frozenset(OPEN_STATES - {State.SUBMITTED})
FINISHED_WITH_RESULT = (State.RESOLVED, State.RETURNED)


def working_label(seconds: int) -> str:
    """`27000` -> "7 giờ 30 phút" (working time)."""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} giờ {minutes} phút"
    if hours:
        return f"{hours} giờ"
    return f"{minutes} phút"


def _local(instant: dt.datetime) -> str:
    return instant.astimezone(legaltime.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


@dataclass(frozen=True)
class Walk:
    """What the scan needs from a dossier's events."""

    reached: dict[int, dt.datetime]  # step -> first instant the dossier was at or past it
    entered: dt.datetime | None  # when the dossier entered its current step
    pauses: list[tuple[dt.datetime, dt.datetime]]  # closed pauses


def walk(events: Sequence[Any]) -> Walk:
    reached: dict[int, dt.datetime] = {}
    entered = None
    pauses: list[tuple[dt.datetime, dt.datetime]] = []
    paused_at = None
    step = 0
    received = False
    for event in events:
        data = event.data or {}
        if event.action == "receive":
            received = True
            reached[0] = entered = event.at
            continue
        if not received:
            continue
        if event.action in replay.PAUSING and paused_at is None:
            paused_at = event.at
        elif event.action in replay.RESUMING and paused_at is not None:
            pauses.append((paused_at, event.at))
            paused_at = None
        if "step" in data:
            new = int(data["step"])
            if new != step:
                entered = event.at
                step = new
            for k in range(new + 1):
                reached.setdefault(k, event.at)
    return Walk(reached, entered, pauses)


def working_between(
    cal: legaltime.Calendar,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> int:
    """Working seconds from `start` to `end`, not counting the pauses (0 if end ≤ start)."""
    if end <= start:
        return 0
    total = legaltime.elapsed(cal, start, end)
    for a, b in pauses:
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total -= legaltime.elapsed(cal, lo, hi)
    return max(total, 0)


@dataclass(frozen=True)
class Typical:
    from_step: int  # T(k)
    after_step: int  # T(k+1)
    basis: str  # "history" or "budgets"
    examples: int


class History:
    """Finished dossiers of a procedure, as per-step working times to finishing."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._cache: dict[int, list[dict[int, int]]] = {}

    def of(self, procedure_id: int) -> list[dict[int, int]]:
        if procedure_id not in self._cache:
            self._cache[procedure_id] = self._load(procedure_id)
        return self._cache[procedure_id]

    def _load(self, procedure_id: int) -> list[dict[int, int]]:
        qs = (
            Dossier.objects.filter(
                procedure_id=procedure_id,
                state__in=FINISHED_WITH_RESULT,
                received_at__isnull=False,
                finished_at__isnull=False,
                finished_at__lte=self.now,
            )
            .order_by("-finished_at", "-pk")
            .prefetch_related(Prefetch("events", queryset=DossierEvent.objects.order_by("seq")))
        )
        out = []
        for dossier in qs[:HISTORY_LIMIT]:
            try:
                cal = services.calendar_of(dossier)
                w = walk(list(dossier.events.all()))
                out.append(
                    {
                        k: working_between(cal, at, dossier.finished_at, w.pauses)
                        for k, at in w.reached.items()
                    }
                )
            except (legaltime.LegalTimeError, DomainError):
                continue  # an example we cannot measure is no example
        return out

    def typical(self, dossier: Dossier, standard: int) -> Typical:
        k = dossier.step_index
        examples = [h for h in self.of(dossier.procedure_id) if k in h]
        if len(examples) >= MIN_HISTORY:
            return Typical(
                from_step=int(statistics.median(h[k] for h in examples)),
                after_step=int(statistics.median(h.get(k + 1, 0) for h in examples)),
                basis="history",
                examples=len(examples),
            )
        budgets = replay.budget_seconds(dossier.step_plan, standard)
        return Typical(
            from_step=sum(budgets[k:]),
            after_step=sum(budgets[k + 1 :]),
            basis="budgets",
            examples=len(examples),
        )


@dataclass(frozen=True)
class Assessment:
    dossier_id: int
    code: str
    agency_id: int
    assignee_id: int | None
    due: dt.datetime
    remaining: int  # working seconds to due (negative: overdue)
    needed: int
    spent_in_step: int
    basis: str
    examples: int
    at_risk: bool
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "due": self.due.astimezone(legaltime.VN_TZ).isoformat(),
            "remaining_seconds": self.remaining,
            "needed_seconds": self.needed,
            "spent_in_step_seconds": self.spent_in_step,
            "basis": self.basis,
            "examples": self.examples,
            "note": self.note,
        }


def _step_name(dossier: Dossier) -> str:
    plan = dossier.step_plan
    k = dossier.step_index
    return str(plan[k]["name"]) if 0 <= k < len(plan) else f"Bước {k + 1}"


def assess(
    dossier: Dossier, events: Sequence[Any], history: History, now: dt.datetime
) -> Assessment:
    """The risk of one running dossier at `now`."""
    cal = services.calendar_of(dossier)
    assert dossier.due is not None
    remaining = legaltime.elapsed(cal, now, dossier.due)
    w = walk(events)
    spent = working_between(cal, w.entered or dossier.received_at or now, now, w.pauses)
    typical = history.typical(dossier, cal.standard_day_seconds)
    needed = max(typical.after_step, typical.from_step - spent)
    overdue = dossier.due < now
    at_risk = overdue or remaining < needed
    note = ""
    if overdue:
        note = (
            f"Đã quá hạn giải quyết {working_label(-remaining)} làm việc "
            f"(hạn {_local(dossier.due)})."
        )
        if not dossier.has_apology:
            note += " Chưa có văn bản xin lỗi, hẹn lại."
    elif at_risk:
        if typical.basis == "history":
            basis = (
                f"trung vị của {typical.examples} hồ sơ cùng thủ tục đã giải quyết, tính từ "
                f"bước «{_step_name(dossier)}»"
            )
        else:
            basis = (
                f"tổng định mức các bước còn lại từ bước «{_step_name(dossier)}»; chưa đủ "
                f"{MIN_HISTORY} hồ sơ đã giải quyết để thống kê"
            )
        note = (
            f"Còn {working_label(remaining)} làm việc đến hạn {_local(dossier.due)}, ít hơn "
            f"thời gian thường cần {working_label(needed)} ({basis}; đã ở bước này "
            f"{working_label(spent)})."
        )
    return Assessment(
        dossier_id=dossier.pk,
        code=dossier.code,
        agency_id=dossier.current_agency_id,
        assignee_id=dossier.assignee_id,
        due=dossier.due,
        remaining=remaining,
        needed=needed,
        spent_in_step=spent,
        basis=typical.basis,
        examples=typical.examples,
        at_risk=at_risk,
        note=note[:300],
    )


@dataclass(frozen=True)
class Flagged:
    code: str
    due: dt.datetime | None
    agency_id: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "due": self.due.astimezone(legaltime.VN_TZ).isoformat() if self.due else None,
            "detail": self.detail,
        }


@dataclass
class ScanReport:
    now: dt.datetime
    checked: int = 0
    skipped_paused: int = 0
    at_risk: list[Assessment] = field(default_factory=list)
    newly_flagged: int = 0
    cleared: int = 0
    notified: int = 0
    overdue_without_apology: list[Flagged] = field(default_factory=list)
    repeated_supplement: list[Flagged] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.astimezone(legaltime.VN_TZ).isoformat(),
            "checked": self.checked,
            "skipped_paused": self.skipped_paused,
            "at_risk": [a.as_dict() for a in self.at_risk],
            "newly_flagged": self.newly_flagged,
            "cleared": self.cleared,
            "notified": self.notified,
            "overdue_without_apology": [f.as_dict() for f in self.overdue_without_apology],
            "repeated_supplement": [f.as_dict() for f in self.repeated_supplement],
            "errors": [{"code": c, "message": m} for c, m in self.errors],
        }


class _Leaders:
    """Agency leaders who may approve at an agency (cached per agency for the run)."""

    def __init__(self) -> None:
        users = {}
        for a in RoleAssignment.objects.filter(
            role=Role.AGENCY_LEADER, active=True, user__is_active=True
        ).select_related("user"):
            users[a.user.pk] = a.user
        self.users = list(users.values())
        self._by_agency: dict[int, list[Any]] = {}

    def of(self, agency_id: int) -> list[Any]:
        if agency_id not in self._by_agency:
            self._by_agency[agency_id] = [
                u for u in self.users if policy.can(u, "dossier.approve", agency=agency_id)
            ]
        return self._by_agency[agency_id]


def scan(*, now: dt.datetime, actor: Any = SYSTEM, batch: int = BATCH) -> ScanReport:
    """Run the daily scan at `now` (see the module docstring). Safe to run again the same
    day: flags are recomputed and nobody is notified twice about the same dossier."""
    now = now.astimezone(legaltime.VN_TZ)
    report = ScanReport(now=now)
    history = History(now)
    open_received = Dossier.objects.filter(
        state__in=RECEIVED_OPEN, received_at__isnull=False, received_at__lte=now
    )
    report.skipped_paused = open_received.filter(state__in=PAUSED_STATES).count()
    running = (
        open_received.filter(state__in=CLOCK_RUNNING, due__isnull=False)
        .order_by("pk")
        .prefetch_related(Prefetch("events", queryset=DossierEvent.objects.order_by("seq")))
    )
    assessments: list[Assessment] = []
    previously: set[int] = set()
    for dossier in running.iterator(chunk_size=batch):
        report.checked += 1
        if dossier.at_risk:
            previously.add(dossier.pk)
        try:
            assessments.append(assess(dossier, list(dossier.events.all()), history, now))
        except (legaltime.LegalTimeError, DomainError) as exc:
            report.errors.append((dossier.code, getattr(exc, "message", str(exc))))
    report.at_risk = sorted((a for a in assessments if a.at_risk), key=lambda a: (a.due, a.code))
    report.newly_flagged = sum(1 for a in report.at_risk if a.dossier_id not in previously)
    safe = [a.dossier_id for a in assessments if not a.at_risk]

    with transaction.atomic():
        for a in report.at_risk:
            # Only while the clock still runs: a dossier closed since it was read stays clear.
            Dossier.objects.filter(pk=a.dossier_id, state__in=CLOCK_RUNNING).update(
                at_risk=True, risk_note=a.note, risk_checked_at=now
            )
        report.cleared = len(previously.intersection(safe))
        for i in range(0, len(safe), 1000):
            Dossier.objects.filter(pk__in=safe[i : i + 1000]).update(
                at_risk=False, risk_note="", risk_checked_at=now
            )
        # Dossiers that finished (or were never running) since they were flagged.
        report.cleared += (
            Dossier.objects.filter(at_risk=True)
            .exclude(state__in=RECEIVED_OPEN)
            .update(at_risk=False, risk_note="", risk_checked_at=now)
        )
        report.notified = _notify(report.at_risk, now)
        report.overdue_without_apology = _overdue_without_apology(now)
        report.repeated_supplement = _repeated_supplement()
        log.record(
            "dossier.risk_scan",
            actor=actor,
            at=now,
            data={
                "checked": report.checked,
                "at_risk": len(report.at_risk),
                "newly_flagged": report.newly_flagged,
                "cleared": report.cleared,
                "skipped_paused": report.skipped_paused,
                "notified": report.notified,
                "overdue_without_apology": len(report.overdue_without_apology),
                "repeated_supplement": len(report.repeated_supplement),
                "errors": len(report.errors),
                "codes": [a.code for a in report.at_risk][:200],
            },
        )
    return report


def _notify(items: Sequence[Assessment], now: dt.datetime) -> int:
    if not items:
        return 0
    leaders = _Leaders()
    assignees = {
        u.pk: u
        for u in User.objects.filter(
            pk__in={a.assignee_id for a in items if a.assignee_id}, is_active=True
        )
    }
    day = now.date().isoformat()
    sent = 0
    for a in items:
        recipients = {u.pk: u for u in leaders.of(a.agency_id)}
        if a.assignee_id in assignees:
            recipients[a.assignee_id] = assignees[a.assignee_id]
        for user in recipients.values():
            note = notify(
                kind="dossier.at_risk",
                subject=f"[{a.code}] Hồ sơ có nguy cơ trễ hạn",
                body=a.note,
                user=user,
                link=f"/ho-so/{a.code}/",
                key=f"dossier.risk:{a.dossier_id}:{day}:{user.pk}",
                agency_id=a.agency_id,
                now=now,
            )
            sent += note is not None
    return sent


def overdue_without_apology_q(now: dt.datetime) -> Q:
    """Open dossiers past due without an apology, as a filter (also the leaders' daily
    digest, `cchc.dossiers.digest`). A paused dossier is past due only if it was already
    past due when its clock stopped."""
    return Q(state__in=RECEIVED_OPEN, has_apology=False) & (
        Q(state__in=CLOCK_RUNNING, due__lt=now)
        | Q(state__in=PAUSED_STATES, due__lt=now, paused_since__gt=F("due"))
    )


def _overdue_without_apology(now: dt.datetime) -> list[Flagged]:
    qs = Dossier.objects.filter(overdue_without_apology_q(now))
    return [
        Flagged(d.code, d.due, d.current_agency_id, f"Quá hạn từ {_local(d.due)}")
        for d in qs.order_by("due", "pk").only("code", "due", "current_agency_id")
    ]


def _repeated_supplement() -> list[Flagged]:
    """Open dossiers asked for supplements more than once (each counts against the agency
    in the national 766 scoring)."""
    qs = Dossier.objects.filter(state__in=RECEIVED_OPEN, supplement_requests__gt=1)
    return [
        Flagged(
            d.code, d.due, d.current_agency_id, f"Đã yêu cầu bổ sung {d.supplement_requests} lần"
        )
        for d in qs.order_by("due", "pk").only(
            "code", "due", "current_agency_id", "supplement_requests"
        )
    ]
