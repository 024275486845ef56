"""Read side: the officers' queue with due markers, the citizen's list, published answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from cchc import legaltime
from cchc.feedback import access, replay
from cchc.feedback.models import OPEN_STATES, Feedback, State
from cchc.feedback.services import calendar_of
from cchc.legaltime.explain import format_working_time
from cchc.vietnamese import nfc

PAGE = 50


@dataclass(frozen=True)
class Filters:
    state: str = "open"  # open | all | a State value
    agency: int | None = None
    overdue: bool = False
    mine: bool = False
    q: str = ""


@dataclass
class Row:
    feedback: Feedback
    deadline: str  # label of the pending deadline ("" when none)
    due: dt.datetime | None
    overdue: bool
    soon: bool
    remaining: str


def marker(feedback: Feedback, now: dt.datetime) -> Row:
    pending = replay.pending_deadline(feedback)
    if pending is None:
        return Row(feedback, "", None, False, False, "")
    kind, due = pending
    overdue = now > due
    remaining = ""
    soon = False
    if not overdue:
        try:
            cal = calendar_of(feedback)
            seconds = legaltime.elapsed(cal, now, due)
            soon = seconds <= cal.standard_day_seconds
            remaining = "còn " + format_working_time(seconds, cal.standard_day_seconds)
        except Exception:
            remaining = ""
    return Row(feedback, replay.DEADLINE_LABELS[kind], due, overdue, soon, remaining)


def queue(user: Any, filters: Filters, *, now: dt.datetime) -> list[Row]:
    qs: QuerySet[Feedback] = access.visible(user).select_related("agency", "assignee")
    if filters.state == "open":
        qs = qs.filter(state__in=[*OPEN_STATES, State.RESOLVED])
    elif filters.state in State.values:
        qs = qs.filter(state=filters.state)
    if filters.agency:
        qs = qs.filter(agency_id=filters.agency)
    if filters.mine:
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    text = nfc(filters.q).strip()
    if text:
        qs = qs.filter(Q(code__icontains=text) | Q(subject__icontains=text))
    rows = [marker(f, now) for f in qs.order_by("resolve_due", "id")[: PAGE * 4]]
    if filters.overdue:
        rows = [r for r in rows if r.overdue or r.feedback.handled_on_time is False]
    rows.sort(key=lambda r: (not r.overdue, r.due is None, r.due or now))
    return rows[:PAGE]


def counts(user: Any, *, now: dt.datetime) -> dict[str, int]:
    qs = access.visible(user).filter(state__in=[*OPEN_STATES, State.RESOLVED])
    rows = [marker(f, now) for f in qs]
    return {
        "open": len(rows),
        "new": sum(1 for r in rows if r.feedback.state == State.RECEIVED),
        "overdue": sum(1 for r in rows if r.overdue),
        "soon": sum(1 for r in rows if r.soon),
    }


def published(q: str = "") -> QuerySet[Feedback]:
    qs = Feedback.objects.filter(state=State.PUBLISHED).select_related("agency")
    text = nfc(q).strip()
    if text:
        qs = qs.filter(Q(subject__icontains=text) | Q(code__icontains=text))
    return qs.order_by("-published_at", "-id")


def pending_counts(user: Any) -> dict[str, int]:
    """PAKN waiting for their handlers (chờ xử lý) as the queue lists them with
    `trang_thai=open` (open, or answered and not yet published), all and assigned to
    `user`: one aggregate, for the home page's card, whatever the number of PAKN."""
    qs = access.visible(user).filter(state__in=[*OPEN_STATES, State.RESOLVED])
    return qs.aggregate(
        open=Count("pk"),
        mine=Count("pk", filter=Q(assignee_id=getattr(user, "pk", None))),
    )
