"""The leaders' daily digest (bản tin hằng ngày; issue 18, item 5): every morning each agency
leader and provincial supervisor gets, in the inbox and by e-mail, the dossiers of the
agencies in their scope that are about to go overdue and those already overdue without an
apology, counted per agency with the first few codes of each — so the day starts with what
can still be saved and with the apologies the law requires (QĐ 766: an overdue dossier
without a letter of apology counts against the agency).

- *About to go overdue* is exactly the queue's "sắp đến hạn" filter: open, clock running,
  due between now and one working day later (`queries.due_soon_limit`).
- *Overdue without apology* is exactly the scan's list (`risk.overdue_without_apology_q`).
- A reader's scope is their `dossier.view` grant (`policy.grant`), read against the agency
  that currently holds the dossier: lateness is that agency's to answer for.
- One windowed query per distinct scope gives the counts and the first codes of every
  agency at once, whatever the number of dossiers; readers with the same scope (two leaders
  of one agency) share it.
- Nothing is sent to a reader with nothing to read. Messages go through the outbox
  (`notifications.services.notify`); their key (reader, channel, Vietnamese day) makes a
  rerun or a catch-up run of the same day send nothing more.
- Only codes, procedure names and due instants are written: never an applicant's name,
  phone or address (NĐ 13/2023), since the e-mail leaves the system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.dossiers.models import CLOCK_RUNNING, Dossier
from cchc.dossiers.queries import due_soon_limit
from cchc.dossiers.risk import overdue_without_apology_q
from cchc.notifications.models import Channel
from cchc.notifications.services import absolute, notify

KIND = "dossier.digest"
READER_ROLES = (Role.AGENCY_LEADER, Role.PROVINCIAL_SUPERVISOR)
LIMIT = 5  # codes listed per agency and list; the counts are always complete
DUE_SOON, OVERDUE = "due_soon", "overdue"
CHANNELS = (Channel.IN_APP, Channel.EMAIL)


def _local(instant: dt.datetime) -> str:
    return instant.astimezone(legaltime.VN_TZ).strftime("%H:%M %d/%m/%Y")


@dataclass(frozen=True)
class Item:
    """One listed dossier: its code, procedure and due instant (no personal data)."""

    code: str
    procedure: str
    due: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "procedure": self.procedure,
            "due": self.due.astimezone(legaltime.VN_TZ).isoformat(),
        }


@dataclass
class AgencyDigest:
    agency_id: int
    name: str
    due_soon: int = 0
    overdue: int = 0
    soon_items: list[Item] = field(default_factory=list)
    overdue_items: list[Item] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency_id": self.agency_id,
            "agency": self.name,
            "due_soon": self.due_soon,
            "overdue_without_apology": self.overdue,
            "due_soon_codes": [i.as_dict() for i in self.soon_items],
            "overdue_codes": [i.as_dict() for i in self.overdue_items],
        }


@dataclass
class ReaderDigest:
    user_id: int
    username: str
    agencies: list[AgencyDigest]
    sent: int = 0  # notifications recorded for this reader in this run

    @property
    def due_soon(self) -> int:
        return sum(a.due_soon for a in self.agencies)

    @property
    def overdue(self) -> int:
        return sum(a.overdue for a in self.agencies)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.username,
            "due_soon": self.due_soon,
            "overdue_without_apology": self.overdue,
            "sent": self.sent,
            "agencies": [a.as_dict() for a in self.agencies],
        }


@dataclass
class DigestReport:
    now: dt.datetime
    dry_run: bool
    readers: int = 0  # leaders and supervisors considered
    digests: list[ReaderDigest] = field(default_factory=list)  # readers with something to read
    sent: int = 0  # notifications recorded (in-app + e-mail)
    already: int = 0  # readers whose digest of the day was already recorded

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.astimezone(legaltime.VN_TZ).isoformat(),
            "dry_run": self.dry_run,
            "readers": self.readers,
            "with_news": len(self.digests),
            "sent": self.sent,
            "already_sent_today": self.already,
            "digests": [d.as_dict() for d in self.digests],
        }


def due_soon_q(now: dt.datetime, soon: dt.datetime) -> Q:
    """The queue's "sắp đến hạn" (`queries.desk_filters`), as a filter."""
    return Q(is_open=True, state__in=CLOCK_RUNNING, due__gte=now, due__lt=soon)


