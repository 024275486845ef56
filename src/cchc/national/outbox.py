"""The transactional outbox toward the national portal (Cổng DVCQG).

`on_dossier_changed` receives `cchc.dossiers.signals.dossier_changed`, which the dossier
engine sends inside the transaction of every event: when a portal is configured
(`client.connected()`), it writes the `SyncRecord` rows the event calls for in that same
transaction — so a rolled-back event leaves no record, and a committed one always has its
records. Each record's payload is frozen at event time (what the dossier was after that
event), and its key, ``f"{dossier.code}:{event.seq}:{service}"``, travels with every attempt
(idempotency).

Which records (see `protocol.wanted`), from the desk's receipt on:
- the first record of a dossier is a full `DongBoHoSoMC` with isUpdating "False" (also
  when the dossier existed before the connection was configured: its next event creates it);
- later events that change the dossier object → `DongBoHoSoMC` isUpdating "True";
- events that are a processing step → `CapNhatTienDoHoSoMC` (after the object update of the
  same event, so the portal knows the dossier's new state before the step).

Imports and the demo generator (`dossiers_imported`, `dossiers_bulk_loaded`) write no records
on purpose: imported dossiers belong to the other one-stop system, which syncs them itself,
and generated demo rows are not real dossiers. Only events appended through the engine
(`services.act`, intake) are synced.

After commit, `delivery.deliver_dossier` is queued on the worker (`jobs.queue.enqueue`);
the worker's minute sweep (`delivery.send_due`) sends anything whose job was lost.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cchc.dossiers.models import Dossier, DossierEvent
from cchc.jobs.queue import enqueue
from cchc.national import client, protocol
from cchc.national.models import SyncRecord

DELIVER = "cchc.national.delivery.deliver_dossier"


def key_for(dossier: Dossier, event: DossierEvent, service: str) -> str:
    return f"{dossier.code}:{event.seq}:{service}"[:120]


def on_dossier_changed(
    sender: Any,
    *,
    before: dict[str, Any] | None,
    after: Dossier,
    event: DossierEvent,
    **kwargs: Any,
) -> None:
    """Write this event's outbox records (inside the event's transaction)."""
    if not client.connected() or after.source:
        return
    records = records_for(after, event, before)
    if records:
        SyncRecord.objects.bulk_create(records)
        enqueue(DELIVER, after.pk, name=f"dvcqg-{after.pk}")


def records_for(
    dossier: Dossier, event: DossierEvent, before: dict[str, Any] | None
) -> list[SyncRecord]:
    """The records `event` calls for, not saved. None before the desk has received the
    dossier: the portal's dossier object needs NgayTiepNhan and NgayHenTra (an online
    submission waiting for the desk's check, or one refused at the counter, is not sent —
    UNVERIFIED whether the portal expects those)."""
    if dossier.received_at is None:
        return []
    obj, step = protocol.wanted(event, before, dossier)
    first = not SyncRecord.objects.filter(dossier=dossier).exists()
    if not (obj or step or first):
        return []
    at = event.at or timezone.now()
    records: list[SyncRecord] = []
    if obj or first:
        events = list(dossier.events.order_by("seq"))
        item = protocol.dossier_object(dossier, events)
        records.append(
            SyncRecord(
                dossier=dossier,
                event=event,
                service=protocol.SYNC_OBJECT,
                reason=event.action[:40],
                key=key_for(dossier, event, protocol.SYNC_OBJECT),
                payload=object_payload(item, updating=not first),
                created_at=at,
            )
        )
    if step:
        records.append(
            SyncRecord(
                dossier=dossier,
                event=event,
                service=protocol.SYNC_STEP,
                reason=event.action[:40],
                key=key_for(dossier, event, protocol.SYNC_STEP),
                payload={"data": [protocol.step(dossier, event)]},
                created_at=at,
            )
        )
    return records


def object_payload(item: dict[str, Any], *, updating: bool) -> dict[str, Any]:
    """The stored call of a `DongBoHoSoMC`: top-level fields and the data list."""
    return {"isUpdating": "True" if updating else "False", "data": [item]}
