"""Plan API: tasks with their derived status (read), scoped like the pages."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from cchc.accounts import policy
from cchc.errors import PermissionDenied
from cchc.plans import services

router = Router(tags=["Kế hoạch CCHC"])


class DeliverableOut(Schema):
    period: str
    label: str
    due: dt.date
    status: str
    progress: int


class TaskOut(Schema):
    code: str
    area: str
    description: str
    lead_agency: str
    deadline: str
    illustrative: bool
    status: str
    status_label: str
    progress: int
    deliverables: list[DeliverableOut]


@router.get("/{code}/tasks", response=list[TaskOut])
def plan_tasks(request: HttpRequest, code: str, status: str | None = None) -> list[dict]:
    """Tasks of plan `code` with their status now (optionally only one status)."""
    if not policy.can(request.user, "plan.view"):
        raise PermissionDenied()
    plan = services.get_plan(code)
    states = services.filter_states(
        services.task_states(services.plan_tasks(plan), now=timezone.now()), status=status
    )
    return [
        {
            "code": s.task.code,
            "area": s.task.area.name,
            "description": s.task.description,
            "lead_agency": s.task.lead_agency.code,
            "deadline": s.task.deadline_label,
            "illustrative": s.task.illustrative,
            "status": s.status.value,
            "status_label": s.status.label,
            "progress": s.progress,
            "deliverables": [
                {
                    "period": d.period,
                    "label": d.label,
                    "due": d.due,
                    "status": d.status.value,
                    "progress": d.progress,
                }
                for d in s.deliverables
            ],
        }
        for s in states
    ]
