"""The events of one generated dossier, as the services would write them: the same actions,
actors, reasons and payloads (`cchc.dossiers.payloads`, through templates), in the same
order, with the payments' receipts written alongside their `pay` event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cchc.demo.generator.inputs import RATINGS
from cchc.demo.generator.lifecycles import (
    DESK_ACTIONS,
    LEADER_ACTIONS,
    NEXT_STATE,
    REASONS,
    Lifecycle,
)
from cchc.demo.generator.procedures import Proc
from cchc.demo.generator.receipts import ReceiptRows
from cchc.demo.generator.templates import INT, JSON, TEXT, Template
from cchc.dossiers import payloads

Actor = tuple[Any, str, str]  # (user id or None, label, label encoded as JSON)

SUBMIT_DESK = json.dumps(payloads.submit(channel=1))
RECEIVE_DESK = Template(payloads.receive, calendar_version=INT, appointment_rule=TEXT)
RECEIVE_ONLINE = Template(payloads.receive, calendar_version=INT)
ASSIGN = Template(payloads.assign, assignee=INT, receiver_label=JSON, step=INT)
PROPOSE = Template(payloads.propose, receiver_label=payloads.LEADER_LABEL, step=INT)
RATE = Template(payloads.rate, rating=TEXT)


def _approval(*, step: int, code: str, title: str) -> dict[str, Any]:
    """An approval issuing the procedure's one result, handed to the desk."""
    result = payloads.result(number=1, dossier_code=code, title=title)
    return payloads.approve(step=step, receiver_label=payloads.DESK_LABEL, results=[result])


APPROVE = Template(_approval, step=INT, code=TEXT, title=JSON)


@dataclass(slots=True)
class Draft:
    """What one dossier's events depend on (`stamps`: the lifecycle's instants as stored
    text, by position; `pay_*`/`rate_at`: the profile's extras)."""

    row: int
    dossier_id: int
    code: str
    proc: Proc
    cycle: Lifecycle
    sequence: tuple[tuple[str, int], ...]
    steps: list[int | None]
    channel: int
    ruleset: str
    stamps: list[str | None]
    pick: list[int]
    applicant: tuple[bool, str, str]  # (a person?, name, identity or tax number)
    desk_user: Actor
    officer: Actor
    leader: Actor
    submitter: Actor
    system: Actor
    citizen: Any
    pay_kind: int
    pay_at: str | None
    pay_day: int
    paid_s: int
    submitted_s: int
    rate_at: str | None
    rating: int
    apology: str | None


class EventRows:
    """Builds the event rows of generated dossiers (`version`: the calendar version the
    receipt records; `receipts`: where `pay` events write their receipts)."""

    def __init__(self, *, version: int, receipts: ReceiptRows | None) -> None:
        self.version = version
        self.receipts = receipts

    def build(self, d: Draft, event_id: int) -> tuple[list[tuple[Any, ...]], int | None, str]:
        """The rows of `d`'s events numbered from `event_id`; the approval's id (None
        without one) and the final state."""
        previous = ""
        rows: list[tuple[Any, ...]] = []
        approve_id = None
        for seq, (action, position) in enumerate(d.sequence, start=1):
            at = d.stamps[position] if position >= 0 else None
            reason = ""
            if action in REASONS:
                options = REASONS[action]
                reason = options[d.pick[4] % len(options)]
            if action == "pay":
                at = d.pay_at
            elif action == "rate":
                at = d.rate_at
            elif action == "approve":
                approve_id = event_id + len(rows)
            actor, data = self._payload(d, action, position)
            target = str(NEXT_STATE.get(action) or previous)
            rows.append(
                (
                    event_id + len(rows),
                    d.dossier_id,
                    seq,
                    action,
                    previous,
                    target,
                    actor[0],
                    actor[1],
                    at,
                    reason,
                    data,
                )
            )
            previous = target
        return rows, approve_id, previous

    def _payload(self, d: Draft, action: str, position: int) -> tuple[Actor, str]:
        """Who takes `action` and its data (JSON text)."""
        if action == "submit":
            return d.submitter, SUBMIT_DESK if d.channel == 1 else "{}"
        if action == "receive":
            if d.channel == 1:
                return d.desk_user, RECEIVE_DESK(
                    calendar_version=self.version, appointment_rule=d.ruleset
                )
            return d.desk_user, RECEIVE_ONLINE(calendar_version=self.version)
        if action == "assign":
            step = d.steps[position - 1]
            return d.leader, ASSIGN(assignee=d.officer[0], receiver_label=d.officer[2], step=step)
        if action == "propose":
            return d.officer, PROPOSE(step=d.steps[position - 1])
        if action == "approve":
            step = d.steps[position - 1]
            return d.leader, APPROVE(step=step, code=d.code, title=d.proc.result_title)
        if action == "apologise":
            assert d.apology is not None
            return d.officer, d.apology
        if action == "pay":
            return self._pay(d)
        if action == "rate":
            return d.submitter, RATE(rating=RATINGS[d.rating - 1])
        if action in DESK_ACTIONS:
            return d.desk_user, "{}"
        if action in LEADER_ACTIONS:
            return d.leader, "{}"
        return d.officer, "{}"

    def _pay(self, d: Draft) -> tuple[Actor, str]:
        """As `payments.services.record_cash` / `_settle`: a receipt, and for an online
        payment the paid gateway order, then the `pay` event."""
        receipts = self.receipts
        assert receipts is not None and d.pay_at is not None
        common = {
            "dossier_id": d.dossier_id,
            "amount": d.proc.fee_total,
            "at": d.pay_at,
            "day": d.pay_day,
            "payer": d.applicant[1],
        }
        if d.pay_kind == 1:
            return d.desk_user, receipts.cash(**common, desk_user=d.desk_user)
        data = receipts.online(
            **common, paid_s=d.paid_s, submitted_s=d.submitted_s, citizen=d.citizen
        )
        return d.system, data
