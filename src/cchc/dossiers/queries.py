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

from django.db import connection
from django.db.models import Count, Q, QuerySet

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.roles import Role
from cchc.calendars.services import calendar_for
from cchc.catalog.models import ProcedureStep
from cchc.dossiers import access, search
from cchc.dossiers.models import CLOCK_RUNNING, Dossier, State
from cchc.errors import InvalidInput
from cchc.org import tree
from cchc.vietnamese import nfc
from cchc.webkit.params import record_id, whole


@dataclass
class QueueFilters:
    q: str = ""  # code or its tail, phone, ID number, applicant name, procedure (≥ 3 chars)
    state: str = ""  # a State value, "open" (default) or "all"
    mine: bool = False  # assigned to me
    risk: bool = False  # flagged at risk by the daily scan
    overdue: bool = False  # open and past due
    step: int | None = None  # current step index
    procedure: int | None = None
    agency: int | None = None
    # Issue 17 (the desk's cards): due within one working day while the clock runs, and the
    # current step by its name in the procedure's internal process (quy trình nội bộ).
    due_soon: bool = False
    step_name: str = ""


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
    state = filters.state or "open"
    qs = access.visible_open(user) if state == "open" else access.visible(user)
    if state not in ("open", "all"):
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
    qs = desk_filters(qs, filters, now=now)  # due soon, step by name (issue 17, "desk")
    if filters.q.strip():
        # Code or its tail, phone, ID number, name (diacritics ignored), procedure: answered
        # from the search indexes (cchc.dossiers.search), with the personal-data rule there.
        terms = search.parse(filters.q)
        personal = access.personal_data_q(user)
        qs = qs.filter(search.matching(terms, personal=personal, vendor=connection.vendor))
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
    qs = access.visible_open(user).filter(at_risk=True)
    return list(qs.select_related("procedure", "assignee").order_by("queue_at", "pk")[:limit])


def due_soon_limit(now: dt.datetime) -> dt.datetime:
    """The instant one working day after `now` on the province's default calendar: a
    dossier whose clock runs and whose due instant falls between `now` and this instant is
    "sắp đến hạn" (the same one-working-day horizon the PAKN reminders use). One calendar
    for the whole list keeps the filter a plain range on `due`; desks on another calendar
    differ by a holiday at most."""
    return legaltime.due(calendar_for(), now, "1wd")


def step_q(name: str, *, procedure: int | None = None) -> Q:
    """Dossiers whose current step is called `name` in their procedure's internal process:
    one query finds, per procedure, the positions of the steps with that name (the
    catalogue's process, as `step_plan` is copied from it at intake)."""
    with_name = ProcedureStep.objects.filter(name=name)
    if procedure:
        with_name = with_name.filter(procedure_id=procedure)
    rows = (
        ProcedureStep.objects.filter(procedure_id__in=with_name.values("procedure_id"))
        .order_by("procedure_id", "position", "id")
        .values_list("procedure_id", "name")
    )
    by_index: dict[int, list[int]] = {}
    index, current = 0, None
    for procedure_id, step in rows:
        index = index + 1 if procedure_id == current else 0
        current = procedure_id
        if step == name:
            by_index.setdefault(index, []).append(procedure_id)
    q = Q(pk__in=[])
    for i, ids in sorted(by_index.items()):
        q |= Q(step_index=i, procedure_id__in=ids)
    return q


def desk_filters(qs: QuerySet[Dossier], filters: QueueFilters, *, now: dt.datetime) -> Any:
    """The filters behind the home page's cards (issue 17): due soon and step by name."""
    if filters.due_soon:
        qs = qs.filter(
            is_open=True, state__in=CLOCK_RUNNING, due__gte=now, due__lt=due_soon_limit(now)
        )
    if filters.step_name:
        qs = qs.filter(step_q(filters.step_name, procedure=filters.procedure))
    return qs


MAX_STEP_NAMES = 300  # a select longer than this is no help; the search box is


def step_names(user: Any, *, procedure: int | None = None) -> list[str]:
    """The step names offered by the queue's step select: the chosen procedure's internal
    process in order, else the distinct step names of the procedures of the open dossiers
    `user` sees (one query either way)."""
    if procedure:
        names = ProcedureStep.objects.filter(procedure_id=procedure).order_by("position", "id")
        return list(dict.fromkeys(names.values_list("name", flat=True)))
    in_scope = access.visible(user).filter(is_open=True).values("procedure_id")
    names = (
        ProcedureStep.objects.filter(procedure_id__in=in_scope)
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")
    )
    return list(names[:MAX_STEP_NAMES])


