"""Dossier workflows (spec 03). Every adapter — pages, API, CLI, imports, demo data — goes
through these functions.

Each workflow: check permission and state → transaction → lock the dossier → append one
event → re-derive the projection (`replay.project`) → save it with an optimistic version
check → audit → notify after commit. Refused actions raise a DomainError and leave only an
audit entry of the refusal.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cchc import legaltime
from cchc.audit import log
from cchc.calendars.services import DEFAULT_CALENDAR, calendar_for, version_in_force
from cchc.calendars.services import get_calendar as get_working_calendar
from cchc.catalog.models import Procedure
from cchc.dossiers import access, files, replay, rules
from cchc.dossiers.models import (
    OPEN_STATES,
    TERMINAL_STATES,
    ApplicantKind,
    Channel,
    Dossier,
    DossierComponent,
    DossierEvent,
    DossierFee,
    DossierResult,
    ReturnChannel,
    State,
    StoredFile,
)
from cchc.errors import Conflict, DomainError, InvalidInput
from cchc.notifications.services import notify
from cchc.org.models import Agency, Desk
from cchc.vietnamese import fold, nfc

logger = logging.getLogger(__name__)
S = State
ACCEPTED = frozenset({S.RECEIVED, S.IN_PROGRESS, S.AWAITING_APPROVAL})
WAITING = frozenset({S.AWAITING_SUPPLEMENT, S.AWAITING_OBLIGATION})
ANY = frozenset(State)

# action -> (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "receive": (frozenset({S.SUBMITTED}), S.RECEIVED),
    "refuse_intake": (frozenset({S.SUBMITTED}), S.REFUSED_AT_INTAKE),
    "assign": (frozenset({S.RECEIVED, S.IN_PROGRESS}), S.IN_PROGRESS),
    "forward": (frozenset({S.RECEIVED, S.IN_PROGRESS}), S.IN_PROGRESS),
    "request_supplement": (ACCEPTED, S.AWAITING_SUPPLEMENT),
    "supplement_received": (frozenset({S.AWAITING_SUPPLEMENT}), S.IN_PROGRESS),
    "request_obligation": (frozenset({S.IN_PROGRESS, S.AWAITING_APPROVAL}), S.AWAITING_OBLIGATION),
    "obligation_met": (frozenset({S.AWAITING_OBLIGATION}), S.IN_PROGRESS),
    "propose": (frozenset({S.RECEIVED, S.IN_PROGRESS}), S.AWAITING_APPROVAL),
    "send_back": (frozenset({S.AWAITING_APPROVAL}), S.IN_PROGRESS),
    "approve": (frozenset({S.AWAITING_APPROVAL}), S.RESOLVED),
    "return_result": (frozenset({S.RESOLVED}), S.RETURNED),
    "refuse": (ACCEPTED | {S.AWAITING_SUPPLEMENT}, S.REFUSED),
    "stop": (ACCEPTED | WAITING, S.STOPPED),
    "withdraw": (frozenset(OPEN_STATES), S.WITHDRAWN),
    "apologise": (ACCEPTED | WAITING, None),
    "attach": (ANY, None),
    "note": (ANY, None),
    "recompute": (frozenset(OPEN_STATES) - {S.SUBMITTED}, None),
}

ACTION_LABELS = {
    "submit": "Nộp hồ sơ",
    "receive": "Tiếp nhận hồ sơ",
    "refuse_intake": "Từ chối tiếp nhận",
    "assign": "Phân công xử lý",
    "forward": "Chuyển xử lý",
    "request_supplement": "Yêu cầu bổ sung hồ sơ",
    "supplement_received": "Nhận hồ sơ bổ sung",
    "request_obligation": "Chờ thực hiện nghĩa vụ tài chính",
    "obligation_met": "Đã thực hiện nghĩa vụ tài chính",
    "propose": "Trình lãnh đạo phê duyệt",
    "send_back": "Trả lại để xử lý tiếp",
    "approve": "Phê duyệt kết quả",
    "return_result": "Trả kết quả",
    "refuse": "Từ chối giải quyết",
    "stop": "Dừng xử lý",
    "withdraw": "Rút hồ sơ",
    "apologise": "Xin lỗi và hẹn lại ngày trả kết quả",
    "attach": "Đính kèm tệp",
    "note": "Ghi chú",
    "recompute": "Tính lại thời hạn theo lịch mới",
}

# Actions that need a written reason (the citizen is told why).
NEEDS_REASON = frozenset(
    {
        "refuse_intake",
        "request_supplement",
        "request_obligation",
        "send_back",
        "refuse",
        "stop",
        "withdraw",
        "apologise",
    }
)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or timezone.now()).astimezone(legaltime.VN_TZ)


def _label(actor: Any) -> str:
    if getattr(actor, "pk", None) is None:
        return "hệ thống"
    name = getattr(actor, "full_name", "") or ""
    return name or actor.username


# -- calendars --------------------------------------------------------------------------------


def resolver(dossier: Dossier) -> replay.CalendarResolver:
    def resolve(number: int | None) -> legaltime.Calendar:
        return calendar_for(
            dossier.calendar_code, number=number, saturday_reception=dossier.saturday_reception
        )

    return resolve


def project(dossier: Dossier, events: Sequence[DossierEvent] | None = None) -> replay.Projection:
    if events is None:
        events = list(dossier.events.order_by("seq"))
    return replay.project(
        duration_spec=dossier.duration_spec,
        step_plan=dossier.step_plan,
        competent_agency_id=dossier.competent_agency_id,
        events=events,
        calendar=resolver(dossier),
    )


def explain(dossier: Dossier) -> legaltime.DueResult | None:
    """The due instant of a received dossier with its explanation (for officers/citizens)."""
    if dossier.received_at is None:
        return None
    p = project(dossier)
    cal = calendar_for(
        dossier.calendar_code,
        number=_version_number(p.calendar_version),
        saturday_reception=dossier.saturday_reception,
    )
    closed = [(a, b) for a, b, _ in p.pauses if b is not None]
    return legaltime.explain_due(cal, dossier.received_at, dossier.duration_spec, closed)


def _version_number(label: str) -> int | None:
    return int(label.rsplit("@v", 1)[1]) if "@v" in label else None


def _calendar_version(code: str, day: dt.date) -> int:
    return version_in_force(get_working_calendar(code), None).number


# -- the event primitive ----------------------------------------------------------------------


def _append(
    dossier: Dossier,
    action: str,
    *,
    actor: Any,
    now: dt.datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
    to_state: str | None = None,
    uploads: Iterable[files.Upload] = (),
) -> DossierEvent:
    """Append an event to a locked dossier, re-derive and save the projection."""
    previous = dossier.state
    event = DossierEvent.objects.create(
        dossier=dossier,
        seq=dossier.version + 1,
        action=action,
        from_state=previous if dossier.version else "",
        to_state=to_state or previous,
        actor=actor if getattr(actor, "pk", None) is not None else None,
        actor_label=_label(actor),
        at=now,
        reason=nfc(reason).strip(),
        data=data or {},
    )
    for upload in uploads:
        StoredFile.objects.create(
            dossier=dossier,
            event=event,
            name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            path=files.store(upload),
            uploaded_at=now,
        )
    derived = project(dossier)
    old_version = dossier.version
    for name, value in derived.stored().items():
        setattr(dossier, name, value)
    dossier.version = old_version + 1
    if old_version == 0:
        dossier.save()
    else:
        fields = [*replay.Projection.STORED, "version"]
        changed = Dossier.objects.filter(pk=dossier.pk, version=old_version).update(
            **{name: getattr(dossier, name) for name in fields}
        )
        if changed != 1:
            raise Conflict(
                f"Hồ sơ {dossier.code} vừa được người khác cập nhật. Tải lại trang để xem "
                "trạng thái mới rồi thực hiện lại.",
                code="dossier.conflict",
            )
    log.record(
        f"dossier.{action}",
        actor=actor,
        obj=dossier,
        agency_id=dossier.current_agency_id,
        at=now,
        data={"seq": event.seq, "from": previous, "to": event.to_state, **(data or {})},
    )
    return event


def _lock(dossier: Dossier, expected_version: int | None) -> Dossier:
    locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"Hồ sơ {locked.code} vừa được người khác cập nhật (bạn đang xem phiên bản "
            f"{expected_version}, hiện tại là {locked.version}). Tải lại trang để xem trạng "
            "thái mới rồi thực hiện lại.",
            code="dossier.conflict",
        )
    return locked


def _refused(actor: Any, dossier: Dossier, action: str, error: DomainError, now: dt.datetime):
    """Record a refused action in the audit log (the only trace it leaves)."""
    try:
        with transaction.atomic():
            log.record(
                "dossier.refused",
                actor=actor,
                obj=dossier,
                agency_id=dossier.current_agency_id,
                at=now,
                data={"action": action, "code": error.code, "message": error.message},
            )
    except Exception:  # never mask the original refusal
        logger.exception("could not audit a refused dossier action")


def _check_transition(dossier: Dossier, action: str) -> str | None:
    allowed, target = TRANSITIONS[action]
    if dossier.state in allowed:
        return target
    state = State(dossier.state).label
    if action == "return_result":
        message = (
            f"Không thể trả kết quả hồ sơ {dossier.code}: hồ sơ chưa được giải quyết xong "
            f"(trạng thái hiện tại: {state})."
        )
    elif action in ("supplement_received", "obligation_met"):
        message = (
            f"Không thể tiếp tục xử lý hồ sơ {dossier.code}: hồ sơ không ở trạng thái tạm dừng "
            f"chờ người nộp (trạng thái hiện tại: {state})."
        )
    elif dossier.state in TERMINAL_STATES:
        what = ACTION_LABELS[action].lower()
        message = f"Hồ sơ {dossier.code} đã kết thúc ({state}); không thể {what}."
    else:
        message = (
            f"Không thể {ACTION_LABELS[action].lower()} khi hồ sơ {dossier.code} đang ở trạng "
            f"thái «{state}»."
        )
    raise InvalidInput(
        message,
        code="dossier.illegal_transition",
        action=action,
        state=dossier.state,
    )


def act(
    actor: Any,
    dossier: Dossier,
    action: str,
    *,
    now: dt.datetime | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    uploads: Iterable[files.Upload] = (),
    expected_version: int | None = None,
) -> DossierEvent:
    """Take `action` on `dossier`. The generic entry point behind the typed helpers below."""
    at = _now(now)
    if action not in TRANSITIONS:
        raise InvalidInput(f"Thao tác không hợp lệ: {action}.", code="dossier.unknown_action")
    try:
        access.require(actor, dossier, action if action != "recompute" else "recompute")
        if action in NEEDS_REASON and not reason.strip():
            raise InvalidInput(
                f"Cần ghi rõ lý do khi {ACTION_LABELS[action].lower()}.",
                code="dossier.reason_required",
            )
        with transaction.atomic():
            locked = _lock(dossier, expected_version)
            target = _check_transition(locked, action)
            payload = _prepare(actor, locked, action, at, dict(data or {}))
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
            _after(locked, event)
    except DomainError as error:
        _refused(actor, dossier, action, error, at)
        raise
    dossier.refresh_from_db()
    return event


def _prepare(
    actor: Any, dossier: Dossier, action: str, now: dt.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """Validate and complete an action's data (assignee, step, agency, results…)."""
    from cchc.accounts.models import User

    if "assignee" in data and data["assignee"] is not None:
        user = User.objects.filter(pk=data["assignee"], is_active=True).first()
        if user is None:
            raise InvalidInput("Không tìm thấy cán bộ được phân công.", code="dossier.assignee")
        agency = data.get("agency") or dossier.current_agency_id
        if not _may_process(user, agency):
            raise InvalidInput(
                f"{_label(user)} không có quyền xử lý hồ sơ tại cơ quan này.",
                code="dossier.assignee_scope",
            )
        data["receiver_label"] = _label(user)
    if action == "assign" and not data.get("assignee"):
        raise InvalidInput("Chọn cán bộ được phân công.", code="dossier.assignee")
    steps = len(dossier.step_plan)
    if action == "assign" and dossier.state == State.RECEIVED:
        # The desk's hand-over to the processing agency closes the reception step.
        data["handoff"] = True
        data["step"] = min(dossier.step_index + 1, max(steps - 1, 0))
    if action == "approve":
        data["step"] = max(steps - 1, 0)
        data.setdefault("receiver_label", "Bộ phận tiếp nhận và trả kết quả")
    if action == "propose":
        data.setdefault("receiver_label", "Lãnh đạo cơ quan")
        # The leader's step is the one before returning the result.
        data.setdefault("step", max(dossier.step_index + 1, steps - 2))
    if action in ("forward", "propose"):
        nxt = int(data.get("step", dossier.step_index + 1))
        if steps and not (0 <= nxt < steps):
            nxt = steps - 1
        data["step"] = nxt
        if data.get("agency"):
            target = Agency.objects.filter(pk=data["agency"]).first()
            if target is None:
                raise InvalidInput("Không tìm thấy cơ quan nhận hồ sơ.", code="dossier.agency")
            data["agency_name"] = target.name
            data.setdefault("receiver_label", target.short_name or target.name)
    if action == "approve":
        data["results"] = _results(dossier, data.get("results"), now)
    if action == "apologise":
        data.update(_apology(actor, dossier, now, data))
    if action == "recompute":
        data.setdefault("calendar_version", _calendar_version(dossier.calendar_code, now.date()))
    return data


