"""/healthz and /readyz through the real middleware chain and the real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from cchc.jobs.models import Heartbeat

pytestmark = pytest.mark.django_db


def beat(name: str, *, seconds_ago: float) -> None:
    Heartbeat.objects.update_or_create(
        name=name,
        defaults={"at": timezone.now() - dt.timedelta(seconds=seconds_ago), "pid": 1, "host": "h"},
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


def test_healthz_is_alive_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["X-Request-ID"]


def test_probes_answer_plain_http_from_localhost_in_production_settings(
    client, settings, django_assert_num_queries
):
    """HTTPS redirect on, a Host header that is an address not in ALLOWED_HOSTS, a session
    cookie: the probe still answers itself, and reads no session."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["cchc.example.gov.vn"]
    client.cookies["sessionid"] = "x" * 32
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    # The rest of the site keeps its guards.
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/", HTTP_HOST="cchc.example.gov.vn").status_code == 301


def test_readyz_ready_when_every_check_passes(client, media, django_assert_max_num_queries):
    beat("worker", seconds_ago=5)
    beat("scheduler", seconds_ago=20)
    with django_assert_max_num_queries(5):
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "worker", "scheduler", "storage"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["pending"] == 0
    assert body["checks"]["worker"]["age_seconds"] == pytest.approx(5, abs=2)
    assert list(media.iterdir()) == []  # the probe's file is gone


@pytest.mark.parametrize(
    ("worker", "scheduler", "down"),
    [
        (200, 5, "worker"),  # stale heartbeat (limit 90 s)
        (5, None, "scheduler"),  # never started
        (None, None, "worker"),
    ],
)
def test_readyz_503_when_a_heartbeat_is_stale_or_missing(client, media, worker, scheduler, down):
    if worker is not None:
        beat("worker", seconds_ago=worker)
    if scheduler is not None:
        beat("scheduler", seconds_ago=scheduler)
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"][down]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_readyz_503_when_a_process_stopped_cleanly(client, media):
    """A clean stop clears the heartbeat (`at` null): down at once, not after 90 s."""
    beat("worker", seconds_ago=1)
    beat("scheduler", seconds_ago=1)
    Heartbeat.objects.filter(name="worker").update(at=None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "age_seconds": None, "ms": ANY}


def test_readyz_503_when_a_migration_is_not_applied(client, media):
    beat("worker", seconds_ago=1)
    beat("scheduler", seconds_ago=1)
    recorder = MigrationRecorder(connection)
    last = recorder.Migration.objects.filter(app="jobs").order_by("-id").first()
    assert last is not None
    recorder.record_unapplied(last.app, last.name)  # rolled back with the test
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["ok"] is False
    assert response.json()["checks"]["migrations"]["pending"] >= 1


def test_readyz_503_when_file_storage_is_not_writable(client, settings, tmp_path):
    beat("worker", seconds_ago=1)
    beat("scheduler", seconds_ago=1)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["storage"]["ok"] is False
    # The class of the error, never its message (paths, connection strings, row values).
    assert body["checks"]["storage"]["error"] in {"FileExistsError", "NotADirectoryError"}
    assert str(tmp_path) not in response.content.decode()


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()
