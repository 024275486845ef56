"""Delivering the outbox to the national portal: the worker's side of `SyncRecord`.

**In order per dossier.** A record is sent only when every earlier record of its dossier
(by id) is sent: the worker always works on the dossier's *head* — its oldest record that is
neither sent nor discarded. A dead head blocks the later records of its dossier; they wait,
visible (`blocked_dossiers`, `cchc dvcqg status`), until an administrator resends the dead
one (`resend`) or discards it (`discard`: it stays dead and visible, audited, and no longer
blocks).

**One sender per dossier.** A worker claims the head with one conditional UPDATE (pending,
or retry and due → sending): the database decides who wins. On PostgreSQL the head row is
first taken with ``SELECT … FOR UPDATE SKIP LOCKED`` (a worker skips a head another one
holds); note that every write transaction there first takes the audit chain's append lock
(`cchc.audit.lockorder`), so claims are in fact serialised — they are short: the network
call runs outside any transaction, with the client's time-out. Only the claimed head is
sent, and a dossier's next record becomes the head only once its predecessor is sent, so two
workers never send the same dossier at once.

**Idempotent.** A retried record sends the same key (``Idempotency-Key`` and
``idempotency_key``) and the same frozen body, so a lost answer (the portal did the work but
the answer never came back) does not create a second step. A worker that dies mid-send
leaves its record `sending`; after the lease (`CCHC_DVCQG["lease_minutes"]`) the sweep puts it
back to `retry` and it is sent again with its key.

**Failures.** A transient `NationalError` (time-out, refused connection, HTTP 5xx, a "5xx"
error_code) is retried with back-off and jitter (1, 2, 4 … minutes, capped at
`backoff_max_minutes`); after `max_attempts`, or at once for a refusal of the content, the
record is a dead letter, audited (`national.sync.dead`) and shown to administrators.

The payload (the applicant's personal data) is never logged: only ids, keys and errors.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import InvalidInput
from cchc.jobs import retry
from cchc.jobs.queue import enqueue
from cchc.national import client, protocol
from cchc.national.models import NationalDossier, SyncRecord, SyncState

logger = logging.getLogger(__name__)

SENT, RETRIED, DEAD, SKIPPED = "sent", "retried", "dead", "skipped"
INTERRUPTED = "Tiến trình gửi dừng giữa chừng; gửi lại với cùng khóa (không tạo bản trùng)."
DELIVER = "cchc.national.delivery.deliver_dossier"

# -- settings ---------------------------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(client.config().get("max_attempts", 12)))


def backoff_cap_minutes() -> float:
    return max(0.01, float(client.config().get("backoff_max_minutes", 60)))


def lease() -> dt.timedelta:
    """How long a claim lasts before the sweep takes the record back: more than the longest
    call (the client's time-out, twice with a fresh session)."""
    return dt.timedelta(minutes=float(client.config().get("lease_minutes", 10)))


def backoff(
    attempts: int, *, cap_minutes: float | None = None, jitter: Callable[[], float] = random.random
) -> dt.timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4 … minutes, capped, times a random
    factor in [0.75, 1.25) so that records queued behind an outage do not all retry at once."""
    cap = backoff_cap_minutes() if cap_minutes is None else cap_minutes
    return retry.backoff(attempts, cap_minutes=cap, jitter=jitter)


# -- which records -----------------------------------------------------------------------


def unsent() -> Q:
    """Records still to deliver (they hold back the later records of their dossier)."""
    return ~Q(state=SyncState.SENT) & Q(discarded_at__isnull=True)


def due(now: dt.datetime) -> Q:
    return Q(state=SyncState.PENDING) | Q(state=SyncState.RETRY) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def head(dossier_id: int) -> SyncRecord | None:
    """The dossier's oldest record still to deliver."""
    return SyncRecord.objects.filter(unsent(), dossier_id=dossier_id).order_by("id").first()


def heads() -> Any:
    """The id of each dossier's head record (one grouped query)."""
    return (
        SyncRecord.objects.filter(unsent())
        .values("dossier_id")
        .annotate(head=Min("id"))
        .values_list("head", flat=True)
    )


def blocked_dossiers() -> list[dict[str, Any]]:
    """Dossiers whose head is a dead letter, with how many records wait behind it."""
    dead_heads = SyncRecord.objects.filter(id__in=heads(), state=SyncState.DEAD).select_related(
        "dossier"
    )
    out = []
    for record in dead_heads.order_by("id"):
        waiting = SyncRecord.objects.filter(
            unsent(), dossier_id=record.dossier_id, id__gt=record.id
        ).count()
        out.append(
            {
                "dossier": record.dossier.code,
                "record": record.id,
                "key": record.key,
                "error": record.error,
                "waiting": waiting,
            }
        )
    return out


# -- delivery -----------------------------------------------------------------------------


def deliver_dossier(
    dossier_id: int, *, now: dt.datetime | None = None, limit: int = 100
) -> dict[str, int]:
    """Send the dossier's due records in order, stopping at the first that is not sent
    (failed, not due yet, or held by another worker). The worker's job after an event."""
    counts = {SENT: 0, RETRIED: 0, DEAD: 0}
    for _ in range(limit):
        outcome = deliver_head(dossier_id, now=now)
        if outcome == SKIPPED:
            break
        counts[outcome] += 1
        if outcome != SENT:
            break
    return counts


def deliver_head(dossier_id: int, *, now: dt.datetime | None = None) -> str:
    """Claim and send the dossier's head record if it is due. Never raises for a delivery
    failure: the record carries it."""
    if not client.connected():
        return SKIPPED  # the portal's address was removed: the records wait, they do not die
    at = now or timezone.now()
    record = _claim(dossier_id, at)
    if record is None:
        return SKIPPED
    payload = dict(record.payload)
    data = payload.pop("data", None)
    try:
        result = client.call(record.service, data, key=record.key, extra=payload)
    except client.NationalError as exc:
        return _failed(record, exc, at, permanent=not exc.transient)
    except Exception as exc:  # a network or decoding failure we did not foresee: retry
        logger.exception("dvcqg record %s: unexpected failure", record.pk)
        error = client.NationalError(f"{type(exc).__name__}: {exc}", transient=True)
        return _failed(record, error, at, permanent=False)
    _succeeded(record, result, at)
    return SENT


def _claim(dossier_id: int, at: dt.datetime) -> SyncRecord | None:
    """Take the dossier's head for this worker if it is due. The conditional UPDATE decides
    who wins; on PostgreSQL the head row is locked first with SKIP LOCKED so that another
    worker claiming the same dossier moves on at once. The attempt is counted here."""
    with transaction.atomic():
        first = head(dossier_id)
        if first is None:
            return None
        if connection.vendor == "postgresql":
            locked = (
                SyncRecord.objects.select_for_update(skip_locked=True)
                .filter(pk=first.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if locked is None:
                return None
        won = (
            SyncRecord.objects.filter(pk=first.pk)
            .filter(due(at))
            .update(state=SyncState.SENDING, claimed_at=at, attempts=F("attempts") + 1)
        )
    if not won:
        return None
    return SyncRecord.objects.get(pk=first.pk)


def _succeeded(record: SyncRecord, result: Any, at: dt.datetime) -> None:
    """Record the delivery (even if the lease ran out meanwhile: the re-send would be a
    repeat with the same key) and, for a dossier object, the national code it got."""
    with transaction.atomic():
        SyncRecord.objects.filter(pk=record.pk).exclude(state=SyncState.SENT).update(
            state=SyncState.SENT,
            sent_at=at,
            error="",
            error_code="",
            next_attempt_at=None,
            claimed_at=None,
        )
        link, _ = NationalDossier.objects.select_for_update().get_or_create(
            dossier_id=record.dossier_id
        )
        code = national_code(result, record)
        # A dossier submitted on the national portal keeps the code it came in with.
        if code and not (link.inbound and link.national_code):
            link.national_code = code
        items = record.payload.get("data") or [{}]
        status = items[0].get("TrangThaiHoSo") or items[0].get("TrangThai") or link.status
        link.status = str(status)[:20]
        link.synced_at = at
        link.save()


def national_code(result: Any, record: SyncRecord) -> str:
    """The national code in a `DongBoHoSoMC` answer: a list of {MaHoSo, MaHoSoQG}
    (MaHoSoQG: UNVERIFIED name), matched on our code."""
    if record.service != protocol.SYNC_OBJECT or not isinstance(result, list):
        return ""
    ours = record.dossier.code if record.dossier_id else ""
    for item in result:
        mine = isinstance(item, dict) and item.get("MaHoSo") in (None, "", ours)
        if mine and item.get("MaHoSoQG"):
            return str(item["MaHoSoQG"])[:80]
    return ""


def _failed(
    record: SyncRecord, exc: client.NationalError, at: dt.datetime, *, permanent: bool
) -> str:
    error = exc.message[:500] if hasattr(exc, "message") else str(exc)[:500]
    logger.warning(
        "dvcqg record %s (%s) not delivered, attempt %s: %s",
        record.pk,
        record.key,
        record.attempts,
        error,
    )
    if permanent or record.attempts >= max_attempts():
        return DEAD if _bury(record, error, exc.error_code) else SKIPPED
    SyncRecord.objects.filter(
        pk=record.pk, state=SyncState.SENDING, claimed_at=record.claimed_at
    ).update(
        state=SyncState.RETRY,
        error=error,
        error_code=exc.error_code[:20],
        next_attempt_at=at + backoff(record.attempts),
        claimed_at=None,
    )
    return RETRIED


def _bury(record: SyncRecord, error: str, error_code: str) -> bool:
    """Make the record a dead letter (if this worker still holds it) and audit it."""
    with transaction.atomic():
        done = SyncRecord.objects.filter(
            pk=record.pk, state=SyncState.SENDING, claimed_at=record.claimed_at
        ).update(
            state=SyncState.DEAD,
            error=error,
            error_code=error_code[:20],
            next_attempt_at=None,
            claimed_at=None,
        )
        if done:
            log.record(
                "national.sync.dead",
                actor=None,
                obj=record,
                data={
                    "key": record.key,
                    "service": record.service,
                    "attempts": record.attempts,
                    "error": error,
                    "error_code": error_code,
                },
            )
    return bool(done)


def reclaim(now: dt.datetime | None = None) -> tuple[int, int]:
    """Take back records whose sender died mid-send (claimed longer ago than the lease): to
    retry at once with the same key, or dead when their attempts are spent. Returns
    (reclaimed, of which dead)."""
    at = now or timezone.now()
    reclaimed = dead = 0
    stale = SyncRecord.objects.filter(state=SyncState.SENDING, claimed_at__lt=at - lease())
    for record in stale.order_by("pk"):
        if record.attempts >= max_attempts():
            if _bury(record, INTERRUPTED, ""):
                reclaimed += 1
                dead += 1
            continue
        with transaction.atomic():
            done = SyncRecord.objects.filter(
                pk=record.pk, state=SyncState.SENDING, claimed_at=record.claimed_at
            ).update(state=SyncState.RETRY, error=INTERRUPTED, next_attempt_at=at, claimed_at=None)
            if done:
                log.record(
                    "national.sync.reclaimed",
                    actor=None,
                    obj=record,
                    data={"key": record.key, "attempts": record.attempts},
                )
        reclaimed += done
    return reclaimed, dead


def send_due(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The worker's sweep (`cchc dvcqg send`, every minute): take back expired claims, then
    deliver each dossier whose head is due, oldest first, at most `limit` dossiers a run."""
    counts = {"sent": 0, "retried": 0, "dead": 0, "reclaimed": 0}
    if not client.connected():
        return counts  # a standalone installation, or the portal's address removed
    counts["reclaimed"], counts["dead"] = reclaim(now)
    at = now or timezone.now()
    dossiers = list(
        SyncRecord.objects.filter(id__in=heads())
        .filter(due(at))
        .order_by("id")
        .values_list("dossier_id", flat=True)[:limit]
    )
    for dossier_id in dossiers:
        for outcome, n in deliver_dossier(dossier_id, now=now).items():
            counts[outcome] += n
    return counts


# -- administrators -------------------------------------------------------------------------


def resend(actor: Any, ids: list[int], *, now: dt.datetime | None = None) -> int:
    """Put dead letters (or records waiting for a retry) back to pending with their attempts
    reset — same key, same body — audited; delivery queued after commit. Returns how many."""
    policy.require(actor, "admin.site")
    if not ids:
        raise InvalidInput("Chưa chọn bản ghi đồng bộ nào.", code="national.sync.none")
    at = now or timezone.now()
    dossiers: set[int] = set()
    done = 0
    with transaction.atomic():
        rows = SyncRecord.objects.filter(pk__in=ids, state__in=[SyncState.DEAD, SyncState.RETRY])
        for record in rows.order_by("pk"):
            if not SyncRecord.objects.filter(pk=record.pk, state=record.state).update(
                state=SyncState.PENDING,
                attempts=0,
                next_attempt_at=None,
                claimed_at=None,
                discarded_at=None,
            ):
                continue
            log.record(
                "national.sync.resend",
                actor=actor,
                obj=record,
                data={"key": record.key, "state": record.state, "error": record.error},
                at=at,
            )
            dossiers.add(record.dossier_id)
            done += 1
        for dossier_id in sorted(dossiers):
            enqueue(DELIVER, dossier_id, name=f"dvcqg-{dossier_id}")
    return done


def discard(actor: Any, ids: list[int], *, now: dt.datetime | None = None) -> int:
    """Skip dead letters ("bỏ qua"): they stay dead and visible, but no longer block the
    later records of their dossier (whose delivery is queued). Audited. Returns how many."""
    policy.require(actor, "admin.site")
    if not ids:
        raise InvalidInput("Chưa chọn bản ghi đồng bộ nào.", code="national.sync.none")
    at = now or timezone.now()
    dossiers: set[int] = set()
    done = 0
    with transaction.atomic():
        rows = SyncRecord.objects.filter(
            pk__in=ids, state=SyncState.DEAD, discarded_at__isnull=True
        )
        for record in rows.order_by("pk"):
            if not SyncRecord.objects.filter(
                pk=record.pk, state=SyncState.DEAD, discarded_at__isnull=True
            ).update(discarded_at=at):
                continue
            log.record(
                "national.sync.discard",
                actor=actor,
                obj=record,
                data={"key": record.key, "error": record.error},
                at=at,
            )
            dossiers.add(record.dossier_id)
            done += 1
        for dossier_id in sorted(dossiers):
            enqueue(DELIVER, dossier_id, name=f"dvcqg-{dossier_id}")
    return done
