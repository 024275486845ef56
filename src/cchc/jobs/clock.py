"""The scheduler's side: the effective schedule written into django-q2's Schedule table,
and one tick (queue what is due, say we are alive)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler as queue_due

from cchc.jobs import health, schedule


def sync_schedules(now: dt.datetime | None = None) -> dict[str, int]:
    """Make the Schedule table match `schedule.effective()`: create missing rows, move a
    changed one to its next slot, delete rows of jobs no longer scheduled. An unchanged
    row keeps its `next_run`, so a slot missed while the scheduler was down runs once."""
    now = now or timezone.now()
    wanted = {schedule.PREFIX + job.name: job for job in schedule.effective()}
    created = changed = removed = 0
    with transaction.atomic():
        existing = {
            row.name: row
            for row in Schedule.objects.select_for_update().filter(name__startswith=schedule.PREFIX)
        }
        for key, row in existing.items():
            if key not in wanted:
                row.delete()
                removed += 1
        for key, job in wanted.items():
            if job.minutes is not None:
                kind = Schedule.MINUTES
            elif job.weekday is not None:
                kind = Schedule.WEEKLY
            else:
                kind = Schedule.DAILY
            fields = {
                "func": schedule.RUNNER,
                "args": repr((job.name,)),
                "schedule_type": kind,
                "minutes": job.minutes,
                "repeats": -1,
            }
            row = existing.get(key)
            if row is None:
                Schedule.objects.create(name=key, next_run=job.next_run(now), **fields)
                created += 1
                continue
            local_next = row.next_run.astimezone(schedule.VIETNAM) if row.next_run else None
            slot_moved = (
                kind in (Schedule.DAILY, Schedule.WEEKLY)
                and local_next is not None
                and (
                    local_next.time().replace(second=0) != job.at
                    or (job.weekday is not None and local_next.weekday() != job.weekday)
                )
            )
            if slot_moved or any(getattr(row, f) != v for f, v in fields.items()):
                for f, v in fields.items():
                    setattr(row, f, v)
                row.next_run = job.next_run(now)
                row.save()
                changed += 1
    return {"created": created, "changed": changed, "removed": removed, "jobs": len(wanted)}


def tick() -> None:
    """One scheduler step: queue every due job (each at most once, however late), then
    record the tick."""
    queue_due()
    health.beat("scheduler")
