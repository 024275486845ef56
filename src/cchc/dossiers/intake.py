"""Dossier intake (spec 03): a desk receiving a complete dossier (form 01) and an online or
postal submission waiting for the desk's check. Both create the dossier with its code,
components, files and fees, then append their first events through the event primitive
of `cchc.dossiers.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cchc.accounts import policy
from cchc.calendars.services import DEFAULT_CALENDAR
from cchc.catalog import versions
from cchc.catalog.models import Procedure, ProcedureTerms, ProcedureVersion
from cchc.catalog.services import search_procedures
from cchc.dossiers import digitisation, files, payloads, rules
from cchc.dossiers.models import (
    ApplicantKind,
    Channel,
    CodeCounter,
    DigitisedComponent,
    Dossier,
    DossierComponent,
    DossierFee,
    DossierProcedureVersion,
    IntakeKey,
    ReturnChannel,
    State,
)
from cchc.dossiers.services import (
    _after,
    _append,
    _now,
    _prepare,
    calendar_version_on,
    store_file,
)
from cchc.errors import Conflict, InvalidInput
from cchc.eventlog import counters
from cchc.org.models import Agency, Desk
from cchc.vietnamese import fold, nfc, nfc_text


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
    """A document handed in: a catalogue document (by id) or a free-named one. It is
    digitised when it has `uploads` (scanned at the desk, or sent online) or reuses a
    digitised component of the same citizen (`reuse`: a `DigitisedComponent` id from
    `digitisation.reusable`); `digitised` and `reused` are no longer read (derived by
    `cchc.dossiers.digitisation`). `valid_until`: the last day the scan may be reused."""

    document_id: int | None = None
    name: str = ""
    originals: int = 0
    copies: int = 0
    digitised: bool = False
    reused: bool = False
    uploads: list[files.Upload] = field(default_factory=list)
    reuse: int | None = None
    valid_until: dt.date | None = None


def terms_at(procedure: Procedure, at: dt.datetime) -> ProcedureTerms:
    """What `procedure` is for a dossier received at `at`: the version in force on that
    day (`cchc.catalog.versions`), or the procedure row itself when it has no recorded
    version."""
    version = versions.in_force(procedure, timezone.localdate(at))
    return version if version is not None else procedure


def check_components(procedure: ProcedureTerms, components: Sequence[Component]) -> list[str]:
    """Missing mandatory documents (with counts), as Vietnamese sentences; [] if complete.
    `procedure` is a procedure or the version in force (`terms_at`)."""
    given = {c.document_id: c for c in components if c.document_id}
    missing = []
    for doc in procedure.documents.all():  # type: ignore[attr-defined]
        if not doc.mandatory:
            continue
        have = given.get(doc.pk)
        if have is None or ((have.originals + have.copies) == 0 and not have.reuse):
            missing.append(f"Thiếu «{doc.name}».")
        elif not have.reuse and (
            have.originals < doc.originals
            and have.copies + have.originals < doc.originals + doc.copies
        ):
            missing.append(
                f"«{doc.name}» cần {doc.originals} bản chính"
                + (f", {doc.copies} bản sao" if doc.copies else "")
                + "."
            )
    return missing


def receiving_desks(user: Any, day: dt.date) -> list[Desk]:
    """Desks open on `day` where `user` may receive dossiers, their assigned desk first."""
    reach = policy.grant(user, "dossier.receive")
    qs = Desk.objects.valid_on(day).select_related("host_agency")
    if not reach.everything:
        qs = qs.filter(host_agency_id__in=reach.agency_ids)
    assigned = {a.desk_id for a in policy.assignments(user) if a.desk_id}
    return sorted(qs, key=lambda d: (d.pk not in assigned, d.name))


def procedures_at(desk: Desk, day: dt.date, query: str = "") -> QuerySet[Procedure]:
    """Active procedures the desk receives for on `day` (the competent agency types of the
    agencies it serves), matching `query` like the catalogue search."""
    types = desk.receives_for.valid_on(day).values_list("agency_type_id", flat=True)
    return search_procedures(query).filter(competent_agency_type_id__in=list(types))


def competent_agency_for(desk: Desk, procedure: Procedure, on: dt.date) -> list[Agency]:
    """Agencies this desk receives for that are competent for `procedure`."""
    return list(
        desk.receives_for.valid_on(on).filter(agency_type_id=procedure.competent_agency_type_id)
    )


def _allocate_code(rules_in_force: rules.RuleSet, prefix: str, day: dt.date) -> str:
    """Next code for (prefix, day): one atomic upsert, safe under concurrent intake."""
    seq = counters.next_number(CodeCounter, prefix=prefix, day=day)
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
    # The procedure as it is on the day of intake: a version taking effect later (a new law)
    # does not apply yet, and the dossier keeps this one (`DossierProcedureVersion`).
    terms = terms_at(procedure, now)
    if not terms.active:
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
    steps = [
        {"name": s.name, "budget": s.duration_spec}
        for s in terms.steps.all()  # type: ignore[attr-defined]
    ]
    dossier = Dossier.objects.create(
        code=code,
        ruleset=in_force.code,
        procedure=procedure,
        desk=desk,
        receiving_agency=receiving,
        competent_agency=competent_agency,
        current_agency=competent_agency,
        channel=channel,
        online_level=terms.online_level if channel == Channel.ONLINE else "none",
        applicant_kind=applicant.kind,
        applicant_name=applicant.name,
        applicant_id_number=applicant.id_number,
        applicant_address=applicant.address,
        applicant_phone=applicant.phone,
        applicant_email=applicant.email,
        applicant_user=applicant_user,
        matter=nfc(matter).strip()[:500] or terms.name[:500],
        sets=sets,
        return_channel=return_channel,
        duration_spec=terms.duration_spec,
        step_plan=steps,
        calendar_code=calendar,
        saturday_reception=desk.saturday_reception,
        submitted_at=now,
        search_text=fold(f"{code} {applicant.name} {procedure.code} {terms.name}")[:800],
        is_demo=is_demo,
        state=State.SUBMITTED,
        queue_at=now,
    )
    if isinstance(terms, ProcedureVersion):
        DossierProcedureVersion.objects.create(dossier=dossier, version=terms)
    documents = {d.pk: d for d in terms.documents.all()}  # type: ignore[attr-defined]
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
        )
        for upload in c.uploads:
            store_file(dossier, upload, now=now, component=component)
    total = 0
    for fee in terms.fees.all():  # type: ignore[attr-defined]
        DossierFee.objects.create(dossier=dossier, name=fee.name, amount=fee.amount)
        total += fee.amount
    Dossier.objects.filter(pk=dossier.pk).update(fee_total=total)
    dossier.fee_total = total
    # Digitised and reused are facts (issue 21): the scans and reuses are recorded and the
    # flags derived before the first event, which carries them to the indicator cells.
    wanted = [c.reuse for c in components if c.reuse]
    found = DigitisedComponent.objects.in_bulk(wanted)
    if len(found) != len(set(wanted)):
        raise InvalidInput(
            "Không tìm thấy thành phần đã số hóa được chọn để tái sử dụng.",
            code="dossier.reuse_missing",
        )
    digitisation.record_intake(
        dossier,
        actor=actor,
        now=now,
        reuses={p: found[c.reuse] for p, c in enumerate(components) if c.reuse},
        valid_until={p: c.valid_until for p, c in enumerate(components) if c.valid_until},
    )
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


def _hand_in(actor: Any, *, at: dt.datetime, channel: Any, **fields: Any) -> Dossier:
    """A dossier handed in at the desk: created with its code and components, and its
    submission recorded (what follows — receipt, form 02 or form 03 — is the caller's)."""
    dossier = _create(actor, channel=channel, now=at, applicant_user=None, **fields)
    _append(
        dossier,
        "submit",
        actor=actor,
        now=at,
        to_state=State.SUBMITTED,
        data=payloads.submit(channel=channel),
    )
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
    assignee: int | None = None,
    now: dt.datetime | None = None,
    is_demo: bool = False,
) -> Dossier:
    """A desk officer receives a complete dossier (form 01): code, clock start, appointment;
    with `assignee` (a user id), handed straight on to that processing officer."""
    at = _now(now)
    policy.require(actor, "dossier.receive", agency=desk.host_agency_id)
    applicant = applicant.clean()
    missing = check_components(terms_at(procedure, at), components)
    if missing:
        raise InvalidInput(
            "Hồ sơ chưa đủ thành phần theo quy định: " + " ".join(missing),
            code="dossier.incomplete",
            missing=missing,
        )
    with transaction.atomic():
        dossier = _hand_in(
            actor,
            desk=desk,
            procedure=procedure,
            competent_agency=competent_agency,
            applicant=applicant,
            channel=channel,
            at=at,
            matter=matter,
            sets=sets,
            return_channel=return_channel,
            components=components,
            is_demo=is_demo,
        )
        version = calendar_version_on(dossier.calendar_code, at.date())
        event = _append(
            dossier,
            "receive",
            actor=actor,
            now=at,
            to_state=State.RECEIVED,
            data=payloads.receive(calendar_version=version, appointment_rule=dossier.ruleset),
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
                    {"step": min(1, max(len(dossier.step_plan) - 1, 0)), "assignee": assignee},
                ),
            )
    return dossier


