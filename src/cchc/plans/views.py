"""Pages of the reform plan: overview, task list, task page (reports, evidence, review),
'my tasks'. Register and scorecard pages are in `cchc.plans.register_views`.

Views parse the request, call a service and render; permissions are checked here for the
page and again by the services for every change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.audit.models import AuditEntry
from cchc.errors import DomainError
from cchc.plans import progress, services
from cchc.plans.models import ContentArea, Evidence, Task, TaskReport
from cchc.plans.status import TaskStatus
from cchc.webkit import params


@requires("plan.view")
def overview(request: HttpRequest, code: str | None = None) -> HttpResponse:
    plan = services.get_plan(code)
    now = timezone.now()
    states = services.task_states(services.plan_tasks(plan), now=now)
    areas = []
    for area in plan.areas.all():
        mine = [s for s in states if s.task.area_id == area.pk]
        counts = services.status_counts(mine)
        areas.append(
            {
                "area": area,
                "cells": [(st, counts[st.value]) for st in TaskStatus],
                "total": len(mine),
            }
        )
    totals = services.status_counts(states)
    return render(
        request,
        "plans/overview.html",
        {
            "plan": plan,
            "areas": areas,
            "totals": [(st, totals[st.value]) for st in TaskStatus],
            "total": len(states),
            "statuses": list(TaskStatus),
            "targets": plan.targets.select_related("area"),
            "illustrative": any(s.task.illustrative for s in states),
            "plans": services.Plan.objects.all(),
        },
    )


@requires("plan.view")
def task_list(request: HttpRequest) -> HttpResponse:
    plan = services.get_plan(request.GET.get("ke_hoach") or None)
    qs = services.plan_tasks(plan)
    agency = request.GET.get("co_quan", "")
    area = request.GET.get("noi_dung", "")
    agency_id = params.record_id(agency, "Cơ quan chủ trì")
    area_id = params.record_id(area, "Nội dung")
    if agency_id is not None:
        qs = qs.filter(lead_agency_id=agency_id)
    if area_id is not None:
        qs = qs.filter(area_id=area_id)
    status = request.GET.get("trang_thai") or None
    due_from = params.day(request.GET.get("tu"), "Hạn từ ngày")
    due_to = params.day(request.GET.get("den"), "Hạn đến ngày")
    states = services.filter_states(
        services.task_states(qs, now=timezone.now()),
        status=status,
        due_from=due_from,
        due_to=due_to,
    )
    agencies = {t.lead_agency for t in services.plan_tasks(plan)}
    return render(
        request,
        "plans/tasks.html",
        {
            "plan": plan,
            "states": states,
            "areas": ContentArea.objects.filter(plan=plan),
            "agencies": sorted(agencies, key=lambda a: a.name),
            "statuses": list(TaskStatus),
            "f": {
                "co_quan": agency,
                "noi_dung": area,
                "trang_thai": status or "",
                "tu": due_from.isoformat() if due_from else "",
                "den": due_to.isoformat() if due_to else "",
            },
        },
    )


@requires("plan.report")
def my_tasks(request: HttpRequest) -> HttpResponse:
    states = services.task_states(
        services.reportable_tasks(request.user).order_by("plan", "position"), now=timezone.now()
    )
    return render(request, "plans/my_tasks.html", {"states": states})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    period = forms.ChoiceField(label="Kỳ báo cáo", required=False)
    progress = forms.IntegerField(
        label="Tiến độ (%)",
        min_value=0,
        max_value=100,
        error_messages={
            # Django %-formats these messages with the limit: a literal percent is "%%".
            "min_value": "Tiến độ từ 0 đến 100%%.",
            "max_value": "Tiến độ từ 0 đến 100%%.",
        },
    )
    note = forms.CharField(label="Nội dung báo cáo", widget=forms.Textarea(attrs={"rows": 3}))
    completed = forms.BooleanField(label="Đã hoàn thành nhiệm vụ (kỳ) này", required=False)
    files = MultipleFileField(
        label="Tài liệu kiểm chứng (PDF, Word, Excel, ảnh; tối đa 10 MB mỗi tệp)", required=False
    )

    def __init__(self, *args: Any, periods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = periods
        if len(periods) == 1:
            self.fields["period"].widget = forms.HiddenInput()


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Chấp nhận"), ("return", "Trả lại")])
    note = forms.CharField(label="Ý kiến thẩm định", required=False)


def _task_or_404(pk: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("plan", "area", "lead_agency").prefetch_related("partners"),
        pk=pk,
    )


@requires("plan.view")
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(pk)
    now = timezone.now()
    can_report = policy.can(request.user, "plan.report", agency=task.lead_agency_id)
    can_review = policy.can(request.user, "plan.review", agency=task.lead_agency_id)
    state = services.task_states([task], now=now)[0]
    periods = [
        (d.period, d.label)
        for d in state.deliverables
        if d.status.value not in ("done_on_time", "done_late")
    ]
    form = ReportForm(request.POST or None, request.FILES or None, periods=periods or [("", "")])
    if request.method == "POST":
        if not can_report:
            return deny(request, "Chỉ đầu mối CCHC của cơ quan chủ trì được báo cáo nhiệm vụ này.")
        if form.is_valid():
            uploads = [progress.Upload(f.name, f.read()) for f in form.cleaned_data["files"]]
            try:
                progress.submit_report(
                    request.user,
                    task,
                    progress=form.cleaned_data["progress"],
                    note=form.cleaned_data["note"],
                    completed=form.cleaned_data["completed"],
                    period=form.cleaned_data["period"] or "",
                    files=uploads,
                    now=now,
                )
            except DomainError as exc:
                if exc.http_status == 403:
                    raise
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Đã gửi báo cáo tiến độ; chờ Sở Nội vụ thẩm định.")
                return redirect("plans:task", pk=task.pk)
    reports = (
        TaskReport.objects.filter(task=task)
        .select_related("reported_by", "reviewed_by")
        .prefetch_related("evidence")
        .order_by("-reported_at", "-id")
    )
    history = AuditEntry.objects.filter(
        object_type="plans.taskreport", object_id__in=[str(r.pk) for r in reports]
    ).order_by("-at")[:50]
    return render(
        request,
        "plans/task.html",
        {
            "task": task,
            "state": state,
            "reports": reports,
            "history": history,
            "form": form if can_report and periods else None,
            "can_review": can_review,
            "show_files": can_report or can_review,
        },
    )


@requires("plan.review")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(TaskReport.objects.select_related("task"), pk=pk)
    if request.method != "POST":
        return redirect("plans:task", pk=report.task_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Biểu mẫu thẩm định không hợp lệ.")
        return redirect("plans:task", pk=report.task_id)
    try:
        progress.review_report(
            request.user,
            report,
            accept=form.cleaned_data["decision"] == "accept",
            note=form.cleaned_data["note"],
            now=timezone.now(),
        )
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        messages.error(request, exc.message)
    else:
        accepted = form.cleaned_data["decision"] == "accept"
        messages.success(request, "Đã chấp nhận báo cáo." if accepted else "Đã trả lại báo cáo.")
    return redirect("plans:task", pk=report.task_id)


@requires("plan.view")
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Evidence.objects.select_related("report__task"), pk=pk)
    if not progress.can_see_evidence(request.user, item):
        return deny(request, "Tài liệu kiểm chứng chỉ cơ quan chủ trì và Sở Nội vụ được xem.")
    response = FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
