"""Moving open dossiers to a new calendar version (spec 02 §9) as a resumable job.

A working calendar's version in force changes (a decree adds a day off, next year's
schedule is loaded): every open dossier received on that calendar gets a `recompute` event
and its clocks are derived again on the new version. There may be tens of thousands, and
the process doing it may be killed, so the work is a `RecomputeJob` row:

1. `record` writes the job (calendar, version, how many dossiers) in the transaction that
   changes the calendar (`calendars.signals.version_added`), audited, and queues `run_job`
   on the worker once that transaction commits. A calendar version is never committed
   without the work it calls for, and loading a calendar never re-plans inline: a page or
   a command that adds a version returns at once, whatever the number of open dossiers.
2. `step` does one batch, in dossier id order after the job's cursor, in one transaction
   that also advances the cursor and the counts: a crash loses at most the batch in
   flight, and a batch done again changes nothing (`services.replan` skips a dossier
   already on the version).
3. `resume_all` — `cchc dossiers recompute`, run by the worker every minute — first
   catches up (`catch_up`: a job for every calendar whose open dossiers are not all on the
   version in force today: a version whose effective date has come, a dossier received on
   the old version while the new one was being committed, a database from before this
   job existed), then finishes every unfinished job.

A dossier that cannot be recomputed (its calendar cannot compute its due) is counted and
named on the job, the batch goes on; `cchc dossiers verify` keeps reporting it, and
`cchc dossiers verify --fix` tries it again once the calendar is corrected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.calendars.models import WorkingCalendar
from cchc.dossiers import services
from cchc.dossiers.models import UNFINISHED_RECOMPUTE, RecomputeJob, RecomputeStatus
from cchc.errors import DomainError, NotFound
from cchc.eventlog.workflow import local_now
from cchc.jobs.queue import enqueue

# Dossiers per transaction: small enough that a batch holds its row locks briefly (officers
# act on the same dossiers meanwhile), large enough that the per-batch cost is noise.
BATCH = 200
WORKER_FUNCTION = "cchc.dossiers.recompute.run_job"

Progress = Callable[[RecomputeJob], None]


def batch_size(batch: int | None = None) -> int:
    """`batch`, else the `CCHC_RECOMPUTE_BATCH` setting, else `BATCH` (at least 1)."""
    chosen = batch if batch is not None else getattr(settings, "CCHC_RECOMPUTE_BATCH", BATCH)
    return max(int(chosen), 1)


def label(calendar_code: str, version: int) -> str:
    """A version as dossiers store it (`cchc.legaltime.Calendar.version`)."""
    return f"{calendar_code}@v{version}"


def version_in_force(calendar_code: str, now: dt.datetime | None = None) -> int:
    """The number of the calendar's version in force on `now`'s date in Vietnam (the one
    a dossier received or recomputed then runs on)."""
    return services.calendar_version_on(calendar_code, local_now(now).date())


# -- recording ---------------------------------------------------------------------------------


def record(
    calendar_code: str,
    *,
    actor: Any,
    now: dt.datetime | None = None,
    reason: str,
    kick: bool = False,
) -> RecomputeJob | None:
    """Inside the caller's transaction: the unfinished job moving the calendar's open
    dossiers to the version in force on `now`, recorded (audited, queued on the worker
    after commit) if some dossier needs it and none is recorded yet. Unfinished jobs for
    another version are superseded (the new job covers their dossiers). With `kick`, an
    existing unfinished job is queued again (an administrator loading the calendar again
    after a crash). Returns None when every open dossier is on the version in force, or
    when the last job for that version could not recompute the ones left (see `summary`).
    """
    at = local_now(now)
    # Serialises with `calendars.services.add_version` and with another `record` for the
    # same calendar (the periodic catch-up racing a calendar load).
    WorkingCalendar.objects.select_for_update().filter(code=calendar_code).first()
    version = version_in_force(calendar_code, at)
    current = None
    for job in RecomputeJob.objects.select_for_update().filter(
        calendar_code=calendar_code, status__in=UNFINISHED_RECOMPUTE
    ):
        if job.version == version:
            current = job
        else:
            _close(job, RecomputeStatus.SUPERSEDED, actor=actor, now=at)
    if current is not None:
        if kick:
            _queue(current)
        return current
    last = RecomputeJob.objects.filter(calendar_code=calendar_code, version=version).first()
    if last is not None and last.failed:
        return None  # its failures wait for a corrected calendar (`verify --fix`)
    total = services.stale_open(calendar_code, label(calendar_code, version)).count()
    if not total:
        return None
    try:
        with transaction.atomic():
            job = RecomputeJob.objects.create(
                calendar_code=calendar_code,
                version=version,
                reason=reason[:200],
                total=total,
                requested_by=actor if getattr(actor, "pk", None) else None,
                created_at=at,
            )
    except IntegrityError:  # recorded by a concurrent caller after all: theirs stands
        return RecomputeJob.objects.filter(
            calendar_code=calendar_code, version=version, status__in=UNFINISHED_RECOMPUTE
        ).first()
    log.record(
        "dossiers.recompute_job.recorded",
        actor=actor,
        obj=job,
        at=at,
        data={
            "calendar": calendar_code,
            "version": version,
            "dossiers": total,
            "reason": reason,
        },
    )
    _queue(job)
    return job


def _queue(job: RecomputeJob) -> None:
    enqueue(WORKER_FUNCTION, job.pk, name=f"recompute-{job.pk}")


def _close(job: RecomputeJob, status: str, *, actor: Any, now: dt.datetime) -> None:
    job.status = status
    job.finished_at = now
    job.save(update_fields=["status", "finished_at"])
    log.record(
        f"dossiers.recompute_job.{status}",
        actor=actor,
        obj=job,
        at=now,
        data={
            "calendar": job.calendar_code,
            "version": job.version,
            "total": job.total,
            "changed": job.changed,
            "failed": job.failed,
            "batches": job.batches,
        },
    )


def catch_up(*, now: dt.datetime | None = None, actor: Any = SYSTEM) -> list[RecomputeJob]:
    """Record a job for every calendar whose open dossiers are not all on its version in
    force (each calendar in its own transaction). Returns the jobs recorded or found."""
    found = []
    for code in WorkingCalendar.objects.order_by("code").values_list("code", flat=True):
        try:
            with transaction.atomic():
                job = record(code, actor=actor, now=now, reason="catch_up")
        except NotFound:  # a calendar without any version yet: nothing runs on it
            continue
        if job is not None:
            found.append(job)
    return found


def on_version_added(
    sender: Any, *, calendar_code: str, actor: Any, now: dt.datetime, **kwargs: Any
) -> str:
    """Receiver of `calendars.signals.version_added`, inside the transaction that adds the
    version: record the recompute it calls for; return what is pending, in one line."""
    job = record(calendar_code, actor=actor, now=now, reason="version_added")
    return summary(calendar_code, job, now=now)


def on_calendar_checked(
    sender: Any, *, calendar_code: str, actor: Any, now: dt.datetime, **kwargs: Any
) -> str:
    """Receiver of `calendars.signals.calendar_checked` (`cchc calendar load`, whether or
    not the file changed anything): find the recompute a crash interrupted, or one the
    version in force calls for, and queue it again; return what is pending, in one line."""
    job = record(calendar_code, actor=actor, now=now, reason="reload", kick=True)
    return summary(calendar_code, job, now=now)


def summary(calendar_code: str, job: RecomputeJob | None, *, now: dt.datetime | None) -> str:
    """One Vietnamese line on the recompute of `calendar_code` (for `cchc calendar load`)."""
    if job is not None:
        left = max(job.total - job.changed - job.failed, 0)
        state = "đang chạy dở" if job.status == RecomputeStatus.RUNNING else "chờ chạy"
        return (
            f"Tính lại hạn theo {job.label}: còn {left}/{job.total} hồ sơ đang mở (công việc "
            f"#{job.pk}, {state}); tiến trình nền sẽ thực hiện, hoặc chạy ngay: "
            "cchc dossiers recompute."
        )
    version = version_in_force(calendar_code, now)
    stale = services.stale_open(calendar_code, label(calendar_code, version)).count()
    if not stale:
        return ""
    return (
        f"Còn {stale} hồ sơ đang mở chưa tính lại được theo {label(calendar_code, version)} "
        "(xem cchc dossiers verify; sửa lịch rồi chạy cchc dossiers verify --fix)."
    )


# -- running -----------------------------------------------------------------------------------


def step(job_id: int, *, batch: int | None = None, now: dt.datetime | None = None) -> RecomputeJob:
    """One batch of job `job_id` in one transaction: the next stale dossiers after the
    cursor, each re-planned (a failure is counted and named, the others go on), then the
    cursor and counts. The job is closed when a batch finds fewer than `batch` dossiers."""
    size = batch_size(batch)
    at = local_now(now)
    with transaction.atomic():
        # Two runners (the queued job, the periodic command) take turns batch by batch.
        job = RecomputeJob.objects.select_for_update().get(pk=job_id)
        if job.finished:
            return job
        actor = job.requested_by or SYSTEM
        dossiers = list(
            services.stale_open(job.calendar_code, job.label)
            .filter(pk__gt=job.cursor)
            .order_by("pk")[:size]
        )
        for dossier in dossiers:
            try:
                with transaction.atomic():
                    job.changed += services.replan(dossier, job.version, actor=actor, now=at)
            except (legaltime.LegalTimeError, DomainError) as exc:
                job.failed += 1
                if len(job.failures) < RecomputeJob.FAILURES_KEPT:
                    job.failures.append([dossier.pk, dossier.code, _message(exc)])
        if dossiers:
            job.cursor = dossiers[-1].pk
            job.batches += 1
        job.status = RecomputeStatus.RUNNING
        job.started_at = job.started_at or at
        job.progress_at = at
        job.save()
        if len(dossiers) < size:
            _close(job, RecomputeStatus.DONE, actor=actor, now=at)
    return job


def _message(exc: Exception) -> str:
    return str(getattr(exc, "message", exc))[:300]


def resume(
    job_id: int, *, batch: int | None = None, progress: Progress | None = None
) -> RecomputeJob:
    """Run job `job_id` batch by batch until it is closed (or superseded meanwhile)."""
    while True:
        job = step(job_id, batch=batch)
        if progress is not None:
            progress(job)
        if job.finished:
            return job


def run_job(job_id: int) -> dict[str, int]:
    """What the worker runs (queued by `record`): finish job `job_id`; its counts."""
    if not RecomputeJob.objects.filter(pk=job_id).exists():
        return {}
    job = resume(job_id)
    return {"changed": job.changed, "failed": job.failed, "batches": job.batches}


@dataclass
class RunReport:
    """What one `resume_all` did (the numbers `cchc dossiers recompute --json` prints)."""

    jobs: list[RecomputeJob] = field(default_factory=list)
    changed: int = 0
    failed: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": len(self.jobs),
            "changed": self.changed,
            "failed": self.failed,
            "batches": self.batches,
            "pending": RecomputeJob.objects.filter(status__in=UNFINISHED_RECOMPUTE).count(),
            "details": [
                {
                    "job": job.pk,
                    "calendar_version": job.label,
                    "status": job.status,
                    "total": job.total,
                    "changed": job.changed,
                    "failed": job.failed,
                    "failures": [{"code": c, "message": m} for _, c, m in job.failures],
                }
                for job in self.jobs
            ],
        }


def resume_all(
    *,
    batch: int | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Catch up, then finish every unfinished job, oldest first. Idempotent: with nothing
    to do it writes nothing."""
    catch_up(now=now)
    report = RunReport()
    for job_id in (
        RecomputeJob.objects.filter(status__in=UNFINISHED_RECOMPUTE)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        before = RecomputeJob.objects.get(pk=job_id)
        job = resume(job_id, batch=batch, progress=progress)
        report.jobs.append(job)
        report.changed += job.changed - before.changed
        report.failed += job.failed - before.failed
        report.batches += job.batches - before.batches
    return report
