"""Printed forms of a dossier (biểu mẫu, spec 03): receipt, supplement, refusal, apology,
stop and control slip, numbered and titled by the dossier's rule set (TT 01/2018 or
TT 03/2025).

`build_form` gathers what a form shows into a `Form` (with its HTML); `render_form` turns it
into PDF bytes; `print_form` does so for a reader at the desk or on the dossier page and
records who printed it. A form is rendered for a reader: the applicant's name, address, phone
and e-mail come from `access.applicant_for`, full for the applicant (`access.TO_APPLICANT`,
the copy e-mailed to them) and for officers with `dossier.personal_data` over the dossier,
masked for everyone else (a supervisor downloading form 01 gets the masked form). Whether the
reader may see the dossier at all is checked by the page or API that serves it.

Issued copies (issue 21, `cchc.dossiers.issued`): every form but the control slip is issued
once per event it is printed from — rendered in full with a QR code and a code leading to the
public verification page, stored and hashed. `print_form` returns that stored copy to readers
with the right to the applicant's data (and `issued_form` to the copy sent to the applicant);
everyone else gets the masked rendering marked "Bản xem (không phải bản phát hành)", without
a QR code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cchc.audit import log
from cchc.dossiers import access, issued, rules, services
from cchc.dossiers.documents import pdf, wording
from cchc.dossiers.models import ApplicantKind, Dossier, DossierEvent, IssuedDocument, Outcome
from cchc.errors import InvalidInput
from cchc.legaltime import ItemKind
from cchc.legaltime.explain import format_instant
from cchc.org.models import Agency
from cchc.vietnamese import money

# purpose -> the events a form of that purpose is printed from (None: the whole dossier)
EVENTS: dict[str, tuple[str, ...] | None] = {
    "receipt": ("receive",),
    # Form 02 also guides an applicant whose dossier is incomplete before it is received
    # (at the counter, or an online submission sent back to be completed).
    "supplement": ("request_supplement", "request_completion"),
    "refusal": ("refuse_intake", "refuse"),
    "apology": ("apologise",),
    "stop": ("stop",),
    "control": None,
}
PURPOSE_NAMES = {
    "receipt": "giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "supplement": "phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "refusal": "phiếu từ chối",
    "apology": "văn bản xin lỗi",
    "stop": "thông báo dừng giải quyết hồ sơ",
    "control": "phiếu kiểm soát quá trình giải quyết hồ sơ",
}
DELIVERY = {
    "in_person": "trực tiếp",
    "email": "thư điện tử",
    "sms": "tin nhắn SMS",
    "post": "bưu chính",
}
# Explanation items worth printing on the receipt: how the appointment was derived. Pauses
# and the engine's own result sentence are left out (the receipt shows the appointment as
# given at intake; the closing sentence is written here).
DERIVATION_KINDS = frozenset(
    {
        ItemKind.START_RULE,
        ItemKind.RULE,
        ItemKind.SKIPPED_DAY,
        ItemKind.SWAPPED_WORKDAY,
        ItemKind.SATURDAY_RECEPTION,
        ItemKind.PROVISIONAL,
    }
)
MAX_DERIVATION_ITEMS = 8


@dataclass(frozen=True)
class Form:
    purpose: str
    number: str
    title: str
    filename: str
    html: str
    masked: bool  # the applicant's personal data is masked for this reader
    agency_name: str = ""  # the agency in the form's header


# The purposes issued once (cchc.dossiers.issued); the control slip grows with every
# hand-over and is always rendered afresh.
ISSUED = frozenset({"receipt", "supplement", "refusal", "apology", "stop"})


def _spec(dossier: Dossier, purpose: str) -> rules.FormSpec:
    if purpose not in EVENTS:
        raise InvalidInput(f"Không có biểu mẫu «{purpose}».", code="dossier.form_unknown")
    rule_set = rules.ruleset(dossier.ruleset)
    spec = rule_set.form(purpose)
    if spec is None:
        raise InvalidInput(
            f"{rule_set.title} (áp dụng cho hồ sơ {dossier.code}) không quy định mẫu "
            f"{PURPOSE_NAMES[purpose]}; không thể in biểu mẫu này.",
            code="dossier.form_not_in_ruleset",
            purpose=purpose,
            ruleset=rule_set.code,
        )
    return spec


def _event(dossier: Dossier, purpose: str, event: DossierEvent | None) -> DossierEvent | None:
    actions = EVENTS[purpose]
    if actions is None:
        return None
    if event is not None:
        if event.dossier_id != dossier.pk or event.action not in actions:
            raise InvalidInput(
                f"Sự kiện đã chọn không dùng để lập {PURPOSE_NAMES[purpose]} của hồ sơ "
                f"{dossier.code}.",
                code="dossier.form_event",
            )
        return event
    found = dossier.events.filter(action__in=actions).order_by("-seq").first()
    if found is None:
        raise InvalidInput(
            f"Hồ sơ {dossier.code} chưa có {PURPOSE_NAMES[purpose]} nên chưa in được.",
            code="dossier.form_no_event",
            purpose=purpose,
        )
    return found


def available_forms(dossier: Dossier) -> list[tuple[str, str, str]]:
    """(purpose, number, title) of the forms that can be printed for `dossier` now, in the
    order of their numbers in the dossier's rule set. None for an imported dossier: its
    forms were issued by the system it comes from."""
    if dossier.source:
        return []
    rule_set = rules.ruleset(dossier.ruleset)
    actions = set(dossier.events.values_list("action", flat=True).distinct())
    received = dossier.received_at is not None
    wanted = {
        "receipt": received,
        "supplement": bool(actions & {"request_supplement", "request_completion"}),
        "refusal": bool(actions & {"refuse_intake", "refuse"}),
        "apology": "apologise" in actions,
        "stop": "stop" in actions,
        "control": received,
    }
    out = []
    for purpose, ok in wanted.items():
        spec = rule_set.form(purpose)
        if ok and spec is not None:
            out.append((purpose, spec.number, spec.title))
    return sorted(out, key=lambda row: row[1])


def build_form(
    dossier: Dossier,
    purpose: str,
    *,
    viewer: Any,
    event: DossierEvent | None = None,
    token: str | None = None,
) -> Form:
    """Everything a form shows to `viewer`, as HTML. Raises InvalidInput when the form does
    not apply (not in the rule set, or the event it is printed from does not exist). With
    `token` the form carries the QR code and code of its issued copy; a masked form is marked
    as a preview copy."""
    spec = _spec(dossier, purpose)
    source = _event(dossier, purpose, event)
    if purpose in ("receipt", "control") and dossier.received_at is None:
        raise InvalidInput(
            f"Hồ sơ {dossier.code} chưa được tiếp nhận nên chưa in được {PURPOSE_NAMES[purpose]}.",
            code="dossier.form_not_received",
        )
    applicant = _applicant(viewer, dossier)
    rule_set = rules.ruleset(dossier.ruleset)
    context = {
        "dossier": dossier,
        "form_number": spec.number,
        "form_title": spec.title,
        "ruleset": rule_set,
        # The form's own circular and the acts of the dossier's rule set (by receipt date).
        "form_basis": rule_set.form_basis(purpose),
        "legal_basis": rule_set.basis,
        "applicant": applicant,
        "event": source,
        "issued": issued.mark(token) if token else None,
        "preview_mark": issued.PREVIEW_MARK if applicant["masked"] else "",
    }
    context.update(CONTEXT[purpose](dossier, source))
    html = pdf.render_html(f"dossiers/forms/{purpose}.html", context)
    name = f"{spec.number}-{dossier.code}.pdf"
    return Form(
        purpose,
        spec.number,
        spec.title,
        name,
        html,
        masked=applicant["masked"],
        agency_name=str(context.get("agency_name", "")),
    )


def issued_form(
    dossier: Dossier,
    purpose: str,
    *,
    actor: Any,
    event: DossierEvent | None = None,
    now: dt.datetime | None = None,
) -> IssuedDocument:
    """The issued copy of the form for `purpose` printed from `event` (default: the latest),
    issued now, in full and with its QR code, if it was not yet. Only for the purposes in
    `ISSUED`; the caller decides that `actor` may receive the full copy."""
    if purpose not in ISSUED:
        raise InvalidInput(
            f"{PURPOSE_NAMES.get(purpose, purpose).capitalize()} không phải văn bản phát hành.",
            code="dossier.form_not_issued",
        )
    number = _spec(dossier, purpose).number
    source = _event(dossier, purpose, event)
    if source is None:  # every issued purpose is printed from an event
        raise InvalidInput(
            f"Không có sự kiện để lập {PURPOSE_NAMES[purpose]}.", code="dossier.form_event"
        )

    def render(token: str) -> tuple[str, bytes, str]:
        form = build_form(dossier, purpose, viewer=access.TO_APPLICANT, event=source, token=token)
        return form.filename, pdf.html_to_pdf(form.html), form.agency_name

    return issued.issue(
        dossier, purpose, f"event:{source.seq}", render=render, actor=actor, number=number, now=now
    )


def render_form(
    dossier: Dossier, purpose: str, *, viewer: Any, event: DossierEvent | None = None
) -> tuple[str, bytes]:
    """(file name `<number>-<code>.pdf`, PDF bytes) of the form for `purpose` as `viewer`
    may see it: receipt, supplement, refusal, apology, stop (TT 03/2025 only) or control.
    `event` picks which request/refusal/apology to print (default: the latest). Raises
    InvalidInput, or pdf.FontsMissing when the embedded font is not installed."""
    form = build_form(dossier, purpose, viewer=viewer, event=event)
    return form.filename, pdf.html_to_pdf(form.html)


def print_form(
    viewer: Any,
    dossier: Dossier,
    purpose: str,
    *,
    event: DossierEvent | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, bytes]:
    """The form for a reader who downloads or prints it, recorded in the audit log
    (`dossier.form.printed`: which form, and whether it carried the applicant's personal
    data unmasked). A reader with the right to the applicant's data gets the issued copy
    (`issued_form`, the same bytes every time); anyone else the masked preview, rendered now.
    Nothing is recorded when the form cannot be rendered."""
    if purpose in ISSUED and access.sees_personal_data(viewer, dossier):
        doc = issued_form(dossier, purpose, actor=viewer, event=event, now=now)
        content = issued.content(doc)
        form_number, masked, filename = doc.number, False, doc.filename
    else:
        form = build_form(dossier, purpose, viewer=viewer, event=event)
        content = pdf.html_to_pdf(form.html)
        form_number, masked, filename = form.number, form.masked, form.filename
    with transaction.atomic():
        log.record(
            "dossier.form.printed",
            actor=viewer,
            obj=dossier,
            agency_id=dossier.current_agency_id,
            at=now or timezone.now(),
            data={
                "purpose": purpose,
                "number": form_number,
                "event_seq": event.seq if event is not None else None,
                "personal_data": not masked,
            },
        )
    return filename, content


# -- what each form shows ---------------------------------------------------------------------


def _applicant(viewer: Any, dossier: Dossier) -> dict[str, Any]:
    seen = access.applicant_for(viewer, dossier)
    person = dossier.applicant_kind == ApplicantKind.PERSON
    return {
        "name": seen.name,
        "address": seen.address,
        "phone": seen.phone,
        "email": seen.email,
        "id_number": seen.id_number,
        "masked": seen.masked,
        "you": "ông/bà" if person else "quý cơ quan, tổ chức",
    }


def _header(agency: Agency, unit: Any, day: Any) -> dict[str, Any]:
    parent = agency.parent.name if agency.parent_id else ""
    return {
        "agency_parent": parent,
        "agency_name": agency.name,
        "place_date": wording.place_and_date(unit, day),
    }


def _receipt(dossier: Dossier, event: DossierEvent | None) -> dict[str, Any]:
    received = wording.local(dossier.received_at)
    result = services.explain(dossier)
    appointment = result.original_due if result else dossier.original_due
    steps = []
    if result is not None and result.explanation is not None:
        steps = [item.text for item in result.explanation.items if item.kind in DERIVATION_KINDS][
            :MAX_DERIVATION_ITEMS
        ]
        what = (
            "giải quyết ngay trong ngày"
            if result.duration.amount == 0
            else f"{result.duration.label} tính từ {format_instant(result.start)}"
        )
        steps.append(f"Hẹn trả kết quả: {format_instant(appointment)} ({what}).")
    fees = list(dossier.fees.all())
    return {
        **_header(dossier.receiving_agency, dossier.desk.unit, received.date()),
        "desk_name": dossier.desk.name,
        "components": list(dossier.components.all()),
        "legal_time": result.duration.label if result else dossier.duration_spec,
        "received_words": wording.moment_words(received),
        "appointment_words": wording.moment_words(appointment, weekday=True),
        "derivation": steps,
        "fees": [(fee.name, money(fee.amount, unit="đồng")) for fee in fees],
        "return_channel": dossier.get_return_channel_display(),
        "receiver_name": event.actor_label if event else "",
        "show_register_number": dossier.ruleset == rules.TT01_2018.code,
    }


def _supplement(dossier: Dossier, event: DossierEvent) -> dict[str, Any]:
    at = wording.local(event.at)
    before_receipt = event.action == "request_completion"
    # Before receipt the guide is written by the receiving desk's agency (TT 01/2018 Art. 19).
    agency = dossier.receiving_agency if before_receipt else _agency_at(dossier, event)
    unit = dossier.desk.unit if before_receipt else agency.unit
    count = dossier.events.filter(action=event.action, seq__lte=event.seq).count()
    return {
        **_header(agency, unit, at.date()),
        "agency": agency,
        "before_receipt": before_receipt,
        "reason_lines": _lines(event.reason),
        "request_number": count,
        "requested_words": wording.moment_words(at),
        "submitted_words": wording.moment_words(dossier.submitted_at),
        "received_words": (
            wording.moment_words(dossier.received_at) if dossier.received_at else ""
        ),
        "guide_name": event.actor_label,
        "desk_name": dossier.desk.name,
    }


def _refusal(dossier: Dossier, event: DossierEvent) -> dict[str, Any]:
    at = wording.local(event.at)
    at_intake = event.action == "refuse_intake"
    agency = dossier.receiving_agency if at_intake else _agency_at(dossier, event)
    unit = dossier.desk.unit if at_intake else agency.unit
    return {
        **_header(agency, unit, at.date()),
        "agency": agency,
        "at_intake": at_intake,
        "desk_name": dossier.desk.name,
        "reason_lines": _lines(event.reason),
        "submitted_words": wording.moment_words(dossier.submitted_at),
        "received_words": wording.moment_words(dossier.received_at) if dossier.received_at else "",
        "signer_label": "NGƯỜI TIẾP NHẬN HỒ SƠ" if at_intake else "THỦ TRƯỞNG CƠ QUAN",
        "signer_hint": "(Ký và ghi rõ họ tên)" if at_intake else "(Ký, ghi rõ họ tên và đóng dấu)",
        "signer_name": event.actor_label,
    }


def _apology(dossier: Dossier, event: DossierEvent) -> dict[str, Any]:
    data = event.data or {}
    at = wording.local(event.at)
    agency = Agency.objects.filter(pk=data.get("agency_at_fault")).first() or _agency_at(
        dossier, event
    )
    previous = _instant(data.get("previous_due")) or dossier.original_due
    new_due = _instant(data.get("new_due")) or dossier.due
    title = data.get("signer_title") or f"Thủ trưởng {agency.name}"
    return {
        **_header(agency, agency.unit, at.date()),
        "agency": agency,
        "reference": data.get("reference", ""),
        "received_words": wording.moment_words(dossier.received_at),
        "previous_words": wording.moment_words(previous, weekday=True),
        "new_words": wording.moment_words(new_due, weekday=True),
        "reason_lines": _lines(event.reason),
        "asks_extension": dossier.ruleset == rules.TT03_2025.code,
        "apology_basis": rules.ruleset(dossier.ruleset).provision("extension").citation,
        "signer_title": title,
        "signer_name": data.get("signer_name", ""),
        "delivery": DELIVERY.get(data.get("delivery", ""), data.get("delivery", "")),
        "desk_name": dossier.desk.name,
    }


def _stop(dossier: Dossier, event: DossierEvent) -> dict[str, Any]:
    at = wording.local(event.at)
    agency = _agency_at(dossier, event)
    return {
        **_header(agency, agency.unit, at.date()),
        "agency": agency,
        "reason_lines": _lines(event.reason),
        "received_words": wording.moment_words(dossier.received_at),
        "stopped_words": wording.moment_words(at),
        "signer_name": event.actor_label,
        "desk_name": dossier.desk.name,
    }


def _control(dossier: Dossier, event: DossierEvent | None) -> dict[str, Any]:
    projection = services.project(dossier)
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=_agency_ids(projection))}
    rows = []
    for handoff in projection.handoffs:
        agency = agencies.get(handoff.agency_id)
        notes = [handoff.step_name]
        if handoff.step_due is not None:
            notes.append(f"hạn bước: {wording.short(handoff.step_due)}")
        if handoff.note:
            notes.append(handoff.note)
        rows.append(
            {
                "agency": agency.name if agency else "",
                "at_words": wording.moment_words(handoff.at),
                "giver": handoff.giver,
                "receiver": handoff.receiver,
                "outcome": Outcome(handoff.outcome).label if handoff.outcome else "",
                "notes": "; ".join(notes),
            }
        )
    received = wording.local(dossier.received_at)
    return {
        **_header(dossier.receiving_agency, dossier.desk.unit, received.date()),
        "rows": rows,
        "received_words": wording.moment_words(received),
        "due_words": wording.moment_words(dossier.due) if dossier.due else "",
        "desk_name": dossier.desk.name,
        "competent_agency": dossier.competent_agency.name,
    }


CONTEXT = {
    "receipt": _receipt,
    "supplement": _supplement,
    "refusal": _refusal,
    "apology": _apology,
    "stop": _stop,
    "control": _control,
}


def _agency_ids(projection: Any) -> set[int]:
    return {h.agency_id for h in projection.handoffs if h.agency_id is not None}


def _agency_at(dossier: Dossier, event: DossierEvent) -> Agency:
    """The agency holding the dossier when `event` happened (replayed from the events)."""
    agency_id = dossier.competent_agency_id
    for earlier in dossier.events.filter(seq__lte=event.seq).order_by("seq"):
        if (earlier.data or {}).get("agency"):
            agency_id = earlier.data["agency"]
    return Agency.objects.select_related("parent", "unit").get(pk=agency_id)


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
