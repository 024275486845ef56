"""`cchc dossiers verify`: recompute every dossier's projection from its events and compare
it with the stored columns (spec 03: the event log is the source of truth).

`verify` only reads. `repair` (behind `--fix`) rewrites one dossier's stored projection
from its events, under a row lock, with an audit entry listing what changed; it never
writes an event (the events are already right — the stored copy was not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.calendars.models import WorkingCalendar
from cchc.dossiers import recompute, replay, services, signals
from cchc.dossiers.models import Dossier, DossierEvent
from cchc.errors import DomainError, NotFound

BATCH = 500
# Compared on top of the projection: the optimistic-concurrency version is the number of
# events, and the next event's sequence number is derived from it.
EXTRA = ("version",)


@dataclass(frozen=True)
class Mismatch:
    code: str
    field: str
    stored: Any
    derived: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "field": self.field,
            "stored": _plain(self.stored),
            "derived": _plain(self.derived),
        }

    def __str__(self) -> str:
        return (
            f"{self.code}: {self.field} đang lưu {_plain(self.stored)!r}, "
            f"tính lại từ sự kiện {_plain(self.derived)!r}"
        )


@dataclass
class VerifyReport:
    checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    fixed: list[str] = field(default_factory=list)  # codes rewritten by --fix
    replanned: list[str] = field(default_factory=list)  # codes moved to the version in force

    @property
    def clean(self) -> bool:
        return not self.mismatches and not self.errors

    @property
    def dossiers_with_mismatches(self) -> list[str]:
        return sorted({m.code for m in self.mismatches})

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "clean": self.clean,
            "mismatches": [m.as_dict() for m in self.mismatches],
            "errors": [{"code": c, "message": m} for c, m in self.errors],
            "fixed": self.fixed,
            "replanned": self.replanned,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(legaltime.VN_TZ).isoformat()
    return value


def _same(stored: Any, derived: Any) -> bool:
    # Aware datetimes compare as instants, whatever zone the database returns them in.
    return bool(stored == derived)


def derived_values(dossier: Dossier, events: list[DossierEvent]) -> dict[str, Any]:
    """What the stored columns should be, from the events alone."""
    values = services.project(dossier, events).stored()
    values["version"] = len(events)
    return values


def differences(dossier: Dossier, events: list[DossierEvent]) -> list[Mismatch]:
    derived = derived_values(dossier, events)
    out = []
    for name in (*replay.Projection.STORED, *EXTRA):
        stored = getattr(dossier, name)
        if not _same(stored, derived[name]):
            out.append(Mismatch(dossier.code, name, stored, derived[name]))
    return out


def _with_events(qs: QuerySet[Dossier], batch: int) -> Iterator[Dossier]:
    events = Prefetch("events", queryset=DossierEvent.objects.order_by("seq"))
    yield from qs.order_by("pk").prefetch_related(events).iterator(chunk_size=batch)


def verify(
    *,
    queryset: QuerySet[Dossier] | None = None,
    fix: bool = False,
    actor: Any = SYSTEM,
    now: dt.datetime | None = None,
    batch: int = BATCH,
) -> VerifyReport:
    """Recompute every dossier (or those of `queryset`) from its events and report each
    stored column that differs. With `fix`, rewrite the differing dossiers via `repair`."""
    report = VerifyReport()
    qs = Dossier.objects.all() if queryset is None else queryset
    for dossier in _with_events(qs, batch):
        report.checked += 1
        try:
            found = differences(dossier, list(dossier.events.all()))
        except (legaltime.LegalTimeError, DomainError) as exc:
            report.errors.append((dossier.code, getattr(exc, "message", str(exc))))
            continue
        report.mismatches.extend(found)
        if found and fix and repair(actor, dossier, now=now):
            report.fixed.append(dossier.code)
    return report


def repair(actor: Any, dossier: Dossier, *, now: dt.datetime | None = None) -> bool:
    """Rewrite `dossier`'s stored projection (and version) from its events, under a row
    lock, with an audit entry `dossier.projection_repaired` listing each change. Returns
    False when there was nothing to change (someone else already fixed it)."""
    at = now or timezone.now()
    with transaction.atomic():
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        events = list(locked.events.order_by("seq"))
        found = differences(locked, events)
        if not found:
            return False
        derived = derived_values(locked, events)
        changed = {m.field: derived[m.field] for m in found}
        before = signals.snapshot(locked)
        Dossier.objects.filter(pk=locked.pk, version=locked.version).update(**changed)
        for name, value in changed.items():
            setattr(locked, name, value)
        # What is derived from the stored row (the indicator cells) follows the repair in
        # the same transaction.
        signals.dossier_changed.send(sender=Dossier, before=before, after=locked, event=None)
        log.record(
            "dossier.projection_repaired",
            actor=actor,
            obj=locked,
            agency_id=derived["current_agency_id"],
            at=at,
            data={
                "changes": {m.field: [_plain(m.stored), _plain(m.derived)] for m in found},
                "events": len(events),
            },
        )
    return True


# -- open dossiers on the calendar version in force --------------------------------------------


@dataclass(frozen=True)
class NotInForce(Mismatch):
    """An open dossier whose clocks run on a calendar version other than the one in force:
    its events are consistent, but a recompute (`cchc.dossiers.recompute`) has not reached
    it yet — was interrupted, or could not compute it."""

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "reason": "calendar_version_not_in_force"}

    def __str__(self) -> str:
        return (
            f"{self.code}: hạn đang tính theo lịch {self.stored!r}, chưa tính lại theo phiên "
            f"bản đang có hiệu lực {self.derived!r}"
        )


def check_calendar_versions(
    report: VerifyReport,
    *,
    fix: bool = False,
    actor: Any = SYSTEM,
    now: dt.datetime | None = None,
) -> None:
    """Add to `report` every open dossier not on its calendar's version in force today
    (`services.stale_open`); with `fix`, move each to it now (`services.replan`: a
    `recompute` event, audited), one transaction per dossier, and list it in
    `report.replanned`. A dossier that cannot be computed is listed in `report.errors`."""
    at = now or timezone.now()
    for code in WorkingCalendar.objects.order_by("code").values_list("code", flat=True):
        try:
            version = recompute.version_in_force(code, at)
        except NotFound:  # a calendar without any version: no dossier was received on it
            continue
        label = recompute.label(code, version)
        stale = services.stale_open(code, label).order_by("pk")
        for dossier in list(stale.only("pk", "code", "calendar_version")):
            report.mismatches.append(
                NotInForce(dossier.code, "calendar_version", dossier.calendar_version, label)
            )
            if not fix:
                continue
            try:
                with transaction.atomic():
                    if services.replan(dossier, version, actor=actor, now=at):
                        report.replanned.append(dossier.code)
            except (legaltime.LegalTimeError, DomainError) as exc:
                report.errors.append((dossier.code, getattr(exc, "message", str(exc))))
