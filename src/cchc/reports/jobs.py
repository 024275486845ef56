"""Periodic reports asked for on the web, made by the worker.

`ask` runs in the request: the same checks as `services.generate` (nothing computed), then
one `ReportRequest` row, its audit entry and the queued job in one transaction. A second
POST with the same parameters while the first is queued or running gets the same request
(a double click makes one report).

`run_request` runs on the worker, in the name of the requester: `services.generate` checks
their right again (a user who lost it gets a failed request, not a file), records the
generation in the audit log as the page always did, and the file is stored under
``<MEDIA_ROOT>/reports/``. Any failure ends the request as failed with a Vietnamese message;
the traceback goes to the log, never to the user.

While it works the job holds the lock ``report-request:<pk>`` (`cchc.tabular.locks`,
released by the database or the kernel if the worker dies), so a request left "running" by
a dead worker is known to be interrupted (`state_of`); the queue hands the job out again
and it starts over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cchc.audit import log
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from cchc.jobs.queue import enqueue
from cchc.reports import services
from cchc.reports.models import GOING, ReportRequest, RequestState
from cchc.tabular import locks

logger = logging.getLogger(__name__)

RECENT = 10  # requests listed on the form page
FAILED_UNEXPECTEDLY = (
    "Không lập được báo cáo do lỗi của hệ thống. Hãy thử lại sau; nếu vẫn lỗi, báo quản trị "
    "viên (thời điểm yêu cầu giúp tra nhật ký)."
)
INTERRUPTED = (
    "Việc lập báo cáo bị gián đoạn (tiến trình xử lý nền dừng giữa chừng). Hãy lập lại báo cáo."
)
NOT_STORED = "Không lưu được tệp báo cáo vào kho tệp của hệ thống. Hãy thử lại sau."
INACTIVE = "Tài khoản của người yêu cầu không còn hoạt động: không lập báo cáo."


def lock_name(request_id: int) -> str:
    """The lock the job of request `request_id` holds while it works."""
    return f"report-request:{request_id}"


def state_of(req: ReportRequest) -> str:
    """The request's state as it really is: "running" only while a worker holds its lock."""
    if req.state == RequestState.RUNNING and not locks.is_held(lock_name(req.pk)):
        return RequestState.INTERRUPTED
    return req.state


def reports_dir() -> Path:
    """Where the files are kept: ``<MEDIA_ROOT>/reports`` (private, never served as static)."""
    return Path(settings.MEDIA_ROOT) / "reports"


def stored_path(req: ReportRequest) -> Path | None:
    """The request's file on disk, or None if it has none (not made yet, or pruned)."""
    if not req.file:
        return None
    path = (Path(settings.MEDIA_ROOT) / req.file).resolve()
    if not path.is_relative_to(reports_dir().resolve()) or not path.is_file():
        return None
    return path


def ask(
    actor: Any,
    *,
    period: str,
    issuer: str,
    format: str,
    number: str,
    issue_date: dt.date,
    now: dt.datetime | None = None,
) -> ReportRequest:
    """Record a report request and queue its job (or return the same request already
    queued or running). Raises what `services.generate` would raise before computing:
    InvalidInput, NotFound, PermissionDenied."""
    now = now or timezone.now()
    checked = services.check(actor, period=period, issuer=issuer, now=now, formats=[format])
    limit = ReportRequest._meta.get_field("number").max_length or 60
    if len(number.strip()) > limit:
        raise InvalidInput(f"Số báo cáo quá dài (tối đa {limit} ký tự).", code="reports.number")
    params: dict[str, Any] = {
        "requested_by": actor,
        "period": checked.period.code,
        "issuer": issuer.strip(),
        "format": services.parse_formats([format])[0],
        "number": number.strip(),
        "issue_date": issue_date,
    }
    same = ReportRequest.objects.filter(**params, state__in=GOING).first()
    if same is not None:
        if state_of(same) != RequestState.INTERRUPTED:
            return same
        _end_failed(same, INTERRUPTED, actor=actor, only_if_running=True)
    try:
        with transaction.atomic():
            req = ReportRequest.objects.create(**params, as_of=now, created_at=now)
            log.record(
                "reports.periodic.requested",
                actor=actor,
                obj=req,
                data=req.params | {"as_of": now},
                agency_id=checked.scope.agency_id,
                at=now,
            )
            enqueue("cchc.reports.jobs.run_request", req.pk, name=f"report-{req.pk}")
    except IntegrityError:
        # The other POST of a double click committed the same request first.
        same = ReportRequest.objects.filter(**params, state__in=GOING).first()
        if same is None:
            raise Conflict(
                "Một yêu cầu lập báo cáo giống hệt vừa được ghi nhận; hãy tải lại trang.",
                code="reports.busy",
            ) from None
        return same
    return req


def run_request(request_id: int) -> dict[str, int]:
    """The worker's job: make the file of request `request_id` in its requester's name.
    Returns counts for the job's record."""
    with locks.holding([lock_name(request_id)], wait=0) as held:
        if not held:
            return {"skipped": 1}  # another worker is making it right now
        req = ReportRequest.objects.select_related("requested_by").filter(pk=request_id).first()
        if req is None or req.state not in GOING:
            return {"skipped": 1}  # done, failed, or given up while queued
        return _run(req)


