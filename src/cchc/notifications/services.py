"""Notifications. Call `notify` inside the transaction of the change it reports: the inbox
row commits with the change, and e-mail/SMS delivery is queued on the worker after commit
(`cchc.notifications.delivery`), so a rolled-back change never sends anything and no request
ever waits for a mail server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import InvalidInput, NotFound
from cchc.jobs.queue import enqueue
from cchc.notifications.delivery import (  # noqa: F401  (re-exported: callers' one entry point)
    ATTACHMENT_RENDERERS,
    NOT_CONFIGURED,
    SMS_SENDERS,
    absolute,
    deliver,
    read_sms_outbox,
    sms_outbox_path,
    sms_senders,
)
from cchc.notifications.models import Channel, Notification, State

DELIVER = "cchc.notifications.delivery.deliver"


def notify(
    *,
    kind: str,
    subject: str,
    body: str = "",
    user: Any = None,
    address: str = "",
    channel: str = Channel.IN_APP,
    link: str = "",
    key: str | None = None,
    agency_id: int | None = None,
    dossier_id: int | None = None,
    attachment: str = "",
    now: dt.datetime | None = None,
) -> Notification | None:
    """Record one notification. With `key`, a second call with the same key does nothing and
    returns None. E-mail goes to `address` or the user's e-mail: after the transaction
    commits, `delivery.deliver` is queued on the worker (and the worker's sweep sends the
    row anyway if that job is lost)."""
    if user is not None and getattr(user, "pk", None) is None:
        user = None
    if channel == Channel.EMAIL and not address and user is not None:
        address = user.email or ""
    if key is not None and Notification.objects.filter(key=key).exists():
        return None
    state, error = _initial_state(channel, address)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user,
                address=address,
                channel=channel,
                kind=kind,
                subject=subject[:300],
                body=body,
                link=link,
                key=key,
                agency_id=agency_id,
                dossier_id=dossier_id,
                attachment=attachment,
                created_at=now or timezone.now(),
                state=state,
                error=error,
            )
    except IntegrityError:  # the same key raced in from another process
        return None
    if state == State.PENDING:
        enqueue(DELIVER, note.pk, name=f"notification-{note.pk}")
    return note


def _initial_state(channel: str, address: str) -> tuple[str, str]:
    """Whether a new row is for the worker: in-app messages and rows without an address
    have nothing to deliver; SMS with no SMS service configured is recorded with the reason,
    as before (not a dead letter: a province without SMS would fill that list)."""
    if channel not in (Channel.EMAIL, Channel.SMS):
        return State.NONE, ""
    if not address:
        return State.NONE, "Không có địa chỉ nhận."
    if channel == Channel.SMS and not sms_senders():
        return State.NONE, NOT_CONFIGURED
    return State.PENDING, ""


def resend(actor: Any, ids: list[int], *, now: dt.datetime | None = None) -> int:
    """Send dead letters (or rows waiting for a retry) again, now: back to pending with
    their attempts reset, each change audited, and delivery queued after commit. For
    administrators (the admin's "Gửi lại"). Returns how many rows were put back."""
    policy.require(actor, "admin.site")
    if not ids:
        raise InvalidInput("Chưa chọn thông báo nào để gửi lại.", code="notification.none")
    at = now or timezone.now()
    done: list[int] = []
    with transaction.atomic():
        rows = Notification.objects.filter(pk__in=ids, state__in=[State.DEAD, State.RETRY])
        for note in rows.order_by("pk"):
            # Conditional: a worker may have claimed the retry meanwhile.
            if not Notification.objects.filter(pk=note.pk, state=note.state).update(
                state=State.PENDING, attempts=0, next_attempt_at=None, claimed_at=None, error=""
            ):
                continue
            log.record(
                "notification.resend",
                actor=actor,
                obj=note,
                data={"state": note.state, "attempts": note.attempts, "error": note.error},
                agency_id=note.agency_id,
                at=at,
            )
            done.append(note.pk)
        for pk in done:
            enqueue(DELIVER, pk, name=f"notification-{pk}")
    return len(done)


def for_dossier(dossier_id: int) -> list[Notification]:
    """Every notification recorded on a dossier, oldest first."""
    return list(Notification.objects.filter(dossier_id=dossier_id).order_by("created_at", "id"))


def inbox(user: Any, *, unread_only: bool = False, limit: int = 20) -> list[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs[:limit])


def mark_read(user: Any, pk: int, *, now: dt.datetime | None = None) -> None:
    Notification.objects.filter(user=user, pk=pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


def own_inbox(user: Any) -> QuerySet[Notification]:
    """The user's in-app messages, newest first (the inbox page pages through it)."""
    return Notification.objects.filter(user=user, channel=Channel.IN_APP).order_by(
        "-created_at", "-id"
    )


def unread_count(user: Any) -> int:
    if getattr(user, "pk", None) is None:
        return 0
    return own_inbox(user).filter(read_at__isnull=True).count()


def mark_all_read(user: Any, *, now: dt.datetime | None = None) -> int:
    return own_inbox(user).filter(read_at__isnull=True).update(read_at=now or timezone.now())


def open_message(user: Any, pk: int, *, now: dt.datetime | None = None) -> str:
    """Mark one of the user's messages read and return where it points: a path on this
    site only (never an outside address), else the inbox."""
    note = own_inbox(user).filter(pk=pk).first()
    if note is None:
        raise NotFound("Không tìm thấy thông báo.", code="notification.not_found")
    mark_read(user, pk, now=now)
    link = note.link or ""
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return ""
