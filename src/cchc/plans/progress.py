"""Progress reports on plan tasks, their evidence files, and review by the Department of
Home Affairs (Sở Nội vụ, role provincial supervisor: permission `plan.review`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment
from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.errors import Conflict, InvalidInput
from cchc.notifications.models import Channel
from cchc.notifications.services import notify
from cchc.plans.models import Evidence, ReportState, Task, TaskReport
from cchc.plans.services import deliverable_periods, local_day

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_REPORT = 5
# Extension -> (content type, accepted leading bytes). The content decides, not the name
# or the browser's claim.
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    "png": ("image/png", (b"\x89PNG",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


@dataclass(frozen=True)
class Upload:
    """An evidence file as received: original name and content."""

    name: str
    content: bytes


def check_upload(upload: Upload) -> tuple[str, str]:
    """Return (extension, content type) of an acceptable evidence file or raise InvalidInput."""
    name = PurePath(upload.name).name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_TYPES:
        allowed = ", ".join(f".{e}" for e in ALLOWED_TYPES)
        raise InvalidInput(f"Tệp '{name}': chỉ nhận {allowed}.", code="plan.evidence_type")
    if not upload.content:
        raise InvalidInput(f"Tệp '{name}' rỗng.", code="plan.evidence_empty")
    if len(upload.content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(
            f"Tệp '{name}' quá lớn ({len(upload.content) / 1048576:.1f} MB, tối đa "
            f"{MAX_EVIDENCE_BYTES // 1048576} MB).",
            code="plan.evidence_size",
        )
    content_type, magics = ALLOWED_TYPES[ext]
    if not upload.content.startswith(magics):
        raise InvalidInput(
            f"Tệp '{name}' không đúng định dạng .{ext} (nội dung không khớp phần mở rộng).",
            code="plan.evidence_type",
        )
    return ext, content_type


def submit_report(
    actor: Any,
    task: Task,
    *,
    progress: int,
    note: str,
    completed: bool = False,
    period: str = "",
    files: list[Upload] | tuple[Upload, ...] = (),
    now: dt.datetime,
) -> TaskReport:
    """The lead agency's focal point reports progress on `task` (one period of a recurring
    task), with evidence files. A completion report needs progress 100 % and at least one
    evidence file. Needs `plan.report` for the task's lead agency."""
    policy.require(actor, "plan.report", agency=task.lead_agency_id)
    note = " ".join(note.split()) if note else ""
    if not note:
        raise InvalidInput("Chưa nhập nội dung báo cáo.")
    if not 0 <= progress <= 100:
        raise InvalidInput("Tiến độ phải từ 0 đến 100%.")
    if completed and progress != 100:
        raise InvalidInput("Báo cáo hoàn thành thì tiến độ phải là 100%.")
    if completed and not files:
        raise InvalidInput("Báo cáo hoàn thành cần kèm ít nhất một tài liệu kiểm chứng.")
    if len(files) > MAX_FILES_PER_REPORT:
        raise InvalidInput(f"Tối đa {MAX_FILES_PER_REPORT} tệp cho một báo cáo.")
    keys = {p.key: p for p in deliverable_periods(task)}
    if period not in keys:
        known = ", ".join(k for k in keys if k) or "cả nhiệm vụ"
        raise InvalidInput(f"Kỳ báo cáo '{period}' không thuộc nhiệm vụ này (có: {known}).")
    if local_day(now) < keys[period].start:
        raise InvalidInput(f"Chưa đến kỳ {keys[period].label}, chưa thể báo cáo.")
    checked = [(f, *check_upload(f)) for f in files]
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if TaskReport.objects.filter(
            task=locked, period=period, completed=True, state=ReportState.ACCEPTED
        ).exists():
            raise Conflict("Kỳ này đã được công nhận hoàn thành; không cần báo cáo thêm.")
        report = TaskReport.objects.create(
            task=locked,
            period=period,
            progress=progress,
            completed=completed,
            note=note,
            reported_by=actor,
            reported_at=now,
        )
        for upload, ext, content_type in checked:
            Evidence.objects.create(
                report=report,
                file=ContentFile(upload.content, name=f"{uuid.uuid4().hex}.{ext}"),
                name=PurePath(upload.name).name[:255],
                size=len(upload.content),
                content_type=content_type,
                sha256=hashlib.sha256(upload.content).hexdigest(),
            )
        log.record(
            "plans.report.submitted",
            actor=actor,
            obj=report,
            data={
                "task": task.code,
                "period": period,
                "progress": progress,
                "completed": completed,
                "files": [f.name for f in files],
            },
            agency_id=task.lead_agency_id,
            at=now,
        )
        _tell_reviewers(task, report, now=now)
    return report


