"""PAKN workflows. Pages, commands and the demo loader all go through these functions.

Each workflow: check permission and state → transaction → lock the PAKN → append one event
→ re-derive the columns (`replay.project`) → save with an optimistic version check → audit
→ notify (inbox now, e-mail after commit). A refused action leaves only an audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.calendars.services import DEFAULT_CALENDAR, calendar_for
from cchc.dossiers import files, payloads
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import Dossier
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound
from cchc.eventlog import counters, workflow
from cchc.feedback import access, deadlines, replay
from cchc.feedback.models import (
    OPEN_STATES,
    CodeCounter,
    DossierLink,
    Feedback,
    FeedbackEvent,
    FeedbackFile,
    State,
)
from cchc.feedback.ratings import rating_data
from cchc.notifications.models import Channel
from cchc.notifications.services import notify
from cchc.org.models import Agency, Desk
from cchc.vietnamese import nfc

S = State
WORKING = frozenset({S.ACCEPTED, S.IN_PROGRESS})

# action -> (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "accept": (frozenset({S.RECEIVED}), S.ACCEPTED),
    "reject": (frozenset({S.RECEIVED}), S.REJECTED),
    "assign": (frozenset({S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.AWAITING_SUPPLEMENT}), None),
    "request_supplement": (WORKING, S.AWAITING_SUPPLEMENT),
    "supplement_received": (frozenset({S.AWAITING_SUPPLEMENT}), S.IN_PROGRESS),
    "answer": (WORKING, S.RESOLVED),
    "publish": (frozenset({S.RESOLVED}), S.PUBLISHED),
    "rate": (frozenset({S.RESOLVED, S.PUBLISHED}), None),
    "withdraw": (frozenset(OPEN_STATES), S.WITHDRAWN),
}

ACTION_LABELS = {
    "submit": "Gửi phản ánh, kiến nghị",
    "accept": "Tiếp nhận xử lý",
    "reject": "Từ chối xử lý",
    "assign": "Phân công xử lý",
    "request_supplement": "Yêu cầu bổ sung thông tin",
    "supplement_received": "Nhận thông tin bổ sung",
    "answer": "Trả lời",
    "publish": "Công khai trả lời",
    "rate": "Đánh giá trả lời",
    "withdraw": "Rút phản ánh",
    "link_dossier": "Xác nhận hồ sơ liên quan",
}
NEEDS_REASON = frozenset({"reject", "request_supplement", "answer", "withdraw"})

RATE_SALT = "cchc.feedback.rate"
RATE_MAX_AGE = 180 * 24 * 3600  # a rating link in the answer e-mail is valid ~6 months


_now = workflow.local_now


def _label(actor: Any) -> str:
    anonymous = workflow.SYSTEM_LABEL if actor is SYSTEM else "người gửi (không đăng nhập)"
    return workflow.actor_label(actor, anonymous=anonymous)


# -- calendars and deadlines ------------------------------------------------------------------


def calendar_code_for(agency: Agency, day: dt.date) -> str:
    """The working calendar of the desk that hosts or receives for `agency` (the default
    civil-service calendar otherwise)."""
    desk = (
        Desk.objects.valid_on(day)
        .filter(Q(host_agency=agency) | Q(receives_for=agency))
        .select_related("calendar")
        .first()
    )
    return desk.calendar.code if desk is not None else DEFAULT_CALENDAR


def calendar_of(feedback: Feedback) -> legaltime.Calendar:
    return calendar_for(feedback.calendar_code, number=feedback.calendar_version)


def rules_of(feedback: Feedback) -> deadlines.DeadlineRules:
    return deadlines.rules_number(feedback.rules_version)


def project(
    feedback: Feedback,
    events: list[FeedbackEvent] | None = None,
    *,
    now: dt.datetime | None = None,
) -> replay.Projection:
    if events is None:
        events = list(feedback.events.order_by("seq")) if feedback.pk else []
    try:
        return replay.project(
            received_at=feedback.received_at,
            events=events,
            calendar=calendar_of(feedback),
            rules=rules_of(feedback),
            now=now,
        )
    except legaltime.LegalTimeError as exc:
        raise InvalidInput(f"Không tính được thời hạn xử lý phản ánh: {exc}") from None


# -- codes and files --------------------------------------------------------------------------


def _allocate_code(day: dt.date) -> str:
    """`PAKN-YYMMDD-XXXX`: one atomic upsert per day, safe under concurrent submissions."""
    return f"PAKN-{day:%y%m%d}-{counters.next_number(CodeCounter, day=day):04d}"


def _store(upload: files.Upload) -> str:
    """Write a checked upload under MEDIA_ROOT/feedback/ (by hash, idempotent)."""
    digest = upload.sha256 or hashlib.sha256(upload.content).hexdigest()
    relative = Path("feedback") / digest[:2] / digest
    target = Path(settings.MEDIA_ROOT) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(upload.content)
        tmp.replace(target)
    return str(relative)


def open_file(stored: FeedbackFile) -> Path:
    return files.open_stored(stored.path)


# -- the event primitive ----------------------------------------------------------------------


def _append(
    feedback: Feedback,
    action: str,
    *,
    actor: Any,
    now: dt.datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
    to_state: str | None = None,
    uploads: Iterable[files.Upload] = (),
) -> FeedbackEvent:
    previous = feedback.state
    event = workflow.append(
        FeedbackEvent,
        feedback,
        action,
        actor=actor,
        label=_label(actor),
        now=now,
        reason=reason,
        data=data,
        to_state=to_state,
    )
    for upload in uploads:
        FeedbackFile.objects.create(
            feedback=feedback,
            event=event,
            name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            path=_store(upload),
            uploaded_at=now,
        )
    workflow.advance(
        feedback,
        project(feedback).stored(),
        fields=replay.STORED,
        stale=lambda: Conflict(
            f"Phản ánh {feedback.code} vừa được người khác cập nhật. Tải lại trang rồi thực "
            "hiện lại.",
            code="feedback.conflict",
        ),
    )
    workflow.audit_event(
        "feedback", feedback, event, actor=actor, previous=previous, agency_id=feedback.agency_id
    )
    return event


def _lock(feedback: Feedback, expected_version: int | None) -> Feedback:
    return workflow.lock(feedback, expected_version, stale=_stale)


def _stale(locked: Feedback, seen: int) -> Conflict:
    return Conflict(
        f"Phản ánh {locked.code} vừa được người khác cập nhật. Tải lại trang để xem trạng "
        "thái mới rồi thực hiện lại.",
        code="feedback.conflict",
    )


def _refused(
    actor: Any, feedback: Feedback, action: str, error: DomainError, now: dt.datetime
) -> None:
    """Record a refused action in the audit log (the only trace it leaves)."""
    workflow.audit_refusal(
        "feedback", feedback, action, error, actor=actor, agency_id=feedback.agency_id, now=now
    )


def _check_transition(feedback: Feedback, action: str) -> str | None:
    target = workflow.check_transition(
        TRANSITIONS, action, feedback.state, illegal=lambda: _illegal(feedback, action)
    )
    if action == "assign" and feedback.state == S.ACCEPTED:
        return S.IN_PROGRESS
    return target


def _illegal(feedback: Feedback, action: str) -> InvalidInput:
    state = State(feedback.state).label
    return InvalidInput(
        f"Không thể {ACTION_LABELS[action].lower()} khi phản ánh {feedback.code} đang ở "
        f"trạng thái «{state}».",
        code="feedback.illegal_transition",
    )


def act(
    actor: Any,
    feedback: Feedback,
    action: str,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    uploads: Iterable[files.Upload] = (),
    now: dt.datetime | None = None,
    expected_version: int | None = None,
    authorised: bool = False,
) -> FeedbackEvent:
    """Take `action` on `feedback` (the entry point behind the helpers below).
    `authorised` skips the permission check (a verified rating link)."""
    at = _now(now)
    if action not in TRANSITIONS:
        raise InvalidInput(f"Thao tác không hợp lệ: {action}.", code="feedback.unknown_action")
    try:
        if not authorised:
            access.require(actor, feedback, action)
        if action in NEEDS_REASON and not reason.strip():
            what = "nội dung trả lời" if action == "answer" else "lý do"
            raise InvalidInput(
                f"Cần ghi {what} khi {ACTION_LABELS[action].lower()}.",
                code="feedback.reason_required",
            )
        with transaction.atomic():
            locked = _lock(feedback, expected_version)
            target = _check_transition(locked, action)
            payload = _prepare(locked, action, dict(data or {}))
            event = _append(
                locked,
                action,
                actor=actor,
                now=at,
                reason=reason,
                data=payload,
                to_state=target,
                uploads=list(uploads),
            )
            _notify(locked, event)
    except DomainError as error:
        _refused(actor, feedback, action, error, at)
        raise
    feedback.refresh_from_db()
    return event


def _prepare(feedback: Feedback, action: str, data: dict[str, Any]) -> dict[str, Any]:
    if action == "assign":
        user = User.objects.filter(pk=data.get("assignee") or 0, is_active=True).first()
        if user is None:
            raise InvalidInput("Chọn cán bộ được phân công.", code="feedback.assignee")
        if not policy.can(user, "feedback.handle", agency=feedback.agency_id):
            raise InvalidInput(
                f"{_label(user)} không xử lý phản ánh của cơ quan này.",
                code="feedback.assignee_scope",
            )
        data = {"assignee": user.pk, "assignee_label": _label(user)}
    if action == "rate":
        data = rating_data(data)
    if action == "publish":
        text = nfc(str(data.get("public_content") or "")).strip()
        data = {"public_content": text or feedback.content}
    return data


# -- notifications ----------------------------------------------------------------------------

CITIZEN_MESSAGES = {
    "accept": "Phản ánh, kiến nghị {code} đã được {agency} tiếp nhận xử lý. Hạn trả lời: {due}.",
    "reject": "Phản ánh, kiến nghị {code} không được tiếp nhận xử lý. Lý do: {reason}",
    "request_supplement": "Phản ánh, kiến nghị {code} cần bổ sung thông tin: {reason}",
    "answer": "{agency} đã trả lời phản ánh, kiến nghị {code}:\n\n{reason}",
    "publish": "Trả lời phản ánh, kiến nghị {code} đã được công khai trên Cổng dịch vụ công.",
}


def rating_token(feedback: Feedback) -> str:
    return signing.dumps({"f": feedback.code}, salt=RATE_SALT)


def check_rating_token(feedback: Feedback, token: str) -> bool:
    try:
        value = signing.loads(token, salt=RATE_SALT, max_age=RATE_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(value, dict) and value.get("f") == feedback.code


def citizen_link(feedback: Feedback, *, rating: bool = False) -> str:
    if rating:
        url = reverse("feedback_public:rate", args=[feedback.code])
        return url if feedback.citizen_id else f"{url}?t={rating_token(feedback)}"
    if feedback.citizen_id:
        return reverse("feedback_public:detail", args=[feedback.code])
    return reverse("feedback_public:published")


def _notify(feedback: Feedback, event: FeedbackEvent) -> None:
    if event.action == "assign" and event.data.get("assignee"):
        notify(
            kind="feedback.assign",
            subject=f"[{feedback.code}] Được phân công xử lý phản ánh",
            body=f"{feedback.subject}\nHạn trả lời: {_fmt(feedback.resolve_due)}.",
            user=User.objects.get(pk=event.data["assignee"]),
            link=reverse("feedback:detail", args=[feedback.code]),
            key=f"feedback:{feedback.pk}:{event.seq}:assignee",
            agency_id=feedback.agency_id,
            now=event.at,
        )
        return
    template = CITIZEN_MESSAGES.get(event.action)
    if template is None:
        return
    agency = feedback.agency.short_name or feedback.agency.name
    text = template.format(
        code=feedback.code, agency=agency, due=_fmt(feedback.resolve_due), reason=event.reason
    )
    subject = f"[{feedback.code}] {ACTION_LABELS[event.action]}"
    link = citizen_link(feedback, rating=event.action == "answer")
    if feedback.citizen_id:
        notify(
            kind=f"feedback.{event.action}",
            subject=subject,
            body=text,
            user=feedback.citizen,
            link=link,
            key=f"feedback:{feedback.pk}:{event.seq}:app",
            now=event.at,
        )
    address = feedback.email or (feedback.citizen.email if feedback.citizen_id else "")
    if address:
        notify(
            kind=f"feedback.{event.action}",
            subject=subject,
            body=text,
            channel=Channel.EMAIL,
            address=address,
            link=link,
            key=f"feedback:{feedback.pk}:{event.seq}:mail",
            now=event.at,
        )


def _fmt(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(legaltime.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


# -- submitting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    name: str
    subject: str
    content: str
    phone: str = ""
    email: str = ""
    agency_id: int | None = None
    dossier_code: str = ""


def public_agencies(day: dt.date) -> QuerySet[Agency]:
    """Agencies a citizen may address (those valid on `day`), province level first."""
    return (
        Agency.objects.valid_on(day)
        .select_related("agency_type__level")
        .order_by("agency_type__level__rank", "name")
    )


def _own_dossier(actor: Any, code: str) -> Dossier | None:
    """The dossier `code` if `actor` is its signed-in applicant (proof (a) of
    `cchc.feedback.linking`), else None — whether or not it exists."""
    if not code or getattr(actor, "pk", None) is None:
        return None
    return (
        Dossier.objects.filter(code=code, applicant_user_id=actor.pk)
        .select_related("competent_agency")
        .first()
    )


def _digits(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit())


def submit(
    actor: Any,
    form: Submission,
    *,
    uploads: Iterable[files.Upload] = (),
    now: dt.datetime | None = None,
    is_demo: bool = False,
) -> Feedback:
    """File a PAKN: a signed-in citizen (linked to their account) or anyone with a name and a
    phone number or e-mail address. A dossier code is linked at once (with a `complaint`
    event on the dossier) only for its signed-in applicant; otherwise the PAKN waits for
    proof (`cchc.feedback.linking`) and the outcome is the same whether or not the code
    exists or matches the contact given."""
    at = _now(now)
    day = at.date()
    name, subject, content = (nfc(v).strip() for v in (form.name, form.subject, form.content))
    phone, email = form.phone.strip(), form.email.strip()
    errors = []
    if not name:
        errors.append(("name", "Ghi họ tên người gửi."))
    if not phone and not email:
        errors.append(("phone", "Ghi số điện thoại hoặc thư điện tử để cơ quan liên hệ, trả lời."))
    if phone and not 8 <= len(_digits(phone)) <= 15:
        errors.append(("phone", "Số điện thoại không hợp lệ."))
    if not subject:
        errors.append(("subject", "Ghi tiêu đề phản ánh, kiến nghị."))
    if len(content) < 10:
        errors.append(("content", "Nội dung phản ánh, kiến nghị quá ngắn (ít nhất 10 ký tự)."))
    if errors:
        raise InvalidInput(" ".join(m for _, m in errors), code="feedback.invalid", fields=errors)
    # linking.normalise_code, inlined: linking builds on this module.
    claim = "".join((form.dossier_code or "").split()).upper()[:60]
    dossier = _own_dossier(actor, claim)
    agency: Agency | None = None
    if form.agency_id:
        agency = public_agencies(day).filter(pk=form.agency_id).first()
        if agency is None:
            raise InvalidInput("Cơ quan đã chọn không còn hoạt động.", code="feedback.agency")
    elif dossier is not None:
        agency = dossier.competent_agency
        # An agency merged since the dossier: its successor handles the PAKN.
        while agency is not None and not agency.is_valid_on(day) and agency.successor_id:
            agency = agency.successor
    if agency is None:
        # The same answer whether or not the code exists: only the dossier's signed-in
        # applicant is routed by the code.
        raise InvalidInput(
            "Chọn cơ quan nhận phản ánh (mã hồ sơ chỉ dùng để chọn cơ quan khi bạn đăng nhập "
            "bằng tài khoản đã nộp hồ sơ đó).",
            code="feedback.agency",
            fields=[("agency", "Chọn cơ quan nhận phản ánh.")],
        )
    rules = deadlines.rules_on(day)
    code_name = calendar_code_for(agency, day)
    citizen = actor if getattr(actor, "pk", None) is not None else None
    with transaction.atomic():
        feedback = Feedback(
            code=_allocate_code(day),
            citizen=citizen,
            name=name[:200],
            phone=phone[:20],
            email=email,
            subject=subject[:300],
            content=content,
            dossier=dossier,
            dossier_claim=claim,
            dossier_link=(
                DossierLink.LINKED
                if dossier
                else DossierLink.PENDING
                if claim
                else DossierLink.NONE
            ),
            agency=agency,
            calendar_code=code_name,
            calendar_version=dossier_services.calendar_version_on(code_name, day),
            rules_version=rules.number,
            received_at=at,
            is_demo=is_demo,
            state=S.RECEIVED,
        )
        first = project(feedback, [])
        for field_name, value in first.stored().items():
            setattr(feedback, field_name, value)
        feedback.save()
        _append(
            feedback,
            "submit",
            actor=actor,
            now=at,
            data={
                "dossier": dossier.code if dossier else "",
                "dossier_claim": claim,
                "anonymous": citizen is None,
            },
            to_state=S.RECEIVED,
            uploads=list(uploads),
        )
        if dossier is not None:
            dossier_services.act(
                SYSTEM,
                dossier,
                "complaint",
                now=at,
                data=payloads.complaint(feedback=feedback.code),
            )
        elif claim:
            from cchc.feedback import linking  # it builds on this module's event primitive

            linking.send_code(feedback, phone=phone, email=email, now=at)
        for user in handlers(feedback, roles=(Role.DESK_OFFICER, Role.AGENCY_LEADER)):
            notify(
                kind="feedback.new",
                subject=f"[{feedback.code}] Phản ánh, kiến nghị mới",
                body=f"{feedback.subject}\nHạn tiếp nhận hoặc từ chối: "
                f"{_fmt(feedback.reject_due)}.",
                user=user,
                link=reverse("feedback:detail", args=[feedback.code]),
                key=f"feedback:{feedback.pk}:new:{user.pk}",
                agency_id=feedback.agency_id,
                now=at,
            )
    return feedback


# -- typed helpers ----------------------------------------------------------------------------


def accept(actor: Any, feedback: Feedback, *, note: str = "", **kw: Any) -> FeedbackEvent:
    return act(actor, feedback, "accept", reason=note, **kw)


def reject(actor: Any, feedback: Feedback, *, reason: str, **kw: Any) -> FeedbackEvent:
    return act(actor, feedback, "reject", reason=reason, **kw)


def assign(actor: Any, feedback: Feedback, *, assignee: Any, **kw: Any) -> FeedbackEvent:
    pk = getattr(assignee, "pk", assignee)
    return act(actor, feedback, "assign", data={"assignee": pk}, **kw)


def request_supplement(actor: Any, feedback: Feedback, *, reason: str, **kw: Any):
    return act(actor, feedback, "request_supplement", reason=reason, **kw)


def supplement_received(actor: Any, feedback: Feedback, *, note: str = "", **kw: Any):
    return act(actor, feedback, "supplement_received", reason=note, **kw)


def answer(actor: Any, feedback: Feedback, *, text: str, **kw: Any) -> FeedbackEvent:
    return act(actor, feedback, "answer", reason=text, **kw)


def publish(actor: Any, feedback: Feedback, *, public_content: str = "", **kw: Any):
    return act(actor, feedback, "publish", data={"public_content": public_content}, **kw)


def rate(
    actor: Any,
    feedback: Feedback,
    *,
    satisfaction: str,
    comment: str = "",
    reasons: Iterable[str] = (),
    token: str = "",
    **kw: Any,
) -> FeedbackEvent:
    """The sender rates the answer (signed in, or through the link of the answer e-mail).
    «Không hài lòng» needs `reasons` (codes of `ratings.DISSATISFIED_REASONS`) or a comment."""
    authorised = bool(token) and check_rating_token(feedback, token)
    return act(
        actor,
        feedback,
        "rate",
        data={"satisfaction": satisfaction, "comment": comment, "reasons": list(reasons)},
        authorised=authorised,
        **kw,
    )


def withdraw(actor: Any, feedback: Feedback, *, reason: str, **kw: Any) -> FeedbackEvent:
    return act(actor, feedback, "withdraw", reason=reason, **kw)


def available_actions(user: Any, feedback: Feedback) -> list[str]:
    return [
        a
        for a in workflow.possible_actions(TRANSITIONS, feedback.state)
        if access.may(user, feedback, a)
    ]


def handlers(feedback: Feedback, *, roles: Iterable[str]) -> list[User]:
    """Active users holding one of `roles` whose `feedback.handle` reaches the agency."""
    wanted = set(roles)
    out: dict[int, User] = {}
    for assignment in RoleAssignment.objects.filter(active=True, role__in=wanted).select_related(
        "user"
    ):
        user = assignment.user
        if user.is_active and policy.can(user, "feedback.handle", agency=feedback.agency_id):
            out[user.pk] = user
    return list(out.values())


def assignable(feedback: Feedback) -> list[User]:
    return handlers(
        feedback, roles=(Role.PROCESSING_OFFICER, Role.AGENCY_LEADER, Role.DESK_OFFICER)
    )


def get(code: str) -> Feedback:
    found = Feedback.objects.select_related("agency").filter(code=code).first()
    if found is None:
        raise NotFound(f"Không tìm thấy phản ánh {code}.", code="feedback.not_found")
    return found


# -- lateness and reminders -------------------------------------------------------------------

FLAGS = (
    "decision_on_time",
    "supplement_on_time",
    "resolve_on_time",
    "publish_on_time",
    "handled_on_time",
)


def refresh_late(*, now: dt.datetime | None = None) -> int:
    """Mark unfinished PAKN whose pending deadline has passed (on-time flags false),
    audited. Returns the number changed. Safe to run any number of times."""
    at = _now(now)
    changed = 0
    for feedback in Feedback.objects.filter(is_open=True).iterator(chunk_size=200):
        derived = project(feedback, now=at).stored()
        diff = {
            f: [getattr(feedback, f), derived[f]]
            for f in FLAGS
            if getattr(feedback, f) != derived[f]
        }
        if not diff:
            continue
        with transaction.atomic():
            Feedback.objects.filter(pk=feedback.pk, version=feedback.version).update(
                **{f: derived[f] for f in diff}
            )
            log.record(
                "feedback.late",
                actor=None,
                obj=feedback,
                agency_id=feedback.agency_id,
                at=at,
                data={"changes": diff},
            )
        changed += 1
    return changed


@dataclass
class ReminderReport:
    marked_late: int = 0
    due_soon: int = 0
    overdue: int = 0
    sent: int = 0


def send_reminders(*, now: dt.datetime | None = None) -> ReminderReport:
    """Remind the handlers of PAKN whose pending deadline (decision, answer, publication) is
    less than one working day away or past: the assignee, else the agency's desk officers
    and leaders, in the inbox and by e-mail. Once a day per PAKN and person (notify key)."""
    at = _now(now)
    report = ReminderReport(marked_late=refresh_late(now=at))
    day = at.date().isoformat()
    qs = Feedback.objects.filter(state__in=[*OPEN_STATES, S.RESOLVED]).select_related(
        "agency", "assignee"
    )
    for feedback in qs:
        pending = replay.pending_deadline(feedback)
        if pending is None:
            continue
        kind, due = pending
        cal = calendar_of(feedback)
        try:
            remaining = legaltime.elapsed(cal, at, due)
        except legaltime.LegalTimeError:
            continue
        what = replay.DEADLINE_LABELS[kind]
        if at > due:
            status, subject = "overdue", f"[{feedback.code}] Quá hạn {what}"
            report.overdue += 1
        elif remaining <= cal.standard_day_seconds:
            status, subject = "due_soon", f"[{feedback.code}] Sắp đến hạn {what}"
            report.due_soon += 1
        else:
            continue
        if feedback.assignee_id and kind != "reject" and feedback.assignee.is_active:
            recipients = [feedback.assignee]
        else:
            recipients = handlers(feedback, roles=(Role.DESK_OFFICER, Role.AGENCY_LEADER))
        body = f"{feedback.subject}\nHạn {what}: {_fmt(due)}."
        with transaction.atomic():
            for user in recipients:
                for channel in (Channel.IN_APP, Channel.EMAIL):
                    note = notify(
                        kind=f"feedback.{status}",
                        subject=subject,
                        body=body,
                        user=user,
                        channel=channel,
                        link=reverse("feedback:detail", args=[feedback.code]),
                        key=f"feedback.{status}:{feedback.pk}:{kind}:{day}:{user.pk}:{channel}",
                        agency_id=feedback.agency_id,
                        now=at,
                    )
                    report.sent += note is not None
    return report
