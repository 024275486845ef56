"""The agency leader's view (issue 18, item 2): on the agency page (/chi-so/co-quan/<pk>/), how
the agency compares with the province, which of its dossiers are late, at which internal step
the lateness arises (the bottleneck), and the workload of its officers — every number linked
to the exact rows it counts (`/chi-so/co-quan/<pk>/cham/` for late step passages,
`/chi-so/co-quan/<pk>/ho-so/` for dossier lists), downloadable as CSV/XLSX.

Whose dossiers: those whose competent agency (cơ quan có thẩm quyền) is the agency or one of
its sub-agencies — the dossiers the 766 index counts for it — and that the reader may see
(`dossiers.access.visible`), so that every count equals the rows its drill-down lists.

Where lateness comes from: the step passages of the agency's dossiers as the dossier engine
judges them (`cchc.dashboard.passages`: each hand-off on the control slip against its step's
deadline, stored and re-judged only when a dossier has new events).

Everything else is grouped SQL: a fixed number of queries whatever the number of dossiers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.roles import Role
from cchc.calendars.services import calendar_for
from cchc.catalog.models import Procedure, ProcedureStep
from cchc.dashboard.models import StepPassage
from cchc.dashboard.passages import Calendars, calendar_version, stored_passages
from cchc.dashboard.tables import Table
from cchc.dossiers import access as dossier_access
from cchc.dossiers.models import CLOCK_RUNNING, Dossier, Outcome
from cchc.dossiers.presenters import hours
from cchc.indicators import resolved, services
from cchc.indicators.figures import Filters
from cchc.org import tree

LATE_SHOWN = 10  # late dossiers listed on the page; the drill-down lists all of them
BOTTLENECKS_SHOWN = 10  # (procedure, step) rows on the page, worst first
SOON = "2wd"  # "due soon" horizon for the officers' table: two working days
OFFICER_ROLES = (Role.PROCESSING_OFFICER, Role.AGENCY_LEADER)
ON_TIME = (Outcome.EARLY, Outcome.ON_TIME)
# Dossier lists of the drill page `ho-so` (?loai=…): the label of each list.
LISTS = {
    "qua-han": "Hồ sơ đang mở đã quá hạn giải quyết",
    "dang-xu-ly": "Hồ sơ đang mở được giao cho cán bộ",
    "sap-han": "Hồ sơ đến hạn trong 2 ngày làm việc tới",
    "hoan-thanh": "Hồ sơ giải quyết xong trong kỳ",
    "dung-han": "Hồ sơ giải quyết xong trước hạn, đúng hạn trong kỳ",
}


def period_bounds(period: Any) -> tuple[dt.datetime, dt.datetime]:
    """The period's instants [start, end): its first and the day after its last day, at
    midnight in Vietnam."""
    start = dt.datetime.combine(period.start, dt.time.min, legaltime.VN_TZ)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, legaltime.VN_TZ)
    return start, end


def may_view(user: Any, agency: Any) -> bool:
    """The leader's section shows dossiers and officers: it needs both the agency's
    indicators and its dossiers (an agency leader, a supervisor, an administrator — not a
    focal point, who sees indicators only)."""
    return policy.can(user, "indicator.view", agency=agency) and policy.can(
        user, "dossier.view", agency=agency
    )


def own_dossiers(user: Any, agency: Any, ids: set[int] | None = None) -> QuerySet[Dossier]:
    """The agency's dossiers (competent agency in its subtree, `ids` when the caller has
    it) that `user` may see."""
    ids = ids if ids is not None else tree.agency_subtree({agency.pk})
    mine = Dossier.objects.filter(competent_agency_id__in=ids)
    grant = policy.grant(user, "dossier.view")
    if grant.everything or ids <= grant.agency_ids:
        # Every dossier of these agencies is visible: the competent-agency filter alone is
        # the intersection, and keeps to the (competent agency, received) index instead of
        # the OR of three agency columns `visible` writes.
        return mine
    return dossier_access.visible(user, mine)


def narrow(qs: QuerySet[Dossier], filters: Any) -> QuerySet[Dossier]:
    """The page's procedure and channel filters, applied to the agency's dossiers (the
    agency is the page's; the unit and level filters do not narrow one agency further)."""
    if filters.procedure_id:
        qs = qs.filter(procedure_id=filters.procedure_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    return qs


def soon_limit(now: dt.datetime) -> dt.datetime:
    """Two working days after `now` on the province's default calendar (as the queue's
    "sắp đến hạn" uses one working day: `dossiers.queries.due_soon_limit`)."""
    return legaltime.due(calendar_for(), now, SOON)


# -- comparison with the province --------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    own_100: Decimal | None
    avg_100: Decimal | None
    rank: int | None
    ranked: int  # agencies with a 766 score in the period
    own_t4: Decimal | None
    avg_t4: Decimal | None
    own_open: int
    own_overdue: int
    avg_overdue: Decimal | None  # open overdue dossiers per agency having open dossiers
    agencies_open: int
    own_overdue_share: Decimal | None  # % of the agency's open dossiers that are overdue
    province_overdue_share: Decimal | None


def _mean(values: Sequence[Decimal | None]) -> Decimal | None:
    present = [Decimal(v) for v in values if v is not None]
    if not present:
        return None
    return (sum(present, Decimal(0)) / len(present)).quantize(Decimal("0.01"))


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.01"))


def comparison(
    sel: Any, agency: Any, *, now: dt.datetime, ids: set[int] | None = None
) -> Comparison:
    """The agency's 766 score (on 100) and T4 beside the mean over the province's agencies
    (the ranking of the provincial overview, same filters but no agency), and its open
    overdue dossiers beside the province's mean per agency."""
    f = sel.filters
    province = Filters(procedure_id=f.procedure_id, channel=f.channel, units=f.units)
    ranked = services.ranking(sel.period, province, now=now)
    mine = next((r for r in ranked if r.agency_id == agency.pk), None)
    scored = [r for r in ranked if r.total_100 is not None]
    rank = next((n for n, r in enumerate(scored, 1) if r.agency_id == agency.pk), None)
    subtree = ids if ids is not None else tree.agency_subtree({agency.pk})
    rows = (
        Dossier.objects.filter(is_open=True)
        .values("competent_agency_id")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due__lt=now)))
    )
    own_open = own_overdue = all_open = all_overdue = agencies = 0
    for row in rows:
        agencies += 1
        all_open += row["open"]
        all_overdue += row["overdue"]
        if row["competent_agency_id"] in subtree:
            own_open += row["open"]
            own_overdue += row["overdue"]
    return Comparison(
        own_100=mine.total_100 if mine else None,
        avg_100=_mean([r.total_100 for r in ranked]),
        rank=rank,
        ranked=len(scored),
        own_t4=mine.t4 if mine else None,
        avg_t4=_mean([r.t4 for r in ranked]),
        own_open=own_open,
        own_overdue=own_overdue,
        avg_overdue=(Decimal(all_overdue) / agencies).quantize(Decimal("0.01"))
        if agencies
        else None,
        agencies_open=agencies,
        own_overdue_share=_share(own_overdue, own_open),
        province_overdue_share=_share(all_overdue, all_open),
    )


