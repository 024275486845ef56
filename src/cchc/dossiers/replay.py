"""Deriving a dossier's current state, clocks and outcome from its events (spec 03).

This module is the single definition of the projection: services call `project` after
appending an event, and `cchc dossiers verify` calls it to check stored rows. It takes the
events and a calendar resolver, so it runs without the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from cchc import legaltime
from cchc.dossiers.models import OPEN_STATES, PAUSED_STATES, State

# Events that finish the legal clock (spec 02 §8): resolved, returned, refused or stopped
# after acceptance, withdrawal after acceptance.
FINISHING = frozenset({"approve", "return_result", "refuse", "stop", "withdraw"})
PAUSING = frozenset({"request_supplement", "request_obligation"})
RESUMING = frozenset({"supplement_received", "obligation_met"})
# Events that close the current step (a hand-off on the control slip, form 05).
HANDOFF = frozenset({"forward", "propose", "approve", "return_result", "refuse", "stop"})
# A dossier imported from another one-stop system (`cchc.dossiers.imported`): the event's
# data carries the facts the source system recorded (its own appointment date included),
# and a later import of a changed row carries them again in full.
IMPORTED = frozenset({"import", "import_update"})

CalendarResolver = Callable[[int | None], legaltime.Calendar]


class EventLike(Protocol):
    seq: int
    action: str
    to_state: str
    at: dt.datetime
    data: dict[str, Any]
    actor_label: str


@dataclass(frozen=True)
class Handoff:
    """One row of the control slip: who handed the dossier to whom, when, and how the step
    ended against its budget."""

    step: int
    step_name: str
    agency_id: int | None
    giver: str
    receiver: str
    at: dt.datetime
    step_due: dt.datetime | None
    outcome: str  # early / on_time / overdue ("" when the step had no budget)
    note: str = ""


@dataclass
class Projection:
    state: str = State.SUBMITTED
    is_open: bool = True
    queue_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    clock_start: dt.datetime | None = None
    original_due: dt.datetime | None = None
    due: dt.datetime | None = None
    paused_seconds: int = 0
    paused_since: dt.datetime | None = None
    calendar_version: str = ""
    extensions: int = 0
    supplement_requests: int = 0
    step_index: int = 0
    step_due: dt.datetime | None = None
    current_agency_id: int | None = None
    assignee_id: int | None = None
    finished_at: dt.datetime | None = None
    returned_at: dt.datetime | None = None
    outcome: str = ""
    outcome_original: str = ""
    has_apology: bool = False
    paid_amount: int = 0
    payment_channel: str = ""
    rating: str = ""
    has_complaint: bool = False
    pauses: list[tuple[dt.datetime, dt.datetime | None, str]] = field(default_factory=list)
    # Closed pauses as the clock counts them (clipped to the clock start).
    closed_pauses: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    step_dues: list[dt.datetime] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)

    # The fields stored on Dossier (what `verify` compares).
    STORED = (
        "state",
        "is_open",
        "queue_at",
        "received_at",
        "clock_start",
        "original_due",
        "due",
        "paused_seconds",
        "paused_since",
        "calendar_version",
        "extensions",
        "supplement_requests",
        "step_index",
        "step_due",
        "current_agency_id",
        "assignee_id",
        "finished_at",
        "returned_at",
        "outcome",
        "outcome_original",
        "has_apology",
        "paid_amount",
        "payment_channel",
        "rating",
        "has_complaint",
    )

    def stored(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.STORED}


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def budget_seconds(step_plan: Sequence[dict[str, Any]], standard: int) -> list[int]:
    """Working seconds of each step's budget (0 for a budget not in working time)."""
    out = []
    for step in step_plan:
        parsed = legaltime.parse_duration(str(step["budget"]))
        out.append(parsed.working_seconds(standard) if parsed.is_working else 0)
    return out


def shift(calendar: legaltime.Calendar, instant: dt.datetime, seconds: int) -> dt.datetime:
    """`instant` moved later by `seconds` of working time."""
    if seconds <= 0:
        return instant
    return legaltime.due(calendar, instant, legaltime.Duration.from_working_seconds(seconds))


