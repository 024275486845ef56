"""`/metrics`: who may read it, and what it says (Prometheus text format).

Two kinds of figures:
- Counted by the processes: the request latency histogram of `cchc.webkit.observe`. Under
  gunicorn each worker process writes its own samples into PROMETHEUS_MULTIPROC_DIR and a
  scrape, answered by any one of them, sums the directory (prometheus_client multiprocess
  mode); without that variable, this process's own samples.
- Read from the database at scrape time, a few bounded queries, each a count over an index:
  jobs queued and failed, pending online payments, undelivered notifications, open and
  overdue dossiers. A query that fails is left out and counted in
  `cchc_metrics_errors{gauge}`: the scrape itself still answers.

Access: a bearer token (CCHC_METRICS_TOKEN) or a client address in CCHC_METRICS_ALLOW
(default 127.0.0.1/32 and ::1/128). A request relayed by a proxy that is not in
CCHC_TRUSTED_PROXIES is never let in by address: behind nginx on the same machine every
visitor would otherwise arrive as 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from cchc.dossiers.models import Dossier
from cchc.jobs.models import JobRun
from cchc.jobs.models import Outcome as JobOutcome
from cchc.notifications.models import Channel, Notification
from cchc.payments.models import OrderStatus, PaymentOrder
from cchc.ratelimit.web import client_address, in_networks
from cchc.webkit.logs import brief

log = logging.getLogger(__name__)

DEFAULT_ALLOW = ("127.0.0.1/32", "::1/128")
FAILED_WINDOW = dt.timedelta(hours=24)
DELIVERED_CHANNELS = (Channel.EMAIL, Channel.SMS)
# Notification delivery states (when the model has `state`): waiting or in flight vs. given up.
UNSENT_STATES = ("pending", "retry", "sending")
DEAD_STATES = ("dead",)
_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


# -- access ------------------------------------------------------------------------------------


def access(request: HttpRequest) -> int:
    """200 if the request may read the metrics, 403 for a wrong token, 404 otherwise (the
    endpoint does not exist for a stranger)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        token = str(getattr(settings, "CCHC_METRICS_TOKEN", "") or "")
        ok = bool(token) and hmac.compare_digest(given.strip().encode(), token.encode())
        return 200 if ok else 403
    allow = getattr(settings, "CCHC_METRICS_ALLOW", None)
    allow = DEFAULT_ALLOW if allow is None else tuple(allow)
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    trusted = tuple(getattr(settings, "CCHC_TRUSTED_PROXIES", ()) or ())
    relayed = any(request.META.get(h) for h in _FORWARDING_HEADERS)
    if relayed and not (trusted and in_networks(remote, trusted)):
        return 404
    return 200 if allow and in_networks(client_address(request), allow) else 404


# -- figures read at scrape time -----------------------------------------------------------------


