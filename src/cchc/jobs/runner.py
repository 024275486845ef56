"""Running a periodic command and recording the run: start, end, outcome, counts.

A command reports counts by printing JSON with `--json` (the whole output or its last
line); numbers are kept, lists are counted. A failure (non-zero exit, a refused command,
an exception) is recorded with its one-line reason, logged at ERROR (so error reporting
sees it) and passed to the alert handlers (the notifications app registers one that tells
the administrators)."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cchc.errors import DomainError
from cchc.jobs import schedule
from cchc.jobs.models import JobRun, Outcome, Trigger

logger = logging.getLogger(__name__)

# Called with the failed JobRun; registered by apps above this one (never raise).
ALERT_HANDLERS: list[Callable[[JobRun], None]] = []


def run_scheduled(name: str) -> dict[str, Any]:
    """The function the scheduler queues: run the named periodic job if still scheduled."""
    job = schedule.find(name)
    if job is None:
        logger.warning("periodic job %s is no longer scheduled; skipped", name)
        return {"skipped": "not scheduled"}
    return run(job, trigger=Trigger.SCHEDULE).counts


def run(job: schedule.PeriodicJob, *, trigger: str = Trigger.MANUAL) -> JobRun:
    """Run one periodic command now, in this process, and return its recorded run."""
    record = JobRun.objects.create(
        name=job.name,
        trigger=trigger,
        command=job.command[:300],
        started_at=timezone.now(),
        host=socket.gethostname()[:100],
        pid=os.getpid(),
    )
    out, err = io.StringIO(), io.StringIO()
    outcome, message = Outcome.OK, ""
    try:
        call_command(*job.argv, stdout=out, stderr=err)
    except SystemExit as exc:  # commands exit 1 on a mismatch (verify) or a refusal
        if exc.code not in (0, None):
            outcome = Outcome.FAILED
            message = f"thoát với mã {exc.code}"
    except (CommandError, DomainError) as exc:
        outcome, message = Outcome.FAILED, str(exc)
    except Exception as exc:  # a job must leave a record whatever went wrong
        logger.exception("periodic job %s crashed", job.name)
        outcome, message = Outcome.FAILED, f"{type(exc).__name__}: {exc}"
    text = out.getvalue()
    last_line = _last_line(err.getvalue()) if outcome == Outcome.FAILED else ""
    record.counts = counts_of(text)
    said = last_line or ("" if record.counts else _last_line(text))
    record.message = "; ".join(m for m in (message, said) if m)[:2000]
    record.outcome = outcome
    record.finished_at = timezone.now()
    record.save(update_fields=["counts", "message", "outcome", "finished_at"])
    if outcome == Outcome.FAILED:
        logger.error("periodic job %s failed: %s", job.name, record.message)
        for handler in ALERT_HANDLERS:
            try:
                handler(record)
            except Exception:
                logger.exception("alert handler %r failed for job %s", handler, job.name)
    return record


def counts_of(text: str) -> dict[str, Any]:
    """The numbers a command printed as JSON (whole output or last line), lists counted."""
    stripped = text.strip()
    if not stripped:
        return {}
    for candidate in (stripped, stripped.splitlines()[-1]):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return _summary(data)
    return {}


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, bool | int | float):
            result[key] = value
        elif isinstance(value, list | dict):
            result[key] = len(value)
    return result


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def mark_interrupted(host: str | None = None) -> int:
    """Runs left "running" on this host by a process that is gone (killed, crashed) are
    closed as failed, so the record never claims a run is still going."""
    host = host or socket.gethostname()[:100]
    gone = [
        run.pk
        for run in JobRun.objects.filter(outcome=Outcome.RUNNING, host=host).only("pk", "pid")
        if not _alive(run.pid)
    ]
    return JobRun.objects.filter(pk__in=gone, outcome=Outcome.RUNNING).update(
        outcome=Outcome.FAILED,
        finished_at=timezone.now(),
        message="Bị gián đoạn: tiến trình thực hiện đã dừng trước khi xong.",
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
