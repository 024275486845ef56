"""Dossier workflows (spec 03). Every adapter — pages, API, CLI, imports, demo data — goes
through these functions.

Each workflow: check permission and state → transaction → lock the dossier → append one
event → re-derive the projection (`replay.project`) → save it with an optimistic version
check → audit → notify after commit. Refused actions raise a DomainError and leave only an
audit entry of the refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import User
from cchc.calendars.models import WorkingCalendar
from cchc.calendars.services import calendar_for, get_calendar, version_in_force
from cchc.catalog import competence
from cchc.dossiers import (
    access,
    files,
    guards,
    messages,
    payloads,
    replay,
    rules,
    signals,
    signature_checks,
)
from cchc.dossiers.models import (
    BEFORE_RECEIPT,
    OPEN_STATES,
    TERMINAL_STATES,
    Dossier,
    DossierEvent,
    DossierProcedureVersion,
    DossierResult,
    State,
    StoredFile,
)
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound
from cchc.eventlog import workflow
from cchc.legaltime.sessions import format_clock
from cchc.org.models import Agency

S = State
ACCEPTED = frozenset({S.RECEIVED, S.IN_PROGRESS, S.AWAITING_APPROVAL})
WAITING = frozenset({S.AWAITING_SUPPLEMENT, S.AWAITING_OBLIGATION})
ANY = frozenset(State)

# action -> (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "receive": (frozenset({S.SUBMITTED}), S.RECEIVED),
    "refuse_intake": (frozenset({S.SUBMITTED, S.AWAITING_COMPLETION}), S.REFUSED_AT_INTAKE),
    # Online submissions: the desk returns an incomplete one to the citizen, who completes
    # and resubmits it (no clock runs before receipt).
    "request_completion": (frozenset({S.SUBMITTED}), S.AWAITING_COMPLETION),
    "resubmit": (frozenset({S.AWAITING_COMPLETION}), S.SUBMITTED),
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
    # The citizen sends supplementary documents online; the desk then records
    # `supplement_received`.
    "citizen_upload": (frozenset(OPEN_STATES), None),
    # Payments (cash at the desk, or confirmed by an online gateway), refunds, the citizen's
    # rating after return, a complaint (PAKN) about the dossier.
    # Fees stay collectable after the result is returned: dossiers returned unpaid before
    # fees were required first (`cchc.dossiers.guards`, payments) must still be settled.
    "pay": (frozenset(OPEN_STATES | {S.RESOLVED, S.RETURNED}), None),
    "refund": (ANY, None),
    "rate": (frozenset({S.RETURNED}), None),
    "complaint": (ANY, None),
    "recompute": (frozenset(OPEN_STATES) - {S.SUBMITTED}, None),
}

ACTION_LABELS = {
    "import": "Nhập từ hệ thống khác",
    "import_update": "Cập nhật từ tệp nhập",
    "submit": "Nộp hồ sơ",
    "receive": "Tiếp nhận hồ sơ",
    "refuse_intake": "Từ chối tiếp nhận",
    "request_completion": "Yêu cầu hoàn thiện hồ sơ trực tuyến",
    "resubmit": "Nộp lại hồ sơ đã hoàn thiện",
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
    "citizen_upload": "Người nộp gửi bổ sung trực tuyến",
    "pay": "Thanh toán phí, lệ phí",
    "refund": "Hoàn trả phí, lệ phí",
    "rate": "Đánh giá mức độ hài lòng",
    "complaint": "Phản ánh, kiến nghị về hồ sơ",
}

# Actions that need a written reason (the citizen is told why).
NEEDS_REASON = frozenset(
    {
        "refuse_intake",
        "request_completion",
        "request_supplement",
        "request_obligation",
        "send_back",
        "refuse",
        "stop",
        "withdraw",
        "apologise",
    }
)


_now = workflow.local_now


def _label(actor: Any) -> str:
    return workflow.actor_label(actor)


# -- calendars --------------------------------------------------------------------------------


def resolver(dossier: Dossier) -> replay.CalendarResolver:
    # The reception cut-off of the procedure version the dossier was received under
    # (None: the desk calendar's, the global setting).
    rule = DossierProcedureVersion.rule_for(dossier) if dossier.pk else None

    def resolve(number: int | None) -> legaltime.Calendar:
        calendar = calendar_for(
            dossier.calendar_code, number=number, saturday_reception=dossier.saturday_reception
        )
        return rule.apply(calendar) if rule is not None else calendar

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


def calendar_of(dossier: Dossier) -> legaltime.Calendar:
    """The engine calendar of the version the dossier's clocks were last computed with."""
    label = dossier.calendar_version
    number = int(label.rsplit("@v", 1)[1]) if "@v" in label else None
    return resolver(dossier)(number)


