"""Officers' workspace pages: work queue, desk intake, dossier page, actions, forms, register.

Views parse the request, call a service or a query, and render. Errors from services are
shown in Vietnamese on the page they came from; nothing the officer typed is lost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.catalog import competence
from cchc.dossiers import access, files, presenters, queries, services
from cchc.dossiers.documents import (
    available_forms,
    print_form,
    received_between,
    register_filename,
    register_xlsx,
)
from cchc.dossiers.intake import (
    Applicant,
    Component,
    competent_agency_for,
    procedures_at,
    receive_at_desk,
    receiving_desks,
)
from cchc.dossiers.models import Channel, Dossier, ReturnChannel, State
from cchc.dossiers.rules import ruleset_on
from cchc.errors import DomainError, InvalidInput
from cchc.webkit.params import record_id


def _now() -> dt.datetime:
    return timezone.localtime()


EXPORT_FORMATS = (("csv", "CSV"), ("xlsx", "Excel (.xlsx)"), ("parquet", "Parquet"))


@requires("dossier.view")
def queue(request: HttpRequest) -> HttpResponse:
    step = request.GET.get("buoc", "")
    filters = queries.queue_filters(request.GET)
    now = _now()
    try:
        result = queries.work_queue(request.user, filters, now=now, after=request.GET.get("sau"))
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("dossiers:queue")
    params = request.GET.copy()
    params.pop("sau", None)
    export_query = params.urlencode()  # the export buttons keep the list's filters
    next_url = None
    if result.next_cursor:
        params["sau"] = result.next_cursor
        next_url = "?" + params.urlencode()
    return render(
        request,
        "dossiers/queue.html",
        {
            "page": result,
            "now": now,
            "counts": queries.counts(request.user, now=now),
            "risky": queries.risk_list(request.user) if not filters.risk else [],
            "states": State.choices,
            "filters": filters,
            "step_number": step,
            "next_url": next_url,
            "first_url": "?" + params.urlencode() if request.GET.get("sau") else None,
            "can_receive": policy.can(request.user, "dossier.receive"),
            "can_register": policy.can(request.user, "dossier.register"),
            "export_query": export_query,
            "export_formats": EXPORT_FORMATS,
        },
    )


# -- desk intake -------------------------------------------------------------------------------


class ApplicantForm(forms.Form):
    kind = forms.ChoiceField(
        label="Loại người nộp",
        choices=[("person", "Cá nhân"), ("organisation", "Tổ chức, doanh nghiệp")],
    )
    name = forms.CharField(label="Họ tên người nộp / tên tổ chức", max_length=200)
    id_number = forms.CharField(label="Số định danh / mã số thuế", max_length=20, required=False)
    address = forms.CharField(label="Địa chỉ", max_length=300, required=False)
    phone = forms.CharField(label="Điện thoại", max_length=20, required=False)
    email = forms.EmailField(label="Thư điện tử", required=False)
    matter = forms.CharField(label="Nội dung yêu cầu", max_length=500, required=False)
    sets = forms.IntegerField(label="Số bộ hồ sơ", min_value=1, max_value=50, initial=1)
    channel = forms.TypedChoiceField(
        label="Kênh nộp", choices=Channel.choices, coerce=int, initial=Channel.IN_PERSON
    )
    return_channel = forms.ChoiceField(
        label="Hình thức nhận kết quả", choices=ReturnChannel.choices, initial=ReturnChannel.DESK
    )


@requires("dossier.receive")
def intake(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    desks = receiving_desks(request.user, today)
    if not desks:
        return deny(request, "Bạn chưa được phân công tại bộ phận một cửa nào đang hoạt động.")
    desk_id = request.POST.get("desk") or request.GET.get("desk")
    desk = next((d for d in desks if str(d.pk) == desk_id), desks[0])
    query = request.GET.get("q", "").strip()
    proc_id = record_id(request.POST.get("procedure") or request.GET.get("procedure"), "Thủ tục")
    procedures = procedures_at(desk, today)
    procedure = procedures.filter(pk=proc_id).first() if proc_id is not None else None
    if procedure is None:
        found = list(procedures_at(desk, today, query)[:50])
        return render(
            request,
            "dossiers/intake_pick.html",
            {"desks": desks, "desk": desk, "procedures": found, "q": query},
        )
    competent = competent_agency_for(desk, procedure, today)
    documents = list(procedure.documents.all())
    form = ApplicantForm(request.POST or None)
    error_details: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            components = _components(request, documents)
            agency_id = request.POST.get("competent_agency")
            dossier = receive_at_desk(
                request.user,
                desk=desk,
                procedure=procedure,
                competent_agency=next((a for a in competent if str(a.pk) == agency_id), None),
                applicant=Applicant(
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    id_number=form.cleaned_data["id_number"],
                    address=form.cleaned_data["address"],
                    phone=form.cleaned_data["phone"],
                    email=form.cleaned_data["email"],
                ),
                components=components,
                channel=form.cleaned_data["channel"],
                matter=form.cleaned_data["matter"],
                sets=form.cleaned_data["sets"],
                return_channel=form.cleaned_data["return_channel"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            error_details = list(exc.details.get("missing", []))
        else:
            messages.success(
                request,
                f"Đã tiếp nhận hồ sơ {dossier.code}. Hẹn trả kết quả: "
                f"{timezone.localtime(dossier.due):%H:%M ngày %d/%m/%Y}. "
                "In giấy tiếp nhận và hẹn trả kết quả (mẫu 01) để giao người nộp.",
            )
            return redirect("dossiers:detail", code=dossier.code)
    return render(
        request,
        "dossiers/intake.html",
        {
            "desks": desks,
            "desk": desk,
            "procedure": procedure,
            "competent": competent,
            "documents": documents,
            "form": form,
            "posted": request.POST,
            "error_details": error_details,
        },
    )


def _components(request: HttpRequest, documents: list[Any]) -> list[Component]:
    out = []
    for doc in documents:
        key = f"doc_{doc.pk}"
        if not request.POST.get(f"{key}_given"):
            continue
        uploads = [files.check(f.name, f.read()) for f in request.FILES.getlist(f"{key}_file")]
        out.append(
            Component(
                document_id=doc.pk,
                originals=_int(request.POST.get(f"{key}_originals")),
                copies=_int(request.POST.get(f"{key}_copies")),
                digitised=bool(request.POST.get(f"{key}_digitised")) or bool(uploads),
                reused=bool(request.POST.get(f"{key}_reused")),
                uploads=uploads,
            )
        )
    return out


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


# -- the dossier page ---------------------------------------------------------------------------


def _visible(request: HttpRequest, code: str) -> Dossier:
    return access.get_visible(request.user, code)


@requires("dossier.view")
def detail(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _visible(request, code)
    context = presenters.page(request.user, dossier, now=_now())
    context["forms"] = available_forms(dossier)
    context["officers"] = queries.officers_for(dossier) if context["actions"] else []
    # Forwarding (liên thông) offers only the agencies that may handle the procedure today.
    context["agencies"] = (
        list(competence.handling_agencies(dossier.procedure, timezone.localdate()).order_by("name"))
        if any(a["code"] == "forward" for a in context["actions"])
        else []
    )
    if any(a["code"] == "apologise" for a in context["actions"]):
        context["proposed_due"] = services.propose_appointment(dossier)
    return render(request, "dossiers/detail.html", context)


@require_POST
@requires("dossier.view")
def act(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _visible(request, code)
    action = request.POST.get("action", "")
    data: dict[str, Any] = {}
    if request.POST.get("assignee", "").isdigit():
        data["assignee"] = int(request.POST["assignee"])
    if request.POST.get("agency", "").isdigit():
        data["agency"] = int(request.POST["agency"])
    if action == "apologise":
        if request.POST.get("new_due"):
            data["new_due"] = request.POST["new_due"]
        data["delivery"] = request.POST.get("delivery", "in_person")
        data["reference"] = request.POST.get("reference", "")
    if action == "approve" and request.POST.get("result_title"):
        data["results"] = [{"title": request.POST["result_title"]}]
    version = request.POST.get("version", "")
    try:
        uploads = [files.check(f.name, f.read()) for f in request.FILES.getlist("files")]
        event = services.act(
            request.user,
            dossier,
            action,
            reason=request.POST.get("reason", ""),
            data=data,
            uploads=uploads,
            expected_version=int(version) if version.isdigit() else None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = f"{services.ACTION_LABELS[action]}: đã ghi nhận."
        for warning in event.data.get("warnings", []):
            messages.warning(request, warning)
        messages.success(request, text)
    return redirect("dossiers:detail", code=dossier.code)


@requires("dossier.view")
def form_pdf(request: HttpRequest, code: str, purpose: str) -> HttpResponse:
    dossier = _visible(request, code)
    try:
        name, content = print_form(request.user, dossier, purpose)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("dossiers:detail", code=dossier.code)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@requires("dossier.view")
def stored_file(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    dossier = _visible(request, code)
    stored = access.readable_file(request.user, dossier, pk)
    return FileResponse(
        files.open_stored(stored.path).open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )


class RegisterForm(forms.Form):
    start = forms.DateField(label="Từ ngày", input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    end = forms.DateField(label="Đến ngày", input_formats=["%Y-%m-%d", "%d/%m/%Y"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
        return data


def _register_keeper(user: Any) -> str:
    """Who keeps the register, for its heading: the officer's desk, agency or unit."""
    for a in policy.assignments(user):
        place = a.desk or a.agency or a.unit
        if place is not None:
            return place.name
    return "Hệ thống một cửa điện tử"


@requires("dossier.register")
def register(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = RegisterForm(request.GET or None, initial={"start": today.replace(day=1), "end": today})
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        ruleset = ruleset_on(end).code
        content = register_xlsx(
            received_between(start, end, access.visible(request.user)).iterator(chunk_size=2000),
            start=start,
            end=end,
            title=_register_keeper(request.user),
            ruleset_code=ruleset,
            viewer=request.user,
        )
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = register_filename(start=start, end=end, ruleset_code=ruleset)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "dossiers/register.html", {"form": form})
