"""Delivering e-mail and SMS: the worker's side of the outbox (the Notification table).

`notify` (services) records a row in state `pending` and, after its transaction commits,
queues `deliver(pk)` on the worker; nothing is sent inside a request. Every minute the
worker also runs `cchc notifications send` (`send_due`), which sends what is due: pending
rows whose job was lost, retries whose time has come, and rows taken back from a worker
that died mid-send.

No duplicate sends: `deliver` first CLAIMS the row with one conditional UPDATE (pending, or
retry and due → sending), so of two workers, or a job and the sweep, exactly one sends; the
other finds nothing to claim. The one exception is written down here on purpose: a worker
that dies after the message left but before it recorded "sent" leaves the row in `sending`;
after the lease (`CCHC_NOTIFY_LEASE_MINUTES`) the sweep puts it back to `retry`, and the
message may then arrive twice (at-least-once in that case, never lost).

Failures: a time-out, a refused connection or a temporary refusal is retried with
exponential back-off and jitter (1, 2, 4 … minutes, capped); after `CCHC_NOTIFY_MAX_ATTEMPTS`
attempts, or at once for a permanent refusal (a 5xx answer about the recipient or the
message, SMS not configured), the row is a dead letter, audited, and shown to administrators
(admin "Thông báo gửi đi"), who may send it again (`services.resend`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cchc import privacy
from cchc.audit import log
from cchc.jobs import retry
from cchc.notifications.models import Channel, Notification, State

logger = logging.getLogger(__name__)

# What `deliver` did with one row.
SENT, RETRIED, DEAD, SKIPPED = "sent", "retried", "dead", "skipped"

# SMS adapters: callables (number, text) -> None, registered by deployment code. The
# configured backend (`CCHC_SMS_BACKEND`: outbox, http, none) is used besides them. With
# neither, SMS messages are dead letters with the reason they were not sent. An adapter
# must raise on failure and bound its own network waits (see `sms_timeout`).
SMS_SENDERS: list[Any] = []

# Attachments rendered when an e-mail is sent: prefix -> renderer(notification, rest) ->
# (file name, content, MIME type). Registered by the app that owns the document (the portal
# registers "dossier-form"), so this app imports nothing from them.
ATTACHMENT_RENDERERS: dict[str, Callable[[Notification, str], tuple[str, bytes, str]]] = {}

NOT_CONFIGURED = "Chưa cấu hình dịch vụ gửi SMS."
INTERRUPTED = "Tiến trình gửi dừng giữa chừng; gửi lại (người nhận có thể nhận hai lần)."


class Permanent(Exception):
    """A refusal no retry will change (the recipient or the message refused, no SMS
    service): the row becomes a dead letter at once."""


# -- settings ---------------------------------------------------------------------------


def max_attempts() -> int:
    """Attempts before a row is a dead letter (`CCHC_NOTIFY_MAX_ATTEMPTS`, default 8:
    about two hours of retries with the default back-off)."""
    return max(1, int(getattr(settings, "CCHC_NOTIFY_MAX_ATTEMPTS", 8)))


def backoff_cap_minutes() -> float:
    return max(0.01, float(getattr(settings, "CCHC_NOTIFY_BACKOFF_MAX_MINUTES", 60)))


def lease() -> dt.timedelta:
    """How long a claim lasts before the sweep takes the row back. Must exceed the longest
    send (a few SMTP waits of EMAIL_TIMEOUT plus rendering an attachment)."""
    return dt.timedelta(minutes=float(getattr(settings, "CCHC_NOTIFY_LEASE_MINUTES", 10)))


def email_timeout() -> float:
    """Seconds each SMTP operation may wait (EMAIL_TIMEOUT; 10 when unset): a server that
    accepts and never answers costs one attempt of this long, then a retry."""
    return float(getattr(settings, "EMAIL_TIMEOUT", None) or 10)


def sms_timeout() -> float:
    """Seconds the HTTP SMS gateway may take (`CCHC_SMS_TIMEOUT`, default 10)."""
    return float(getattr(settings, "CCHC_SMS_TIMEOUT", None) or 10)


def backoff(
    attempts: int, *, cap_minutes: float | None = None, jitter: Callable[[], float] = random.random
) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8 … minutes, capped at
    `CCHC_NOTIFY_BACKOFF_MAX_MINUTES`, times a random factor in [0.75, 1.25) so that, when
    a mail server comes back, the messages queued behind it do not all retry in one second."""
    cap = backoff_cap_minutes() if cap_minutes is None else cap_minutes
    return retry.backoff(attempts, cap_minutes=cap, jitter=jitter)