def explain(
    dossier: Dossier, projection: replay.Projection | None = None
) -> legaltime.DueResult | None:
    """The due instant of a received dossier with its explanation (for officers/citizens).
    Pass the `projection` when the caller has one, to avoid replaying the events again."""
    if dossier.received_at is None:
        return None
    p = projection if projection is not None else project(dossier)
    return legaltime.explain_due(
        calendar_of(dossier), dossier.received_at, dossier.duration_spec, p.closed_pauses
    )


def calendar_version_on(code: str, day: dt.date) -> int:
    """The number of calendar `code`'s version in force on `day` (the latest one when
    `day` predates every version)."""
    calendar = get_calendar(code)
    try:
        return version_in_force(calendar, day).number
    except NotFound:
        return version_in_force(calendar, None).number


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
    before: dict[str, Any] | None = None,
) -> DossierEvent:
    """Append an event to a locked dossier, re-derive and save the projection.

    `before`: the dossier's tracked fields before the change, when the caller has already
    changed intake facts on `dossier` (a re-import); by default they are read from it."""
    previous = dossier.state
    event = workflow.append(
        DossierEvent,
        dossier,
        action,
        actor=actor,
        label=_label(actor),
        now=now,
        reason=reason,
        data=data,
        to_state=to_state,
    )
    for upload in uploads:
        store_file(dossier, upload, now=now, event=event)
    if before is None and dossier.version:
        before = signals.snapshot(dossier)
    workflow.advance(
        dossier,
        project(dossier).stored(),
        fields=replay.Projection.STORED,
        stale=lambda: Conflict(
            f"Hồ sơ {dossier.code} vừa được người khác cập nhật. Tải lại trang để xem "
            "trạng thái mới rồi thực hiện lại.",
            code="dossier.conflict",
        ),
    )
    signals.dossier_changed.send(sender=Dossier, before=before, after=dossier, event=event)
    workflow.audit_event(
        "dossier",
        dossier,
        event,
        actor=actor,
        previous=previous,
        agency_id=dossier.current_agency_id,
    )
    return event


def store_file(
    dossier: Dossier, upload: files.Upload, *, now: dt.datetime, **link: Any
) -> StoredFile:
    """Store a checked upload and record it on `dossier`, linked to an `event` or a
    `component` (keyword)."""
    stored = StoredFile.objects.create(
        dossier=dossier,
        name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        path=files.store(upload),
        uploaded_at=now,
        **link,
    )
    signature_checks.track(stored, now=now)  # a PDF: checked on the worker after commit
    return stored


def _lock(dossier: Dossier, expected_version: int | None) -> Dossier:
    return workflow.lock(dossier, expected_version, stale=_stale)


def _stale(locked: Dossier, seen: int) -> Conflict:
    return Conflict(
        f"Hồ sơ {locked.code} vừa được người khác cập nhật (bạn đang xem phiên bản "
        f"{seen}, hiện tại là {locked.version}). Tải lại trang để xem trạng "
        "thái mới rồi thực hiện lại.",
        code="dossier.conflict",
    )