# -- the bottleneck ---------------------------------------------------------------------------


@dataclass
class Bottleneck:
    procedure_id: int
    procedure_code: str
    procedure_name: str
    step: int  # index; shown 1-based
    step_name: str
    passages: int = 0
    late: int = 0
    delay_seconds: int = 0  # total over the late passages
    late_now: int = 0  # open dossiers at this step now past its deadline
    link: str = ""

    @property
    def number(self) -> int:
        return self.step + 1

    @property
    def late_share(self) -> Decimal | None:
        return _share(self.late, self.passages)

    @property
    def delay_label(self) -> str:
        return hours(self.delay_seconds) if self.late else "—"

    @property
    def average_label(self) -> str:
        return hours(self.delay_seconds // self.late) if self.late else "—"


def bottlenecks(
    dossiers: QuerySet[Dossier], start: dt.datetime, end: dt.datetime, *, now: dt.datetime
) -> list[Bottleneck]:
    """Per (procedure, step): passages handed off in the period, how many after the step's
    deadline and by how much working time; and the open dossiers sitting at that step past
    its deadline now (`Dossier.step_due`, the stored projection). Worst first: most late
    passages, then most delay."""
    rows: dict[tuple[int, int], Bottleneck] = {}

    def row(procedure: int, step: int, name: str) -> Bottleneck:
        key = (procedure, step)
        if key not in rows:
            rows[key] = Bottleneck(procedure, "", "", step, name)
        return rows[key]

    grouped = (
        stored_passages(dossiers, start, end)
        .values("procedure_id", "step")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=Q(late=True)),
            delay=Sum("delay_seconds"),
            name=Max("step_name"),
        )
    )
    for item in grouped:
        b = row(item["procedure_id"], item["step"], item["name"])
        b.passages += item["n"]
        b.late += item["late"]
        b.delay_seconds += int(item["delay"] or 0)
    stuck = (
        dossiers.filter(is_open=True, state__in=CLOCK_RUNNING, step_due__lt=now)
        .values("procedure_id", "step_index")
        .annotate(n=Count("pk"))
    )
    for item in stuck:
        b = row(item["procedure_id"], item["step_index"], "")
        b.late_now += item["n"]
    out = [b for b in rows.values() if b.late or b.late_now]
    out.sort(key=lambda b: (-b.late, -b.delay_seconds, -b.late_now, b.procedure_id, b.step))
    return out