# -- at the counter: one dossier per form, and the two other answers (part "counter") --------

# What the desk may answer a walk-in applicant instead of receiving: guide them to complete
# the dossier (form 02, TT 01/2018 Art. 19 §1 b) or refuse to receive it (form 03, with the
# reason). Either way the dossier is recorded, coded and never received (no clock, not
# counted as received by the indicators), and the form is printed from its event.
COUNTER_OUTCOMES = {
    "guide": ("request_completion", State.AWAITING_COMPLETION),
    "refuse": ("refuse_intake", State.REFUSED_AT_INTAKE),
}


def once(actor: Any, key: str, *, now: dt.datetime, make: Callable[[], Dossier]) -> Dossier:
    """Run `make` (which creates one dossier) at most once per intake form `key`: a
    double click or a resubmitted page returns the dossier the first submission made, with
    `repeated = True` on it. Without a key, `make` simply runs."""
    if not key:
        return make()
    key = key[:64]
    found = _keyed(actor, key)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            row = IntakeKey.objects.create(key=key, actor=actor, created_at=now)
            dossier = make()
            IntakeKey.objects.filter(pk=row.pk).update(dossier=dossier)
            return dossier
    except IntegrityError:
        found = _keyed(actor, key)
        if found is None:
            raise Conflict(
                "Biểu mẫu tiếp nhận này vừa được gửi và đang xử lý; tải lại danh sách hồ sơ "
                "để xem hồ sơ đã tạo.",
                code="dossier.intake_in_progress",
            ) from None
        return found


