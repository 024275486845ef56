"""What the outbox looks like (`status`, `dead`) and the reconciliation with the portal.

`reconcile(since)`: for each dossier with events since `since` that the outbox has synced
and that has nothing left to deliver, ask the portal (`TraCuuHoSo`) what it holds and
compare its TrangThaiHoSo and its step count (SoBuoc, UNVERIFIED name) with ours. A dossier
that differs gets a full `DongBoHoSoMC` re-queued (isUpdating "True"; "False" when the
portal does not know it), keyed ``f"{code}:reconcile:{stamp}:DongBoHoSoMC"`` so that it
is a new record, not a repeat of an old one. Called by the command only (never in a
request): each lookup is one call with the client's time-out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef
from django.utils import timezone

from cchc.audit import log
from cchc.dossiers.models import Dossier, DossierEvent
from cchc.jobs.queue import enqueue
from cchc.national import client, delivery, outbox, protocol
from cchc.national.models import SyncRecord, SyncState

NOT_FOUND = "404"  # TraCuuHoSo's refusal code for an unknown dossier (contract)


def status(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts by state, the age of the oldest record waiting, and the blocked dossiers."""
    at = now or timezone.now()
    rows = SyncRecord.objects.values("state").annotate(n=Count("id"))
    counts = {state: 0 for state in SyncState.values}
    for row in rows:
        counts[row["state"]] = row["n"]
    discarded = SyncRecord.objects.filter(discarded_at__isnull=False).count()
    oldest = SyncRecord.objects.filter(
        state__in=[SyncState.PENDING, SyncState.RETRY, SyncState.SENDING]
    ).aggregate(first=Min("created_at"))["first"]
    return {
        "connected": client.connected(),
        **counts,
        "discarded": discarded,
        "oldest_pending_seconds": int((at - oldest).total_seconds()) if oldest else 0,
        "blocked": delivery.blocked_dossiers(),
    }


def dead_letters() -> list[dict[str, Any]]:
    """Every dead record (discarded ones flagged), oldest first; no payload (personal data)."""
    rows = SyncRecord.objects.filter(state=SyncState.DEAD).select_related("dossier")
    return [
        {
            "id": r.pk,
            "dossier": r.dossier.code,
            "service": r.service,
            "key": r.key,
            "attempts": r.attempts,
            "error_code": r.error_code,
            "error": r.error,
            "created_at": r.created_at.isoformat(),
            "discarded": r.discarded_at is not None,
        }
        for r in rows.order_by("id")
    ]


@dataclass
class Difference:
    dossier: str
    ours_status: str
    portal_status: str
    ours_steps: int
    portal_steps: int | None
    queued: str


def reconcile(
    since: dt.datetime, *, now: dt.datetime | None = None, limit: int = 1000
) -> dict[str, Any]:
    """Compare the portal's view of each dossier changed since `since` with ours; re-queue a
    full object update where they differ. Raises `NationalError` when the portal cannot be
    reached (nothing is queued for the dossier being looked up then)."""
    at = now or timezone.now()
    if not client.connected():
        raise client.NotConnected()
    changed = DossierEvent.objects.filter(dossier=OuterRef("pk"), at__gte=since)
    synced = SyncRecord.objects.filter(dossier=OuterRef("pk"))
    waiting = SyncRecord.objects.filter(delivery.unsent(), dossier=OuterRef("pk"))
    dossiers = (
        Dossier.objects.filter(Exists(changed), Exists(synced), ~Exists(waiting))
        .select_related("procedure__field", "current_agency")
        .order_by("pk")[:limit]
    )
    checked = 0
    differences: list[Difference] = []
    for dossier in dossiers:
        checked += 1
        ours_status = protocol.status_of(dossier)
        ours_steps = SyncRecord.objects.filter(
            dossier=dossier, service=protocol.SYNC_STEP, discarded_at__isnull=True
        ).count()
        try:
            found = client.call(protocol.LOOKUP, extra={"MaHoSo": dossier.code})
        except client.NationalError as exc:
            if exc.error_code != NOT_FOUND:
                raise
            found = None
        found = found if isinstance(found, dict) else None
        portal_status = str(found.get("TrangThaiHoSo", "")) if found else ""
        portal_steps = _int(found.get("SoBuoc")) if found else None
        if found and portal_status == ours_status and portal_steps == ours_steps:
            continue
        key = _requeue(dossier, updating=found is not None, at=at)
        differences.append(
            Difference(
                dossier=dossier.code,
                ours_status=ours_status,
                portal_status=portal_status,
                ours_steps=ours_steps,
                portal_steps=portal_steps,
                queued=key,
            )
        )
    return {"checked": checked, "differences": [asdict(d) for d in differences]}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _requeue(dossier: Dossier, *, updating: bool, at: dt.datetime) -> str:
    key = f"{dossier.code}:reconcile:{protocol.stamp(at)}:{protocol.SYNC_OBJECT}"[:120]
    with transaction.atomic():
        if SyncRecord.objects.filter(key=key).exists():
            return key
        item = protocol.dossier_object(dossier)
        record = SyncRecord.objects.create(
            dossier=dossier,
            event=None,
            service=protocol.SYNC_OBJECT,
            reason="reconcile",
            key=key,
            payload=outbox.object_payload(item, updating=updating),
            created_at=at,
        )
        log.record(
            "national.sync.reconcile",
            actor=None,
            obj=record,
            data={"key": key, "dossier": dossier.code},
            at=at,
        )
        enqueue(outbox.DELIVER, dossier.pk, name=f"dvcqg-{dossier.pk}")
    return key


def changed_since_default(now: dt.datetime | None = None) -> dt.datetime:
    """The default window of `reconcile`: the last day."""
    return (now or timezone.now()) - dt.timedelta(days=1)
