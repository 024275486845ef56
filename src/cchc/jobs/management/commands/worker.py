"""`cchc worker`: the job worker (a django-q2 cluster on the database broker) and its
heartbeat. The scheduler is a separate process (`cchc scheduler`)."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections
from django.utils import timezone
from django_q.cluster import Cluster

from cchc.jobs import health, runner


class Command(BaseCommand):
    help = "Chạy tiến trình thực hiện công việc nền (hàng đợi django-q2 trên cơ sở dữ liệu)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--beat",
            type=float,
            default=None,
            help="seconds between heartbeats (default 10, or a third of "
            "CCHC_HEARTBEAT_STALE_SECONDS when that is shorter)",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=60.0,
            help="seconds a stop waits for running jobs before killing them (default 60)",
        )

    def handle(self, *args: Any, beat: float | None, grace: float, **options: Any) -> None:
        beat = beat or health.interval()
        closed = runner.mark_interrupted()
        if closed:
            self.stderr.write(f"{closed} lần chạy bị gián đoạn trước đây đã được ghi nhận lỗi.")
        # The cluster forks its processes: none of them may inherit this one's connection.
        connections.close_all()
        cluster = Cluster()
        # django-q2 stops the cluster from inside its signal handler, which deadlocks when
        # the signal arrives while this process waits on the sentinel, or when the sentinel
        # got the same signal and died (systemd signals the whole group). Here the handler
        # only asks; the stop happens below, bounded by --grace.
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
        cluster.start()
        started = timezone.now()
        self.stdout.write(f"cchc worker: đang chạy (pid {cluster.pid}).")
        self.stdout.flush()
        sentinel = cluster.sentinel
        try:
            while not stopping.is_set() and sentinel is not None and sentinel.is_alive():
                health.beat("worker", started=started)
                stopping.wait(beat)
        finally:
            health.stopped("worker")
            connections.close_all()
            if sentinel is not None and sentinel.is_alive():
                # A graceful stop lets running jobs finish; a sentinel that dies meanwhile
                # (signalled with the group) leaves the stop stuck, so it is abandoned.
                stopper = threading.Thread(target=cluster.stop, daemon=True)
                stopper.start()
                deadline = time.monotonic() + grace
                while stopper.is_alive() and sentinel.is_alive() and time.monotonic() < deadline:
                    stopper.join(0.2)
                if sentinel.is_alive():
                    sentinel.kill()
                    sentinel.join(5)
        self.stdout.write("cchc worker: đã dừng.")
