"""`cchc scheduler`: writes the schedule, then every few seconds queues the periodic jobs
that are due and records its tick. One per installation is enough; a second one is
harmless (due schedules are taken under a row lock)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections
from django.utils import timezone

from cchc.jobs import clock, health


class Command(BaseCommand):
    help = "Chạy bộ lập lịch: đưa các công việc định kỳ đến hạn vào hàng đợi."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--tick",
            type=float,
            default=None,
            help="seconds between ticks (default 10, or a third of "
            "CCHC_HEARTBEAT_STALE_SECONDS when that is shorter)",
        )
        parser.add_argument(
            "--once", action="store_true", help="write the schedule, tick once and exit"
        )
        parser.add_argument(
            "--sync-only", action="store_true", help="write the schedule and exit (no tick)"
        )

    def handle(
        self, *args: Any, tick: float | None, once: bool, sync_only: bool, **options: Any
    ) -> None:
        tick = tick or health.interval()
        summary = clock.sync_schedules()
        self.stdout.write(
            "cchc scheduler: {jobs} công việc định kỳ (thêm {created}, đổi {changed}, "
            "bỏ {removed}).".format(**summary)
        )
        if sync_only:
            return
        if once:
            clock.tick()
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        started = timezone.now()
        health.beat("scheduler", started=started)
        try:
            while not stop.is_set():
                clock.tick()
                stop.wait(tick)
        finally:
            health.stopped("scheduler")
            connections.close_all()
        self.stdout.write("cchc scheduler: đã dừng.")
