"""Officers' workspace pages: work queue, desk intake, dossier page, actions, forms, register.

Views parse the request, call a service or a query, and render. Errors from services are
shown in Vietnamese on the page they came from; nothing the officer typed is lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from cchc.accounts import policy
from cchc.accounts.access import deny, requires
from cchc.catalog import competence
from cchc.dossiers import (
    access,
    desk_queue,
    digitisation,
    files,
    presenters,
    queries,
    services,
    signature_checks,
    signing_jobs,
)
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
    check_components,
    competent_agency_for,
    once,
    procedures_at,
    receive_at_desk,
    receiving_desks,
    turn_away_at_desk,
)
from cchc.dossiers.models import Channel, Dossier, ReturnChannel, State
from cchc.dossiers.rules import ruleset_on
from cchc.errors import DomainError, InvalidInput
from cchc.webkit.params import record_id


def _now() -> dt.datetime:
    return timezone.localtime()


# Session key: the dossier the officer has just received, guided or refused at the counter;
# its page then shows the banner with the form to print.
JUST_DONE = "cchc.dossiers.just_done"

EXPORT_FORMATS = (("csv", "CSV"), ("xlsx", "Excel (.xlsx)"), ("parquet", "Parquet"))


@requires("dossier.view")
def queue(request: HttpRequest) -> HttpResponse:
    """The work queue: the handler starts on "của tôi", everyone else on the whole agency;
    every filter is in the URL (the home page's cards link to them) and shown as a chip."""
    default_mine = queries.mine_by_default(request.user)
    now = _now()
    query = request.GET
    typed = ""
    try:
        filters = queries.queue_filters(query, default_mine=default_mine)
        result = queries.work_queue(request.user, filters, now=now, after=query.get("sau"))
    except InvalidInput as exc:
        messages.error(request, exc.message)
        if not query.get("q"):
            return redirect("dossiers:queue")
        # A search the index cannot answer (too short): the list without it, the other
        # filters kept, and what was typed left in the box to correct.
        typed = query.get("q", "")
        query = query.copy()
        query.pop("q")
        query.pop("sau", None)
        try:
            filters = queries.queue_filters(query, default_mine=default_mine)
            result = queries.work_queue(request.user, filters, now=now)
        except InvalidInput:
            return redirect("dossiers:queue")
    params = desk_queue.export_params(query, filters)
    export_query = params.urlencode()  # the export buttons keep the list's filters
    next_url = None
    if result.next_cursor:
        params["sau"] = result.next_cursor
        next_url = "?" + params.urlencode()
    can_approve = policy.can(request.user, "dossier.approve")
    can_receive = policy.can(request.user, "dossier.receive")
    counts = queries.counts(request.user, now=now)
    return render(
        request,
        "dossiers/queue.html",
        {
            "page": result,
            "now": now,
            "stats": desk_queue.stat_links(
                counts, filters, can_approve=can_approve, can_receive=can_receive
            ),
            "scopes": desk_queue.scope_links(query, filters)
            if policy.can(request.user, "dossier.process")
            else [],
            "chips": desk_queue.chips(query, filters, default_mine=default_mine),
            "risky": queries.risk_list(request.user) if not filters.risk else [],
            "states": State.choices,
            "steps": queries.step_names(request.user, procedure=filters.procedure),
            "filters": filters,
            "typed_q": typed,
            "next_url": next_url,
            "first_url": "?" + export_query if query.get("sau") else None,
            "can_receive": can_receive,
            "can_register": policy.can(request.user, "dossier.register"),
            "export_query": export_query,
            "export_formats": EXPORT_FORMATS,
        },
    )


# -- desk intake -------------------------------------------------------------------------------

# Channels offered follow the place (issue 17): at the counter a dossier is handed in person,
# or arrives by the public postal service when the desk takes postal dossiers
# (CCHC_POSTAL_INTAKE, default on); "online" is only for submissions made on the portal.
COUNTER_BUTTONS = {
    "receive": "Tiếp nhận và cấp giấy hẹn",
    "guide": "Hướng dẫn bổ sung, hoàn thiện (mẫu 02)",
    "refuse": "Từ chối tiếp nhận (mẫu 03)",
}


def counter_channels() -> list[tuple[int, str]]:
    """The submission channels a desk officer may record at the counter."""
    allowed = [Channel.IN_PERSON]
    if settings.CCHC_POSTAL_INTAKE:
        allowed.append(Channel.POSTAL)
    return [(int(c), Channel(c).label) for c in allowed]


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = counter_channels()  # type: ignore[attr-defined]


@dataclass
class DocumentRow:
    """One line of the document checklist as the officer left it: tick, counts, files kept
    from earlier submissions of the form (pending uploads), the applicant's digitised paper
    chosen for reuse (`reuse`, among `offers`) and what is wrong with it."""

    doc: Any
    given: bool
    originals: int
    copies: int
    reuse: int | None = None
    offers: list[Any] = field(default_factory=list)
    pending: list[files.Pending] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    uploads: list[files.Upload] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"doc_{self.doc.pk}"


def _rows(request: HttpRequest, documents: list[Any]) -> list[DocumentRow]:
    """The checklist from the request: catalogue defaults on a first visit, exactly what was
    posted after an error. New files are checked and kept as pending uploads at once, so a
    later error never loses them; files the officer dropped ("bỏ") are left out."""
    if request.method != "POST":
        return [DocumentRow(d, d.mandatory, d.originals, d.copies) for d in documents]
    post, user_id = request.POST, request.user.pk
    rows = []
    for doc in documents:
        key = f"doc_{doc.pk}"
        row = DocumentRow(
            doc,
            given=bool(post.get(f"{key}_given")),
            originals=_int(post.get(f"{key}_originals")),
            copies=_int(post.get(f"{key}_copies")),
            reuse=_int(post.get(f"{key}_reuse")) or None,
        )
        dropped = set(post.getlist(f"{key}_drop"))
        for token in post.getlist(f"{key}_pending"):
            if token in dropped:
                continue
            try:
                upload = files.take_pending(token, user_id=user_id)
            except DomainError as exc:
                row.errors.append(exc.message)
                continue
            row.uploads.append(upload)
            row.pending.append(files.Pending(upload.name, upload.size, token))
        for f in request.FILES.getlist(f"{key}_file"):
            try:
                upload = files.check(f.name or "", f.read(files.MAX_BYTES + 1))
            except DomainError as exc:
                row.errors.append(exc.message)
                continue
            row.uploads.append(upload)
            row.pending.append(files.keep_pending(upload, user_id=user_id))
        rows.append(row)
    return rows


def _components(rows: list[DocumentRow]) -> list[Component]:
    return [
        Component(
            document_id=row.doc.pk,
            originals=row.originals,
            copies=row.copies,
            uploads=row.uploads,
            reuse=row.reuse,
        )
        for row in rows
        if row.given
    ]


def _offer(rows: list[DocumentRow], procedure: Any, id_number: str) -> None:
    """The applicant's digitised papers (same ID number) each row may reuse instead of a new
    scan (issue 21): one query for the whole checklist."""
    if not id_number.strip():
        return
    by_type: dict[str, list[Any]] = defaultdict(list)
    for scan in digitisation.reusable(id_number, procedure):
        by_type[scan.type_code].append(scan)
    for row in rows:
        row.offers = by_type.get(digitisation.type_code_of(row.doc.name), [])


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def _problems(form: ApplicantForm, rows: list[DocumentRow]) -> list[str]:
    """What is wrong with the form, field by field and document by name."""
    out = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Biểu mẫu"
        out += [f"{label}: {e}" for e in errors]
    for row in rows:
        out += [f"«{row.doc.name}»: {e}" for e in row.errors]
    return out


def _precheck(form: ApplicantForm) -> None:
    """The applicant's checks the service makes, run first so that every problem is listed
    together (each on its field)."""
    data = form.cleaned_data
    try:
        Applicant(
            name=data["name"],
            kind=data["kind"],
            id_number=data["id_number"],
            address=data["address"],
            phone=data["phone"],
            email=data["email"],
        ).clean()
    except DomainError as exc:
        for name, text in exc.details.get("fields", {}).items():
            form.add_error(name if name in form.fields else None, text)


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
    rows = _rows(request, documents)
    _offer(rows, procedure, request.POST.get("id_number", ""))
    outcome = request.POST.get("outcome", "receive")
    if outcome not in COUNTER_BUTTONS:
        outcome = "receive"
    key = request.POST.get("intake_key", "")[:64] or uuid.uuid4().hex
    reason = request.POST.get("counter_reason", "")
    problems: list[str] = []
    status = 200
    # "Tìm giấy tờ đã số hóa" (lookup) shows the same form again with the applicant's
    # reusable papers, without submitting it.
    if request.method == "POST" and not request.POST.get("lookup"):
        valid = form.is_valid()
        if valid:
            _precheck(form)
        problems = _problems(form, rows)
        if outcome == "receive":
            # Every missing document at once, named, whatever else is wrong.
            problems += check_components(procedure, _components(rows))
        if valid and not problems:
            try:
                dossier = _counter_intake(request, desk, procedure, competent, form, rows, key)
            except DomainError as exc:
                for name, text in exc.details.get("fields", {}).items():
                    if name in form.fields:
                        form.add_error(name, text)
                problems = _problems(form, rows) or list(exc.details.get("missing", []))
                problems = problems or [exc.message]
            else:
                return _after_intake(request, dossier, outcome)
        status = 400
        messages.error(
            request,
            "Chưa lưu được hồ sơ — mọi thông tin và tệp đã nhập vẫn được giữ nguyên; "
            "sửa những mục sau rồi gửi lại.",
        )
    return render(
        request,
        "dossiers/intake.html",
        {
            "desks": desks,
            "desk": desk,
            "procedure": procedure,
            "competent": competent,
            "rows": rows,
            "form": form,
            "posted": request.POST,
            "error_details": problems,
            "intake_key": key,
            "outcome": outcome,
            "counter_reason": reason,
            "buttons": COUNTER_BUTTONS,
        },
        status=status,
    )


def _counter_intake(
    request: HttpRequest,
    desk: Any,
    procedure: Any,
    competent: list[Any],
    form: ApplicantForm,
    rows: list[DocumentRow],
    key: str,
) -> Dossier:
    """Receive, guide (form 02) or refuse (form 03) the walk-in's dossier, once per form."""
    data = form.cleaned_data
    agency_id = request.POST.get("competent_agency")
    common: dict[str, Any] = {
        "desk": desk,
        "procedure": procedure,
        "competent_agency": next((a for a in competent if str(a.pk) == agency_id), None),
        "applicant": Applicant(
            name=data["name"],
            kind=data["kind"],
            id_number=data["id_number"],
            address=data["address"],
            phone=data["phone"],
            email=data["email"],
        ),
        "components": _components(rows),
        "channel": data["channel"],
        "matter": data["matter"],
        "sets": data["sets"],
        "return_channel": data["return_channel"],
    }
    outcome = request.POST.get("outcome", "receive")
    if outcome in ("guide", "refuse"):
        reason = request.POST.get("counter_reason", "")
        return once(
            request.user,
            key,
            now=_now(),
            make=lambda: turn_away_at_desk(request.user, outcome=outcome, reason=reason, **common),
        )
    return once(request.user, key, now=_now(), make=lambda: receive_at_desk(request.user, **common))


def _after_intake(request: HttpRequest, dossier: Dossier, outcome: str) -> HttpResponse:
    """To the dossier page, with a success banner that offers the form to print at once."""
    if getattr(dossier, "repeated", False):
        messages.info(
            request,
            f"Biểu mẫu này đã được gửi trước đó: hồ sơ {dossier.code} đã được lập, không tạo "
            "thêm hồ sơ mới.",
        )
    if dossier.state == State.RECEIVED:
        for warning in signature_checks.receipt_warnings(dossier):  # issue 21: signatures
            messages.warning(request, warning)
        due = timezone.localtime(dossier.due)
        text = (
            f"Đã tiếp nhận hồ sơ {dossier.code}. Hẹn trả kết quả: {due:%H:%M ngày %d/%m/%Y}. "
            "In giấy tiếp nhận và hẹn trả kết quả (mẫu {number}) để giao người nộp."
        )
    elif dossier.state == State.AWAITING_COMPLETION:
        text = (
            f"Đã lập phiếu hướng dẫn bổ sung, hoàn thiện hồ sơ {dossier.code} (mẫu {{number}}); "
            "hồ sơ chưa được tiếp nhận. In phiếu để giao người nộp."
        )
    else:
        text = (
            f"Đã từ chối tiếp nhận hồ sơ {dossier.code}. In phiếu từ chối (mẫu {{number}}) để "
            "giao người nộp."
        )
    purpose = FIRST_FORM.get(dossier.state)
    form = next((f for f in available_forms(dossier) if f[0] == purpose), None)
    if form is None:
        messages.success(request, text.format(number="—"))
    else:
        messages.success(
            request,
            format_html(
                '{} <a class="button primary" href="{}" target="_blank" rel="noopener">'
                "In {} (PDF)</a>",
                text.format(number=form[1]),
                reverse("dossiers:form", args=[dossier.code, form[0]]),
                form[2][:1].lower() + form[2][1:],
            ),
        )
    request.session[JUST_DONE] = dossier.code
    return redirect("dossiers:detail", code=dossier.code)


# -- the dossier page ---------------------------------------------------------------------------


def _visible(request: HttpRequest, code: str) -> Dossier:
    return access.get_visible(request.user, code)


# Actions that are the obvious next step in the state they are offered in: the first safe
# action is shown open only when it is one of these; dangerous ones are never open by default.
NEXT_STEPS = frozenset(
    {
        "receive",
        "resubmit",
        "assign",
        "propose",
        "approve",
        "supplement_received",
        "obligation_met",
        "return_result",
    }
)
# The form printed first for a dossier in this state, offered at the top of its page.
FIRST_FORM = {
    State.RECEIVED: "receipt",
    State.AWAITING_COMPLETION: "supplement",
    State.REFUSED_AT_INTAKE: "refusal",
}


def _ordered_actions(user: Any, dossier: Dossier, offered: list[dict[str, Any]]) -> list[Any]:
    """Safe actions first, dangerous ones last and asking for a confirmation; only the one
    obvious next step open. A walk-in's dossier sent back to be completed (form 02) is taken
    up again at the desk with "resubmit" when the applicant comes back."""
    acts = [dict(a) for a in offered]
    if (
        dossier.state == State.AWAITING_COMPLETION
        and dossier.channel != Channel.ONLINE
        and access.may(user, dossier, "resubmit")
    ):
        acts.insert(
            0,
            {
                "code": "resubmit",
                "label": "Người nộp đã hoàn thiện: nhận lại hồ sơ để tiếp nhận",
                "needs_reason": False,
                "dangerous": False,
            },
        )
    acts = [a for a in acts if not a["dangerous"]] + [a for a in acts if a["dangerous"]]
    for a in acts:
        a["confirm"] = a["dangerous"]
        a["open"] = False
    if acts and not acts[0]["dangerous"] and acts[0]["code"] in NEXT_STEPS:
        acts[0]["open"] = True
    return acts


def _detail_context(request: HttpRequest, dossier: Dossier) -> dict[str, Any]:
    context = presenters.page(request.user, dossier, now=_now())
    context["actions"] = _ordered_actions(request.user, dossier, context["actions"])
    context["forms"] = available_forms(dossier)
    context["signatures"] = signing_jobs.signatures(dossier)
    context["officers"] = queries.officers_for(dossier) if context["actions"] else []
    # Forwarding (liên thông) offers only the agencies that may handle the procedure today.
    context["agencies"] = (
        list(competence.handling_agencies(dossier.procedure, timezone.localdate()).order_by("name"))
        if any(a["code"] == "forward" for a in context["actions"])
        else []
    )
    if any(a["code"] == "apologise" for a in context["actions"]):
        context["proposed_due"] = services.propose_appointment(dossier)
    purpose = FIRST_FORM.get(dossier.state)
    context["first_form"] = next((f for f in context["forms"] if f[0] == purpose), None)
    context["posted"] = {}
    context["failed_action"] = ""
    return context


@requires("dossier.view")
def detail(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _visible(request, code)
    context = _detail_context(request, dossier)
    context["just_done"] = request.session.get(JUST_DONE) == dossier.code
    if context["just_done"]:
        del request.session[JUST_DONE]
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
    for key in ("fee_cash", "fee_exemption_reason"):  # fees settled in the same step
        if request.POST.get(key, "").strip():
            data[key] = request.POST[key].strip()
    version = request.POST.get("version", "")
    try:
        if action in presenters.DANGEROUS and not request.POST.get("confirm"):
            raise InvalidInput(
                f"Đánh dấu ô «Tôi xác nhận…» để {services.ACTION_LABELS[action].lower()}: "
                "thao tác này kết thúc hồ sơ và không hoàn tác được.",
                code="dossier.confirm_required",
            )
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
        return _refused_action(request, dossier, action, exc)
    else:
        text = f"{services.ACTION_LABELS[action]}: đã ghi nhận."
        for warning in event.data.get("warnings", []):
            messages.warning(request, warning)
        if action == "receive":  # signatures the worker has not checked yet (issue 21)
            for warning in signature_checks.receipt_warnings(dossier):
                messages.warning(request, warning)
        messages.success(request, text)
    return redirect("dossiers:detail", code=dossier.code)


def _refused_action(
    request: HttpRequest, dossier: Dossier, action: str, error: DomainError
) -> HttpResponse:
    """The dossier page again with the refused action open and what the officer typed kept;
    a non-working appointment is replaced by the engine's proposal."""
    messages.error(request, error.message)
    dossier.refresh_from_db()
    context = _detail_context(request, dossier)
    posted = {k: request.POST.get(k, "") for k in ("reason", "reference", "delivery", "new_due")}
    proposal = error.details.get("proposal")
    if proposal and error.code == "dossier.non_working_instant":
        context["proposed_due"] = dt.datetime.fromisoformat(proposal)
    elif posted["new_due"]:
        with contextlib.suppress(DomainError):
            context["proposed_due"] = services.typed_instant(posted["new_due"])
    context["posted"] = posted
    context["failed_action"] = action
    for a in context["actions"]:
        a["open"] = a["code"] == action
    context["just_done"] = False
    return render(request, "dossiers/detail.html", context, status=400)


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
