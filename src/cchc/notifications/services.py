"""Sending notifications. Call `notify` inside the transaction of the change it reports:
the inbox row commits with the change, and e-mail/SMS delivery happens after commit, so a
rolled-back change never sends anything."""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cchc.errors import NotFound
from cchc.notifications.models import Channel, Notification

logger = logging.getLogger(__name__)

# SMS adapters: callables (number, text) -> None, registered by deployment code. The
# configured backend (`CCHC_SMS_BACKEND`: outbox, http, none) is used besides them. With
# neither, SMS messages stay in the table marked with the reason they were not sent.
SMS_SENDERS: list[Any] = []

# Attachments rendered when an e-mail is sent: prefix -> renderer(notification, rest) ->
# (file name, content, MIME type). Registered by the app that owns the document (the portal
# registers "dossier-form"), so this app imports nothing from them.
ATTACHMENT_RENDERERS: dict[str, Callable[[Notification, str], tuple[str, bytes, str]]] = {}


def sms_outbox_path() -> Path:
    return Path(getattr(settings, "CCHC_SMS_OUTBOX", Path(settings.CCHC_VAR_DIR) / "sms.jsonl"))


def _sms_outbox(number: str, text: str) -> None:
    """Development outbox: one JSON line per message, readable with any text tool."""
    path = sms_outbox_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {"at": timezone.now().isoformat(), "to": number, "text": text}, ensure_ascii=False
    )
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def _sms_http(number: str, text: str) -> None:
    body = json.dumps({"to": number, "text": text}).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the operator configures the URL
        settings.CCHC_SMS_URL,
        data=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {getattr(settings, 'CCHC_SMS_TOKEN', '')}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status >= 300:
            raise RuntimeError(f"cổng SMS trả mã {response.status}")


def sms_senders() -> list[Any]:
    """The configured SMS backend followed by any registered adapters."""
    backend = getattr(settings, "CCHC_SMS_BACKEND", "none")
    chosen: list[Any] = {"outbox": [_sms_outbox], "http": [_sms_http]}.get(backend, [])
    return chosen + SMS_SENDERS


def read_sms_outbox(limit: int = 50) -> list[dict[str, str]]:
    """The latest messages of the development outbox (newest last)."""
    path = sms_outbox_path()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(line) for line in lines if line.strip()]


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
                dossier_id=dossier_id,
                attachment=attachment,
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
            text = note.body + (f"\n\n{absolute(note.link)}" if note.link else "")
            message = EmailMessage(note.subject, text, settings.DEFAULT_FROM_EMAIL, [note.address])
            if note.attachment:
                _attach(message, note)
            message.send()
        elif note.channel == Channel.SMS:
            senders = sms_senders()
            if not senders:
                error = "Chưa cấu hình dịch vụ gửi SMS."
            for sender in senders:
                sender(note.address, note.body[:480])
    except Exception as exc:  # delivery must never break the workflow that caused it
        logger.warning("notification %s not delivered: %s", pk, exc)
        error = str(exc)[:300]
    Notification.objects.filter(pk=pk).update(
        sent_at=None if error else timezone.now(), error=error
    )


def absolute(link: str) -> str:
    """A site path as a full address for e-mails (`CCHC_SITE_URL`); full URLs unchanged."""
    if link.startswith("/"):
        return settings.CCHC_SITE_URL + link
    return link


def _attach(message: EmailMessage, note: Notification) -> None:
    """Render and attach the notification's document; without it the mail still goes."""
    prefix, _, rest = note.attachment.partition(":")
    renderer = ATTACHMENT_RENDERERS.get(prefix)
    if renderer is None:
        logger.warning("notification %s: no renderer for %r", note.pk, note.attachment)
        return
    try:
        name, content, mimetype = renderer(note, rest)
    except Exception as exc:  # the message matters more than its attachment
        logger.warning("notification %s: attachment not rendered: %s", note.pk, exc)
        message.body += "\n\n(Không đính kèm được văn bản; xem trên Cổng dịch vụ công.)"
        return
    message.attach(name, content, mimetype)


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
