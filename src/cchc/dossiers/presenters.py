"""What a person sees of one dossier: clocks, steps, timeline, the actions open to them.

Read-side only; shared by the web pages (and usable by the API). Personal data of the
applicant (also as the actor of their own events and as the address of the messages sent to
them) is masked for readers who do not handle the dossier (NĐ 13/2023, `cchc.privacy`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cchc import legaltime, privacy
from cchc.dossiers import access, digitisation, replay, services, signature_checks
from cchc.dossiers.models import (
    CLOCK_RUNNING,
    OPEN_STATES,
    PAUSED_STATES,
    Channel,
    Dossier,
    Outcome,
    State,
)
from cchc.notifications.services import for_dossier
from cchc.vietnamese import money

OUTCOME_LABELS = dict(Outcome.choices)

# Order in which actions are offered, with the form they need.
ACTION_ORDER = [
    "receive",
    "request_completion",
    "refuse_intake",
    "assign",
    "forward",
    "propose",
    "approve",
    "send_back",
    "request_supplement",
    "supplement_received",
    "request_obligation",
    "obligation_met",
    "apologise",
    "return_result",
    "refuse",
    "stop",
    "withdraw",
    "attach",
    "note",
]
DANGEROUS = frozenset({"refuse_intake", "refuse", "stop", "withdraw"})


def hours(seconds: int) -> str:
    """Working seconds in words: '1 ngày 3 giờ 30 phút làm việc' (8-hour days)."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 8 * 3600)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    parts = []
    if days:
        parts.append(f"{days} ngày")
    if h:
        parts.append(f"{h} giờ")
    if m or not parts:
        parts.append(f"{m} phút")
    return sign + " ".join(parts) + " làm việc"


@dataclass
class StepRow:
    number: int
    name: str
    budget: str
    due: dt.datetime | None
    status: str  # done / current / late / future
    status_label: str
    finished_at: dt.datetime | None = None
    outcome_label: str = ""


@dataclass
class Clock:
    received_at: dt.datetime | None
    clock_start: dt.datetime | None
    original_due: dt.datetime | None
    due: dt.datetime | None
    paused: str
    paused_since: dt.datetime | None
    remaining: str
    overdue: bool
    running: bool
    explanation: list[str]
    extensions: int


def clock(dossier: Dossier, projection: replay.Projection, now: dt.datetime) -> Clock:
    remaining = ""
    overdue = False
    explanation: list[str] = []
    if dossier.due is not None:
        try:
            cal = services.calendar_of(dossier)
            if dossier.state in PAUSED_STATES and dossier.paused_since is not None:
                # The open pause has not moved the due yet: what is left is what remained
                # when the clock stopped.
                left = legaltime.elapsed(cal, dossier.paused_since, dossier.due)
                remaining = f"Tạm dừng — còn {hours(left)} khi tiếp tục"
            elif dossier.state in OPEN_STATES:
                left = legaltime.elapsed(cal, max(now, dossier.clock_start or now), dossier.due)
                if now > dossier.due:
                    overdue = True
                    late = legaltime.elapsed(cal, dossier.due, now)
                    remaining = f"Quá hạn {hours(late)}"
                else:
                    remaining = f"Còn {hours(left)}"
            if dossier.source:
                explanation = [
                    f"Hạn là ngày hẹn trả do {dossier.source} ghi nhận "
                    f"({dossier.due.astimezone(legaltime.VN_TZ):%H:%M %d/%m/%Y}); hệ thống "
                    "không tính lại theo lịch làm việc vì không có lịch và thời gian tạm dừng "
                    "của hệ thống nguồn."
                ]
                result = None
            else:
                result = services.explain(dossier, projection)
            if result is not None and result.explanation is not None:
                explanation = [item.text for item in result.explanation.items]
            if dossier.extensions:
                explanation.append(
                    f"Đã hẹn lại ngày trả kết quả {dossier.extensions} lần (văn bản xin lỗi): "
                    f"hạn hiện tại {dossier.due.astimezone(legaltime.VN_TZ):%H:%M %d/%m/%Y}."
                )
        except legaltime.LegalTimeError as exc:
            explanation = [f"Không tính được thời hạn: {exc}"]
    return Clock(
        received_at=dossier.received_at,
        clock_start=dossier.clock_start,
        original_due=dossier.original_due,
        due=dossier.due,
        paused=hours(dossier.paused_seconds) if dossier.paused_seconds else "",
        paused_since=dossier.paused_since,
        remaining=remaining,
        overdue=overdue,
        running=dossier.state in CLOCK_RUNNING,
        explanation=explanation,
        extensions=dossier.extensions,
    )