# -- the outbox -------------------------------------------------------------------------


def due(now: dt.datetime) -> Q:
    """Rows a worker may claim at `now`: pending ones, and retries whose time has come."""
    return Q(state=State.PENDING) | Q(state=State.RETRY) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def deliver(pk: int, *, now: dt.datetime | None = None) -> str:
    """Send one queued e-mail/SMS if it is still due, and record the outcome on the row:
    SENT, RETRIED, DEAD, or SKIPPED when there was nothing to claim (already sent, being sent
    by another worker, not due yet). Never raises for a delivery failure: this runs as the
    worker's job, and the row, not the job, carries the failure."""
    at = now or timezone.now()
    note = _claim(pk, at)
    if note is None:
        return SKIPPED
    try:
        _send(note)
    except Permanent as exc:
        return _failed(note, exc, at, permanent=True)
    except Exception as exc:  # any failure of the network or the renderer is retried
        return _failed(note, exc, at, permanent=False)
    # Sent: record it even if the lease ran out meanwhile and the sweep took the row back
    # (that retry would be a duplicate).
    Notification.objects.filter(pk=note.pk).exclude(state=State.SENT).update(
        state=State.SENT, sent_at=timezone.now(), error="", next_attempt_at=None, claimed_at=None
    )
    return SENT


def _claim(pk: int, at: dt.datetime) -> Notification | None:
    """Take the row for this worker with one conditional UPDATE (the database decides who
    wins). The attempt is counted here, so a message that kills its worker every time still
    runs out of attempts."""
    won = (
        Notification.objects.filter(pk=pk)
        .filter(due(at))
        .update(state=State.SENDING, claimed_at=at, attempts=F("attempts") + 1)
    )
    if not won:
        return None
    return Notification.objects.get(pk=pk)


def _failed(note: Notification, exc: BaseException, at: dt.datetime, *, permanent: bool) -> str:
    error = error_text(exc, note.address)
    logger.warning("notification %s not delivered (attempt %s): %s", note.pk, note.attempts, error)
    if permanent or note.attempts >= max_attempts():
        return DEAD if _bury(note, error, claimed_at=note.claimed_at) else SKIPPED
    Notification.objects.filter(pk=note.pk, state=State.SENDING, claimed_at=note.claimed_at).update(
        state=State.RETRY,
        error=error,
        next_attempt_at=at + backoff(note.attempts),
        claimed_at=None,
    )
    return RETRIED


def _bury(note: Notification, error: str, *, claimed_at: dt.datetime | None) -> bool:
    """Make the row a dead letter (if this worker still holds it) and audit it."""
    with transaction.atomic():
        done = Notification.objects.filter(
            pk=note.pk, state=State.SENDING, claimed_at=claimed_at
        ).update(state=State.DEAD, error=error, next_attempt_at=None, claimed_at=None)
        if done:
            log.record(
                "notification.dead",
                actor=None,
                obj=note,
                data={
                    "kind": note.kind,
                    "channel": note.channel,
                    "attempts": note.attempts,
                    "error": error,
                },
                agency_id=note.agency_id,
            )
    return bool(done)