def counts(
    user: Any, *, now: dt.datetime, soon_before: dt.datetime | None = None
) -> dict[str, int]:
    """Headline numbers of the queue and of the home page's cards, in one aggregate over
    the open dossiers `user` sees, whatever their number. Each number is exactly what the
    queue shows with the matching filter (`queue_filters`): open, at risk, overdue,
    waiting on citizens, waiting for the desk (`submitted`), supplement, to return
    (`resolved`), awaiting approval, due soon, and the same for "mine" (assigned to me)."""
    # Resolved dossiers are closed for the legal clock (`is_open` false) but still wait for
    # the desk to return them: counted here too, every other number among the open ones.
    qs = access.visible(user).filter(Q(is_open=True) | Q(state=State.RESOLVED))
    waiting = [State.AWAITING_SUPPLEMENT, State.AWAITING_OBLIGATION]
    soon = soon_before or due_soon_limit(now)
    is_open = Q(is_open=True)
    overdue = is_open & Q(due__lt=now)
    due_soon = is_open & Q(state__in=CLOCK_RUNNING, due__gte=now, due__lt=soon)
    me = is_open & Q(assignee_id=getattr(user, "pk", None))
    return qs.aggregate(
        open=Count("pk", filter=is_open),
        risk=Count("pk", filter=is_open & Q(at_risk=True)),
        overdue=Count("pk", filter=overdue),
        waiting=Count("pk", filter=Q(state__in=waiting)),
        submitted=Count("pk", filter=Q(state=State.SUBMITTED)),
        supplement=Count("pk", filter=Q(state=State.AWAITING_SUPPLEMENT)),
        to_return=Count("pk", filter=Q(state=State.RESOLVED)),
        awaiting_approval=Count("pk", filter=Q(state=State.AWAITING_APPROVAL)),
        due_soon=Count("pk", filter=due_soon),
        mine=Count("pk", filter=me),
        mine_risk=Count("pk", filter=me & Q(at_risk=True)),
        mine_overdue=Count("pk", filter=me & overdue),
        mine_due_soon=Count("pk", filter=me & due_soon),
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


# Roles whose queue opens on their own dossiers ("của tôi"): the handler works on what is
# assigned to them; the desk, leaders and supervisors look after the whole agency.
AGENCY_WIDE_ROLES = frozenset(
    {
        Role.DESK_OFFICER,
        Role.AGENCY_LEADER,
        Role.PROVINCIAL_SUPERVISOR,
        Role.ADMINISTRATOR,
    }
)
SCOPES = {"toi": "Của tôi", "co_quan": "Cả cơ quan"}


def mine_by_default(user: Any) -> bool:
    """A processing officer without an agency-wide role starts on "của tôi"."""
    codes = policy.role_codes(user)
    return Role.PROCESSING_OFFICER in codes and not codes & AGENCY_WIDE_ROLES


def queue_filters(get: Any, *, default_mine: bool = False) -> QueueFilters:
    """The work queue's filters from its query string (also used by its exports).

    `pham_vi` is "toi" (assigned to me) or "co_quan" (the whole agency); without it the
    scope is `default_mine` (the handler's queue), and the old `cua_toi=1` still means
    "mine". Raises InvalidInput with a Vietnamese message for a value out of range."""
    step = whole(get.get("buoc"), "Bước xử lý", low=1, high=MAX_STEPS)
    procedure = record_id(get.get("thu_tuc"), "Thủ tục")

    def flag(name: str) -> bool:
        return get.get(name) in ("1", "on", "true")

    scope = (get.get("pham_vi") or "").strip()
    if scope and scope not in SCOPES:
        raise InvalidInput(
            "Phạm vi không hợp lệ: chọn «Của tôi» (toi) hoặc «Cả cơ quan» (co_quan).",
            code="queue.scope",
        )
    mine = scope == "toi" or flag("cua_toi") or (not scope and default_mine)
    step_name = nfc(get.get("buoc_ten") or "").strip()
    if len(step_name) > 300:
        raise InvalidInput("Tên bước quá dài (tối đa 300 ký tự).", code="queue.step")
    return QueueFilters(
        q=get.get("q", ""),
        state=get.get("trang_thai", "open") or "open",
        mine=mine,
        risk=flag("nguy_co"),
        overdue=flag("qua_han"),
        step=step - 1 if step is not None else None,
        procedure=procedure,
        due_soon=flag("sap_han"),
        step_name=step_name,
    )
