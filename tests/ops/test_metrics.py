"""/metrics: who may read it, the latency histogram by view, the figures read at scrape time."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Task
from prometheus_client.parser import text_string_to_metric_families

from cchc.jobs.models import JobRun, Outcome
from cchc.notifications.models import Notification
from cchc.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-" + "x" * 40


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of an exposition text (parsed, so it is valid)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def scrape(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_latency_histogram_by_view_name_never_by_path(client):
    before = (
        value(
            scrape(client),
            "cchc_http_request_duration_seconds_count",
            view="hello",
            method="GET",
            status="2xx",
        )
        or 0
    )
    for code in ("001099012345", "079188000111"):  # would be personal data in a label
        assert client.get(f"/thu-chao/{code}/").status_code == 200
    client.get("/khong-co-trang-nay/0912345678/")
    text = scrape(client)
    assert (
        value(
            text,
            "cchc_http_request_duration_seconds_count",
            view="hello",
            method="GET",
            status="2xx",
        )
        == before + 2
    )
    assert (
        value(
            text,
            "cchc_http_request_duration_seconds_count",
            view="unmatched",
            method="GET",
            status="4xx",
        )
        or 0
    ) >= 1
    for raw in ("001099012345", "079188000111", "0912345678", "khong-co"):
        assert raw not in text


@pytest.mark.parametrize(
    ("remote", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("203.0.113.5", {}, 404),
        ("203.0.113.5", {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, 200),
        ("203.0.113.5", {"HTTP_AUTHORIZATION": "Bearer wrong"}, 403),
        ("127.0.0.1", {"HTTP_AUTHORIZATION": "Bearer wrong"}, 403),
        # nginx on this machine relays everyone as 127.0.0.1: not let in by address...
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, 404),
        ("127.0.0.1", {"HTTP_X_REAL_IP": "203.0.113.5"}, 404),
        # ...but the token still works through it.
        (
            "127.0.0.1",
            {"HTTP_X_FORWARDED_FOR": "203.0.113.5", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
            200,
        ),
    ],
)
def test_metrics_access(client, settings, remote, headers, status):
    settings.CCHC_METRICS_TOKEN = TOKEN
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == status
    if status != 200:
        assert b"cchc_" not in response.content


def test_metrics_without_token_setting_refuses_every_bearer(client, settings):
    settings.CCHC_METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 403


def test_metrics_allow_list_and_trusted_proxies(client, settings):
    settings.CCHC_METRICS_ALLOW = ["10.0.0.0/8"]
    settings.CCHC_TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    relayed = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.1.2.3"}
    assert client.get("/metrics", **relayed).status_code == 200
    relayed["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
    assert client.get("/metrics", **relayed).status_code == 404
    settings.CCHC_METRICS_ALLOW = []  # token only
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.fixture
def world(org, now):
    from tests.dossiers.conftest import build_world

    return build_world(now, org)


def test_figures_read_at_scrape_time(client, world, now, django_assert_max_num_queries):
    real_now = timezone.now()
    overdue = world.intake(at=now)
    on_time = world.intake(at=now)
    world.intake(at=now)
    # Not overdue: its due is moved past the real clock (the gauge reads "now").
    type(on_time).objects.filter(pk=on_time.pk).update(due=real_now + dt.timedelta(days=3))
    type(on_time).objects.filter(pk=overdue.pk).update(due=real_now - dt.timedelta(minutes=1))
    closed = world.intake(at=now)
    type(closed).objects.filter(pk=closed.pk).update(is_open=False)

    PaymentOrder.objects.create(
        dossier=overdue,
        txn_ref="T1",
        amount=200_000,
        gateway="vnpay",
        channel="2",
        created_at=real_now,
        expires_at=real_now + dt.timedelta(minutes=15),
    )
    PaymentOrder.objects.create(
        dossier=overdue,
        txn_ref="T2",
        amount=200_000,
        gateway="vnpay",
        channel="2",
        status="paid",
        created_at=real_now,
        expires_at=real_now,
    )
    Notification.objects.all().delete()  # intake queued its own; count ours only
    for channel, state in [
        ("email", "pending"),
        ("email", "retry"),
        ("email", "sending"),
        ("email", "dead"),
        ("email", "sent"),
        ("sms", "pending"),
        ("sms", "dead"),
        ("sms", "dead"),
        ("in_app", "none"),
    ]:
        Notification.objects.create(
            channel=channel, state=state, kind="k", subject="s", created_at=real_now
        )
    JobRun.objects.create(name="a", command="x", started_at=real_now, outcome=Outcome.FAILED)
    JobRun.objects.create(
        name="a", command="x", started_at=real_now - dt.timedelta(days=2), outcome=Outcome.FAILED
    )
    JobRun.objects.create(name="a", command="x", started_at=real_now, outcome=Outcome.OK)
    OrmQ.objects.all().delete()
    OrmQ.objects.create(key="cchc", payload="p1")
    OrmQ.objects.create(key="cchc", payload="p2")
    Task.objects.all().delete()
    for success, stopped in [
        (False, real_now),
        (False, real_now - dt.timedelta(days=3)),
        (True, real_now),
    ]:
        Task.objects.create(
            id=uuid.uuid4().hex,
            name="t",
            func="f",
            started=stopped,
            stopped=stopped,
            success=success,
        )

    with django_assert_max_num_queries(8):
        text = scrape(client)
    assert value(text, "cchc_dossiers_open") == 3
    assert value(text, "cchc_dossiers_overdue") == 2  # `overdue` and the third, due in 2024
    assert value(text, "cchc_payments_pending") == 1
    assert value(text, "cchc_notifications_unsent", channel="email") == 3
    assert value(text, "cchc_notifications_unsent", channel="sms") == 1
    assert value(text, "cchc_notifications_dead", channel="email") == 1
    assert value(text, "cchc_notifications_dead", channel="sms") == 2
    assert value(text, "cchc_job_runs_failed_24h") == 1
    assert value(text, "cchc_jobs_queued") == 2
    assert value(text, "cchc_jobs_failed_24h") == 1
    for gauge in ("jobs", "queue", "payments", "notifications", "dossiers"):
        assert value(text, "cchc_metrics_errors", gauge=gauge) == 0


def test_static_files_are_one_label(client):
    client.get("/static/khong-co-tep-nay-0912345678.css")
    text = scrape(client)
    assert (
        value(
            text,
            "cchc_http_request_duration_seconds_count",
            view="static",
            method="GET",
            status="4xx",
        )
        or 0
    ) >= 1
    assert "0912345678" not in text
