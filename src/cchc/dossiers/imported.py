"""Dossiers imported from another one-stop system (spec 04: the monitor works on a province's
existing data from day one).

An imported dossier is a `Dossier` with `source` set and one event, ``import``, whose data
carries the facts the source system recorded: receipt, its appointment date, result and
return instants, state, supplements, payment, rating. A fee paid other than online is
recorded as the desk records cash (`Facts.payment`): amount paid and channel "cash", so the
indicators count it as paid and not as paid online. `replay.project` derives the
projection from those facts exactly as from native events, so `cchc dossiers verify`
checks imported dossiers like any other. A later export with a changed row appends
``import_update`` with the new facts — projection, result, indicator cells and an audit
entry each, for a whole batch at once (`_update_many`; `_update` does the same for one
dossier through the event primitive `services._append`); an unchanged row is recognised by
`source_digest` and writes nothing.

New dossiers are written in batches (`store`): rows built here, inserted with one
executemany (SQLite) or COPY (PostgreSQL) per table, ids taken from the tables' sequences,
and the indicator receivers told once per batch (`signals.dossiers_imported`) — what the
services would write, without one round trip per event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db import connection

from cchc.audit import log
from cchc.dossiers import replay, rules, signals
from cchc.dossiers.models import Dossier, DossierEvent, DossierResult, PaymentChannel, State
from cchc.dossiers.rows import COLUMNS, Writer
from cchc.dossiers.services import _append, _label
from cchc.vietnamese import fold

UTC = dt.UTC
# States in which a result exists (resolved, then returned).
WITH_RESULT = frozenset({State.RESOLVED, State.RETURNED})
# Dossier columns holding instants (written as UTC text).
INSTANTS = ("submitted_at", "queue_at", "received_at", "clock_start", "original_due", "due",
            "paused_since", "step_due", "finished_at", "returned_at")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProcedureInfo:
    id: int
    code: str
    name: str
    duration_spec: str
    online_level: str
    folded: str  # fold("code name"), for the search text


@dataclass(frozen=True, slots=True)
class DeskInfo:
    id: int
    calendar_code: str
    saturday_reception: bool


@dataclass(slots=True)
class Facts:
    """One imported dossier as the source system recorded it (validated, resolved to ids)."""

    line: int
    code: str
    procedure: ProcedureInfo
    desk: DeskInfo
    receiving_agency_id: int
    competent_agency_id: int
    channel: int
    state: str
    submitted_at: dt.datetime
    received_at: dt.datetime | None
    due: dt.datetime | None
    finished_at: dt.datetime | None
    returned_at: dt.datetime | None
    supplements: int = 0
    fee_total: int = 0
    paid_online: bool = False
    # The row's "Đã thanh toán" (fees paid, by any means); None: the row does not say.
    paid: bool | None = None
    digitised: bool = False
    electronic_result: bool = False
    rating: str = ""
    complaint: bool = False
    applicant_name: str = ""
    applicant_id_number: str = ""
    applicant_address: str = ""
    applicant_phone: str = ""
    matter: str = ""
    # Digest of the row as the file wrote it: an unchanged row is recognised without
    # parsing its facts again (a re-export that only formats differently is recognised
    # as unchanged in `_update`, by its facts).
    digest: str = ""

    @property
    def online_level(self) -> str:
        return self.procedure.online_level if self.channel == 2 else "none"

    @property
    def payment(self) -> tuple[int, str]:
        """(amount paid, payment channel) as the projection records a payment.

        Paid online: the whole fee, channel "1" (the national field "paid online"). Paid
        otherwise — the row says "Đã thanh toán: Có", or it says nothing and the result was
        handed over — the whole fee at the desk, channel "cash": what
        `payments.services.record_cash` records for a payment taken at the desk. Anything
        else, or no fee: nothing paid. Reading a returned row's silence as "paid at the
        desk" is this system's assumption (documented in the README's import section), not
        a legal rule: a source that knows otherwise says so in "Đã thanh toán"."""
        if not self.fee_total:
            return 0, ""
        if self.paid_online:
            return self.fee_total, PaymentChannel.NATIONAL_PORTAL.value
        if self.paid or (self.paid is None and self.state == State.RETURNED):
            return self.fee_total, PaymentChannel.CASH.value
        return 0, ""

    @property
    def payment_label(self) -> str:
        """Vietnamese, for the import preview."""
        amount, channel = self.payment
        if not self.fee_total:
            return "Không có phí"
        if not amount:
            return "Chưa thanh toán"
        return PaymentChannel(channel).label

    def payload(self) -> dict[str, Any]:
        """The import event's data: the facts `replay.project` reads, and the rest for the
        record (what the row said)."""
        paid_amount, payment_channel = self.payment
        return {
            "received_at": _iso(self.received_at),
            "due": _iso(self.due),
            "finished_at": _iso(self.finished_at),
            "returned_at": _iso(self.returned_at),
            "supplements": self.supplements,
            "paid_amount": paid_amount,
            "payment_channel": payment_channel,
            "rating": self.rating,
            "complaint": self.complaint,
            "agency": self.competent_agency_id,
            "procedure": self.procedure.code,
            "channel": self.channel,
            "fee_total": self.fee_total,
            "digitised": self.digitised,
            "electronic_result": self.electronic_result,
        }

    def intake(self) -> dict[str, Any]:
        """Dossier fields fixed at intake (not derived from events)."""
        name = self.applicant_name
        return {
            "procedure_id": self.procedure.id,
            "desk_id": self.desk.id,
            "receiving_agency_id": self.receiving_agency_id,
            "competent_agency_id": self.competent_agency_id,
            "channel": self.channel,
            "online_level": self.online_level,
            "applicant_name": name,
            "applicant_id_number": self.applicant_id_number,
            "applicant_address": self.applicant_address,
            "applicant_phone": self.applicant_phone,
            "matter": self.matter or self.procedure.name[:500],
            "return_channel": "online" if self.channel == 2 and self.electronic_result else "desk",
            "duration_spec": self.procedure.duration_spec,
            "calendar_code": self.desk.calendar_code,
            "saturday_reception": self.desk.saturday_reception,
            "submitted_at": self.submitted_at,
            "search_text": (fold(f"{self.code} {name}") + " " + self.procedure.folded)[:800],
            "fee_total": self.fee_total,
            "digitised": self.digitised,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Outcome:
    """What happened to one row: 'created', 'updated', 'unchanged' or a refusal reason."""

    index: int
    outcome: str
    reason: str = ""


def store(
    batch: Sequence[Facts],
    *,
    source: str,
    run_id: int | None,
    actor: Any,
    now: dt.datetime,
    dry_run: bool = False,
) -> list[Outcome]:
    """Create, update or leave each dossier of `batch` (codes unique within the batch).
    Must run inside a transaction; with `dry_run` only decides, writes nothing."""
    existing: dict[str, tuple[int, str, str]] = {}
    codes = [f.code for f in batch]
    for lo in range(0, len(codes), 2000):
        for pk, code, src, digest in Dossier.objects.filter(
            code__in=codes[lo : lo + 2000]
        ).values_list("pk", "code", "source", "source_digest"):
            existing[code] = (pk, src, digest)
    out: list[Outcome] = []
    new: list[tuple[Facts, str]] = []
    changed: list[tuple[Facts, str, int]] = []
    for i, facts in enumerate(batch):
        digest = facts.digest
        found = existing.get(facts.code)
        if found is None:
            new.append((facts, digest))
            out.append(Outcome(i, "created"))
            continue
        pk, src, old = found
        if not src:
            out.append(
                Outcome(i, "rejected", f"mã hồ sơ {facts.code} đã có trong hệ thống (hồ sơ "
                        "tiếp nhận tại đây, không phải hồ sơ nhập)")
            )  # fmt: skip
        elif src != source:
            out.append(
                Outcome(i, "rejected", f"mã hồ sơ {facts.code} đã được nhập từ nguồn «{src}»")
            )
        elif old == digest:
            out.append(Outcome(i, "unchanged"))
        else:
            changed.append((facts, digest, pk))
            out.append(Outcome(i, "updated"))
    if dry_run:
        return out
    if new:
        _create(new, source=source, run_id=run_id, actor=actor, now=now)
    if changed:
        at = {facts.code: i for i, facts in enumerate(batch)}
        for code in _update_many(changed, source=source, run_id=run_id, actor=actor, now=now):
            out[at[code]] = Outcome(at[code], "unchanged")
    return out


def _event_data(facts: Facts, source: str, run_id: int | None) -> dict[str, Any]:
    return {**facts.payload(), "source": source, "run": run_id, "line": facts.line}


class _Ids:
    """Ids for rows written directly: from the table's sequence on PostgreSQL (safe beside
    concurrent writers); on SQLite the transaction holds the write lock (IMMEDIATE), so
    the next ids after the current maximum are this writer's."""

    @staticmethod
    def take(model: Any, n: int) -> list[int]:
        if n == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, n],
                )
                return [int(r[0]) for r in cursor.fetchall()]
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
            first = int(cursor.fetchone()[0]) + 1
            return list(range(first, first + n))