def steps(dossier: Dossier, projection: replay.Projection, now: dt.datetime) -> list[StepRow]:
    done = {h.step: h for h in projection.handoffs}
    rows = []
    for i, step in enumerate(dossier.step_plan):
        due = projection.step_dues[i] if i < len(projection.step_dues) else None
        handoff = done.get(i)
        if handoff is not None:
            status, label = "done", "Đã xong"
        elif i == dossier.step_index and dossier.state in OPEN_STATES - {State.SUBMITTED}:
            if due is not None and now > due and dossier.state not in PAUSED_STATES:
                status, label = "late", "Chậm tiến độ"
            else:
                status, label = "current", "Đang thực hiện"
        elif dossier.state not in OPEN_STATES and i <= dossier.step_index:
            status, label = "done", "Đã xong"
        else:
            status, label = "future", "Chưa đến"
        budget = legaltime.parse_duration(str(step["budget"])).label
        rows.append(
            StepRow(
                number=i + 1,
                name=str(step["name"]),
                budget=budget,
                due=due,
                status=status,
                status_label=label,
                finished_at=handoff.at if handoff else None,
                outcome_label=OUTCOME_LABELS.get(handoff.outcome, "") if handoff else "",
            )
        )
    return rows


def actions(user: Any, dossier: Dossier) -> list[dict[str, Any]]:
    """Actions this user may take now: allowed by the state and by their rights (none on a
    dossier imported from another system: it is processed there)."""
    out: list[dict[str, Any]] = []
    if dossier.source:
        return out
    for action in ACTION_ORDER:
        allowed, _ = services.TRANSITIONS[action]
        if dossier.state not in allowed or not access.may(user, dossier, action):
            continue
        if action == "apologise" and dossier.extensions >= 1:
            continue
        if action == "request_completion" and dossier.channel == Channel.IN_PERSON:
            continue  # only submissions made at a distance go back to the applicant
        out.append(
            {
                "code": action,
                "label": services.ACTION_LABELS[action],
                "needs_reason": action in services.NEEDS_REASON,
                "dangerous": action in DANGEROUS,
            }
        )
    return out


def applicant(user: Any, dossier: Dossier) -> dict[str, Any]:
    """The applicant as `user` may see them (`access.applicant_for`), for pages and the API."""
    person = access.applicant_for(user, dossier)
    return {
        "name": person.name,
        "kind": dossier.get_applicant_kind_display(),
        "id_number": person.id_number,
        "address": person.address,
        "phone": person.phone,
        "email": person.email,
        "masked": person.masked,
    }


def page(user: Any, dossier: Dossier, *, now: dt.datetime) -> dict[str, Any]:
    events = list(dossier.events.order_by("seq").prefetch_related("files"))
    projection = services.project(dossier, events)
    components = list(
        dossier.components.select_related(
            "digitisation__file", "digitisation__scanned_by"
        ).prefetch_related("files")
    )
    return {
        "d": dossier,
        "clock": clock(dossier, projection, now),
        "steps": steps(dossier, projection, now),
        "handoffs": projection.handoffs,
        "events": [
            {
                "event": e,
                "actor": access.actor_label_for(user, dossier, e),
                "label": services.ACTION_LABELS.get(e.action, e.action),
                "to_label": State(e.to_state).label if e.to_state else "",
                "changed": e.from_state != e.to_state,
                "new_due": dt.datetime.fromisoformat(e.data["new_due"])
                if e.data.get("new_due")
                else None,
            }
            for e in reversed(events)
        ],
        "actions": actions(user, dossier),
        "applicant": applicant(user, dossier),
        "components": components,
        "digitisation": digitisation.fragment(user, dossier, components=components),
        "fees": [(f.name, money(f.amount)) for f in dossier.fees.all()],
        "duration_label": legaltime.parse_duration(dossier.duration_spec).label,
        "results": list(dossier.results.all()),
        "files": [f for f in dossier.files.all() if f.component_id is None],
        "outcome_label": OUTCOME_LABELS.get(dossier.outcome, ""),
        "supplement_flag": dossier.supplement_requests > 1,
        "notifications": notifications(user, dossier),
        "file_signatures": signature_checks.panel(user, dossier),
    }


def notifications(user: Any, dossier: Dossier) -> list[dict[str, Any]]:
    """Messages sent to the applicant about this dossier (addresses masked for readers who
    do not handle it)."""
    full = access.sees_personal_data(user, dossier)
    return [
        {
            "note": n,
            "channel": n.get_channel_display(),
            "address": privacy.shown(privacy.contact_field(n.address), n.address, full=full),
            "status": "Đã gửi"
            if n.sent_at
            else (f"Lỗi: {n.error}" if n.error else ("—" if n.channel == "in_app" else "Chờ gửi")),
        }
        for n in for_dossier(dossier.pk)
    ]