def reclaim(now: dt.datetime | None = None) -> tuple[int, int]:
    """Take back rows whose sender died mid-send (claimed longer ago than the lease): to
    retry at once, or dead when their attempts are spent. Returns (reclaimed, of which dead).
    Audited: such a message may arrive twice."""
    at = now or timezone.now()
    reclaimed = dead = 0
    stale = Notification.objects.filter(state=State.SENDING, claimed_at__lt=at - lease())
    for note in stale.order_by("pk"):
        if note.attempts >= max_attempts():
            if _bury(note, INTERRUPTED[:300], claimed_at=note.claimed_at):
                reclaimed += 1
                dead += 1
            continue
        with transaction.atomic():
            done = Notification.objects.filter(
                pk=note.pk, state=State.SENDING, claimed_at=note.claimed_at
            ).update(state=State.RETRY, error=INTERRUPTED, next_attempt_at=at, claimed_at=None)
            if done:
                log.record(
                    "notification.reclaimed",
                    actor=None,
                    obj=note,
                    data={"claimed_at": note.claimed_at, "attempts": note.attempts},
                    agency_id=note.agency_id,
                )
        reclaimed += done
    return reclaimed, dead


def send_due(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The worker's sweep (`cchc notifications send`): take back expired claims, then
    deliver every due row, oldest first, at most `limit` in one run (the next run, a minute
    later, continues). Returns the counts the job run records."""
    counts = {"sent": 0, "retried": 0, "dead": 0, "reclaimed": 0}
    counts["reclaimed"], counts["dead"] = reclaim(now)
    at = now or timezone.now()
    ids = list(
        Notification.objects.filter(due(at)).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        outcome = deliver(pk, now=now)
        if outcome in counts:
            counts[outcome] += 1
    return counts


def error_text(exc: BaseException, address: str) -> str:
    """The failure in one line for administrators and the dossier page: what happened in
    Vietnamese, then the technical detail, with the recipient's address masked (an SMTP
    refusal quotes it)."""
    if isinstance(exc, Permanent):
        reason = str(exc)
    elif _timed_out(exc):
        reason = f"Máy chủ không trả lời trong thời hạn chờ ({type(exc).__name__}: {exc})"
    elif isinstance(exc, smtplib.SMTPException):
        reason = f"Máy chủ thư từ chối ({type(exc).__name__}: {exc})"
    elif isinstance(exc, OSError):
        reason = f"Không kết nối được máy chủ ({type(exc).__name__}: {exc})"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    if address:
        masked = privacy.shown(privacy.contact_field(address), address, full=False)
        reason = reason.replace(address, masked)
    return reason[:300]


def _timed_out(exc: BaseException) -> bool:
    """A time-out, also when wrapped (smtplib turns a read time-out into
    SMTPServerDisconnected, raised while handling the TimeoutError)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# -- the channels -----------------------------------------------------------------------


def _send(note: Notification) -> None:
    if note.channel == Channel.EMAIL:
        _send_email(note)
    elif note.channel == Channel.SMS:
        _send_sms(note)


def _send_email(note: Notification) -> None:
    text = note.body + (f"\n\n{absolute(note.link)}" if note.link else "")
    connection = get_connection(timeout=email_timeout())
    message = EmailMessage(
        note.subject, text, settings.DEFAULT_FROM_EMAIL, [note.address], connection=connection
    )
    if note.attachment:
        _attach(message, note)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        if all(code >= 500 for code, _ in exc.recipients.values()):
            raise Permanent(f"Máy chủ thư từ chối người nhận ({exc})") from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            reason = f"Máy chủ thư từ chối thư ({exc.smtp_code}: {exc.smtp_error!r})"
            raise Permanent(reason) from exc
        raise


def _send_sms(note: Notification) -> None:
    senders = sms_senders()
    if not senders:
        raise Permanent(NOT_CONFIGURED)
    for sender in senders:
        sender(note.address, note.body[:480])


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
    try:
        with urllib.request.urlopen(request, timeout=sms_timeout()) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"cổng SMS trả mã {response.status}")
    except urllib.error.HTTPError as exc:
        # 4xx: the gateway refuses this message (bad number, bad request) — except
        # "timeout" and "too many requests", which a later attempt may pass.
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise Permanent(f"Cổng SMS từ chối tin nhắn (mã {exc.code})") from exc
        raise


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


def absolute(link: str) -> str:
    """A site path as a full address for e-mails (`CCHC_SITE_URL`); full URLs unchanged."""
    if link.startswith("/"):
        return str(settings.CCHC_SITE_URL) + link
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