def counted_pauses(
    cal: legaltime.Calendar,
    received: dt.datetime,
    pauses: Sequence[tuple[dt.datetime, dt.datetime | None, str]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Closed pauses clipped to the clock start: a supplement requested over lunch right
    after receipt, before the clock started, pauses nothing until the clock would start."""
    start = legaltime.start_of_clock(cal, received)
    out = []
    for begin, end, _ in pauses:
        if end is None:
            continue
        begin, end = max(begin, start), max(end, start)
        if end > begin:
            out.append((begin, end))
    return out


def project(
    *,
    duration_spec: str,
    step_plan: Sequence[dict[str, Any]],
    competent_agency_id: int,
    events: Sequence[EventLike],
    calendar: CalendarResolver,
) -> Projection:
    """The projection of `events` (ordered by seq). Pure: same input, same output."""
    p = Projection(current_agency_id=competent_agency_id)
    version: int | None = None
    apologies: list[tuple[dt.datetime, dt.datetime]] = []  # (apology instant, new due)
    holder = ""  # who holds the dossier (for the control slip)
    imported: dict[str, Any] | None = None
    for event in events:
        data = event.data or {}
        if "calendar_version" in data:
            version = data["calendar_version"]
        action = event.action
        if action == "receive":
            p.received_at = event.at
            holder = event.actor_label
        elif action in PAUSING:
            p.pauses.append((event.at, None, action))
            if action == "request_supplement":
                p.supplement_requests += 1
        elif action in RESUMING and p.pauses and p.pauses[-1][1] is None:
            begin, _, kind = p.pauses[-1]
            p.pauses[-1] = (begin, event.at, kind)
        elif action == "apologise":
            apologies.append((event.at, dt.datetime.fromisoformat(data["new_due"])))
        elif action == "pay":
            p.paid_amount += int(data["amount"])
            # An online payment is what the indicators count; cash never overrides it.
            if not p.payment_channel or p.payment_channel == "cash":
                p.payment_channel = str(data["channel"])
        elif action == "refund":
            p.paid_amount = max(p.paid_amount - int(data["amount"]), 0)
            if p.paid_amount == 0:
                p.payment_channel = ""
        elif action == "rate":
            p.rating = str(data["rating"])
        elif action == "complaint":
            p.has_complaint = True
        elif action in IMPORTED:
            imported = data
            _take_imported(p, data)
        if "assignee" in data:
            p.assignee_id = data["assignee"]
        if data.get("agency"):
            p.current_agency_id = data["agency"]
        if (action in HANDOFF or data.get("handoff")) and p.received_at is not None:
            # The desk's hand-over is given by whoever received the dossier; later hand-offs
            # by the officer acting.
            giver = holder if action == "assign" else event.actor_label
            receiver = data.get("receiver_label") or (
                "Người nộp hồ sơ" if action == "return_result" else ""
            )
            p.handoffs.append(
                Handoff(
                    step=p.step_index,
                    step_name=_step_name(step_plan, p.step_index),
                    agency_id=p.current_agency_id,
                    giver=giver,
                    receiver=receiver,
                    at=event.at,
                    step_due=None,  # filled below once the calendar is known
                    outcome="",
                    note=str(data.get("note", "")),
                )
            )
            holder = receiver or holder
        if "step" in data:
            p.step_index = int(data["step"])
        if action in FINISHING and p.finished_at is None and p.received_at is not None:
            p.finished_at = event.at
        if action == "return_result":
            p.returned_at = event.at
        p.state = event.to_state
        if p.queue_at is None:
            p.queue_at = event.at  # the submission instant, until a due exists
    p.extensions = len(apologies)
    p.has_apology = bool(apologies)
    p.is_open = p.state in OPEN_STATES
    if imported is not None:
        return _imported_clock(p, imported)
    if p.received_at is None:
        return p

    cal = calendar(version)
    p.calendar_version = cal.version
    p.closed_pauses = counted_pauses(cal, p.received_at, p.pauses)
    closed = p.closed_pauses
    if p.state in PAUSED_STATES:
        p.paused_since = next((a for a, b, _ in p.pauses if b is None), None)
    result = legaltime.due_with_pauses(cal, p.received_at, duration_spec, closed)
    p.clock_start = result.start
    p.original_due = result.original_due
    p.paused_seconds = result.paused_seconds
    p.due = result.due
    if apologies:
        said_at, new_due = apologies[-1]
        later = sum(legaltime.elapsed(cal, max(a, said_at), b) for a, b in closed if b > said_at)
        p.due = shift(cal, new_due, later)

    budgets = [str(s["budget"]) for s in step_plan]
    if budgets:
        try:
            plain = legaltime.step_dues(cal, p.received_at, budgets)
        except legaltime.LegalTimeError:
            plain = []
        # Pauses that ended before a step's due push it later, like the dossier's due.
        dues = []
        for instant in plain:
            before = sum(legaltime.elapsed(cal, a, b) for a, b in closed if a < instant)
            dues.append(shift(cal, instant, before))
        p.step_dues = dues
        if p.step_index < len(dues) and p.finished_at is None:
            p.step_due = dues[p.step_index]
        p.handoffs = [_judge(h, dues) for h in p.handoffs]

    p.queue_at = p.due
    if p.finished_at is not None and p.due is not None and p.original_due is not None:
        p.outcome = str(legaltime.classify(p.due, finished=p.finished_at))
        p.outcome_original = str(
            legaltime.classify(shift(cal, p.original_due, p.paused_seconds), finished=p.finished_at)
        )
    return p


def _take_imported(p: Projection, data: dict[str, Any]) -> None:
    """The facts of an import event replace what earlier events said."""
    p.received_at = _instant(data.get("received_at"))
    p.finished_at = _instant(data.get("finished_at"))
    p.returned_at = _instant(data.get("returned_at"))
    p.supplement_requests = int(data.get("supplements", 0))
    p.paid_amount = int(data.get("paid_amount", 0))
    p.payment_channel = str(data.get("payment_channel", ""))
    p.rating = str(data.get("rating", ""))
    p.has_complaint = bool(data.get("complaint", False))
    p.pauses = []


def project_import(
    data: dict[str, Any], to_state: str, competent_agency_id: int, at: dt.datetime
) -> Projection:
    """`project` of a dossier whose only event is an ``import`` (`data`, at `at`), without
    the general loop: the bulk import's path. `cchc dossiers verify` replays the same
    dossiers through `project`, so the two cannot drift apart unnoticed."""
    p = Projection(current_agency_id=data.get("agency") or competent_agency_id)
    _take_imported(p, data)
    p.state = to_state
    p.is_open = to_state in OPEN_STATES
    p.queue_at = at
    return _imported_clock(p, data)


def _imported_clock(p: Projection, data: dict[str, Any]) -> Projection:
    """An imported dossier keeps the appointment the source system gave the citizen: its
    clock is not recomputed here (the source's calendar and pauses are not known); the
    outcome is judged against that appointment like any other."""
    due = _instant(data.get("due"))
    p.clock_start = p.received_at
    p.original_due = p.due = due
    p.queue_at = due or p.received_at or p.queue_at
    if p.finished_at is not None and due is not None:
        p.outcome = p.outcome_original = str(legaltime.classify(due, finished=p.finished_at))
    return p


def _step_name(step_plan: Sequence[dict[str, Any]], index: int) -> str:
    if 0 <= index < len(step_plan):
        return str(step_plan[index]["name"])
    return f"Bước {index + 1}"


def _judge(h: Handoff, dues: list[dt.datetime]) -> Handoff:
    if h.step >= len(dues):
        return h
    due = dues[h.step]
    outcome = str(legaltime.classify(due, finished=h.at))
    return replace(h, step_due=due, outcome=outcome)
