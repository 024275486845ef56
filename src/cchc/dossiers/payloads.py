"""The data payload of each dossier event, one builder per action: the single place where
an event's `data` gets its keys, their order and their meaning.

The services (`services._prepare`, after their checks) and the demo generator
(`cchc.demo.generator`, which fills JSON templates made once from these builders) both
build payloads here, so that a generated event is the event the services would write, key
order included. Builders are pure: no database, no checks — the services validate first
(assignee in scope, agency competent, apology allowed …) and pass plain values.

Actions not listed here carry the caller's data as given (`{}` for most of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Who receives the dossier next (shown in the officers' hand-over column).
DESK_LABEL = "Bộ phận tiếp nhận và trả kết quả"
LEADER_LABEL = "Lãnh đạo cơ quan"

Payload = dict[str, Any]


# -- step rules (bước xử lý of the procedure's internal step plan) ------------------------------


def handoff_step(step_index: int, steps: int) -> int:
    """The step a first assignment moves to: the desk's hand-over closes the reception step."""
    return min(step_index + 1, max(steps - 1, 0))


def approve_step(steps: int) -> int:
    """The step of an approval: the last one."""
    return max(steps - 1, 0)


def propose_step(step_index: int, steps: int) -> int:
    """The default step of a proposal: the leader's, the one before returning the result."""
    return max(step_index + 1, steps - 2)


def clamp_step(step: int, steps: int) -> int:
    """`step` kept inside the plan (the last step when it falls outside; as is with no plan)."""
    if steps and not (0 <= step < steps):
        return steps - 1
    return step


# -- one builder per action -----------------------------------------------------------------------


def submit(*, channel: int) -> Payload:
    """Submission at the desk (in person): the channel it came by."""
    return {"channel": channel}


def receive(*, calendar_version: int, appointment_rule: str | None = None) -> Payload:
    """Receipt: the calendar version the clock runs on, and at the desk the appointment
    rule set in force (`rules.ruleset_on`)."""
    out: Payload = {"calendar_version": calendar_version}
    if appointment_rule is not None:
        out["appointment_rule"] = appointment_rule
    return out


def recompute(*, calendar_version: int) -> Payload:
    """Recomputation on a new calendar version."""
    return {"calendar_version": calendar_version}


def assign(*, assignee: int, receiver_label: str, step: int | None = None) -> Payload:
    """Assignment to an officer; with `step`, the first one (the hand-over from the desk)."""
    out: Payload = {"assignee": assignee, "receiver_label": receiver_label}
    if step is not None:
        out["handoff"] = True
        out["step"] = step
    return out


def forward(
    *, step: int, agency_name: str | None = None, receiver_label: str | None = None
) -> Payload:
    """Hand-over to the next step, possibly to another agency (liên thông)."""
    out: Payload = {"step": step}
    if agency_name is not None:
        out["agency_name"] = agency_name
    if receiver_label is not None:
        out["receiver_label"] = receiver_label
    return out


def propose(*, receiver_label: str, step: int) -> Payload:
    """Proposal of the result to the leader."""
    return {"receiver_label": receiver_label, "step": step}


def result(*, number: int, dossier_code: str, title: str) -> Payload:
    """One result (kết quả giải quyết) issued by an approval; its code is the dossier's
    code with `-KQ<number>`."""
    return {"number": number, "code": f"{dossier_code}-KQ{number}", "title": title}


def approve(*, step: int, receiver_label: str, results: Sequence[Payload]) -> Payload:
    """Approval, with the results it issues (`result`)."""
    return {"step": step, "receiver_label": receiver_label, "results": list(results)}


def apologise(
    *, extension: Any, agency: Any, delivery: str = "in_person", reference: str = ""
) -> Payload:
    """Apology and new appointment (form 04): `extension` is `legaltime.extend`'s result,
    `agency` the agency at fault (signed by its head)."""
    return {
        "new_due": extension.due.isoformat(),
        "previous_due": extension.previous_due.isoformat(),
        "agency_at_fault": agency.pk,
        "signer_name": agency.head_name or "",
        "signer_title": agency.head_title or f"Thủ trưởng {agency.name}",
        "delivery": delivery,
        "reference": reference,
        "late": extension.late_apology,
        "warnings": list(extension.warnings),
    }


def pay(*, amount: int, channel: str, receipt: str, order: str | None = None) -> Payload:
    """Payment of the fees: cash at the desk, or through a gateway `order`; its receipt."""
    out: Payload = {"amount": amount, "channel": channel}
    if order is not None:
        out["order"] = order
    out["receipt"] = receipt
    return out


def rate(*, rating: str, comment: str = "") -> Payload:
    """The applicant's rating after the return."""
    return {"rating": rating, "comment": comment}


def complaint(*, feedback: str) -> Payload:
    """A PAKN (complaint or petition) about the dossier: its code."""
    return {"feedback": feedback}
