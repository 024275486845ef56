"""Heartbeats of the long-running processes and how fresh they are (read by `/readyz`)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Any

from django.conf import settings
from django.utils import timezone

from cchc.jobs.models import Heartbeat

PROCESSES = ("worker", "scheduler")


def stale_after() -> float:
    """Seconds after which a heartbeat no longer counts (`CCHC_HEARTBEAT_STALE_SECONDS`)."""
    return float(getattr(settings, "CCHC_HEARTBEAT_STALE_SECONDS", 90))


def interval() -> float:
    """Seconds between heartbeats (and scheduler ticks) when not given: 10, or a third of
    the staleness limit when that is shorter, so a live process never looks stale."""
    return max(0.5, min(10.0, stale_after() / 3))


def beat(name: str, *, started: dt.datetime | None = None) -> None:
    """Record that process `name` is alive now (one upsert)."""
    now = timezone.now()
    defaults: dict[str, Any] = {"at": now, "host": socket.gethostname()[:100], "pid": os.getpid()}
    if started is not None:
        defaults["started_at"] = started
    Heartbeat.objects.update_or_create(name=name, defaults=defaults)


def stopped(name: str) -> None:
    """A clean stop: the heartbeat is cleared at once instead of going stale."""
    Heartbeat.objects.filter(name=name, pid=os.getpid()).update(at=None)


def freshness(now: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """{process: {at, age_seconds, fresh}} for the worker and the scheduler (one query)."""
    now = now or timezone.now()
    limit = stale_after()
    rows = {row.name: row for row in Heartbeat.objects.filter(name__in=PROCESSES)}
    result: dict[str, dict[str, Any]] = {}
    for name in PROCESSES:
        row = rows.get(name)
        at = row.at if row else None
        age = (now - at).total_seconds() if at else None
        result[name] = {
            "at": at.isoformat() if at else None,
            "age_seconds": round(age, 1) if age is not None else None,
            "fresh": age is not None and age <= limit,
        }
    return result
