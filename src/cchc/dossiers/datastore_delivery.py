"""Signed e-results delivered to the holder's data store on the worker (issue 21 item 4; 766
sub-indicator 3e). The store itself is `cchc.dossiers.datastore`.

**When.** `on_signed(doc)` runs inside the transaction of `issued.replace_with_signed`: for a
result (`IssuedKind.RESULT`) whose dossier has the applicant's ID number, with a store
configured (`CCHC_DATASTORE` not "off"), it writes one `DatastoreDelivery` row ("waiting")
and queues `deliver(pk)` after commit — never inside a request. The worker's minute sweep
(`deliver_due`, `cchc datastore deliver`) sends whatever is due, and takes back a delivery
left "sending" by a worker that died (after `lease_minutes`).

**How.** The job claims the row with one conditional UPDATE (waiting and due → sending,
attempts + 1), reads the issued bytes (checked against their hash) and calls the store with
the row's idempotency `key` — the same on every attempt, so a lost answer does not keep two
copies. On success, in one transaction: the row is "sent" with the store's receipt, the
dossier gets `result_in_datastore` and a "note" event that carries the change to the
indicator cells (`dossier_changed`; the flag is not a projection of the events, like
`digitised`), and the audit log records `dossier.datastore.sent`. A transient failure (time-
out, refused connection, HTTP 5xx) waits 1, 2, 4 … minutes (`cchc.jobs.retry.backoff`,
capped) and goes back to "waiting" with the error; a refusal of the content, a damaged stored
copy or spent attempts (`max_attempts`) make it "failed", visible (`cchc datastore status`,
the dossier page) and audited, until `cchc datastore retry`.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.dossiers import datastore, issued, signals
from cchc.dossiers.digitisation import normalise_id
from cchc.dossiers.models import (
    DatastoreDelivery,
    DeliveryState,
    Dossier,
    IssuedDocument,
    IssuedKind,
    SignState,
    State,
)
from cchc.dossiers.services import _append, _lock
from cchc.errors import Conflict, NotFound
from cchc.jobs import retry
from cchc.jobs.queue import enqueue

logger = logging.getLogger(__name__)

JOB = "cchc.dossiers.datastore_delivery.deliver"
SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"
INTERRUPTED = "Tiến trình gửi dừng giữa chừng; gửi lại với cùng khóa (không tạo bản trùng)."


# -- settings --------------------------------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(datastore.config().get("max_attempts", 10)))


def lease() -> dt.timedelta:
    return dt.timedelta(minutes=float(datastore.config().get("lease_minutes", 10)))


def backoff(attempts: int, *, jitter: Callable[[], float] = random.random) -> dt.timedelta:
    cap = max(0.01, float(datastore.config().get("backoff_max_minutes", 60)))
    return retry.backoff(attempts, cap_minutes=cap, jitter=jitter)


# -- queueing ---------------------------------------------------------------------------------


def key_for(doc: IssuedDocument) -> str:
    """The idempotency key of delivering `doc`: its dossier, its id and its signed bytes."""
    return f"{doc.dossier.code}:kq{doc.pk}:{doc.sha256[:16]}"[:120]


def on_signed(doc: IssuedDocument, *, now: dt.datetime | None = None) -> DatastoreDelivery | None:
    """Queue the delivery of a just-signed result (inside the signing transaction). Nothing
    for another kind, without the applicant's ID number, or with delivery off; nothing yet
    before the dossier is returned (results are issued and signed at approval, but handed
    over — and so put in the holder's store — only with the return, which the fees rule
    guards): `on_dossier_changed` queues it then."""
    if doc.kind != IssuedKind.RESULT or doc.signed != SignState.SIGNED:
        return None
    if doc.dossier.state != State.RETURNED:
        return None
    name = datastore.backend()
    if name == datastore.OFF:
        return None
    dossier = doc.dossier
    holder = normalise_id(dossier.applicant_id_number)
    if not holder:
        return None
    at = now or timezone.now()
    row, created = DatastoreDelivery.objects.get_or_create(
        key=key_for(doc),
        defaults={
            "document": doc,
            "dossier": dossier,
            "holder_id_number": holder,
            "backend": name,
            "sha256": doc.sha256,
            "created_at": at,
        },
    )
    if created:
        log.record(
            "dossier.datastore.queued",
            actor=None,
            obj=dossier,
            agency_id=dossier.current_agency_id,
            at=at,
            data={"delivery": row.pk, "document": doc.pk, "backend": name, "key": row.key},
        )
        enqueue(JOB, row.pk, name=f"datastore-{row.pk}")
    return row


# -- the job ----------------------------------------------------------------------------------


def _due(at: dt.datetime) -> Q:
    return Q(state=DeliveryState.WAITING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at)
    )


def _claim(pk: int, at: dt.datetime) -> DatastoreDelivery | None:
    won = (
        DatastoreDelivery.objects.filter(pk=pk)
        .filter(_due(at))
        .update(state=DeliveryState.SENDING, claimed_at=at, attempts=F("attempts") + 1)
    )
    if not won:
        return None
    return DatastoreDelivery.objects.select_related("document", "dossier__procedure").get(pk=pk)


def parcel_of(row: DatastoreDelivery) -> datastore.Parcel:
    doc, dossier = row.document, row.dossier
    title = dossier.results.filter(code=doc.number).values_list("title", flat=True).first()
    return datastore.Parcel(
        holder_id_number=row.holder_id_number,
        key=row.key,
        kind=doc.kind,
        title=str(title or doc.get_kind_display()),
        dossier_code=dossier.code,
        procedure_code=dossier.procedure.code,
        issued_on=timezone.localtime(doc.issued_at).date(),
        sha256=doc.sha256,
        filename=doc.filename,
        content=issued.content(doc),
    )


def _store_for(row: DatastoreDelivery) -> datastore.Store | None:
    if row.backend == datastore.LOCAL:
        return datastore.LocalStore(document_id=row.document_id, dossier_id=row.dossier_id)
    if row.backend == datastore.NATIONAL:
        return datastore.NationalStore(datastore.config())
    return None


def deliver(pk: int, *, now: dt.datetime | None = None) -> str:
    """The worker's job: deliver one result if it is due. Returns SENT, RETRY, FAILED or
    SKIPPED. Never raises for a delivery failure: the row carries it."""
    at = now or timezone.now()
    row = _claim(pk, at)
    if row is None:
        return SKIPPED
    target = _store_for(row)
    try:
        if target is None:
            raise datastore.DatastoreError(
                f"Không có kho dữ liệu «{row.backend}».", transient=False, error_code="backend"
            )
        if row.document.sha256 != row.sha256 or row.document.superseded_at is not None:
            raise datastore.DatastoreError(
                "Kết quả đã được phát hành lại; bản này không gửi vào kho nữa.",
                transient=False,
                error_code="superseded",
            )
        receipt = target.deliver(parcel_of(row))
    except datastore.DatastoreError as exc:
        return _failed(row, exc.message, exc.error_code, at, permanent=not exc.transient)
    except Conflict as exc:  # the stored copy is damaged: retrying will not help
        return _failed(row, exc.message, exc.code, at, permanent=True)
    except Exception as exc:  # an unforeseen failure is retried like a transient one
        logger.exception("datastore delivery %s: unexpected failure", row.pk)
        return _failed(row, f"{type(exc).__name__}: {exc}", "", at, permanent=False)
    return SENT if _succeeded(row, receipt, now) else SKIPPED


def _succeeded(row: DatastoreDelivery, receipt: str, now: dt.datetime | None) -> bool:
    at = now or timezone.now()
    with transaction.atomic():
        done = (
            DatastoreDelivery.objects.filter(pk=row.pk)
            .exclude(state=DeliveryState.SENT)
            .update(
                state=DeliveryState.SENT,
                receipt=receipt,
                sent_at=at,
                error="",
                error_code="",
                next_attempt_at=None,
                claimed_at=None,
            )
        )
        if not done:
            return False
        dossier = _lock(row.dossier, None)
        mark_delivered(dossier, row, receipt, at)
        log.record(
            "dossier.datastore.sent",
            actor=None,
            obj=dossier,
            agency_id=dossier.current_agency_id,
            at=at,
            data={
                "delivery": row.pk,
                "document": row.document_id,
                "backend": row.backend,
                "receipt": receipt,
                "attempts": row.attempts,
            },
        )
    return True


def mark_delivered(dossier: Dossier, row: DatastoreDelivery, receipt: str, at: dt.datetime) -> None:
    """Set `result_in_datastore` on the locked `dossier` and append the "note" event that
    carries it to the indicator cells (inside the caller's transaction)."""
    before = signals.snapshot(dossier)
    dossier.result_in_datastore = True
    Dossier.objects.filter(pk=dossier.pk).update(result_in_datastore=True)
    where = "kho dữ liệu quốc gia" if row.backend == datastore.NATIONAL else "kho dữ liệu"
    _append(
        dossier,
        "note",
        actor=SYSTEM,
        now=at,
        reason=(
            f"Kết quả điện tử {row.document.number} đã ký số được gửi vào {where} của người "
            f"nộp (mã biên nhận {receipt})."
        ),
        data={"datastore": {"delivery": row.pk, "document": row.document_id, "receipt": receipt}},
        before=before,
    )


def _failed(
    row: DatastoreDelivery, error: str, code: str, at: dt.datetime, *, permanent: bool
) -> str:
    logger.warning(
        "datastore delivery %s (%s) attempt %s: %s", row.pk, row.key, row.attempts, error
    )
    stop = permanent or row.attempts >= max_attempts()
    with transaction.atomic():
        done = DatastoreDelivery.objects.filter(
            pk=row.pk, state=DeliveryState.SENDING, claimed_at=row.claimed_at
        ).update(
            state=DeliveryState.FAILED if stop else DeliveryState.WAITING,
            error=error[:500],
            error_code=str(code or "")[:20],
            next_attempt_at=None if stop else at + backoff(row.attempts),
            claimed_at=None,
        )
        if done:
            log.record(
                "dossier.datastore.failed" if stop else "dossier.datastore.retry",
                actor=None,
                obj=row.dossier,
                agency_id=row.dossier.current_agency_id,
                at=at,
                data={
                    "delivery": row.pk,
                    "attempts": row.attempts,
                    "error": error[:300],
                    "code": str(code or "")[:20],
                },
            )
    return FAILED if stop else RETRY


# -- the sweep and the administrators' commands -------------------------------------------------


def reclaim(now: dt.datetime | None = None) -> int:
    """Deliveries left "sending" longer than the lease (the worker died): back to waiting,
    due at once (same key). Returns how many."""
    at = now or timezone.now()
    stale = DatastoreDelivery.objects.filter(
        state=DeliveryState.SENDING, claimed_at__lt=at - lease()
    )
    count = 0
    for row in stale.order_by("pk"):
        with transaction.atomic():
            done = DatastoreDelivery.objects.filter(
                pk=row.pk, state=DeliveryState.SENDING, claimed_at=row.claimed_at
            ).update(
                state=DeliveryState.WAITING, error=INTERRUPTED, next_attempt_at=at, claimed_at=None
            )
            if done:
                log.record(
                    "dossier.datastore.reclaimed",
                    actor=None,
                    obj=row.dossier,
                    at=at,
                    data={"delivery": row.pk, "attempts": row.attempts},
                )
        count += done
    return count


def deliver_due(
    *, now: dt.datetime | None = None, limit: int = 200, dossier: Dossier | None = None
) -> dict[str, int]:
    """The worker's sweep (`cchc datastore deliver`, every minute): take back stuck rows, then
    deliver every due one, oldest first, at most `limit`. Returns the counts."""
    at = now or timezone.now()
    counts = {SENT: 0, RETRY: 0, FAILED: 0, SKIPPED: 0, "reclaimed": reclaim(at)}
    due = DatastoreDelivery.objects.filter(_due(at))
    if dossier is not None:
        due = due.filter(dossier=dossier)
    for pk in list(due.order_by("pk").values_list("pk", flat=True)[: max(limit, 1)]):
        counts[deliver(pk, now=now)] += 1
    return counts


def on_dossier_changed(
    sender: Any,
    *,
    before: dict[str, Any] | None,
    after: Dossier,
    event: Any,
    **kwargs: Any,
) -> None:
    """The return of a dossier queues the delivery of its signed results (inside the
    event's transaction; delivered by the worker after commit)."""
    if after.state == State.RETURNED and (before or {}).get("state") != State.RETURNED:
        queue_missing(dossier=after)


def queue_missing(*, dossier: Dossier | None = None, now: dt.datetime | None = None) -> int:
    """Queue the signed results in force that have no delivery yet (a result signed while
    delivery was off, or an ID number added later). Returns how many were queued."""
    if datastore.backend() == datastore.OFF:
        return 0
    docs = IssuedDocument.objects.filter(
        kind=IssuedKind.RESULT, signed=SignState.SIGNED, superseded_at__isnull=True
    ).exclude(dossier__applicant_id_number="")
    if dossier is not None:
        docs = docs.filter(dossier=dossier)
    count = 0
    for doc in docs.select_related("dossier").order_by("pk"):
        if DatastoreDelivery.objects.filter(key=key_for(doc)).exists():
            continue
        with transaction.atomic():
            count += on_signed(doc, now=now) is not None
    return count


def retry_failed(*, dossier: Dossier | None = None, now: dt.datetime | None = None) -> int:
    """Failed deliveries back to waiting with their attempts reset (same key), audited;
    delivery queued after commit. Returns how many."""
    at = now or timezone.now()
    rows = DatastoreDelivery.objects.filter(state=DeliveryState.FAILED)
    if dossier is not None:
        rows = rows.filter(dossier=dossier)
    count = 0
    for row in rows.select_related("dossier").order_by("pk"):
        with transaction.atomic():
            done = DatastoreDelivery.objects.filter(pk=row.pk, state=DeliveryState.FAILED).update(
                state=DeliveryState.WAITING, attempts=0, next_attempt_at=None
            )
            if done:
                log.record(
                    "dossier.datastore.resend",
                    actor=None,
                    obj=row.dossier,
                    at=at,
                    data={"delivery": row.pk, "error": row.error[:300]},
                )
                enqueue(JOB, row.pk, name=f"datastore-{row.pk}")
        count += done
    return count


def find_dossier(code: str) -> Dossier:
    found = Dossier.objects.filter(code=code.strip()).first()
    if found is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.", code="dossier.not_found")
    return found


def status() -> dict[str, Any]:
    """`cchc datastore status`: the store, counts by state, the failed ones with their error,
    the next retry."""
    counts = {s.value: 0 for s in DeliveryState}
    grouped = DatastoreDelivery.objects.order_by().values("state").annotate(n=Count("pk"))
    for entry in grouped:
        counts[entry["state"]] = int(entry["n"])
    failed = [
        {
            "delivery": row.pk,
            "dossier": row.dossier.code,
            "attempts": row.attempts,
            "error": row.error,
        }
        for row in DatastoreDelivery.objects.filter(state=DeliveryState.FAILED)
        .select_related("dossier")
        .order_by("pk")[:50]
    ]
    upcoming = (
        DatastoreDelivery.objects.filter(state=DeliveryState.WAITING, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return {
        "backend": datastore.backend(),
        **counts,
        "failed_deliveries": failed,
        "next_retry_at": upcoming.isoformat() if upcoming else None,
        "dossiers_in_datastore": Dossier.objects.filter(result_in_datastore=True).count(),
    }


# -- what pages show --------------------------------------------------------------------------


def delivery_text(row: DatastoreDelivery) -> str:
    """One delivery in Vietnamese, for the dossier pages."""
    if row.state == DeliveryState.SENT:
        assert row.sent_at is not None
        return (
            f"Đã gửi vào kho dữ liệu của người nộp lúc "
            f"{timezone.localtime(row.sent_at):%H:%M %d/%m/%Y} (mã biên nhận {row.receipt})."
        )
    if row.state == DeliveryState.FAILED:
        return f"Gửi vào kho dữ liệu không thành công: {row.error}"
    if row.next_attempt_at is not None:
        return (
            "Đang chờ gửi lại vào kho dữ liệu lúc "
            f"{timezone.localtime(row.next_attempt_at):%H:%M %d/%m/%Y}."
        )
    return "Đang chờ gửi vào kho dữ liệu của người nộp."


def deliveries_of(dossier: Dossier) -> list[tuple[DatastoreDelivery, str]]:
    """The deliveries of the dossier's results with their text, oldest first."""
    rows = DatastoreDelivery.objects.filter(dossier=dossier).select_related("document")
    return [(row, delivery_text(row)) for row in rows.order_by("pk")]
