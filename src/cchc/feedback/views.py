"""Officers' pages for PAKN under /phan-anh/: the queue with due markers, the PAKN page with
its timeline and the actions this officer may take, attachments.

Views parse the request, call a service and render; the services check permissions again
and write the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cchc.accounts import policy
from cchc.accounts.access import requires
from cchc.dossiers import files
from cchc.errors import DomainError, InvalidInput
from cchc.feedback import access, linking, queries, replay, services
from cchc.feedback.models import Feedback, State
from cchc.legaltime.explain import format_working_time
from cchc.webkit.params import record_id


@requires("feedback.view")
def queue(request: HttpRequest) -> HttpResponse:
    agency = request.GET.get("co_quan", "")
    filters = queries.Filters(
        state=request.GET.get("trang_thai", "open"),
        agency=record_id(agency, "Cơ quan"),
        overdue=request.GET.get("qua_han") in ("1", "on"),
        mine=request.GET.get("cua_toi") in ("1", "on"),
        q=request.GET.get("q", ""),
    )
    now = timezone.localtime()
    return render(
        request,
        "feedback/queue.html",
        {
            "rows": queries.queue(request.user, filters, now=now),
            "counts": queries.counts(request.user, now=now),
            "filters": filters,
            "states": State.choices,
            "agencies": policy.visible_agencies(request.user, "feedback.view")
            .valid_on(now.date())
            .order_by("agency_type__level__rank", "name")[:300],
            "now": now,
        },
    )


def _timeline(user: Any, feedback: Feedback) -> list[dict[str, Any]]:
    out = []
    for event in feedback.events.order_by("seq").prefetch_related("files"):
        out.append(
            {
                "event": event,
                "actor": access.actor_label_for(user, feedback, event),
                "label": services.ACTION_LABELS.get(event.action, event.action),
                "files": list(event.files.all()),
            }
        )
    return out


def _clocks(feedback: Feedback) -> list[dict[str, Any]]:
    rules = services.rules_of(feedback)
    rows = [
        (
            "reject",
            "Tiếp nhận hoặc từ chối xử lý",
            feedback.reject_due,
            feedback.decided_at,
            feedback.decision_on_time,
        ),
        (
            "supplement",
            "Yêu cầu bổ sung (nếu cần)",
            feedback.supplement_due,
            feedback.first_supplement_at,
            feedback.supplement_on_time,
        ),
        (
            "resolve",
            "Trả lời",
            feedback.resolve_due,
            feedback.resolved_at,
            feedback.resolve_on_time,
        ),
        (
            "publish",
            "Công khai trả lời",
            feedback.publish_due,
            feedback.published_at,
            feedback.publish_on_time,
        ),
    ]
    return [
        {"kind": k, "label": label, "rule": rules.label(k), "due": due, "done": done, "ok": ok}
        for k, label, due, done, ok in rows
    ]


@requires("feedback.view")
def detail(request: HttpRequest, code: str) -> HttpResponse:
    feedback = access.get_visible(request.user, code)
    now = timezone.localtime()
    actions = services.available_actions(request.user, feedback)
    rules = services.rules_of(feedback)
    return render(
        request,
        "feedback/detail.html",
        {
            "f": feedback,
            "row": queries.marker(feedback, now),
            "contact": access.contact(request.user, feedback),
            "clocks": _clocks(feedback),
            "rules": rules,
            "timeline": _timeline(request.user, feedback),
            "actions": actions,
            "assignable": services.assignable(feedback) if "assign" in actions else [],
            "files_allowed": access.sees_personal_data(request.user, feedback),
            "paused": feedback.is_paused,
            "paused_text": format_working_time(feedback.paused_seconds),
            "deadline_labels": replay.DEADLINE_LABELS,
            "draft": request.session.pop("feedback_draft", None) or {},
            "can_link": linking.may_confirm(request.user, feedback),
        },
    )


@require_POST
@requires("feedback.view")
def action(request: HttpRequest, code: str) -> HttpResponse:
    feedback = access.get_visible(request.user, code)
    name = request.POST.get("action", "")
    text = request.POST.get("text", "")
    version = request.POST.get("version", "")
    kwargs: dict[str, Any] = {
        "expected_version": int(version) if version.isdigit() else None,
        "now": timezone.now(),
    }
    try:
        uploads = [files.check(f.name, f) for f in request.FILES.getlist("files")]
        if name == "accept":
            services.accept(request.user, feedback, note=text, **kwargs)
        elif name == "reject":
            services.reject(request.user, feedback, reason=text, **kwargs)
        elif name == "assign":
            assignee = request.POST.get("assignee", "")
            services.assign(
                request.user,
                feedback,
                assignee=int(assignee) if assignee.isdigit() else 0,
                **kwargs,
            )
        elif name == "request_supplement":
            services.request_supplement(request.user, feedback, reason=text, **kwargs)
        elif name == "supplement_received":
            services.supplement_received(
                request.user, feedback, note=text, uploads=uploads, **kwargs
            )
        elif name == "answer":
            services.answer(request.user, feedback, text=text, uploads=uploads, **kwargs)
        elif name == "publish":
            services.publish(request.user, feedback, public_content=text, **kwargs)
        elif name == "link_dossier":
            linking.confirm_by_officer(request.user, feedback, **kwargs)
        else:
            raise InvalidInput("Thao tác không hợp lệ.")
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        messages.error(request, exc.message)
        request.session["feedback_draft"] = {"action": name, "text": text}
    else:
        messages.success(request, f"Đã thực hiện: {services.ACTION_LABELS[name]}.")
        request.session.pop("feedback_draft", None)
    return redirect("feedback:detail", code=feedback.code)


@requires("feedback.view")
def download(request: HttpRequest, code: str, file_id: int) -> HttpResponse:
    feedback = access.get_visible(request.user, code)
    stored = access.readable_file(request.user, feedback, file_id)
    response = FileResponse(
        services.open_file(stored).open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