def _keyed(actor: Any, key: str) -> Dossier | None:
    row = IntakeKey.objects.filter(key=key).select_related("dossier").first()
    if row is None or row.dossier is None:
        return None
    if row.actor_id != getattr(actor, "pk", None):
        raise InvalidInput("Mã biểu mẫu tiếp nhận không hợp lệ.", code="dossier.intake_key")
    dossier = row.dossier
    dossier.repeated = True  # type: ignore[attr-defined]
    return dossier


def turn_away_at_desk(
    actor: Any,
    *,
    outcome: str,
    reason: str,
    desk: Desk,
    procedure: Procedure,
    applicant: Applicant,
    components: Sequence[Component] = (),
    competent_agency: Agency | None = None,
    channel: int = Channel.IN_PERSON,
    matter: str = "",
    sets: int = 1,
    return_channel: str = ReturnChannel.DESK,
    now: dt.datetime | None = None,
    is_demo: bool = False,
) -> Dossier:
    """The desk does not receive a walk-in's dossier: `outcome` "guide" records form 02
    (what to complete, in `reason`; the dossier waits for the applicant, who comes back
    with it completed) and "refuse" form 03 (why it is refused, in `reason`). The dossier
    gets its code and components and ends before receipt."""
    at = _now(now)
    policy.require(actor, "dossier.receive", agency=desk.host_agency_id)
    if outcome not in COUNTER_OUTCOMES:
        raise InvalidInput("Cách xử lý hồ sơ tại quầy không hợp lệ.", code="dossier.outcome")
    action, target = COUNTER_OUTCOMES[outcome]
    text = nfc_text(reason)
    if not text:
        raise InvalidInput(
            "Ghi rõ nội dung cần bổ sung, hoàn thiện (mẫu 02)."
            if outcome == "guide"
            else "Ghi rõ lý do từ chối tiếp nhận hồ sơ (mẫu 03).",
            code="dossier.reason_required",
            fields={"counter_reason": "Bắt buộc."},
        )
    applicant = applicant.clean()
    with transaction.atomic():
        dossier = _hand_in(
            actor,
            desk=desk,
            procedure=procedure,
            competent_agency=competent_agency,
            applicant=applicant,
            channel=channel,
            at=at,
            matter=matter,
            sets=sets,
            return_channel=return_channel,
            components=components,
            is_demo=is_demo,
        )
        event = _append(
            dossier,
            action,
            actor=actor,
            now=at,
            reason=text[:2000],
            to_state=target,
            data={"at_counter": True},
        )
        if outcome == "refuse":
            # The applicant is told on every channel they gave; a guide (form 02) is handed
            # over at the counter, and the portal's "complete online" message would mislead.
            _after(dossier, event)
    return dossier