def _refused(
    actor: Any, dossier: Dossier, action: str, error: DomainError, now: dt.datetime
) -> None:
    """Record a refused action in the audit log (the only trace it leaves)."""
    workflow.audit_refusal(
        "dossier", dossier, action, error, actor=actor, agency_id=dossier.current_agency_id, now=now
    )


def _check_transition(dossier: Dossier, action: str) -> str | None:
    return workflow.check_transition(
        TRANSITIONS, action, dossier.state, illegal=lambda: _illegal(dossier, action)
    )


def _illegal(dossier: Dossier, action: str) -> InvalidInput:
    """Why `action` is not possible in the dossier's state, in the officer's words."""
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
    return InvalidInput(
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
        access.require(actor, dossier, action)
        if dossier.source:
            raise InvalidInput(
                f"Hồ sơ {dossier.code} được nhập từ {dossier.source}: thao tác xử lý trên hệ "
                "thống nguồn, rồi nhập lại tệp xuất để cập nhật.",
                code="dossier.imported",
            )
        if action in NEEDS_REASON and not reason.strip():
            raise InvalidInput(
                f"Cần ghi rõ lý do khi {ACTION_LABELS[action].lower()}.",
                code="dossier.reason_required",
            )
        with transaction.atomic():
            locked = _lock(dossier, expected_version)
            target = _check_transition(locked, action)
            if action == "receive":  # checked signatures that failed block the receipt
                signature_checks.refuse_unsigned_receipt(locked)
            given = dict(data or {})  # pre-action guards (cchc.dossiers.guards) may run first
            if guards.run(actor, locked, action, given, at):
                locked = _lock(locked, None)  # a guard wrote events: append after them
            payload = _prepare(actor, locked, action, at, given)
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
    """Validate and complete an action's data (assignee, step, agency, results…). The keys
    and their order come from the action's builder in `payloads`; keys the caller gave keep
    their place."""
    if action in ("receive", "recompute"):
        # The clock is computed with the calendar version in force now (spec 02 §9).
        version = calendar_version_on(dossier.calendar_code, now.date())
        build = payloads.receive if action == "receive" else payloads.recompute
        for key, value in build(calendar_version=version).items():
            data.setdefault(key, value)
    if "assignee" in data and data["assignee"] is not None:
        data["receiver_label"] = _assignee_label(dossier, data)
    if action == "assign" and not data.get("assignee"):
        raise InvalidInput("Chọn cán bộ được phân công.", code="dossier.assignee")
    steps = len(dossier.step_plan)
    if action == "assign":
        # A first assignment is the desk's hand-over: it closes the reception step.
        handoff = dossier.state == State.RECEIVED
        step = payloads.handoff_step(dossier.step_index, steps) if handoff else None
        data.update(
            payloads.assign(
                assignee=data["assignee"], receiver_label=data["receiver_label"], step=step
            )
        )
    if action in ("forward", "propose"):
        # A proposal goes to the leader's step, the one before returning the result.
        default = (
            payloads.propose_step(dossier.step_index, steps)
            if action == "propose"
            else dossier.step_index + 1
        )
        step = payloads.clamp_step(int(data.get("step", default)), steps)
        target = _target_agency(dossier, data, now)
        if action == "propose":
            label = data.get("receiver_label", payloads.LEADER_LABEL)
            data.update(payloads.propose(receiver_label=label, step=step))
        if target is not None:
            label = data.get("receiver_label", target.short_name or target.name)
            data.update(payloads.forward(step=step, agency_name=target.name, receiver_label=label))
        elif action == "forward":
            data.update(payloads.forward(step=step))
    if action == "approve":
        label = data.get("receiver_label", payloads.DESK_LABEL)
        results = _results(dossier, data.get("results"))
        step = payloads.approve_step(steps)
        data.update(payloads.approve(step=step, receiver_label=label, results=results))
    if action == "apologise":
        data.update(_apology(actor, dossier, now, data))
    return data


def _assignee_label(dossier: Dossier, data: dict[str, Any]) -> str:
    """The label of the assignee named in `data`, who must be active and allowed to
    process dossiers at the agency (`data["agency"]` or the current one)."""
    user = User.objects.filter(pk=data["assignee"], is_active=True).first()
    if user is None:
        raise InvalidInput("Không tìm thấy cán bộ được phân công.", code="dossier.assignee")
    agency = data.get("agency") or dossier.current_agency_id
    if not policy.can(user, "dossier.process", agency=agency):
        raise InvalidInput(
            f"{_label(user)} không có quyền xử lý hồ sơ tại cơ quan này.",
            code="dossier.assignee_scope",
        )
    return _label(user)


def _target_agency(dossier: Dossier, data: dict[str, Any], now: dt.datetime) -> Agency | None:
    """The agency a forward or proposal sends the dossier to (`data["agency"]`; None when
    it stays), checked to exist and be competent."""
    if not data.get("agency"):
        return None
    target = Agency.objects.filter(pk=data["agency"]).first()
    if target is None:
        raise InvalidInput("Không tìm thấy cơ quan nhận hồ sơ.", code="dossier.agency")
    _check_competent(dossier, target, timezone.localtime(now).date())
    return target


def _check_competent(dossier: Dossier, target: Agency, day: dt.date) -> None:
    """Liên thông goes only to an agency that exists on `day` and may handle the dossier's
    procedure then (`catalog.competence`); InvalidInput otherwise."""
    if not target.is_valid_on(day):
        raise InvalidInput(
            f"{target.name} không hoạt động vào ngày {day:%d/%m/%Y}; không thể chuyển hồ sơ "
            f"{dossier.code} đến cơ quan này.",
            code="dossier.agency_not_competent",
        )
    if not competence.may_handle(dossier.procedure, target, day):
        raise InvalidInput(
            f"{target.name} không có thẩm quyền giải quyết thủ tục «{dossier.procedure.name}»; "
            f"chỉ chuyển hồ sơ {dossier.code} đến cơ quan được giao thực hiện thủ tục này.",
            code="dossier.agency_not_competent",
        )


def _results(dossier: Dossier, given: Any) -> list[dict[str, Any]]:
    items = given or [{"title": f"Kết quả giải quyết: {dossier.procedure.name}"}]
    start = dossier.results.count()
    out = []
    for n, item in enumerate(items, start=start + 1):
        title = str(item["title"])[:300]
        out.append(payloads.result(number=n, dossier_code=dossier.code, title=title))
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
    messages.notify_event(dossier, event, label=ACTION_LABELS[event.action])


# -- apology (form 04) ------------------------------------------------------------------------


def apology_policy(ruleset_code: str | None = None) -> legaltime.ExtensionPolicy:
    """The re-appointment policy of rule set `ruleset_code` (a dossier's `ruleset`): its
    limits and the acts its messages cite, with the configured treatment of a late apology.
    Without a rule set the engine cites no act."""
    late = getattr(settings, "CCHC_LATE_APOLOGY", "warn")
    if ruleset_code is None:
        return legaltime.ExtensionPolicy(late_apology=legaltime.LateApology(late))
    return rules.ruleset(ruleset_code).extension_policy(late)


def propose_appointment(dossier: Dossier, *, now: dt.datetime | None = None) -> dt.datetime:
    """A new appointment for an apology: from the later of now and the current due, the
    working time the remaining steps still need (at least one working day)."""
    at = _now(now)
    cal = calendar_of(dossier)
    base = max(at, dossier.due or at)
    standard = cal.standard_day_seconds
    remaining = sum(replay.budget_seconds(dossier.step_plan[dossier.step_index :], standard))
    remaining = max(remaining, standard)
    return replay.shift(cal, base, remaining)


# -- instants typed by people ------------------------------------------------------------------

# How far ahead `next_working_instant` looks for a working session (a long Tết break is
# about ten days; a calendar without any working day for two months is broken).
_LOOKAHEAD_DAYS = 62


def typed_instant(value: Any, *, what: str = "Thời điểm") -> dt.datetime:
    """An instant a person typed (ISO text from a form, the API or the CLI, or a datetime),
    as an aware local datetime; naive input is local (Asia/Ho_Chi_Minh) time. InvalidInput
    with the expected format when it cannot be read."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value or "").strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"{what} «{text[:40]}» không đúng định dạng ngày giờ (ví dụ 2026-12-14T08:00).",
                code="dossier.instant_format",
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=legaltime.VN_TZ)
    return moment.astimezone(legaltime.VN_TZ)


def _calendar_name(dossier: Dossier) -> str:
    name = (
        WorkingCalendar.objects.filter(code=dossier.calendar_code)
        .values_list("name", flat=True)
        .first()
    )
    return f"«{name}»" if name else f"«{dossier.calendar_code}»"


def _in_session(cal: legaltime.Calendar, moment: dt.datetime) -> bool:
    info = cal.day_info(moment.date())
    clock = moment.hour * 3600 + moment.minute * 60 + moment.second
    return info.working and any(a <= clock <= b for a, b in info.sessions)


def next_working_instant(cal: legaltime.Calendar, moment: dt.datetime) -> dt.datetime:
    """The first instant at or after `moment` that lies inside a working session of `cal`
    (whole minutes)."""
    local = moment.astimezone(legaltime.VN_TZ)
    clock = local.hour * 3600 + local.minute * 60 + (59 if local.second else 0)
    day = local.date()
    for offset in range(_LOOKAHEAD_DAYS):
        current = day + dt.timedelta(days=offset)
        info = cal.day_info(current)
        if info.working:
            for a, b in info.sessions:
                at = max(a, clock) if offset == 0 else a
                if at <= b:
                    return dt.datetime.combine(current, dt.time(), tzinfo=legaltime.VN_TZ) + (
                        dt.timedelta(seconds=at - at % 60)
                    )
    raise InvalidInput(
        f"Lịch làm việc không có buổi làm việc nào trong {_LOOKAHEAD_DAYS} ngày từ {day:%d/%m/%Y}.",
        code="dossier.no_working_time",
    )


def check_working_instant(
    dossier: Dossier,
    value: Any,
    *,
    proposal: dt.datetime | None = None,
    what: str = "Thời điểm hẹn",
) -> dt.datetime:
    """The one check for every instant an officer or leader types for a dossier (a new
    appointment, an extension…), used by the pages, the API and the CLI through the
    services: it must fall in a working session of the calendar the dossier's clocks run
    on. Returns it as an aware local datetime; otherwise InvalidInput
    (`dossier.non_working_instant`) explaining the calendar's day and hours and proposing
    `proposal` (the engine's computed instant) or the next working instant."""
    moment = typed_instant(value, what=what)
    cal = calendar_of(dossier)
    try:
        if _in_session(cal, moment):
            return moment
        suggested = proposal or next_working_instant(cal, moment)
        info = cal.day_info(moment.date())
        hours_on = cal.sessions_on(suggested.astimezone(legaltime.VN_TZ).date())
    except legaltime.LegalTimeError as exc:
        raise InvalidInput(
            f"{what} {moment:%H:%M %d/%m/%Y}: {exc}", code="dossier.instant"
        ) from None
    name = _calendar_name(dossier)
    day = f"{info.weekday_name} {moment:%d/%m/%Y}"
    if not info.working:
        kind = "" if info.weekend else f" ({info.name})"
        why = f"{day} là ngày nghỉ{kind} theo lịch {name}"
    else:
        why = f"{moment:%H:%M} {day} nằm ngoài giờ làm việc theo lịch {name}"
    hours = ", ".join(f"{format_clock(a)}–{format_clock(b)}" for a, b in hours_on)
    local = suggested.astimezone(legaltime.VN_TZ)
    raise InvalidInput(
        f"{what} {moment:%H:%M %d/%m/%Y} không phải thời gian làm việc: {why}; giờ làm việc "
        f"{hours}. Đề xuất: {local:%H:%M %d/%m/%Y}.",
        code="dossier.non_working_instant",
        instant=moment.isoformat(),
        proposal=local.isoformat(),
    )


def _apology(
    actor: Any, dossier: Dossier, now: dt.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    if dossier.due is None:
        raise InvalidInput("Hồ sơ chưa được tiếp nhận nên chưa có hẹn trả.", code="dossier.no_due")
    new_due = data.get("new_due")
    suggested = propose_appointment(dossier, now=now)
    proposed = (
        check_working_instant(dossier, new_due, proposal=suggested, what="Hẹn trả kết quả mới")
        if new_due
        else suggested
    )
    delivery = data.get("delivery", "in_person")
    if delivery not in ("in_person", "email", "sms", "post"):
        raise InvalidInput("Hình thức gửi văn bản xin lỗi không hợp lệ.", code="dossier.delivery")
    agency = Agency.objects.get(pk=data.get("agency_at_fault") or dossier.current_agency_id)
    try:
        result = legaltime.extend(
            calendar_of(dossier),
            current_due=dossier.due,
            new_due=proposed,
            apology_at=now,
            extensions_so_far=dossier.extensions,
            policy=apology_policy(dossier.ruleset),
        )
    except legaltime.ExtensionRefused as exc:
        raise InvalidInput(str(exc), code="dossier.apology_refused") from None
    reference = str(data.get("reference", ""))[:60]
    return payloads.apologise(
        extension=result, agency=agency, delivery=delivery, reference=reference
    )


# -- recomputation when a calendar changes ----------------------------------------------------


def stale_open(calendar_code: str, label: str) -> QuerySet[Dossier]:
    """Open dossiers on `calendar_code` whose clocks run on another version than `label`
    (``code@vN``): received here (a clock exists) and not imported (an imported dossier
    keeps the appointment its source system gave). What a recompute moves, and what
    `cchc dossiers verify` reports while it has not."""
    return Dossier.objects.filter(
        calendar_code=calendar_code,
        state__in=OPEN_STATES - BEFORE_RECEIPT,
        source="",
    ).exclude(calendar_version=label)


def replan(dossier: Dossier, version: int, *, actor: Any, now: dt.datetime) -> bool:
    """Move one dossier to calendar `version` with a `recompute` event (old due in its
    data), inside the caller's transaction, under the dossier's row lock. Returns False,
    writing nothing, when the locked row no longer needs it (closed meanwhile, already on
    the version): so redoing a batch a crash interrupted changes nothing twice."""
    locked = _lock(dossier, None)
    label = f"{locked.calendar_code}@v{version}"
    if not stale_open(locked.calendar_code, label).filter(pk=locked.pk).exists():
        return False
    before = locked.due
    _append(
        locked,
        "recompute",
        actor=actor,
        now=now,
        data={
            **payloads.recompute(calendar_version=version),
            "due_before": before.isoformat() if before else None,
        },
    )
    return True


def recompute_open(calendar_code: str, *, actor: Any, now: dt.datetime | None = None) -> int:
    """Move every open, received dossier on that calendar to the version in force on `now`,
    each in its own transaction, at once. Returns the number changed. (A new version is
    recomputed as a resumable job, `cchc.dossiers.recompute`; this is the direct form.)"""
    at = _now(now)
    version = calendar_version_on(calendar_code, at.date())
    changed = 0
    qs = stale_open(calendar_code, f"{calendar_code}@v{version}").order_by("pk")
    for dossier in qs.iterator(chunk_size=500):
        with transaction.atomic():
            changed += replan(dossier, version, actor=actor, now=at)
    return changed