def _run(req: ReportRequest) -> dict[str, int]:
    user = req.requested_by
    ReportRequest.objects.filter(pk=req.pk).update(
        state=RequestState.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        progress="Bắt đầu lập báo cáo",
        error="",
    )
    try:
        if not user.is_active:
            raise PermissionDenied(INACTIVE, code="reports.inactive")
        (output,) = services.generate(
            user,
            period=req.period,
            issuer=req.issuer,
            formats=[req.format],
            now=req.as_of,
            issue_date=req.issue_date,
            number=req.number or None,
            progress=lambda step: _progress(req.pk, step),
        )
    except DomainError as exc:
        _end_failed(req, exc.message, actor=user)
        return {"failed": 1}
    except Exception:
        logger.exception("report request %s failed", req.pk)
        _end_failed(req, FAILED_UNEXPECTEDLY, actor=user)
        raise  # the queue records the failure too (metrics, administrators)
    try:
        relative = _store(req, output.content, output.format)
    except OSError:
        logger.exception("report request %s: the file could not be stored", req.pk)
        _end_failed(req, NOT_STORED, actor=user)
        return {"failed": 1}
    ReportRequest.objects.filter(pk=req.pk).update(
        state=RequestState.DONE,
        finished_at=timezone.now(),
        progress="",
        file=relative,
        filename=output.filename,
        content_type=output.content_type,
        size=len(output.content),
        sha256=output.sha256,
    )
    return {"done": 1, "bytes": len(output.content)}


def _progress(request_id: int, step: str) -> None:
    """Show the step on the request's page (one small update, committed at once)."""
    ReportRequest.objects.filter(pk=request_id, state=RequestState.RUNNING).update(
        progress=step[:200]
    )


def _store(req: ReportRequest, content: bytes, extension: str) -> str:
    """Write the file under MEDIA_ROOT/reports/YYYY/MM/ (as ``*.part`` first, which backups
    skip, then renamed) and return its path relative to MEDIA_ROOT."""
    month = timezone.localdate()
    folder = reports_dir() / f"{month:%Y}" / f"{month:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{req.pk}-{secrets.token_hex(8)}.{extension}"
    part = final.with_name(final.name + ".part")
    try:
        with part.open("wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        part.replace(final)
    except OSError:
        part.unlink(missing_ok=True)
        raise
    return final.relative_to(Path(settings.MEDIA_ROOT)).as_posix()


def _end_failed(
    req: ReportRequest, message: str, *, actor: Any, only_if_running: bool = False
) -> None:
    """End the request as failed with `message` (audited). Never raises: it runs while
    something else already went wrong (the database itself may be what failed)."""
    try:
        with transaction.atomic():
            rows = ReportRequest.objects.filter(pk=req.pk)
            rows = rows.filter(state=RequestState.RUNNING) if only_if_running else rows
            if not rows.update(
                state=RequestState.FAILED, finished_at=timezone.now(), error=message
            ):
                return
            log.record(
                "reports.periodic.failed",
                actor=actor,
                obj=req,
                data=req.params | {"message": message},
            )
    except Exception:
        logger.exception("report request %s could not be marked failed", req.pk)


def for_user(user: Any, request_id: int) -> ReportRequest:
    """The request `request_id` if `user` asked for it and may still view the issuer's
    indicators; NotFound otherwise (to anyone else it does not exist)."""
    req = ReportRequest.objects.filter(pk=request_id, requested_by_id=user.pk).first()
    if req is None:
        raise NotFound("Không tìm thấy yêu cầu lập báo cáo.", code="reports.request")
    try:
        services.check(user, period=req.period, issuer=req.issuer, now=req.as_of)
    except DomainError:
        raise NotFound("Không tìm thấy yêu cầu lập báo cáo.", code="reports.request") from None
    return req


def recent(user: Any) -> list[ReportRequest]:
    """The user's last requests, newest first, each with its real state (`live_state`,
    `live_label`)."""
    rows = list(ReportRequest.objects.filter(requested_by_id=user.pk)[:RECENT])
    for r in rows:
        r.live_state = state_of(r)  # type: ignore[attr-defined]
        r.live_label = RequestState(r.live_state).label  # type: ignore[attr-defined]
    return rows


def prune(*, days: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the files of requests finished more than `days` days ago (the request rows
    stay, as the record of who asked for what); each removal audited. Returns counts."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    old = ReportRequest.objects.filter(state=RequestState.DONE, finished_at__lt=cutoff).exclude(
        file=""
    )
    removed, freed = 0, 0
    for req in old.iterator():
        path = Path(settings.MEDIA_ROOT) / req.file
        with transaction.atomic():
            ReportRequest.objects.filter(pk=req.pk).update(file="")
            log.record(
                "reports.periodic.file_pruned",
                actor=None,
                obj=req,
                data={"file": req.file, "sha256": req.sha256, "days": days},
                at=now,
            )
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            pass
        removed += 1
    return {"pruned": removed, "bytes": freed}


def file_digest(path: Path) -> str:
    """SHA-256 of a stored file (to check it before handing it out)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