def _tell_reviewers(task: Task, report: TaskReport, *, now: dt.datetime) -> None:
    link = reverse("plans:task", args=[task.pk])
    for assignment in RoleAssignment.objects.filter(
        role=Role.PROVINCIAL_SUPERVISOR, active=True
    ).select_related("user"):
        user = assignment.user
        if user.is_active and policy.can(user, "plan.review", agency=task.lead_agency_id):
            notify(
                kind="plans.report_submitted",
                subject=f"Báo cáo tiến độ nhiệm vụ {task.code} chờ thẩm định",
                body=f"{task.lead_agency}: {report.note[:200]}",
                user=user,
                link=link,
                key=f"plans.report_submitted:{report.pk}:{user.pk}",
                agency_id=task.lead_agency_id,
                now=now,
            )


def review_report(
    actor: Any, report: TaskReport, *, accept: bool, note: str = "", now: dt.datetime
) -> TaskReport:
    """Accept a report or return it for more work (a reason is required). Needs
    `plan.review` for the task's lead agency; only a report waiting for review."""
    task = report.task
    policy.require(actor, "plan.review", agency=task.lead_agency_id)
    note = " ".join(note.split()) if note else ""
    if not accept and not note:
        raise InvalidInput("Trả lại báo cáo cần ghi rõ lý do, nội dung cần bổ sung.")
    with transaction.atomic():
        locked = TaskReport.objects.select_for_update().get(pk=report.pk)
        if locked.state != ReportState.SUBMITTED:
            raise Conflict(f"Báo cáo này đã được xử lý ({locked.get_state_display().lower()}).")
        if now < locked.reported_at:
            raise InvalidInput("Thời điểm thẩm định không thể trước thời điểm báo cáo.")
        locked.state = ReportState.ACCEPTED if accept else ReportState.RETURNED
        locked.reviewed_by = actor
        locked.reviewed_at = now
        locked.review_note = note
        locked.save()
        log.record(
            f"plans.report.{'accepted' if accept else 'returned'}",
            actor=actor,
            obj=locked,
            data={"task": task.code, "period": locked.period, "note": note},
            agency_id=task.lead_agency_id,
            at=now,
        )
        verdict = "được chấp nhận" if accept else "bị trả lại"
        for channel in (Channel.IN_APP, Channel.EMAIL):
            notify(
                kind="plans.report_reviewed",
                subject=f"Báo cáo nhiệm vụ {task.code} {verdict}",
                body=note or "Sở Nội vụ đã chấp nhận báo cáo tiến độ.",
                user=locked.reported_by,
                channel=channel,
                link=reverse("plans:task", args=[task.pk]),
                key=f"plans.report_reviewed:{locked.pk}:{channel}",
                agency_id=task.lead_agency_id,
                now=now,
            )
    return locked


def can_see_evidence(user: Any, evidence: Evidence) -> bool:
    """Evidence is internal: the lead agency's reporters and the reviewers may open it."""
    agency_id = evidence.report.task.lead_agency_id
    return policy.can(user, "plan.report", agency=agency_id) or policy.can(
        user, "plan.review", agency=agency_id
    )
