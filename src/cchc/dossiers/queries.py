"""Read side: the officers' work queue and risk list, scoped by `access.visible`.

The queue pages by keyset (due instant, id), never by OFFSET, so page 1 000 of a million
dossiers costs what page 1 costs; its filters map onto the composite indexes declared on
`Dossier` (agency/desk/assignee × state × due).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.roles import Role
from cchc.dossiers import access
from cchc.dossiers.models import Dossier, State
from cchc.errors import InvalidInput
from cchc.org import tree
from cchc.vietnamese import fold
from cchc.webkit.params import whole


@dataclass
class QueueFilters:
    q: str = ""  # code, applicant name or procedure (diacritics ignored)
    state: str = ""  # a State value, "open" (default) or "all"
    mine: bool = False  # assigned to me
    risk: bool = False  # flagged at risk by the daily scan
    overdue: bool = False  # open and past due
    step: int | None = None  # current step index
    procedure: int | None = None
    agency: int | None = None


@dataclass
class QueuePage:
    items: list[Dossier]
    next_cursor: str | None
    filters: QueueFilters
    extra: dict[str, Any] = field(default_factory=dict)


def _encode(at: dt.datetime, pk: int) -> str:
    stamp = at.isoformat()
    return base64.urlsafe_b64encode(f"{stamp}|{pk}".encode()).decode()


def _decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        stamp, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return dt.datetime.fromisoformat(stamp), int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("Con trỏ trang không hợp lệ.", code="queue.cursor") from exc


def filtered(user: Any, filters: QueueFilters, *, now: dt.datetime) -> QuerySet[Dossier]:
    qs = access.visible(user)
    state = filters.state or "open"
    if state == "open":
        qs = qs.filter(is_open=True)
    elif state != "all":
        if state not in State.values:
            raise InvalidInput(f"Trạng thái không hợp lệ: {state}.", code="queue.state")
        qs = qs.filter(state=state)
    if filters.mine:
        qs = qs.filter(assignee=user)
    if filters.risk:
        qs = qs.filter(at_risk=True)
    if filters.overdue:
        qs = qs.filter(is_open=True, due__lt=now)
    if filters.step is not None:
        qs = qs.filter(step_index=filters.step)
    if filters.procedure:
        qs = qs.filter(procedure_id=filters.procedure)
    if filters.agency:
        qs = qs.filter(current_agency_id=filters.agency)
    text = filters.q.strip()
    if text:
        if text.upper() == text and "-" in text:  # looks like a dossier code: exact/prefix
            qs = qs.filter(code__startswith=text)
        else:
            folded = fold(text)
            personal = access.personal_data_q(user)
            if personal is None:
                qs = qs.filter(search_text__contains=folded)
            else:
                # The applicant's name is personal data: a reader who would see it masked
                # must not learn it by searching, so outside their personal-data reach a
                # text matches the code and the procedure only.
                qs = qs.filter(
                    (Q(search_text__contains=folded) & personal)
                    | Q(code__contains=text)
                    | Q(procedure__search_text__contains=folded)
                )
    return qs


def work_queue(
    user: Any,
    filters: QueueFilters | None = None,
    *,
    now: dt.datetime,
    after: str | None = None,
    limit: int = 50,
) -> QueuePage:
    """One page of the queue in `queue_at` order — online submissions waiting for the desk
    (oldest first), then received dossiers by due instant — continuing after `after`."""
    filters = filters or QueueFilters()
    qs = filtered(user, filters, now=now)
    if after:
        at, pk = _decode(after)
        qs = qs.filter(Q(queue_at__gt=at) | Q(queue_at=at, pk__gt=pk))
    qs = qs.select_related("procedure", "current_agency", "assignee").order_by("queue_at", "pk")
    items = list(qs[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    cursor = _encode(items[-1].queue_at, items[-1].pk) if more and items else None
    return QueuePage(items=items, next_cursor=cursor, filters=filters)


def risk_list(user: Any, *, limit: int = 20) -> list[Dossier]:
    """Open dossiers flagged at risk, earliest due first: shown above the queue."""
    qs = access.visible(user).filter(is_open=True, at_risk=True)
    return list(qs.select_related("procedure", "assignee").order_by("queue_at", "pk")[:limit])


def counts(user: Any, *, now: dt.datetime) -> dict[str, int]:
    """Headline numbers for the queue: open, at risk, overdue, waiting on citizens."""
    qs = access.visible(user).filter(is_open=True)
    waiting = [State.AWAITING_SUPPLEMENT, State.AWAITING_OBLIGATION]
    # One pass over the open dossiers rather than one query per number.
    return qs.aggregate(
        open=Count("pk"),
        risk=Count("pk", filter=Q(at_risk=True)),
        overdue=Count("pk", filter=Q(due__lt=now)),
        waiting=Count("pk", filter=Q(state__in=waiting)),
        submitted=Count("pk", filter=Q(state=State.SUBMITTED)),
    )


def officers_for(dossier: Dossier) -> list[Any]:
    """Active processing officers and leaders of the agency holding `dossier` (and its
    sub-agencies): who it may be assigned or forwarded to."""
    holders = RoleAssignment.objects.filter(
        active=True,
        agency_id__in=tree.agency_subtree({dossier.current_agency_id}),
        role__in=[Role.PROCESSING_OFFICER, Role.AGENCY_LEADER],
    ).values("user_id")
    return list(User.objects.filter(pk__in=holders, is_active=True).order_by("full_name"))


MAX_STEPS = 1000  # far more steps than any internal procedure has


def queue_filters(get: Any) -> QueueFilters:
    """The work queue's filters from its query string (also used by its exports)."""
    step = whole(get.get("buoc"), "Bước xử lý", low=1, high=MAX_STEPS)

    def flag(name: str) -> bool:
        return get.get(name) in ("1", "on", "true")

    return QueueFilters(
        q=get.get("q", ""),
        state=get.get("trang_thai", "open"),
        mine=flag("cua_toi"),
        risk=flag("nguy_co"),
        overdue=flag("qua_han"),
        step=step - 1 if step is not None else None,
    )