def _name_steps(items: list[Bottleneck]) -> None:
    """Procedure codes and names, and the names of steps known only from `late_now`
    (from the catalogue's process), in two queries."""
    ids = {b.procedure_id for b in items}
    procs = {p.pk: p for p in Procedure.objects.filter(pk__in=ids).only("code", "name")}
    steps: dict[int, list[str]] = defaultdict(list)
    for pid, name in (
        ProcedureStep.objects.filter(
            procedure_id__in=[b.procedure_id for b in items if not b.step_name]
        )
        .order_by("procedure_id", "position", "id")
        .values_list("procedure_id", "name")
    ):
        steps[pid].append(name)
    for b in items:
        proc = procs.get(b.procedure_id)
        b.procedure_code = proc.code if proc else str(b.procedure_id)
        b.procedure_name = proc.name if proc else ""
        if not b.step_name:
            names = steps.get(b.procedure_id, [])
            b.step_name = names[b.step] if b.step < len(names) else f"Bước {b.step + 1}"


# -- officers' workload ------------------------------------------------------------------------


@dataclass
class Officer:
    user_id: int
    name: str
    open: int = 0
    overdue: int = 0
    due_soon: int = 0
    finished: int = 0
    on_time: int = 0
    links: dict[str, str] = field(default_factory=dict)

    @property
    def on_time_share(self) -> Decimal | None:
        return _share(self.on_time, self.finished)


def officer_ids(agency: Any, ids: set[int] | None = None) -> QuerySet[RoleAssignment]:
    ids = ids if ids is not None else tree.agency_subtree({agency.pk})
    return RoleAssignment.objects.filter(
        active=True, agency_id__in=ids, role__in=OFFICER_ROLES
    ).values("user_id")


def officer_name(agency: Any, user_id: int) -> str | None:
    """The name of an officer of the agency, or None when `user_id` is not one."""
    person = User.objects.filter(pk=user_id, pk__in=officer_ids(agency)).first()
    return (person.full_name or person.username) if person else None


def list_q(kind: str, *, now: dt.datetime, start: dt.datetime, end: dt.datetime) -> Q:
    """The condition of each dossier list (`LISTS`), shared by the counts and the rows."""
    # Finished as the indicators count it: a withdrawal is no resolution (`resolved`).
    finished = Q(finished_at__gte=start, finished_at__lt=end) & resolved.q()
    if kind == "qua-han":
        return Q(is_open=True, due__lt=now)
    if kind == "dang-xu-ly":
        return Q(is_open=True)
    if kind == "sap-han":
        return Q(is_open=True, state__in=CLOCK_RUNNING, due__gte=now, due__lt=soon_limit(now))
    if kind == "hoan-thanh":
        return finished
    if kind == "dung-han":
        return finished & Q(outcome__in=ON_TIME)
    raise KeyError(kind)


