"""A mix of dossiers in every state the home page's cards and the queue's filters tell apart,
made through the real services (issue 17, "desk"). Received Monday 3/6/2024; the pages are
looked at on Wednesday 5/6/2024 10:00 (`WHEN`), when the three-day dossiers of Monday are
due within one working day and the one-day ones are overdue."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from typing import Any

from cchc.dossiers import intake, services
from tests.dossiers.conftest import World, at
from tests.dossiers.factories import applicant, components_for

MON, WED = "2024-06-03", "2024-06-05"
WHEN = at(WED, "10:00")


@dataclass
class Mix:
    submitted: list[Any]
    received: Any  # unassigned, due soon
    mine_soon: Any  # assigned to `officer`, due soon
    mine_late: Any  # assigned to `officer`, overdue (one-day procedure)
    mine_later: Any  # assigned to `officer`, received Wednesday: not due soon
    other: Any  # assigned to `officer2`, due soon
    approval: Any  # proposed by `officer`, awaiting the leader
    resolved: Any  # approved, waiting for the desk to return it
    supplement: Any  # waiting for the applicant's supplement
    returned: Any  # finished


def act(actor: Any, dossier: Any, action: str, when: dt.datetime, reason: str = "", **data: Any):
    return services.act(actor, dossier, action, now=when, reason=reason, data=data)


def build(w: World) -> Mix:
    def online(hm: str) -> Any:
        return intake.submit_online(
            w.citizen,
            desk=w.desk,
            procedure=w.procedure,
            applicant=applicant(),
            components=components_for(w.procedure),
            now=at(MON, hm),
        )

    def assigned(to: Any, *, day: str = MON, procedure: Any = None) -> Any:
        d = w.intake(at=at(day, "09:00"), procedure=procedure)
        act(w.leader, d, "assign", at(day, "09:30"), assignee=to.pk)
        return d

    submitted = [online("08:00"), online("08:10")]
    received = w.intake(at=at(MON, "09:00"))
    mine_soon = assigned(w.officer)
    mine_late = assigned(w.officer, procedure=w.quick)
    mine_later = assigned(w.officer, day=WED)
    other = assigned(w.officer2)
    approval = assigned(w.officer)
    act(w.officer, approval, "propose", at(MON, "14:00"))
    resolved = assigned(w.officer)
    act(w.officer, resolved, "propose", at(MON, "14:00"))
    act(w.leader, resolved, "approve", at(MON, "15:00"))
    supplement = assigned(w.officer)
    act(w.officer, supplement, "request_supplement", at(MON, "10:00"), reason="Thiếu tờ khai")
    returned = assigned(w.officer)
    act(w.officer, returned, "propose", at(MON, "14:00"))
    act(w.leader, returned, "approve", at(MON, "15:00"))
    act(w.desk_officer, returned, "return_result", at(MON, "16:00"))
    mix = Mix(
        submitted,
        received,
        mine_soon,
        mine_late,
        mine_later,
        other,
        approval,
        resolved,
        supplement,
        returned,
    )
    for d in vars(mix).values():
        for one in d if isinstance(d, list) else [d]:
            one.refresh_from_db()
    return mix


CARD = re.compile(
    r'<a class="work-card[^"]*" href="([^"]+)">\s*<span class="num">(\d+)</span>\s*'
    r'<span class="label">([^<]+)</span>'
)
ROW_CODE = re.compile(r'<td class="code" data-label="Mã hồ sơ"><a href="/ho-so/([^/]+)/">')


def cards(page: str) -> dict[str, tuple[int, str]]:
    """The home page's cards: label -> (count, link)."""
    return {label: (int(n), html.unescape(href)) for href, n, label in CARD.findall(page)}


def queue_codes(page: str) -> set[str]:
    """The dossier codes listed in the queue's main table (not the risk list above it)."""
    main = page.split('<table class="grid queue">', 1)[1]
    return set(ROW_CODE.findall(main))