def _create(
    new: Sequence[tuple[Facts, str]],
    *,
    source: str,
    run_id: int | None,
    actor: Any,
    now: dt.datetime,
) -> None:
    postgres = connection.vendor == "postgresql"

    stamps: dict[dt.datetime, str] = {}  # appointment days and receipt minutes repeat

    def stamp(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        text = stamps.get(value)
        if text is None:
            text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            text = stamps[value] = text + "+00" if postgres else text
        return text

    dossier_ids = _Ids.take(Dossier, len(new))
    event_ids = _Ids.take(DossierEvent, len(new))
    with_result = {i for i, (f, _) in enumerate(new) if f.state in WITH_RESULT}
    result_ids = iter(_Ids.take(DossierResult, len(with_result)))
    actor_id = actor.pk if getattr(actor, "pk", None) is not None else None
    label = _label(actor)
    now_text = stamp(now)
    reason = f"Nhập từ {source}"
    dossier_cols, event_cols = COLUMNS[Dossier], COLUMNS[DossierEvent]
    result_cols = COLUMNS[DossierResult]
    dossier_values = itemgetter(*dossier_cols)
    event_values = itemgetter(*event_cols)
    result_values = itemgetter(*result_cols)
    rulesets: dict[dt.date, str] = {}
    dossiers: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    results: list[tuple[Any, ...]] = []
    changes: list[tuple[None, dict[str, Any], bool, bool]] = []
    for i, (facts, digest) in enumerate(new):
        data = _event_data(facts, source, run_id)
        stored = replay.project_import(data, facts.state, facts.competent_agency_id, now).stored()
        row = {
            "id": dossier_ids[i],
            "code": facts.code,
            "ruleset": ruleset(rulesets, (facts.received_at or facts.submitted_at).date()),
            **facts.intake(),
            "applicant_kind": "person",
            "applicant_email": "",
            "applicant_user_id": None,
            "sets": 1,
            "step_plan": "[]",
            "is_demo": False,
            "reused_data": False,
            "result_in_datastore": False,
            "source": source,
            "source_digest": digest,
            "version": 1,
            "risk_note": "",
            "at_risk": False,
            "risk_checked_at": None,
            "certified_copy": False,
            **stored,
        }
        snapshot = {name: row[name] for name in signals.TRACKED}
        electronic = facts.electronic_result and facts.state in WITH_RESULT
        changes.append((None, snapshot, False, electronic))
        for name in INSTANTS:
            row[name] = stamp(row[name])
        dossiers.append(dossier_values(row))
        event_row = {
            "id": event_ids[i],
            "dossier_id": dossier_ids[i],
            "seq": 1,
            "action": "import",
            "from_state": "",
            "to_state": facts.state,
            "actor_id": actor_id,
            "actor_label": label,
            "at": now_text,
            "reason": reason,
            "data": json.dumps(data, ensure_ascii=False),
        }
        events.append(event_values(event_row))
        if i in with_result:
            result_row = {
                "id": next(result_ids),
                "dossier_id": dossier_ids[i],
                "number": 1,
                "code": f"{facts.code}-KQ1",
                "title": f"Kết quả giải quyết: {facts.procedure.name}"[:300],
                "electronic": facts.electronic_result,
                "file_id": None,
                "event_id": event_ids[i],
                "issued_at": stamp(facts.finished_at),
            }
            results.append(result_values(result_row))
    writer = Writer()
    writer.insert(Dossier, dossier_cols, dossiers)
    writer.insert(DossierEvent, event_cols, events)
    writer.insert(DossierResult, result_cols, results)
    signals.dossiers_imported.send(sender=Dossier, changes=changes)


def ruleset(cache: dict[dt.date, str], day: dt.date) -> str:
    code = cache.get(day)
    if code is None:
        code = cache[day] = rules.ruleset_on(day).code
    return code


def _same_facts(last: tuple[dict[str, Any], str], dossier: Dossier, facts: Facts) -> bool:
    """Do `facts` say what the dossier's last import event (data, state) and its intake
    fields already say? (A row written differently, not a change.)"""
    data, state = last
    return (
        state == facts.state
        and all(data.get(k) == v for k, v in facts.payload().items())
        and all(getattr(dossier, k) == v for k, v in facts.intake().items())
    )


def _result(facts: Facts, dossier_id: int, event_id: int) -> DossierResult:
    """The result an import records for a dossier with one (unsaved)."""
    return DossierResult(
        dossier_id=dossier_id,
        number=1,
        code=f"{facts.code}-KQ1",
        title=f"Kết quả giải quyết: {facts.procedure.name}"[:300],
        electronic=facts.electronic_result,
        event_id=event_id,
        issued_at=facts.finished_at,
    )


def _update_many(
    changed: Sequence[tuple[Facts, str, int]],
    *,
    source: str,
    run_id: int | None,
    actor: Any,
    now: dt.datetime,
) -> set[str]:
    """Changed rows of a batch: for each, new intake facts, an ``import_update`` event, the
    projection, the result, an audit entry — what `_update` writes one dossier at a time,
    written with one statement per table and one batched cell update. A dossier with events
    other than imports (none are allowed today) takes `_update`. Returns the codes whose
    facts did not change after all (only the row's form did)."""
    pks = [pk for _, _, pk in changed]
    dossiers = {d.pk: d for d in Dossier.objects.select_for_update().filter(pk__in=pks)}
    mixed = set(
        DossierEvent.objects.filter(dossier_id__in=pks)
        .exclude(action__in=replay.IMPORTED)
        .values_list("dossier_id", flat=True)
    )
    first_at: dict[int, dt.datetime] = {}
    last: dict[int, tuple[dict[str, Any], str]] = {}
    for dossier_id, when, data, to_state in (
        DossierEvent.objects.filter(dossier_id__in=pks, action__in=replay.IMPORTED)
        .order_by("dossier_id", "seq")
        .values_list("dossier_id", "at", "data", "to_state")
    ):
        first_at.setdefault(dossier_id, when)
        last[dossier_id] = (data, to_state)
    results: dict[int, DossierResult] = {}
    for result in DossierResult.objects.filter(dossier_id__in=pks).order_by("-number"):
        results[result.dossier_id] = result  # the first by number wins

    unchanged: set[str] = set()
    digests: list[tuple[str, int]] = []
    todo: list[tuple[Facts, str, Dossier]] = []
    for facts, digest, pk in changed:
        dossier = dossiers[pk]
        if pk in mixed or pk not in last:
            if not _update(pk, facts, digest, source=source, run_id=run_id, actor=actor, now=now):
                unchanged.add(facts.code)
            continue
        if _same_facts(last[pk], dossier, facts):
            digests.append((digest, pk))
            unchanged.add(facts.code)
        else:
            todo.append((facts, digest, dossier))
    with connection.cursor() as cursor:
        if digests:
            cursor.executemany(
                f'UPDATE "{Dossier._meta.db_table}" SET source_digest = %s WHERE id = %s',  # noqa: S608
                digests,
            )
    if not todo:
        return unchanged

    label = _label(actor)
    actor_obj = actor if getattr(actor, "pk", None) is not None else None
    event_ids = _Ids.take(DossierEvent, len(todo))
    fields = [*replay.Projection.STORED, *todo[0][0].intake(), "source_digest", "version"]
    events: list[DossierEvent] = []
    new_results: list[DossierResult] = []
    changes: list[tuple[dict[str, Any], dict[str, Any], bool, bool]] = []
    audit = []
    for (facts, digest, dossier), event_id in zip(todo, event_ids, strict=True):
        before = signals.snapshot(dossier)
        data = _event_data(facts, source, run_id)
        previous, old_version = dossier.state, dossier.version
        for name, value in facts.intake().items():
            setattr(dossier, name, value)
        projection = replay.project_import(
            data, facts.state, facts.competent_agency_id, first_at[dossier.pk]
        )
        for name, value in projection.stored().items():
            setattr(dossier, name, value)
        dossier.source_digest = digest
        dossier.version = old_version + 1
        events.append(
            DossierEvent(
                id=event_id,
                dossier_id=dossier.pk,
                seq=dossier.version,
                action="import_update",
                from_state=previous,
                to_state=facts.state,
                actor=actor_obj,
                actor_label=label,
                at=now,
                reason=f"Cập nhật từ {source}",
                data=data,
            )
        )
        result = results.get(dossier.pk)
        had = result is not None and result.electronic
        has = had
        if facts.state in WITH_RESULT:
            has = facts.electronic_result
            if result is None:
                new_results.append(_result(facts, dossier.pk, event_id))
            else:
                result.electronic, result.issued_at = facts.electronic_result, facts.finished_at
        changes.append((before, signals.snapshot(dossier), had, has))
        audit.append(
            log.entry_for(
                "dossier.import_update",
                actor=actor,
                obj=dossier,
                agency_id=dossier.current_agency_id,
                at=now,
                data={"seq": dossier.version, "from": previous, "to": facts.state, **data},
            )
        )
    DossierEvent.objects.bulk_create(events, batch_size=2000)
    # The rows are locked (select_for_update above; SQLite: the transaction's write lock),
    # so no version check is needed here.
    columns = [Dossier._meta.get_field(f) for f in fields]
    sets = ", ".join(f'"{c.column}" = %s' for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'UPDATE "{Dossier._meta.db_table}" SET {sets} WHERE id = %s',  # noqa: S608
            [
                [*(c.get_db_prep_save(getattr(d, c.attname), connection) for c in columns), d.pk]
                for _, _, d in todo
            ],
        )
    DossierResult.objects.bulk_create(new_results, batch_size=2000)
    updated = {d.pk for _, _, d in todo}
    with connection.cursor() as cursor:
        cursor.executemany(
            f'UPDATE "{DossierResult._meta.db_table}" SET electronic = %s, issued_at = %s '  # noqa: S608
            "WHERE id = %s",
            [
                [r.electronic, DossierResult._meta.get_field("issued_at").get_db_prep_save(
                    r.issued_at, connection), r.pk]
                for r in results.values()
                if r.dossier_id in updated
            ],
        )  # fmt: skip
    signals.dossiers_imported.send(sender=Dossier, changes=changes)
    log.record_many(audit)
    return unchanged


def _update(
    pk: int,
    facts: Facts,
    digest: str,
    *,
    source: str,
    run_id: int | None,
    actor: Any,
    now: dt.datetime,
) -> bool:
    """A changed row: new intake facts and an ``import_update`` event through `_append`
    (projection, indicator cells, audit), then the result row."""
    dossier = Dossier.objects.select_for_update().get(pk=pk)
    last = (
        DossierEvent.objects.filter(dossier_id=pk, action__in=replay.IMPORTED)
        .order_by("-seq")
        .values_list("data", "to_state")
        .first()
    )
    intake = facts.intake()
    if last is not None and _same_facts(last, dossier, facts):
        # Same facts, written differently: remember this form of the row, nothing else.
        Dossier.objects.filter(pk=pk).update(source_digest=digest)
        return False
    before = signals.snapshot(dossier)
    for name, value in intake.items():
        setattr(dossier, name, value)
    dossier.source_digest = digest
    Dossier.objects.filter(pk=pk).update(**intake, source_digest=digest)
    result = DossierResult.objects.filter(dossier_id=pk).order_by("number").first()
    had_electronic = result is not None and result.electronic
    event = _append(
        dossier,
        "import_update",
        actor=actor,
        now=now,
        reason=f"Cập nhật từ {source}",
        data=_event_data(facts, source, run_id),
        to_state=facts.state,
        before=before,
    )
    if facts.state not in WITH_RESULT:
        return True
    if result is None:
        _result(facts, pk, event.pk).save()
    elif result.electronic != facts.electronic_result or result.issued_at != facts.finished_at:
        DossierResult.objects.filter(pk=result.pk).update(
            electronic=facts.electronic_result, issued_at=facts.finished_at
        )
    if had_electronic != facts.electronic_result:
        # The event above was counted with the result as it was; count the new one.
        after = signals.snapshot(dossier)
        signals.dossiers_imported.send(
            sender=Dossier, changes=[(after, after, had_electronic, facts.electronic_result)]
        )
    return True
