"""E-mail and SMS through the worker (issue 16, item 3): the notification table is the
outbox, nothing is sent inside a request, time-outs bound every wait, failures are retried
with back-off until they are dead letters that administrators see and may send again, and no
message is sent twice.

Against real servers in this process (tests/notifications/smtp_server.py: a port nobody
listens on, an SMTP server that accepts and never answers, one that answers; a silent and a
refusing HTTP SMS gateway), and — for the issue's own check — a live `cchc runserver` process
and `cchc notifications send` runs (test_live_request_returns_at_once_and_the_worker_delivers).
"""

from __future__ import annotations

import datetime as dt
import http.server
import importlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import connection, connections
from django.utils import timezone

from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.notifications import delivery, services
from cchc.notifications.models import Channel, Notification, State
from tests import processes
from tests.notifications.smtp_server import SMTPServer, closed_port

ADDRESS = "hoa@example.vn"
MASKED = "h***@example.vn"
PROJECT = Path(__file__).resolve().parents[2]
CCHC = PROJECT / ".venv" / "bin" / "cchc"


@pytest.fixture
def smtp_settings(settings):
    """Real SMTP delivery to 127.0.0.1 with a one-second time-out and three attempts."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    settings.CCHC_NOTIFY_MAX_ATTEMPTS = 3
    settings.CCHC_NOTIFY_BACKOFF_MAX_MINUTES = 60
    return settings


def mail(body: str = "Nội dung", **extra) -> Notification:
    note = services.notify(
        kind="test.mail",
        subject="Hồ sơ của bạn đã được tiếp nhận",
        body=body,
        channel=Channel.EMAIL,
        address=ADDRESS,
        **extra,
    )
    assert note is not None
    return note


def fresh(note: Notification) -> Notification:
    return Notification.objects.get(pk=note.pk)


# -- back-off -----------------------------------------------------------------------------


def test_backoff_doubles_from_one_minute_up_to_the_cap_with_jitter():
    middle = [delivery.backoff(n, cap_minutes=60, jitter=lambda: 0.5) for n in range(1, 9)]
    assert [w.total_seconds() / 60 for w in middle] == [1, 2, 4, 8, 16, 32, 60, 60]
    low = delivery.backoff(3, cap_minutes=60, jitter=lambda: 0.0)
    high = delivery.backoff(3, cap_minutes=60, jitter=lambda: 0.999)
    assert low == dt.timedelta(minutes=3) and dt.timedelta(minutes=4.99) < high < dt.timedelta(
        minutes=5
    )
    spread = {delivery.backoff(4).total_seconds() for _ in range(20)}
    assert len(spread) > 1 and all(6 * 60 <= s < 10 * 60 for s in spread)


# -- the outbox states ------------------------------------------------------------------


@pytest.mark.django_db
def test_notify_records_pending_rows_and_nothing_to_deliver_for_the_rest(settings):
    assert mail().state == State.PENDING
    inbox = services.notify(kind="t", subject="Trong hệ thống")
    assert inbox.state == State.NONE and inbox.error == ""
    nowhere = services.notify(kind="t", subject="Không địa chỉ", channel=Channel.EMAIL)
    assert nowhere.state == State.NONE and "địa chỉ" in nowhere.error
    settings.CCHC_SMS_BACKEND = "none"
    sms = services.notify(kind="t", subject="SMS", channel=Channel.SMS, address="0912345678")
    assert sms.state == State.NONE and sms.error == delivery.NOT_CONFIGURED


@pytest.mark.django_db
def test_refused_connections_are_retried_with_backoff_then_dead_and_audited(smtp_settings):
    smtp_settings.EMAIL_PORT = closed_port()
    note = mail()
    start = timezone.now()
    assert delivery.deliver(note.pk, now=start) == delivery.RETRIED
    row = fresh(note)
    assert row.state == State.RETRY and row.attempts == 1 and row.sent_at is None
    assert "Không kết nối được" in row.error and "ConnectionRefusedError" in row.error
    wait = row.next_attempt_at - start
    assert dt.timedelta(seconds=45) <= wait < dt.timedelta(seconds=75)
    # Not due yet: nothing to claim, nothing tried.
    assert delivery.deliver(note.pk, now=start + dt.timedelta(seconds=30)) == delivery.SKIPPED
    assert fresh(note).attempts == 1

    second = row.next_attempt_at
    assert delivery.send_due(now=second) == {"sent": 0, "retried": 1, "dead": 0, "reclaimed": 0}
    row = fresh(note)
    assert row.attempts == 2
    assert dt.timedelta(seconds=90) <= row.next_attempt_at - second < dt.timedelta(seconds=150)

    assert delivery.send_due(now=row.next_attempt_at)["dead"] == 1
    row = fresh(note)
    assert row.state == State.DEAD and row.attempts == 3 and row.next_attempt_at is None
    [entry] = AuditEntry.objects.filter(action="notification.dead")
    assert entry.object_id == str(note.pk) and entry.data["attempts"] == 3
    # A dead letter stays dead: the sweep leaves it alone.
    later = timezone.now() + dt.timedelta(days=1)
    assert delivery.send_due(now=later) == {"sent": 0, "retried": 0, "dead": 0, "reclaimed": 0}


@pytest.mark.django_db
def test_a_silent_mail_server_costs_one_timeout_then_the_mail_goes_once(smtp_settings):
    with SMTPServer(mode="silent") as smtp:
        smtp_settings.EMAIL_PORT = smtp.port
        note = mail()
        began = time.monotonic()
        assert delivery.deliver(note.pk) == delivery.RETRIED
        assert time.monotonic() - began < 1 + 1.5  # EMAIL_TIMEOUT (1 s) and some slack
        row = fresh(note)
        assert row.state == State.RETRY and "thời hạn chờ" in row.error
        assert smtp.messages == [] and smtp.state.connections == 1

        smtp.mode = "answer"
        counts = delivery.send_due(now=row.next_attempt_at)
        assert counts == {"sent": 1, "retried": 0, "dead": 0, "reclaimed": 0}
        # Delivered once, whatever runs again: the job, the sweep.
        assert delivery.deliver(note.pk) == delivery.SKIPPED
        assert delivery.send_due(now=row.next_attempt_at + dt.timedelta(hours=1))["sent"] == 0
        [message] = smtp.messages
    assert message.recipients == [ADDRESS]
    assert b"Subject:" in message.data
    row = fresh(note)
    assert row.state == State.SENT and row.sent_at and row.error == "" and row.attempts == 2


@pytest.mark.django_db
def test_a_permanent_refusal_is_a_dead_letter_at_once_with_the_address_masked(smtp_settings):
    with SMTPServer(mode="no-such-user") as smtp:
        smtp_settings.EMAIL_PORT = smtp.port
        note = mail()
        assert delivery.deliver(note.pk) == delivery.DEAD
        assert smtp.messages == []
    row = fresh(note)
    assert row.state == State.DEAD and row.attempts == 1
    assert ADDRESS not in row.error and MASKED in row.error


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_back_after_the_lease(smtp_settings):
    with SMTPServer(mode="answer") as smtp:
        smtp_settings.EMAIL_PORT = smtp.port
        note = mail()
        now = timezone.now()
        # A worker claimed it 5 minutes ago and is still sending: not taken back.
        Notification.objects.filter(pk=note.pk).update(
            state=State.SENDING, claimed_at=now - dt.timedelta(minutes=5), attempts=1
        )
        assert delivery.send_due(now=now) == {"sent": 0, "retried": 0, "dead": 0, "reclaimed": 0}
        # 11 minutes: the worker died mid-send (lease 10 min): taken back and sent.
        assert delivery.send_due(now=now + dt.timedelta(minutes=6)) == {
            "sent": 1,
            "retried": 0,
            "dead": 0,
            "reclaimed": 1,
        }
        assert len(smtp.messages) == 1
    assert fresh(note).state == State.SENT and fresh(note).attempts == 2
    assert AuditEntry.objects.filter(action="notification.reclaimed").count() == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (parallel connections: the SQLite test database is a shared-cache "
    "memory database, where a second writer fails at once with 'table is locked' instead of "
    "waiting)",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_row_send_it_once(smtp_settings):
    """Six workers (threads, each with its own database connection) deliver the same row
    at once: the conditional claim lets exactly one send."""
    with SMTPServer(mode="answer") as smtp:
        smtp_settings.EMAIL_PORT = smtp.port
        # Recorded as notify records it, without its after-commit job (which, outside a
        # transaction and with CCHC_JOBS_SYNC, would send at once).
        note = Notification.objects.create(
            kind="test.mail",
            subject="Hồ sơ",
            channel=Channel.EMAIL,
            address=ADDRESS,
            created_at=timezone.now(),
            state=State.PENDING,
        )
        outcomes: list[str] = []
        barrier = threading.Barrier(6)

        def work() -> None:
            try:
                barrier.wait()
                outcomes.append(delivery.deliver(note.pk))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == [delivery.SENT] + [delivery.SKIPPED] * 5
        assert len(smtp.messages) == 1


# -- SMS over HTTP --------------------------------------------------------------------------


class _Gateway(http.server.BaseHTTPRequestHandler):
    status = 200
    silent = threading.Event()

    def do_POST(self) -> None:
        if self.silent.is_set():
            time.sleep(3)  # answer nothing: the client's time-out must end the wait
            return
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def gateway(settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CCHC_SMS_BACKEND = "http"
    settings.CCHC_SMS_URL = f"http://127.0.0.1:{server.server_address[1]}/sms"
    settings.CCHC_SMS_TIMEOUT = 1
    yield _Gateway
    _Gateway.silent.clear()
    _Gateway.status = 200
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_sms_gateway_time_out_is_retried_and_a_4xx_is_dead(gateway):
    sms = services.notify(kind="t", subject="SMS", channel=Channel.SMS, address="0912345678")
    gateway.silent.set()
    began = time.monotonic()
    assert delivery.deliver(sms.pk) == delivery.RETRIED
    assert time.monotonic() - began < 1 + 1.5
    assert "thời hạn chờ" in fresh(sms).error

    gateway.silent.clear()
    gateway.status = 400
    assert delivery.send_due(now=fresh(sms).next_attempt_at)["dead"] == 1
    row = fresh(sms)
    assert row.state == State.DEAD and "mã 400" in row.error

    gateway.status = 200
    other = services.notify(kind="t", subject="SMS", channel=Channel.SMS, address="0987654321")
    assert delivery.deliver(other.pk) == delivery.SENT


# -- administrators ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_administrators_see_failures_masked_and_send_them_again_audited(
    client, make_user, smtp_settings, django_capture_on_commit_callbacks
):
    smtp_settings.EMAIL_PORT = closed_port()
    smtp_settings.CCHC_NOTIFY_MAX_ATTEMPTS = 1
    note = mail(body="Liên kết đặt lại mật khẩu: https://bí-mật.example/token")
    assert delivery.deliver(note.pk) == delivery.DEAD
    sent = mail()
    Notification.objects.filter(pk=sent.pk).update(state=State.SENT)
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)

    page = client.get("/admin/notifications/outgoingnotification/?state__exact=dead")
    html = page.content.decode()
    assert page.status_code == 200
    assert MASKED in html and ADDRESS not in html
    assert "Gửi không được" in html and "Không kết nối được" in html
    detail = client.get(f"/admin/notifications/outgoingnotification/{note.pk}/change/")
    text = detail.content.decode()
    assert detail.status_code == 200 and MASKED in text and ADDRESS not in text
    assert "bí-mật" not in text  # the body (a live reset link) is never shown

    with SMTPServer(mode="answer") as smtp:
        smtp_settings.EMAIL_PORT = smtp.port
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/notifications/outgoingnotification/",
                {"action": "resend", "_selected_action": [note.pk, sent.pk]},
            )
        assert response.status_code == 302
        # The job queued on commit ran (CCHC_JOBS_SYNC in the suite); had it not, the
        # sweep sends it. Either way: delivered once.
        delivery.send_due()
        assert [m.recipients for m in smtp.messages] == [[ADDRESS]]
    row = fresh(note)
    assert row.state == State.SENT and row.attempts == 1
    [entry] = AuditEntry.objects.filter(action="notification.resend")
    assert entry.actor_id == admin.pk and entry.data["state"] == "dead"
    assert fresh(sent).state == State.SENT  # a sent message is not sent again


@pytest.mark.django_db
def test_resend_is_for_administrators_only(make_user, org):
    from cchc.errors import PermissionDenied

    officer = make_user(Role.AGENCY_LEADER, agency=org.justice)
    with pytest.raises(PermissionDenied):
        services.resend(officer, [mail().pk])


# -- the migration ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_sorts_existing_rows_into_states():
    now = timezone.now()
    base = {"kind": "t", "subject": "s", "created_at": now, "state": State.PENDING}
    sent = Notification.objects.create(channel="email", address=ADDRESS, sent_at=now, **base)
    inbox = Notification.objects.create(channel="in_app", **base)
    failed = Notification.objects.create(channel="email", address=ADDRESS, error="x", **base)
    never = Notification.objects.create(channel="sms", address="0912345678", **base)
    nowhere = Notification.objects.create(channel="email", address="", **base)
    module = importlib.import_module("cchc.notifications.migrations.0003_outbox_states")
    module.forwards(django_apps, None)
    states = {n.pk: n.state for n in Notification.objects.all()}
    assert states == {
        sent.pk: State.SENT,
        inbox.pk: State.NONE,
        failed.pk: State.DEAD,
        never.pk: State.PENDING,
        nowhere.pk: State.NONE,
    }


# -- the check, end to end -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _OtherProcessDatabase:
    """The test database as another process reaches it. PostgreSQL: the test database
    itself. SQLite: the test database is in memory, so a copy in a file (written with
    SQLite's backup API), read back with the standard library."""

    def __init__(self, tmp_path: Path) -> None:
        db = connection.settings_dict
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            self.path = tmp_path / "live.sqlite3"
            target = sqlite3.connect(self.path)
            connection.ensure_connection()
            connection.connection.backup(target)
            target.close()
            self.url = f"sqlite:///{self.path}"
        else:
            user = urllib.parse.quote(db["USER"] or "")
            password = f":{urllib.parse.quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
            host = db.get("HOST") or "localhost"
            port = f":{db['PORT']}" if db.get("PORT") else ""
            self.url = f"postgres://{user}{password}@{host}{port}/{db['NAME']}"

    def rows(self, sql: str) -> list[tuple]:
        if self.sqlite:
            with sqlite3.connect(self.path) as db:
                return list(db.execute(sql))
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())