def _may_process(user: Any, agency_id: int) -> bool:
    from cchc.accounts import policy

    return policy.can(user, "dossier.process", agency=agency_id)


def _results(dossier: Dossier, given: Any, now: dt.datetime) -> list[dict[str, Any]]:
    items = given or [{"title": f"Kết quả giải quyết: {dossier.procedure.name}"}]
    start = dossier.results.count()
    out = []
    for n, item in enumerate(items, start=start + 1):
        out.append(
            {"number": n, "code": f"{dossier.code}-KQ{n}", "title": str(item["title"])[:300]}
        )
    return out


def _after(dossier: Dossier, event: DossierEvent) -> None:
    """Side records of an event: results, notifications."""
    for item in event.data.get("results", []):
        DossierResult.objects.create(
            dossier=dossier,
            number=item["number"],
            code=item["code"],
            title=item["title"],
            electronic=dossier.procedure.result_type != "paper",
            event=event,
            issued_at=event.at,
        )
    _notify_citizen(dossier, event)


CITIZEN_MESSAGES = {
    "receive": "Hồ sơ {code} đã được tiếp nhận. Hẹn trả kết quả: {due}.",
    "refuse_intake": "Hồ sơ {code} không được tiếp nhận. Lý do: {reason}",
    "request_supplement": "Hồ sơ {code} cần bổ sung, hoàn thiện: {reason}",
    "request_obligation": "Hồ sơ {code} đang chờ thực hiện nghĩa vụ tài chính: {reason}",
    "approve": "Hồ sơ {code} đã có kết quả. Mời nhận kết quả theo hình thức đã đăng ký.",
    "return_result": "Hồ sơ {code} đã được trả kết quả.",
    "refuse": "Hồ sơ {code} bị từ chối giải quyết. Lý do: {reason}",
    "stop": "Hồ sơ {code} bị dừng xử lý. Lý do: {reason}",
    "apologise": "Cơ quan xin lỗi vì hồ sơ {code} chậm so với hẹn; hẹn trả kết quả mới: {due}.",
}