def _has_field(model: type, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _jobs(now: dt.datetime) -> Iterator[Metric]:
    since = now - FAILED_WINDOW
    failed = JobRun.objects.filter(outcome=JobOutcome.FAILED, started_at__gte=since).count()
    yield GaugeMetricFamily(
        "cchc_job_runs_failed_24h",
        "Số lần chạy công việc định kỳ bị lỗi trong 24 giờ qua (JobRun).",
        value=failed,
    )


def _queue(now: dt.datetime) -> Iterator[Metric]:
    """django-q2's ORM broker: tasks waiting (OrmQ rows) and tasks failed in 24 h."""
    if not apps.is_installed("django_q"):
        return
    queued = apps.get_model("django_q", "OrmQ").objects.count()
    yield GaugeMetricFamily(
        "cchc_jobs_queued", "Số tác vụ đang chờ trong hàng đợi (django-q OrmQ).", value=queued
    )
    failures = (
        apps.get_model("django_q", "Failure")
        .objects.filter(stopped__gte=now - FAILED_WINDOW)
        .count()
    )
    yield GaugeMetricFamily(
        "cchc_jobs_failed_24h",
        "Số tác vụ nền bị lỗi trong 24 giờ qua (django-q Failure).",
        value=failures,
    )


def _payments(now: dt.datetime) -> Iterator[Metric]:
    pending = PaymentOrder.objects.filter(status=OrderStatus.PENDING).count()
    yield GaugeMetricFamily(
        "cchc_payments_pending", "Số đơn thanh toán trực tuyến đang chờ kết quả.", value=pending
    )


def _notifications(now: dt.datetime) -> Iterator[Metric]:
    """E-mail and SMS not delivered: waiting or being retried, and (with delivery states)
    given up. One grouped query."""
    unsent = GaugeMetricFamily(
        "cchc_notifications_unsent",
        "Số thông báo e-mail/SMS chưa gửi được (đang chờ hoặc đang thử lại), theo kênh.",
        labels=["channel"],
    )
    dead = GaugeMetricFamily(
        "cchc_notifications_dead",
        "Số thông báo e-mail/SMS đã thôi thử gửi (cần xử lý tay), theo kênh.",
        labels=["channel"],
    )
    rows = Notification.objects.filter(channel__in=DELIVERED_CHANNELS)
    totals = {(c, kind): 0 for c in DELIVERED_CHANNELS for kind in ("unsent", "dead")}
    if _has_field(Notification, "state"):
        grouped = (
            rows.filter(state__in=UNSENT_STATES + DEAD_STATES)
            .values_list("channel", "state")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for channel, state, n in grouped:
            totals[(channel, "dead" if state in DEAD_STATES else "unsent")] += n
    else:
        grouped = (
            rows.filter(sent_at__isnull=True)
            .values_list("channel")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for channel, n in grouped:
            totals[(channel, "unsent")] += n
    for (channel, kind), n in totals.items():
        (dead if kind == "dead" else unsent).add_metric([str(channel)], n)
    yield unsent
    yield dead


def _dossiers(now: dt.datetime) -> Iterator[Metric]:
    """Open and overdue open dossiers in one pass over the partial index of open dossiers
    (`dossier_open_received` covers `due`), as the work queue's headline counts do."""
    figures = Dossier.objects.filter(is_open=True).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due__lt=now))
    )
    yield GaugeMetricFamily(
        "cchc_dossiers_open", "Số hồ sơ đang mở (chưa kết thúc).", value=figures["open"]
    )
    yield GaugeMetricFamily(
        "cchc_dossiers_overdue",
        "Số hồ sơ đang mở đã quá hạn giải quyết.",
        value=figures["overdue"],
    )


GAUGES: dict[str, Callable[[dt.datetime], Iterable[Metric]]] = {
    "jobs": _jobs,
    "queue": _queue,
    "payments": _payments,
    "notifications": _notifications,
    "dossiers": _dossiers,
}


class StateCollector(Collector):
    """The database figures, read when a scrape asks; a failing one is skipped and counted."""

    def collect(self) -> Iterable[Metric]:
        started = time.perf_counter()
        now = timezone.now()
        errors = GaugeMetricFamily(
            "cchc_metrics_errors",
            "Số nhóm chỉ số không đọc được ở lần lấy số liệu này (1 = lỗi).",
            labels=["gauge"],
        )
        for name, gauge in GAUGES.items():
            try:
                families = list(gauge(now))
            except Exception as exc:  # one broken figure must not hide the others
                log.warning("metrics: %s failed: %s", name, brief(exc))
                log.debug("metrics: %s failed", name, exc_info=True)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors
        yield GaugeMetricFamily(
            "cchc_metrics_scrape_seconds",
            "Thời gian đọc các chỉ số từ cơ sở dữ liệu (giây).",
            value=time.perf_counter() - started,
        )


class _ThisProcess(Collector):
    """The default registry's metrics (this process's samples), forwarded."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()


def render() -> bytes:
    """The exposition text: the processes' samples and the database figures."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector())
    return generate_latest(registry)
