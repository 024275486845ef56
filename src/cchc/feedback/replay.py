"""Deriving a PAKN's columns from its events and the working calendar.

Deadlines (versioned rules, `cchc.feedback.deadlines`), counted in working time on the
responsible agency's calendar:

- decision (accept or refuse to handle): `reject` after receipt;
- request for more information: `supplement` after receipt (only if one is made);
- answer: `resolve` after receipt, moved later by the working time spent waiting for the
  citizen's supplement (the clock pauses, as for dossiers);
- publication of the answer: `publish` after the answer.

Each on-time flag is null while its deadline is ahead (or does not apply), false as soon as
it is missed (also while still open, at the instant `now`), true when met. `handled_on_time`
is false if any deadline was missed, true once the PAKN is finished (refused in time, or
answered and published in time), null otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from cchc import legaltime
from cchc.feedback.deadlines import DeadlineRules
from cchc.feedback.models import TERMINAL_STATES, FeedbackEvent, State

STORED = (
    "state",
    "is_open",
    "assignee_id",
    "reject_due",
    "supplement_due",
    "resolve_due",
    "publish_due",
    "decided_at",
    "rejected_at",
    "reject_reason",
    "supplement_requests",
    "first_supplement_at",
    "paused_since",
    "paused_seconds",
    "resolved_at",
    "answer",
    "answered_at",
    "published_at",
    "public_content",
    "withdrawn_at",
    "decision_on_time",
    "supplement_on_time",
    "resolve_on_time",
    "publish_on_time",
    "handled_on_time",
    "satisfaction",
    "satisfaction_comment",
    "rated_at",
)


@dataclass
class Projection:
    state: str = State.RECEIVED
    is_open: bool = True
    assignee_id: int | None = None
    reject_due: dt.datetime | None = None
    supplement_due: dt.datetime | None = None
    resolve_due: dt.datetime | None = None
    publish_due: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    rejected_at: dt.datetime | None = None
    reject_reason: str = ""
    supplement_requests: int = 0
    first_supplement_at: dt.datetime | None = None
    paused_since: dt.datetime | None = None
    paused_seconds: int = 0
    resolved_at: dt.datetime | None = None
    answer: str = ""
    answered_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    public_content: str = ""
    withdrawn_at: dt.datetime | None = None
    decision_on_time: bool | None = None
    supplement_on_time: bool | None = None
    resolve_on_time: bool | None = None
    publish_on_time: bool | None = None
    handled_on_time: bool | None = None
    satisfaction: str = ""
    satisfaction_comment: str = ""
    rated_at: dt.datetime | None = None

    def stored(self) -> dict[str, Any]:
        values = asdict(self)
        return {name: values[name] for name in STORED}


def _met(done: dt.datetime | None, due: dt.datetime | None, now: dt.datetime | None) -> bool | None:
    """True/False once `done`; False when still pending at `now` past `due`; else None."""
    if due is None:
        return None
    if done is not None:
        return done <= due
    if now is not None and now > due:
        return False
    return None


def project(
    *,
    received_at: dt.datetime,
    events: Sequence[FeedbackEvent],
    calendar: legaltime.Calendar,
    rules: DeadlineRules,
    now: dt.datetime | None = None,
) -> Projection:
    """The derived columns after `events`, judged at `now` (default: the last event)."""
    p = Projection()
    p.reject_due = legaltime.due(calendar, received_at, rules.reject)
    p.supplement_due = legaltime.due(calendar, received_at, rules.supplement)
    pauses: list[tuple[dt.datetime, dt.datetime]] = []
    last = received_at
    for event in events:
        last = event.at
        action, data = event.action, event.data or {}
        if action in ("accept", "reject") and p.decided_at is None:
            p.decided_at = event.at
        if action == "reject":
            p.rejected_at = event.at
            p.reject_reason = event.reason
        elif action == "assign":
            p.assignee_id = data.get("assignee")
        elif action == "request_supplement":
            p.supplement_requests += 1
            if p.first_supplement_at is None:
                p.first_supplement_at = event.at
            p.paused_since = event.at
        elif action == "supplement_received" and p.paused_since is not None:
            if int(event.at.timestamp()) > int(p.paused_since.timestamp()):
                pauses.append((p.paused_since, event.at))  # (an instant-long pause is none)
            p.paused_since = None
        elif action == "answer":
            p.resolved_at = p.answered_at = event.at
            p.answer = event.reason
        elif action == "publish":
            p.published_at = event.at
            p.public_content = str(data.get("public_content", ""))
        elif action == "withdraw":
            p.withdrawn_at = event.at
            p.paused_since = None
        elif action == "rate":
            p.satisfaction = str(data.get("satisfaction", ""))
            p.satisfaction_comment = str(data.get("comment", ""))
            p.rated_at = event.at
        p.state = event.to_state
    # Pauses before the clock starts (a request made out of hours) count from the start.
    start = legaltime.start_of_clock(calendar, received_at)
    pauses = [(max(a, start), b) for a, b in pauses if b > start and b > max(a, start)]
    result = legaltime.due_with_pauses(calendar, received_at, rules.resolve, pauses)
    p.resolve_due = result.due
    p.paused_seconds = result.paused_seconds
    if p.resolved_at is not None:
        p.publish_due = legaltime.due(calendar, p.resolved_at, rules.publish)
    p.is_open = p.state not in TERMINAL_STATES
    judge = now or last
    _flags(p, judge)
    return p


def _flags(p: Projection, now: dt.datetime) -> None:
    withdrawn = p.state == State.WITHDRAWN
    pending_now = None if withdrawn else now
    p.decision_on_time = _met(p.decided_at, p.reject_due, pending_now)
    p.supplement_on_time = (
        None if p.first_supplement_at is None else p.first_supplement_at <= p.supplement_due  # type: ignore[operator]
    )
    if p.state == State.REJECTED:
        p.resolve_on_time = None
    elif p.state == State.AWAITING_SUPPLEMENT:
        # The clock is stopped; it was late only if it had run out before the pause.
        assert p.paused_since is not None and p.resolve_due is not None
        p.resolve_on_time = False if p.paused_since > p.resolve_due else None
    else:
        p.resolve_on_time = _met(p.resolved_at, p.resolve_due, pending_now)
    p.publish_on_time = _met(p.published_at, p.publish_due, pending_now)
    flags = (p.decision_on_time, p.supplement_on_time, p.resolve_on_time, p.publish_on_time)
    if any(f is False for f in flags):
        p.handled_on_time = False
    elif (p.state == State.REJECTED and p.decision_on_time) or p.state == State.PUBLISHED:
        p.handled_on_time = True
    else:
        p.handled_on_time = None


def pending_deadline(p: Any) -> tuple[str, dt.datetime] | None:
    """The deadline an open PAKN is working against: (kind, instant), or None (paused,
    finished)."""
    if p.state == State.RECEIVED:
        return "reject", p.reject_due
    if p.state in (State.ACCEPTED, State.IN_PROGRESS):
        return "resolve", p.resolve_due
    if p.state == State.RESOLVED and p.publish_due is not None:
        return "publish", p.publish_due
    return None


DEADLINE_LABELS = {
    "reject": "tiếp nhận hoặc từ chối xử lý",
    "supplement": "yêu cầu bổ sung thông tin",
    "resolve": "trả lời",
    "publish": "công khai trả lời",
}
