"""Plan workflows: load a plan file, derive task status over time, the home-page panel.

Progress reports and reviews are in `cchc.plans.progress`, reminders in
`cchc.plans.reminders`, registers in `cchc.plans.registers`, the PAR INDEX scorecard in
`cchc.plans.parindex`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import NotFound
from cchc.org import tree
from cchc.org.models import AdministrativeUnit, Agency, UnitLevel
from cchc.plans.models import ContentArea, Plan, ReportState, Target, Task, TaskReport
from cchc.plans.planfile import FileError, PlanFileError, PlanSpec, read_plan_file
from cchc.plans.status import DONE, Period, TaskStatus, classify, combine, periods
from cchc.vietnamese import fold

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_PLAN = DATA_DIR / "bac-giang-2024-213.toml"


def local_day(now: dt.datetime) -> dt.date:
    return now.astimezone(VN).date()


# ---------------------------------------------------------------- loading a plan file


@dataclass
class LoadResult:
    plan: Plan
    outcome: str  # created | updated | unchanged
    counts: dict[str, Counter] = field(default_factory=dict)


class _Resolver:
    """Names in the plan file -> database rows, collecting line-precise errors."""

    def __init__(self, spec: PlanSpec) -> None:
        self.spec = spec
        self.errors: list[FileError] = []
        self.day = dt.date(spec.year, 1, 1)
        self.unit = AdministrativeUnit.objects.valid_on(self.day).filter(code=spec.unit).first()
        if self.unit is None:
            self.errors.append(
                FileError(
                    spec.unit_line,
                    f"không có đơn vị hành chính mã '{spec.unit}' "
                    f"còn hiệu lực ngày {self.day:%d/%m/%Y}",
                )
            )
            self.agencies: list[Agency] = []
        else:
            units = tree.unit_subtree({self.unit.pk})
            self.agencies = list(Agency.objects.valid_on(self.day).filter(unit_id__in=units))
        self.levels = set(UnitLevel.objects.values_list("code", flat=True)) | {"all"}

    def agency(self, name: str, line: int | None) -> Agency | None:
        key = fold(name)
        found = [
            a for a in self.agencies if key in (fold(a.code), fold(a.name), fold(a.short_name))
        ]
        if len(found) == 1:
            return found[0]
        if not found:
            self.errors.append(FileError(line, f"không có cơ quan '{name}' trên địa bàn kế hoạch"))
        else:
            codes = ", ".join(a.code for a in found)
            self.errors.append(
                FileError(line, f"tên '{name}' ứng với nhiều cơ quan ({codes}); ghi mã định danh")
            )
        return None

    def check_levels(self) -> None:
        for target in self.spec.targets:
            for level in target.values:
                if level not in self.levels:
                    self.errors.append(
                        FileError(
                            target.values_line,
                            f"cấp '{level}' của chỉ tiêu {target.code} không có "
                            f"(có: {', '.join(sorted(self.levels))})",
                        )
                    )


def load_plan(actor: Any, source: str | Path | PlanSpec, *, now: dt.datetime) -> LoadResult:
    """Load or update the plan described by a plan file, keyed by its `code`.

    All-or-nothing: any error (file syntax, values, unknown agency, removing a task that
    already has reports) raises PlanFileError listing each with its line, and nothing
    changes. Loading the same file again changes nothing and writes no audit entry.
    Needs `plan.manage`.
    """
    policy.require(actor, "plan.manage")
    spec = source if isinstance(source, PlanSpec) else read_plan_file(source)
    resolver = _Resolver(spec)
    resolver.check_levels()
    leads = {t.code: resolver.agency(t.lead, t.lead_line) for t in spec.tasks}
    partners = {
        t.code: [resolver.agency(p, t.partners_line) for p in t.partners] for t in spec.tasks
    }
    existing = Plan.objects.filter(code=spec.code).first()
    if existing is not None:
        wanted = {t.code for t in spec.tasks}
        for task in existing.tasks.exclude(code__in=wanted).filter(reports__isnull=False):
            resolver.errors.append(
                FileError(
                    None, f"nhiệm vụ {task.code} đã có báo cáo tiến độ, không thể bỏ khỏi kế hoạch"
                )
            )
    if resolver.errors:
        raise PlanFileError(
            resolver.errors, source=str(source) if isinstance(source, Path | str) else ""
        )
    assert resolver.unit is not None
    with transaction.atomic():
        return _apply(actor, spec, resolver.unit, leads, partners, existing, now=now)


def _sync(
    model: Any, plan: Plan, wanted: dict[str, dict], counts: Counter, *, delete: bool = True
) -> dict[str, Any]:
    """Create/update rows of `model` for `plan` keyed by code; delete the others."""
    rows = {row.code: row for row in model.objects.filter(plan=plan)}
    for code, values in wanted.items():
        row = rows.get(code)
        if row is None:
            rows[code] = model.objects.create(plan=plan, code=code, **values)
            counts["created"] += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for code in set(rows) - set(wanted) if delete else ():
        rows.pop(code).delete()
        counts["deleted"] += 1
    return rows


def _apply(actor, spec: PlanSpec, unit, leads, partners, plan, *, now) -> LoadResult:
    head = {
        "title": spec.title,
        "issuer": spec.issuer,
        "number": spec.number,
        "issued_on": spec.issued_on,
        "year": spec.year,
        "unit": unit,
        "source": spec.source,
        "note": spec.note,
    }
    counts: dict[str, Counter] = {k: Counter() for k in ("plan", "areas", "targets", "tasks")}
    if plan is None:
        plan = Plan.objects.create(code=spec.code, loaded_at=now, updated_at=now, **head)
        counts["plan"]["created"] += 1
    elif any(getattr(plan, k) != v for k, v in head.items()):
        for k, v in head.items():
            setattr(plan, k, v)
        counts["plan"]["updated"] += 1
    else:
        counts["plan"]["unchanged"] += 1
    areas = _sync(
        ContentArea,
        plan,
        {a.code: {"name": a.name, "position": i} for i, a in enumerate(spec.areas)},
        counts["areas"],
        delete=False,  # after tasks have moved off them (tasks PROTECT their area)
    )
    wanted_tasks = {
        t.code: {
            "area": areas[t.area],
            "description": t.description,
            "product": t.product,
            "lead_agency": leads[t.code],
            "partners_note": t.partners_note,
            "deadline_kind": t.deadline.kind,
            "deadline": t.deadline.due,
            "deadline_label": t.deadline.label,
            "rhythm": t.deadline.rhythm,
            "illustrative": t.illustrative,
            "position": i,
        }
        for i, t in enumerate(spec.tasks)
    }
    tasks = _sync(Task, plan, wanted_tasks, counts["tasks"])
    for t in spec.tasks:
        task = tasks[t.code]
        want = {a.pk for a in partners[t.code] if a is not None}
        if set(task.partners.values_list("pk", flat=True)) != want:
            task.partners.set(want)
            counts["tasks"]["partners_changed"] += 1
    _sync(
        Target,
        plan,
        {
            t.code: {
                "name": t.name,
                "definition": t.definition,
                "reference": t.reference,
                "quote": t.quote,
                "area": areas.get(t.area),
                "unit": t.unit,
                "comparison": t.comparison,
                "values": {k: f"{v.normalize():f}" for k, v in t.values.items()},
                "position": i,
            }
            for i, t in enumerate(spec.targets)
        },
        counts["targets"],
    )
    for area in ContentArea.objects.filter(plan=plan).exclude(
        code__in=[a.code for a in spec.areas]
    ):
        area.delete()
        counts["areas"]["deleted"] += 1
    changed = any(
        c.get("created") or c.get("updated") or c.get("deleted") or c.get("partners_changed")
        for c in counts.values()
    )
    outcome = "created" if counts["plan"]["created"] else "updated" if changed else "unchanged"
    if changed:
        plan.updated_at = now
        plan.save()
        log.record(
            f"plans.plan.{'created' if outcome == 'created' else 'updated'}",
            actor=actor,
            obj=plan,
            data={k: dict(v) for k, v in counts.items()},
            at=now,
        )
    return LoadResult(plan, outcome, counts)


# ---------------------------------------------------------------- status over time


@dataclass
class Deliverable:
    """One thing due: the whole task, or one period of a recurring task."""

    period: str
    label: str
    due: dt.date
    status: TaskStatus
    done_on: dt.date | None
    progress: int


@dataclass
class TaskState:
    task: Task
    status: TaskStatus
    deliverables: list[Deliverable]
    progress: int  # latest reported progress, %
    awaiting_review: int

    @property
    def status_label(self) -> str:
        return self.status.label


def deliverable_periods(task: Task) -> list[Period]:
    if task.deadline_kind == "recurring":
        return periods(task.plan.year, task.rhythm)
    return [Period("", dt.date(task.plan.year, 1, 1), task.deadline, task.deadline_label)]


def task_states(tasks: list[Task] | QuerySet[Task], *, now: dt.datetime) -> list[TaskState]:
    """Derived status of each task on `now` (one query for all reports)."""
    tasks = list(tasks)
    today = local_day(now)
    reports: dict[int, list[TaskReport]] = defaultdict(list)
    for r in TaskReport.objects.filter(task__in=tasks, reported_at__lte=now).order_by(
        "reported_at", "id"
    ):
        reports[r.task_id].append(r)
    return [_state(task, reports[task.pk], today) for task in tasks]


def _state(task: Task, reports: list[TaskReport], today: dt.date) -> TaskState:
    items = []
    for period in deliverable_periods(task):
        mine = [r for r in reports if r.period == period.key]
        done = [
            local_day(r.reported_at)
            for r in mine
            if r.completed and r.state == ReportState.ACCEPTED
        ]
        done_on = min(done) if done else None
        live = [r for r in mine if r.state != ReportState.RETURNED]
        status = classify(due=period.end, done_on=done_on, reported=bool(live), today=today)
        progress = 100 if done_on else max((r.progress for r in live), default=0)
        items.append(Deliverable(period.key, period.label, period.end, status, done_on, progress))
    status = items[0].status if len(items) == 1 else combine([d.status for d in items])
    latest = [r.progress for r in reports if r.state != ReportState.RETURNED]
    return TaskState(
        task=task,
        status=status,
        deliverables=items,
        progress=100 if status in DONE else (latest[-1] if latest else 0),
        awaiting_review=sum(1 for r in reports if r.state == ReportState.SUBMITTED),
    )


def status_counts(states: list[TaskState]) -> dict[str, int]:
    counts = Counter(s.status.value for s in states)
    return {status.value: counts.get(status.value, 0) for status in TaskStatus}


def get_plan(code: str | None = None) -> Plan:
    """The plan with `code`, or the latest plan; NotFound if there is none."""
    qs = Plan.objects.select_related("unit")
    plan = qs.filter(code=code).first() if code else qs.order_by("-year", "-updated_at").first()
    if plan is None:
        raise NotFound(
            "Chưa có kế hoạch CCHC nào được nạp." if not code else f"Không có kế hoạch '{code}'."
        )
    return plan


def plan_tasks(plan: Plan) -> QuerySet[Task]:
    return (
        Task.objects.filter(plan=plan)
        .select_related("plan", "area", "lead_agency")
        .prefetch_related("partners")
    )


def filter_states(
    states: list[TaskState],
    *,
    status: str | None = None,
    due_from: dt.date | None = None,
    due_to: dt.date | None = None,
) -> list[TaskState]:
    """Keep tasks with `status` and with a deliverable due inside [due_from, due_to]."""
    out = []
    for s in states:
        if status and s.status.value != status:
            continue
        if due_from or due_to:
            hits = [
                d
                for d in s.deliverables
                if (due_from is None or d.due >= due_from) and (due_to is None or d.due <= due_to)
            ]
            if not hits:
                continue
        out.append(s)
    return out


def reportable_tasks(user: Any, plan: Plan | None = None) -> QuerySet[Task]:
    """Tasks whose lead agency `user` reports for (focal point's 'my tasks')."""
    reach = policy.grant(user, "plan.report")
    qs = Task.objects.select_related("plan", "area", "lead_agency")
    if plan is not None:
        qs = qs.filter(plan=plan)
    if reach.everything:
        return qs
    return qs.filter(lead_agency_id__in=reach.agency_ids)


def home_panel(user: Any, now: dt.datetime, *, horizon_days: int = 14) -> dict[str, Any] | None:
    """What the home page shows about plan tasks: the user's agency tasks overdue or due
    within `horizon_days`, and (for reviewers) reports waiting for review. None if the user
    neither reports nor reviews."""
    can_report = policy.can(user, "plan.report")
    can_review = policy.can(user, "plan.review")
    if not (can_report or can_review):
        return None
    today = local_day(now)
    overdue, due_soon = [], []
    if can_report and not policy.grant(user, "plan.report").everything:
        for state in task_states(reportable_tasks(user), now=now):
            for d in state.deliverables:
                if d.status is TaskStatus.OVERDUE:
                    overdue.append((state.task, d))
                elif d.status not in DONE and 0 <= (d.due - today).days <= horizon_days:
                    due_soon.append((state.task, d))
    to_review = 0
    if can_review:
        reach = policy.grant(user, "plan.review")
        qs = TaskReport.objects.filter(state=ReportState.SUBMITTED)
        if not reach.everything:
            qs = qs.filter(task__lead_agency_id__in=reach.agency_ids)
        to_review = qs.count()
    return {"overdue": overdue, "due_soon": due_soon, "to_review": to_review}
