"""Effective-dated procedure versions: which version is in force on a day, and a
version's reception rule (its own cut-off) as the legal-time engine applies it.

A procedure's versions are never changed once written (a correction is a new version).

The version in force on day D is the one with the latest `effective_from` on or before D
(of two with the same date, the higher number: a correction the same day). A day before
every version's date gets the first version: the catalogue knows nothing older.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cchc import legaltime
from cchc.catalog.models import Procedure, ProcedureVersion


def pick(versions: Sequence[ProcedureVersion], day: dt.date) -> ProcedureVersion | None:
    """The version in force on `day` among `versions` (the rule above)."""
    if not versions:
        return None
    started = [v for v in versions if v.effective_from <= day]
    if started:
        return max(started, key=lambda v: (v.effective_from, v.number))
    return min(versions, key=lambda v: (v.effective_from, v.number))


def in_force(procedure: Procedure | int, day: dt.date) -> ProcedureVersion | None:
    """The version of `procedure` (or its id) in force on `day`, in at most two queries;
    None for a procedure without any recorded version."""
    procedure_id = procedure if isinstance(procedure, int) else procedure.pk
    versions = ProcedureVersion.objects.filter(procedure_id=procedure_id)
    found = versions.filter(effective_from__lte=day).order_by("-effective_from", "-number").first()
    if found is None:
        found = versions.order_by("effective_from", "number").first()
    return found


def history(procedure: Procedure) -> list[ProcedureVersion]:
    """Every version of `procedure`, newest first, with their fees, documents and steps
    (four queries whatever the number of versions)."""
    return list(
        procedure.versions.select_related("field", "competent_agency_type", "created_by")
        .prefetch_related("fees", "documents", "steps")
        .order_by("-number")
    )


@dataclass(frozen=True, slots=True)
class ReceptionRule:
    """A procedure version's own reception cut-off and its legal basis."""

    cutoff: dt.time
    source: str
    verified: bool

    @classmethod
    def of(cls, cutoff: dt.time | None, source: str, verified: bool) -> ReceptionRule | None:
        """The rule of a version with these fields (None without a cut-off of its own)."""
        if cutoff is None:
            return None
        return cls(cutoff, source or "quy định riêng của thủ tục", verified)

    def apply(self, calendar: legaltime.Calendar) -> legaltime.Calendar:
        """`calendar` with this cut-off instead of its own (same version and days)."""
        return calendar.with_cutoff(self.cutoff, source=self.source, verified=self.verified)


def rule_of(version: ProcedureVersion) -> ReceptionRule | None:
    """The reception rule of a loaded version (no query)."""
    return ReceptionRule.of(version.cutoff, version.cutoff_source, version.cutoff_verified)


_RULE_FIELDS = ("pk", "cutoff", "cutoff_source", "cutoff_verified")


def reception_rule(version_id: int | None) -> ReceptionRule | None:
    """The reception rule of version `version_id` (None: the calendar's own cut-off
    applies); one small query, none for `None`."""
    if version_id is None:
        return None
    row = ProcedureVersion.objects.filter(pk=version_id).values_list(*_RULE_FIELDS[1:]).first()
    return ReceptionRule.of(*row) if row is not None else None


def reception_rules(version_ids: Iterable[int | None]) -> dict[int, ReceptionRule | None]:
    """The rules of many versions in one query (the bulk paths)."""
    wanted = {v for v in version_ids if v is not None}
    rules: dict[int, ReceptionRule | None] = dict.fromkeys(wanted)
    if wanted:
        for pk, cutoff, source, verified in ProcedureVersion.objects.filter(
            pk__in=wanted
        ).values_list(*_RULE_FIELDS):
            rules[pk] = ReceptionRule.of(cutoff, source, verified)
    return rules


def calendar_with_rule(calendar: legaltime.Calendar, version_id: int | None) -> legaltime.Calendar:
    """`calendar` as it applies to a dossier received under version `version_id`: with the
    version's own cut-off when it has one, else unchanged (the global setting)."""
    rule = reception_rule(version_id)
    return rule.apply(calendar) if rule is not None else calendar


def cutoff_array(version_ids: Sequence[int | None]) -> legaltime.bulk.I64:
    """Per-row cut-offs for `legaltime.bulk_start` / `bulk_due` (`legaltime.CALENDAR_CUTOFF`
    where the version has none): one query for the whole batch."""
    rules = reception_rules(version_ids)
    cutoffs = []
    for pk in version_ids:
        rule = rules.get(pk) if pk is not None else None
        cutoffs.append(rule.cutoff if rule is not None else None)
    return legaltime.cutoff_array(cutoffs)