def agencies_in(scope: policy.Grant, *, now: dt.datetime, soon: dt.datetime, limit: int):
    """The digest of one scope: per holding agency, both counts and the first `limit` codes
    of each list (earliest due first), in one windowed query. Agencies sorted by overdue
    dossiers, then due-soon ones, then name."""
    soon_q, late_q = due_soon_q(now, soon), overdue_without_apology_q(now)
    qs = Dossier.objects.filter(soon_q | late_q)
    if not scope.everything:
        qs = qs.filter(current_agency_id__in=sorted(scope.agency_ids))
    kind = Case(
        When(late_q, then=Value(OVERDUE)), default=Value(DUE_SOON), output_field=CharField()
    )
    part = [F("current_agency_id"), kind]
    rows = (
        qs.annotate(
            kind=kind,
            rank=Window(RowNumber(), partition_by=part, order_by=[F("due").asc(), F("pk").asc()]),
            total=Window(Count("pk"), partition_by=part),
        )
        .filter(rank__lte=limit)
        .values_list(
            "current_agency_id", "current_agency__name", "kind", "total", "code",
            "procedure__name", "due", "rank",
        )
    )  # fmt: skip
    by_agency: dict[int, AgencyDigest] = {}
    for agency_id, name, which, total, code, procedure, due, _rank in sorted(
        rows, key=lambda r: (r[0], r[2], r[7])
    ):
        digest = by_agency.setdefault(agency_id, AgencyDigest(agency_id, name))
        item = Item(code, procedure, due)
        if which == OVERDUE:
            digest.overdue = total
            digest.overdue_items.append(item)
        else:
            digest.due_soon = total
            digest.soon_items.append(item)
    return sorted(by_agency.values(), key=lambda a: (-a.overdue, -a.due_soon, a.name))


def readers() -> list[Any]:
    """Active agency leaders and provincial supervisors (each once)."""
    users: dict[int, Any] = {}
    for a in RoleAssignment.objects.filter(
        role__in=READER_ROLES, active=True, user__is_active=True
    ).select_related("user"):
        users.setdefault(a.user_id, a.user)
    return sorted(users.values(), key=lambda u: u.pk)


def subject_of(digest: ReaderDigest, day: dt.date) -> str:
    return (
        f"Bản tin hồ sơ ngày {day:%d/%m/%Y}: {digest.due_soon} sắp đến hạn, "
        f"{digest.overdue} quá hạn chưa xin lỗi"
    )


def body_of(digest: ReaderDigest, *, now: dt.datetime, links: bool) -> str:
    """The message: per agency, both counts and the first codes with procedure and due;
    with `links` (e-mail) each code's full address, since a mail has no "Mở" button."""
    lines = [
        f"Tình hình lúc {_local(now)} tại các cơ quan trong phạm vi theo dõi của bạn: hồ sơ "
        "sắp đến hạn (trong một ngày làm việc) và hồ sơ đã quá hạn nhưng chưa có văn bản "
        "xin lỗi, hẹn lại."
    ]
    for agency in digest.agencies:
        lines += ["", f"{agency.name}: {agency.due_soon} sắp đến hạn, {agency.overdue} quá hạn "
                  "chưa xin lỗi"]  # fmt: skip
        for label, items, total in (
            ("Quá hạn chưa xin lỗi", agency.overdue_items, agency.overdue),
            ("Sắp đến hạn", agency.soon_items, agency.due_soon),
        ):
            if not items:
                continue
            lines.append(f"  {label}:")
            for item in items:
                lines.append(f"  • {item.code} — {item.procedure} — hạn {_local(item.due)}")
                if links:
                    lines.append(f"    {absolute(reverse('dossiers:detail', args=[item.code]))}")
            if total > len(items):
                lines.append(f"  … và {total - len(items)} hồ sơ khác.")
    return "\n".join(lines)


def send(
    *, now: dt.datetime, dry_run: bool = False, limit: int = LIMIT, actor: Any = SYSTEM
) -> DigestReport:
    """Compute every reader's digest at `now` and, unless `dry_run`, record it in their inbox
    and for e-mail (once per reader, channel and Vietnamese day), with one audit entry for
    the run when anything was recorded."""
    now = now.astimezone(legaltime.VN_TZ)
    day = now.date()
    report = DigestReport(now=now, dry_run=dry_run)
    soon = due_soon_limit(now)
    link = reverse("dossiers:queue") + "?pham_vi=co_quan"
    by_scope: dict[policy.Grant, list[AgencyDigest]] = {}
    with transaction.atomic():
        for user in readers():
            report.readers += 1
            scope = policy.grant(user, "dossier.view")
            if scope.empty:
                continue
            if scope not in by_scope:
                by_scope[scope] = agencies_in(scope, now=now, soon=soon, limit=limit)
            if not by_scope[scope]:
                continue
            digest = ReaderDigest(user.pk, user.username, by_scope[scope])
            report.digests.append(digest)
            if dry_run:
                continue
            for channel in CHANNELS:
                note = notify(
                    kind=KIND,
                    subject=subject_of(digest, day),
                    body=body_of(digest, now=now, links=channel == Channel.EMAIL),
                    user=user,
                    channel=channel,
                    link=link,
                    key=f"{KIND}:{day.isoformat()}:{user.pk}:{channel}",
                    now=now,
                )
                digest.sent += note is not None
            report.sent += digest.sent
            report.already += digest.sent == 0
        if report.sent:
            log.record(
                "dossier.digest",
                actor=actor,
                at=now,
                data={
                    "day": day.isoformat(),
                    "readers": report.readers,
                    "with_news": len(report.digests),
                    "sent": report.sent,
                    "already_sent_today": report.already,
                    "recipients": [d.username for d in report.digests if d.sent][:200],
                },
            )
    return report