def officers(
    user: Any,
    agency: Any,
    *,
    now: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    ids: set[int] | None = None,
    filters: Any = None,
) -> list[Officer]:
    """Each active officer and leader of the agency (and sub-agencies): open dossiers
    assigned to them, of which overdue and due within two working days; dossiers finished
    in the period while assigned to them, of which before or on time. One grouped query."""
    people = {
        u.pk: Officer(u.pk, u.full_name or u.username)
        for u in User.objects.filter(pk__in=officer_ids(agency, ids), is_active=True).only(
            "full_name", "username"
        )
    }
    if not people:
        return []
    kinds = {
        "open": "dang-xu-ly",
        "overdue": "qua-han",
        "due_soon": "sap-han",
        "finished": "hoan-thanh",
        "on_time": "dung-han",
    }
    conds = {attr: list_q(kind, now=now, start=start, end=end) for attr, kind in kinds.items()}
    mine = own_dossiers(user, agency, ids)
    counts = (
        (narrow(mine, filters) if filters is not None else mine)
        .filter(assignee_id__in=list(people))
        .values("assignee_id")
        .annotate(**{attr: Count("pk", filter=q) for attr, q in conds.items()})
    )
    for item in counts:
        o = people[item["assignee_id"]]
        for attr in kinds:
            setattr(o, attr, item[attr])
    out = sorted(people.values(), key=lambda o: (-o.overdue, -o.open, o.name))
    return out


# -- the section -------------------------------------------------------------------------------


@dataclass
class LateRow:
    code: str
    procedure: str
    applicant: str
    due: dt.datetime
    overdue_by: str
    assignee: str
    state: str


@dataclass
class LeaderView:
    agency: Any
    period: Any
    comparison: Comparison
    late_total: int
    late: list[LateRow]
    late_link: str
    bottlenecks: list[Bottleneck]
    bottlenecks_total: int
    officers: list[Officer]
    query: str


def drill_url(agency: Any, name: str, query: str, **params: Any) -> str:
    extra = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    base = reverse(f"dashboard:leader-{name}", args=[agency.pk])
    return f"{base}?{query}" + (f"&{extra}" if extra else "")


def view(user: Any, sel: Any, agency: Any, *, now: dt.datetime | None = None) -> LeaderView | None:
    """The section's view model, or None when `user` may not see it."""
    if agency is None or not may_view(user, agency):
        return None
    now = now or timezone.now()
    start, end = period_bounds(sel.period)
    query = sel.query(agency=None)
    ids = tree.agency_subtree({agency.pk})
    mine = narrow(own_dossiers(user, agency, ids), sel.filters)
    late_qs = mine.filter(list_q("qua-han", now=now, start=start, end=end))
    people = dossier_access.PersonalData.of(user)
    late = []
    calendars = Calendars()
    for d in late_qs.select_related("procedure", "assignee").order_by("due", "pk")[:LATE_SHOWN]:
        due = d.due
        if due is None:  # overdue means `due < now`: never None here
            continue
        cal = calendars.resolver(d.calendar_code, d.saturday_reception)(
            calendar_version(d.calendar_version)
        )
        late.append(
            LateRow(
                code=d.code,
                procedure=d.procedure.name,
                applicant=people.applicant(d).name,
                due=due,
                overdue_by=hours(legaltime.elapsed(cal, due, now)),
                assignee=(d.assignee.full_name or d.assignee.username) if d.assignee else "",
                state=d.get_state_display(),
            )
        )
    found = bottlenecks(mine, start, end, now=now)
    shown = found[:BOTTLENECKS_SHOWN]
    _name_steps(shown)
    for b in shown:
        b.link = drill_url(agency, "steps", query, buoc=b.number, thu_tuc=b.procedure_id)
    team = officers(user, agency, now=now, start=start, end=end, ids=ids, filters=sel.filters)
    for o in team:
        o.links = {
            kind.replace("-", "_"): drill_url(
                agency, "dossiers", query, loai=kind, can_bo=o.user_id
            )
            for kind in LISTS
        }
    return LeaderView(
        agency=agency,
        period=sel.period,
        comparison=comparison(sel, agency, now=now, ids=ids),
        late_total=late_qs.count(),
        late=late,
        late_link=drill_url(agency, "dossiers", query, loai="qua-han"),
        bottlenecks=shown,
        bottlenecks_total=len(found),
        officers=team,
        query=query,
    )