def _notify_citizen(dossier: Dossier, event: DossierEvent) -> None:
    template = CITIZEN_MESSAGES.get(event.action)
    if template is None:
        return
    due = (
        dossier.due.astimezone(legaltime.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")
        if dossier.due
        else ""
    )
    text = template.format(code=dossier.code, due=due, reason=event.reason)
    subject = f"[{dossier.code}] {ACTION_LABELS[event.action]}"
    if dossier.applicant_user_id:
        notify(
            kind=f"dossier.{event.action}",
            subject=subject,
            body=text,
            user=dossier.applicant_user,
            link=f"/tra-cuu/?ma={dossier.code}",
            key=f"dossier:{dossier.pk}:{event.seq}:app",
            now=event.at,
        )
    if dossier.applicant_email:
        notify(
            kind=f"dossier.{event.action}",
            subject=subject,
            body=text,
            channel="email",
            address=dossier.applicant_email,
            key=f"dossier:{dossier.pk}:{event.seq}:mail",
            now=event.at,
        )


# -- intake -----------------------------------------------------------------------------------


@dataclass
class Applicant:
    name: str
    kind: str = ApplicantKind.PERSON
    id_number: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""

    def clean(self) -> Applicant:
        errors = {}
        name = nfc(self.name).strip()
        if not name:
            errors["name"] = "Nhập họ tên người nộp hồ sơ (hoặc tên tổ chức)."
        if self.kind not in ApplicantKind.values:
            errors["kind"] = "Loại người nộp không hợp lệ."
        digits = self.id_number.strip()
        if digits and (not digits.isdigit() or len(digits) not in (9, 10, 12, 13)):
            errors["id_number"] = (
                "Số định danh cá nhân (12 số), CMND (9 số) hoặc mã số thuế (10, 13 số) "
                "không hợp lệ."
            )
        phone = self.phone.replace(" ", "").replace(".", "")
        if phone and (not phone.lstrip("+").isdigit() or not 9 <= len(phone.lstrip("+")) <= 12):
            errors["phone"] = "Số điện thoại không hợp lệ."
        email = self.email.strip()
        if email and ("@" not in email or "." not in email.rsplit("@", 1)[-1]):
            errors["email"] = "Địa chỉ thư điện tử không hợp lệ."
        if errors:
            raise InvalidInput(
                "Thông tin người nộp chưa hợp lệ: " + " ".join(errors.values()),
                code="dossier.applicant",
                fields=errors,
            )
        return Applicant(name, self.kind, digits, nfc(self.address).strip(), phone, email)


@dataclass
class Component:
    """A document handed in: a catalogue document (by id) or a free-named one."""

    document_id: int | None = None
    name: str = ""
    originals: int = 0
    copies: int = 0
    digitised: bool = False
    reused: bool = False
    uploads: list[files.Upload] = field(default_factory=list)


def check_components(procedure: Procedure, components: Sequence[Component]) -> list[str]:
    """Missing mandatory documents (with counts), as Vietnamese sentences; [] if complete."""
    given = {c.document_id: c for c in components if c.document_id}
    missing = []
    for doc in procedure.documents.all():
        if not doc.mandatory:
            continue
        have = given.get(doc.pk)
        if have is None or (have.originals + have.copies) == 0:
            missing.append(f"Thiếu «{doc.name}».")
        elif (
            have.originals < doc.originals
            and have.copies + have.originals < doc.originals + doc.copies
        ):
            missing.append(
                f"«{doc.name}» cần {doc.originals} bản chính"
                + (f", {doc.copies} bản sao" if doc.copies else "")
                + "."
            )
    return missing


def competent_agency_for(desk: Desk, procedure: Procedure, on: dt.date) -> list[Agency]:
    """Agencies this desk receives for that are competent for `procedure`."""
    return list(
        desk.receives_for.valid_on(on).filter(agency_type_id=procedure.competent_agency_type_id)
    )


def _allocate_code(rules_in_force: rules.RuleSet, prefix: str, day: dt.date) -> str:
    """Next code for (prefix, day): one atomic upsert, safe under concurrent intake."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO dossiers_codecounter (prefix, day, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (prefix, day) DO UPDATE SET last = dossiers_codecounter.last + 1 "
            "RETURNING last",
            [prefix, day],
        )
        seq = cursor.fetchone()[0]
    return rules_in_force.dossier_code(prefix, day, seq)


def _create(
    actor: Any,
    *,
    desk: Desk,
    procedure: Procedure,
    competent_agency: Agency | None,
    applicant: Applicant,
    channel: int,
    now: dt.datetime,
    matter: str,
    sets: int,
    return_channel: str,
    components: Sequence[Component],
    applicant_user: Any,
    is_demo: bool,
) -> Dossier:
    day = now.date()
    if not desk.is_valid_on(day):
        raise InvalidInput(f"Bộ phận một cửa {desk.name} không còn hoạt động ngày {day:%d/%m/%Y}.")
    agencies = competent_agency_for(desk, procedure, day)
    if competent_agency is None:
        if len(agencies) != 1:
            raise InvalidInput(
                "Chọn cơ quan có thẩm quyền giải quyết.", code="dossier.competent_agency"
            )
        competent_agency = agencies[0]
    elif competent_agency not in agencies:
        raise InvalidInput(
            f"{desk.name} không tiếp nhận thủ tục «{procedure.name}» cho {competent_agency.name}.",
            code="dossier.competent_agency",
        )
    if not procedure.active:
        raise InvalidInput(f"Thủ tục {procedure.code} không còn áp dụng.", code="dossier.procedure")
    if channel not in Channel.values:
        raise InvalidInput("Kênh nộp hồ sơ không hợp lệ (1, 2 hoặc 3).", code="dossier.channel")
    if return_channel not in ReturnChannel.values:
        raise InvalidInput("Hình thức nhận kết quả không hợp lệ.", code="dossier.return_channel")
    if sets < 1:
        raise InvalidInput("Số bộ hồ sơ phải từ 1 trở lên.", code="dossier.sets")
    receiving = Agency.objects.get(pk=desk.host_agency_id)
    in_force = rules.ruleset_on(day)
    calendar = desk.calendar.code if desk.calendar_id else DEFAULT_CALENDAR
    code = _allocate_code(in_force, receiving.code, day)
    steps = [{"name": s.name, "budget": s.duration_spec} for s in procedure.steps.all()]
    dossier = Dossier.objects.create(
        code=code,
        ruleset=in_force.code,
        procedure=procedure,
        desk=desk,
        receiving_agency=receiving,
        competent_agency=competent_agency,
        current_agency=competent_agency,
        channel=channel,
        online_level=procedure.online_level if channel == Channel.ONLINE else "none",
        applicant_kind=applicant.kind,
        applicant_name=applicant.name,
        applicant_id_number=applicant.id_number,
        applicant_address=applicant.address,
        applicant_phone=applicant.phone,
        applicant_email=applicant.email,
        applicant_user=applicant_user,
        matter=nfc(matter).strip()[:500] or procedure.name[:500],
        sets=sets,
        return_channel=return_channel,
        duration_spec=procedure.duration_spec,
        step_plan=steps,
        calendar_code=calendar,
        saturday_reception=desk.saturday_reception,
        submitted_at=now,
        search_text=fold(f"{code} {applicant.name} {procedure.code} {procedure.name}")[:800],
        is_demo=is_demo,
        state=State.SUBMITTED,
        queue_at=now,
    )
    documents = {d.pk: d for d in procedure.documents.all()}
    for position, c in enumerate(components):
        doc = documents.get(c.document_id) if c.document_id else None
        if c.document_id and doc is None:
            raise InvalidInput("Giấy tờ không thuộc thủ tục này.", code="dossier.component")
        component = DossierComponent.objects.create(
            dossier=dossier,
            position=position,
            document=doc,
            name=doc.name if doc else nfc(c.name).strip()[:500],
            originals=c.originals,
            copies=c.copies,
            digitised=c.digitised or bool(c.uploads),
            reused=c.reused,
        )
        for upload in c.uploads:
            StoredFile.objects.create(
                dossier=dossier,
                component=component,
                name=upload.name,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                path=files.store(upload),
                uploaded_at=now,
            )
    for fee in procedure.fees.all():
        DossierFee.objects.create(dossier=dossier, name=fee.name, amount=fee.amount)
    return dossier


def submit_online(
    actor: Any,
    *,
    desk: Desk,
    procedure: Procedure,
    applicant: Applicant,
    components: Sequence[Component] = (),
    competent_agency: Agency | None = None,
    matter: str = "",
    return_channel: str = ReturnChannel.ONLINE,
    channel: int = Channel.ONLINE,
    now: dt.datetime | None = None,
    is_demo: bool = False,
) -> Dossier:
    """An online (or postal) submission, waiting for the desk's check. The clock has not
    started: it starts when the desk receives the complete dossier."""
    at = _now(now)
    applicant = applicant.clean()
    with transaction.atomic():
        dossier = _create(
            actor,
            desk=desk,
            procedure=procedure,
            competent_agency=competent_agency,
            applicant=applicant,
            channel=channel,
            now=at,
            matter=matter,
            sets=1,
            return_channel=return_channel,
            components=components,
            applicant_user=actor if getattr(actor, "pk", None) else None,
            is_demo=is_demo,
        )
        _append(dossier, "submit", actor=actor, now=at, to_state=State.SUBMITTED)
    return dossier


def receive_at_desk(
    actor: Any,
    *,
    desk: Desk,
    procedure: Procedure,
    applicant: Applicant,
    components: Sequence[Component],
    competent_agency: Agency | None = None,
    channel: int = Channel.IN_PERSON,
    matter: str = "",
    sets: int = 1,
    return_channel: str = ReturnChannel.DESK,
    assignee: Any = None,
    now: dt.datetime | None = None,
    is_demo: bool = False,
) -> Dossier:
    """A desk officer receives a complete dossier (form 01): code, clock start, appointment."""
    at = _now(now)
    from cchc.accounts import policy

    policy.require(actor, "dossier.receive", agency=desk.host_agency_id)
    applicant = applicant.clean()
    missing = check_components(procedure, components)
    if missing:
        raise InvalidInput(
            "Hồ sơ chưa đủ thành phần theo quy định: " + " ".join(missing),
            code="dossier.incomplete",
            missing=missing,
        )
    with transaction.atomic():
        dossier = _create(
            actor,
            desk=desk,
            procedure=procedure,
            competent_agency=competent_agency,
            applicant=applicant,
            channel=channel,
            now=at,
            matter=matter,
            sets=sets,
            return_channel=return_channel,
            components=components,
            applicant_user=None,
            is_demo=is_demo,
        )
        _append(
            dossier,
            "submit",
            actor=actor,
            now=at,
            to_state=State.SUBMITTED,
            data={"channel": channel},
        )
        version = _calendar_version(dossier.calendar_code, at.date())
        event = _append(
            dossier,
            "receive",
            actor=actor,
            now=at,
            to_state=State.RECEIVED,
            data={"calendar_version": version, "appointment_rule": dossier.ruleset},
        )
        _after(dossier, event)
        if assignee is not None:
            _append(
                dossier,
                "forward",
                actor=actor,
                now=at,
                to_state=State.IN_PROGRESS,
                data=_prepare(
                    actor,
                    dossier,
                    "forward",
                    at,
                    {"step": min(1, max(len(dossier.step_plan) - 1, 0)), "assignee": assignee.pk},
                ),
            )
    return dossier


def receive(
    actor: Any,
    dossier: Dossier,
    *,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> DossierEvent:
    """The desk accepts an online submission: the clock starts now."""
    at = _now(now)
    version = _calendar_version(dossier.calendar_code, at.date())
    return act(
        actor,
        dossier,
        "receive",
        now=at,
        expected_version=expected_version,
        data={"calendar_version": version},
    )


# -- apology (form 04) ------------------------------------------------------------------------


def apology_policy() -> legaltime.ExtensionPolicy:
    late = getattr(settings, "CCHC_LATE_APOLOGY", "warn")
    return legaltime.ExtensionPolicy(late_apology=legaltime.LateApology(late))


def propose_appointment(dossier: Dossier, *, now: dt.datetime | None = None) -> dt.datetime:
    """A new appointment for an apology: from the later of now and the current due, the
    working time the remaining steps still need (at least one working day)."""
    at = _now(now)
    cal = resolver(dossier)(_version_number(dossier.calendar_version))
    base = max(at, dossier.due or at)
    remaining = 0
    standard = cal.standard_day_seconds
    for step in dossier.step_plan[dossier.step_index :]:
        parsed = legaltime.parse_duration(str(step["budget"]))
        if parsed.is_working:
            remaining += parsed.working_seconds(standard)
    remaining = max(remaining, standard)
    return replay.shift(cal, base, remaining)


def _apology(
    actor: Any, dossier: Dossier, now: dt.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    if dossier.due is None:
        raise InvalidInput("Hồ sơ chưa được tiếp nhận nên chưa có hẹn trả.", code="dossier.no_due")
    new_due = data.get("new_due")
    proposed = (
        dt.datetime.fromisoformat(new_due) if new_due else propose_appointment(dossier, now=now)
    )
    if proposed.tzinfo is None:
        proposed = proposed.replace(tzinfo=legaltime.VN_TZ)
    delivery = data.get("delivery", "in_person")
    if delivery not in ("in_person", "email", "sms", "post"):
        raise InvalidInput("Hình thức gửi văn bản xin lỗi không hợp lệ.", code="dossier.delivery")
    agency = Agency.objects.get(pk=data.get("agency_at_fault") or dossier.current_agency_id)
    cal = resolver(dossier)(_version_number(dossier.calendar_version))
    try:
        result = legaltime.extend(
            cal,
            current_due=dossier.due,
            new_due=proposed,
            apology_at=now,
            extensions_so_far=dossier.extensions,
            policy=apology_policy(),
        )
    except legaltime.ExtensionRefused as exc:
        raise InvalidInput(str(exc), code="dossier.apology_refused") from None
    return {
        "new_due": result.due.isoformat(),
        "previous_due": result.previous_due.isoformat(),
        "agency_at_fault": agency.pk,
        "signer_name": agency.head_name or "",
        "signer_title": agency.head_title or f"Thủ trưởng {agency.name}",
        "delivery": delivery,
        "reference": str(data.get("reference", ""))[:60],
        "late": result.late_apology,
        "warnings": list(result.warnings),
    }


# -- recomputation when a calendar changes ----------------------------------------------------


def recompute_open(calendar_code: str, *, actor: Any, now: dt.datetime | None = None) -> int:
    """After a new calendar version: move every open, received dossier on that calendar to
    it, writing a `recompute` event with the old and new due. Returns the number changed."""
    at = _now(now)
    version = _calendar_version(calendar_code, at.date())
    label = f"{calendar_code}@v{version}"
    changed = 0
    qs = Dossier.objects.filter(
        calendar_code=calendar_code, state__in=OPEN_STATES - {State.SUBMITTED}
    ).exclude(calendar_version=label)
    for dossier in qs.iterator(chunk_size=500):
        with transaction.atomic():
            locked = _lock(dossier, None)
            before = locked.due
            _append(
                locked,
                "recompute",
                actor=actor,
                now=at,
                data={
                    "calendar_version": version,
                    "due_before": before.isoformat() if before else None,
                },
            )
        changed += 1
    return changed


def money(amount: int | Decimal) -> str:
    return f"{int(amount):,}".replace(",", ".") + " đồng"
