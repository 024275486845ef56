"""`cchc jobs list | run NAME | runs`: the schedule, a job run by hand, the recorded runs."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_q.models import Schedule

from cchc.jobs import health, runner, schedule
from cchc.jobs.models import JobRun, Outcome, Trigger


class Command(BaseCommand):
    help = "Công việc định kỳ: xem lịch, chạy ngay một công việc, xem các lần chạy."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the schedule in force, last run and next run")
        listing.add_argument("--json", action="store_true", dest="as_json")
        run = sub.add_parser("run", help="run one periodic job now, recorded as a manual run")
        run.add_argument("name")
        run.add_argument("--json", action="store_true", dest="as_json")
        runs = sub.add_parser("runs", help="the latest recorded runs")
        runs.add_argument("--name", default="")
        runs.add_argument("--failed", action="store_true")
        runs.add_argument("--limit", type=int, default=20)
        runs.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _list(self, *, as_json: bool = False, **_: Any) -> None:
        jobs = schedule.effective()
        latest: dict[str, JobRun] = {}
        for run in JobRun.objects.filter(name__in=[j.name for j in jobs]).order_by(
            "name", "-started_at"
        )[: 20 * len(jobs)]:
            latest.setdefault(run.name, run)
        planned = {
            row.name: row.next_run
            for row in Schedule.objects.filter(name__startswith=schedule.PREFIX)
        }
        rows = []
        for job in jobs:
            last = latest.get(job.name)
            nxt = planned.get(schedule.PREFIX + job.name)
            rows.append(
                {
                    "name": job.name,
                    "every": job.every,
                    "command": job.command,
                    "description": job.description,
                    "last_started": last.started_at.isoformat() if last else None,
                    "last_outcome": last.outcome if last else None,
                    "next_run": nxt.isoformat() if nxt else None,
                }
            )
        if as_json:
            self._json({"jobs": rows, "processes": health.freshness()})
            return
        for row in rows:
            last = (
                f"{timezone.localtime(latest[row['name']].started_at):%Y-%m-%d %H:%M}"
                if row["last_started"]
                else "chưa chạy"
            )
            self.stdout.write(
                f"{row['name']:<22} {row['every']:<12} lần cuối {last:<16} "
                f"{row['last_outcome'] or '':<8} {row['command']}"
            )
        for name, state in health.freshness().items():
            alive = "đang chạy" if state["fresh"] else "KHÔNG CHẠY"
            self.stdout.write(f"{name}: {alive} (nhịp cuối {state['at'] or 'chưa có'})")

    def _run(self, *, name: str, as_json: bool = False, **_: Any) -> None:
        job = schedule.find(name)
        if job is None:
            known = ", ".join(j.name for j in schedule.effective())
            raise CommandError(f"Không có công việc định kỳ «{name}». Có: {known}")
        record = runner.run(job, trigger=Trigger.MANUAL)
        if as_json:
            self._json(_as_dict(record))
        else:
            self.stdout.write(
                f"{record.name}: {record.get_outcome_display()} sau {record.seconds:.1f} s; "
                f"{record.counts or ''} {record.message}"
            )
        if record.outcome != Outcome.OK:
            sys.exit(1)

    def _runs(
        self, *, name: str, failed: bool, limit: int, as_json: bool = False, **_: Any
    ) -> None:
        qs = JobRun.objects.all()
        if name:
            qs = qs.filter(name=name)
        if failed:
            qs = qs.filter(outcome=Outcome.FAILED)
        found = list(qs[: max(1, min(limit, 1000))])
        if as_json:
            self._json({"runs": [_as_dict(r) for r in found]})
            return
        now = timezone.now()
        for r in found:
            seconds = r.seconds
            took = (
                f"{seconds:.1f} s"
                if seconds is not None
                else f"{(now - r.started_at).total_seconds():.0f} s…"
            )
            at = timezone.localtime(r.started_at)
            self.stdout.write(
                f"{at:%Y-%m-%d %H:%M:%S} {r.name:<22} {r.outcome:<8} {took:>9} "
                f"{r.counts or ''} {r.message[:120]}"
            )

    def _json(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))


def _as_dict(run: JobRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "name": run.name,
        "trigger": run.trigger,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "outcome": run.outcome,
        "counts": run.counts,
        "message": run.message,
    }