# -- drill-down tables -----------------------------------------------------------------------

STEP_HEADERS = [
    "Mã hồ sơ",
    "Thủ tục",
    "Người nộp",
    "Bước",
    "Hạn của bước",
    "Chuyển bước lúc",
    "Chậm (thời gian làm việc)",
    "Người chuyển",
    "Trạng thái hiện tại",
]
DOSSIER_HEADERS = [
    "Mã hồ sơ",
    "Thủ tục",
    "Người nộp",
    "Số định danh",
    "Cán bộ đang xử lý",
    "Tiếp nhận",
    "Hạn giải quyết",
    "Hoàn thành",
    "Trạng thái",
    "Kết quả",
]


def late_passages(
    user: Any, agency: Any, sel: Any, *, procedure_id: int | None, step: int | None
) -> QuerySet[StepPassage]:
    """The late passages counted in one bottleneck row (or all of them), longest delay
    first: the same stored rows the section groups."""
    start, end = period_bounds(sel.period)
    qs = narrow(own_dossiers(user, agency), sel.filters)
    if procedure_id is not None:
        qs = qs.filter(procedure_id=procedure_id)
    found = stored_passages(qs, start, end).filter(late=True)
    if step is not None:
        found = found.filter(step=step)
    return found.order_by("-delay_seconds", "dossier_id", "number")


def step_rows(user: Any, items: Iterable[Any]) -> list[list[Any]]:
    """Table rows of `items` (with their dossiers read in chunks), applicant masked as the
    queue masks it."""
    people = dossier_access.PersonalData.of(user)
    items = list(items)
    ids = sorted({p.dossier_id for p in items})
    dossiers: dict[int, Dossier] = {}
    for i in range(0, len(ids), 500):
        for d in Dossier.objects.filter(pk__in=ids[i : i + 500]).select_related("procedure"):
            dossiers[d.pk] = d
    out = []
    for p in items:
        d = dossiers[p.dossier_id]
        out.append(
            [
                d.code,
                d.procedure.name,
                people.applicant(d).name,
                f"{p.step + 1}. {p.step_name}",
                p.due,
                p.at,
                hours(p.delay_seconds),
                p.giver,
                d.get_state_display(),
            ]
        )
    return out


def dossier_list(
    user: Any,
    agency: Any,
    sel: Any,
    kind: str,
    *,
    officer: int | None,
    now: dt.datetime,
) -> QuerySet[Dossier]:
    """The dossiers one number of the section counts (`list_q`), of one officer or all."""
    start, end = period_bounds(sel.period)
    qs = narrow(own_dossiers(user, agency), sel.filters).filter(
        list_q(kind, now=now, start=start, end=end)
    )
    if officer is not None:
        qs = qs.filter(assignee_id=officer)
    order = (
        ("due", "pk") if kind in ("qua-han", "dang-xu-ly", "sap-han") else ("-finished_at", "pk")
    )
    return qs.select_related("procedure", "assignee").order_by(*order)


def dossier_row(people: dossier_access.PersonalData, d: Dossier) -> list[Any]:
    applicant = people.applicant(d)
    return [
        d.code,
        d.procedure.name,
        applicant.name,
        applicant.id_number,
        (d.assignee.full_name or d.assignee.username) if d.assignee else "",
        d.received_at,
        d.due,
        d.finished_at,
        d.get_state_display(),
        d.get_outcome_display() if d.outcome else "",
    ]


def table(name: str, title: str, headers: Sequence[str], rows: list[list[Any]]) -> Table:
    return Table(name=name, title=title, headers=headers, rows=rows)