def _env(database_url: str, smtp_port: int, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCHC_", "EMAIL_"))}
    env.update(
        DEBUG="true",
        DATABASE_URL=database_url,
        CCHC_VAR_DIR=str(tmp_path / "var"),
        CCHC_JOBS_SYNC="false",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="false",
        EMAIL_TIMEOUT="2",
        # A short back-off so the retry comes within the test (seconds, not minutes).
        CCHC_NOTIFY_BACKOFF_MAX_MINUTES="0.02",
        DJANGO_SETTINGS_MODULE="cchc.settings",
    )
    return env


def _send(env: dict[str, str]) -> dict[str, int]:
    done = subprocess.run(
        [str(CCHC), "notifications", "send", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_live_request_returns_at_once_and_the_worker_delivers(make_user, tmp_path):
    """The issue's check: with a mail server that accepts and never answers, a request
    that sends e-mail (a citizen's "forgot password") returns within a second; the message
    is retried, and delivered once the server answers. Processes: `cchc runserver` (the
    request), `cchc worker` (runs the job the request queued: a time-out), then `cchc
    notifications send` (the worker's every-minute sweep) once the server answers."""
    citizen = make_user(Role.CITIZEN)
    citizen.email = ADDRESS
    citizen.username = ADDRESS
    citizen.save(update_fields=["email", "username"])
    database = _OtherProcessDatabase(tmp_path)
    port = _free_port()
    with SMTPServer(mode="silent") as smtp:
        env = _env(database.url, smtp.port, tmp_path)
        server = subprocess.Popen(
            [str(CCHC), "runserver", "--noreload", f"127.0.0.1:{port}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            jar = CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            form = _wait_for(opener, f"{base}/dich-vu-cong/quen-mat-khau/", server)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "identifier": ADDRESS}
            ).encode()
            request = urllib.request.Request(  # noqa: S310 - our own local server
                f"{base}/dich-vu-cong/quen-mat-khau/",
                data=body,
                headers={"Referer": f"{base}/dich-vu-cong/quen-mat-khau/"},
            )
            began = time.monotonic()
            with opener.open(request, timeout=30) as answer:
                answer.read()
                assert answer.status == 200
            elapsed = time.monotonic() - began
        finally:
            server.terminate()
            server.wait(30)
        assert elapsed < 1.0, elapsed
        assert answer.url.endswith("/dich-vu-cong/quen-mat-khau/da-gui/")
        state_sql = (
            "SELECT state, attempts FROM notifications_notification "
            "WHERE kind = 'portal.password_reset'"
        )
        assert database.rows(state_sql) == [("pending", 0)]
        assert smtp.messages == []

        # The worker runs the job the request queued, while the server still says nothing:
        # one time-out (EMAIL_TIMEOUT), and the row waits for a retry.
        worker = processes.start(env, "worker", log=tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 90
            while database.rows(state_sql) != [("retry", 1)] and time.monotonic() < deadline:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                time.sleep(0.5)
        finally:
            processes.stop(worker)
        assert database.rows(state_sql) == [("retry", 1)], (tmp_path / "worker.log").read_text()
        assert smtp.messages == [] and smtp.state.connections == 1

        smtp.mode = "answer"
        # The retry's time (at most 1.25 min with the default back-off; seconds with the
        # CCHC_NOTIFY_BACKOFF_MAX_MINUTES the environment gives), then the sweep sends it.
        [(due,)] = database.rows(
            "SELECT next_attempt_at FROM notifications_notification "
            "WHERE kind = 'portal.password_reset'"
        )
        if isinstance(due, str):  # SQLite: naive UTC text
            due = dt.datetime.fromisoformat(due).replace(tzinfo=dt.UTC)
        time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.5)
        counts = _send(env)
        assert counts == {"sent": 1, "retried": 0, "dead": 0, "reclaimed": 0}, (
            counts,
            database.rows(state_sql.replace("attempts", "error")),
        )
        # Delivered once: a further sweep finds nothing.
        assert _send(env)["sent"] == 0
        [message] = smtp.messages
    assert message.recipients == [ADDRESS]
    assert b"quen-mat-khau" in message.data
    assert database.rows(state_sql) == [("sent", 2)]


def _wait_for(opener, url: str, server: subprocess.Popen) -> str:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"runserver exited: {server.stderr.read()[-2000:]}")
        try:
            with opener.open(url, timeout=5) as page:
                return page.read().decode()
        except OSError:
            time.sleep(0.3)
    raise AssertionError("runserver did not answer within 90 s")
