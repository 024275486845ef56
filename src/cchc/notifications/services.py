"""Sending notifications. Call `notify` inside the transaction of the change it reports:
the inbox row commits with the change, and e-mail/SMS delivery happens after commit, so a
rolled-back change never sends anything."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from cchc.notifications.models import Channel, Notification

logger = logging.getLogger(__name__)

# SMS adapters: callables (number, text) -> None, registered by deployment code. Without one,
# SMS messages stay in the inbox table marked with the reason they were not sent.
SMS_SENDERS: list[Any] = []


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
    now: dt.datetime | None = None,
) -> Notification | None:
    """Queue one notification. With `key`, a second call with the same key does nothing and
    returns None. E-mail goes to `address` or the user's e-mail after the transaction commits."""
    if user is not None and getattr(user, "pk", None) is None:
        user = None
    if channel == Channel.EMAIL and not address and user is not None:
        address = user.email or ""
    if key is not None and Notification.objects.filter(key=key).exists():
        return None
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
                created_at=now or timezone.now(),
            )
    except IntegrityError:  # the same key raced in from another process
        return None
    if channel in (Channel.EMAIL, Channel.SMS) and address:
        transaction.on_commit(lambda: deliver(note.pk))
    return note


def deliver(pk: int) -> None:
    """Send one queued e-mail/SMS; failures are recorded on the row, never raised."""
    note = Notification.objects.get(pk=pk)
    if note.sent_at is not None:
        return
    error = ""
    try:
        if note.channel == Channel.EMAIL:
            text = note.body + (f"\n\n{note.link}" if note.link else "")
            send_mail(note.subject, text, settings.DEFAULT_FROM_EMAIL, [note.address])
        elif note.channel == Channel.SMS:
            if not SMS_SENDERS:
                error = "Chưa cấu hình dịch vụ gửi SMS."
            for sender in SMS_SENDERS:
                sender(note.address, f"{note.subject}. {note.body}"[:480])
    except Exception as exc:  # delivery must never break the workflow that caused it
        logger.warning("notification %s not delivered: %s", pk, exc)
        error = str(exc)[:300]
    Notification.objects.filter(pk=pk).update(
        sent_at=None if error else timezone.now(), error=error
    )


def inbox(user: Any, *, unread_only: bool = False, limit: int = 20) -> list[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs[:limit])


def mark_read(user: Any, pk: int, *, now: dt.datetime | None = None) -> None:
    Notification.objects.filter(user=user, pk=pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
