"""The plan side of a periodic report: the plan the period is measured against (the
shared selector `cchc.indicators.plan_choice`, with the report's own wording) and the plan
tasks whose deliverables fall due in the period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cchc.errors import NotFound
from cchc.indicators import plan_choice
from cchc.indicators.definitions import DefinitionFile
from cchc.indicators.figures import Filters
from cchc.indicators.measures import Context
from cchc.indicators.periods import Period
from cchc.plans.models import Plan, Task
from cchc.plans.services import Deliverable, task_states
from cchc.plans.status import TaskStatus


@dataclass(frozen=True)
class TaskLine:
    """One deliverable due in the period: the whole task, or one period of a recurring
    task (the unit T1 counts)."""

    task: Task
    item: Deliverable

    @property
    def on_time(self) -> bool:
        return self.item.status == TaskStatus.DONE_ON_TIME


@dataclass(frozen=True)
class PlanInfo:
    definition: DefinitionFile
    plan: Plan | None
    note: str  # set when the period's year has no plan and an earlier one is used


def plan_for(period: Period) -> PlanInfo:
    """The plan whose targets the period is compared with (`plan_choice.plan_for`); the
    report says when an earlier year's plan is used. NotFound when no plan applies."""
    choice = plan_choice.plan_for(period)
    if choice is None:
        raise NotFound(
            f"Chưa có kế hoạch CCHC (bộ chỉ tiêu) áp dụng cho {period.label}.",
            code="reports.plan",
        )
    note = ""
    if choice.borrowed:
        note = (
            f"Năm {choice.year} chưa có kế hoạch CCHC trong hệ thống: các chỉ tiêu được so với "
            f"{choice.definition.name} (kế hoạch gần nhất)."
        )
    return PlanInfo(choice.definition, choice.plan, note)


def due_tasks(info: PlanInfo, period: Period, filters: Filters, *, now: dt.datetime) -> list[Any]:
    """Deliverables due in the period up to the report instant, of the tasks whose lead
    agency the filters select — exactly those T1 counts (its denominator)."""
    ctx = Context(period, filters, now=now)
    d = info.definition
    tasks = ctx.by_agency(
        Task.objects.filter(plan__code__in=[d.code, *d.aliases]).select_related(
            "plan", "area", "lead_agency"
        ),
        "lead_agency_id",
    ).order_by("position", "id")
    last = min(period.end, (ctx.instant - dt.timedelta(microseconds=1)).date())
    lines = []
    for state in task_states(tasks, now=ctx.now):
        for item in state.deliverables:
            if period.start <= item.due <= last:
                lines.append(TaskLine(state.task, item))
    return lines


def scoped_tasks(
    info: PlanInfo, period: Period, filters: Filters, *, now: dt.datetime
) -> list[Task]:
    ctx = Context(period, filters, now=now)
    d = info.definition
    qs = Task.objects.filter(plan__code__in=[d.code, *d.aliases]).select_related("area")
    return list(ctx.by_agency(qs, "lead_agency_id").order_by("position", "id"))
