"""Dossier API: parse, call a service or a scoped query, shape the response.

Permissions are the pages' own (`cchc.dossiers.access`): a dossier outside the caller's
reach answers 404 (its existence is not revealed); an action the caller may not take
answers 403; an action the state does not allow answers 400 `dossier.illegal_transition`;
a stale `expected_version` answers 409 `dossier.conflict`. The applicant's personal data —
in the detail, the queue and as the actor of their own events — is masked for callers
without `dossier.personal_data` over the dossier (`access.applicant_for`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from cchc import legaltime
from cchc.catalog.models import Procedure
from cchc.dossiers import access, files, intake, presenters, queries, services
from cchc.dossiers.models import Dossier, DossierEvent, State, StoredFile
from cchc.dossiers.schemas import (
    AttachOut,
    DossierCreate,
    DossierOut,
    DossierSubmit,
    ErrorOut,
    QueuePageOut,
    TransitionIn,
)
from cchc.errors import InvalidInput
from cchc.org.models import Agency, Desk
from cchc.webkit.params import RecordId, Whole

router = Router(tags=["Hồ sơ"])

# The API's clock. Handlers read the time here once per request; tests replace it.
clock: Callable[[], dt.datetime] = timezone.now


def _errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return {status: ErrorOut for status in (401, 422, *statuses)}


# -- input resolution -------------------------------------------------------------------------


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(legaltime.VN_TZ).date()


def _desk(code: str, day: dt.date) -> Desk:
    desk = Desk.objects.valid_on(day).filter(code=code).first()
    if desk is None:
        raise InvalidInput(f"Không có bộ phận một cửa mã «{code}».", code="dossier.desk")
    return desk


def _procedure(code: str) -> Procedure:
    procedure = Procedure.objects.filter(code=code).first()
    if procedure is None:
        raise InvalidInput(f"Không có thủ tục mã «{code}».", code="dossier.procedure")
    return procedure


def _agency(code: str | None, day: dt.date) -> Agency | None:
    if not code:
        return None
    agency = Agency.objects.valid_on(day).filter(code=code).first()
    if agency is None:
        raise InvalidInput(f"Không có cơ quan mã «{code}».", code="dossier.competent_agency")
    return agency


def _intake_arguments(payload: DossierCreate | DossierSubmit, now: dt.datetime) -> dict[str, Any]:
    """What desk intake and online submission share, resolved from codes to records."""
    day = _today(now)
    return {
        "desk": _desk(payload.desk, day),
        "procedure": _procedure(payload.procedure),
        "competent_agency": _agency(payload.competent_agency, day),
        "applicant": intake.Applicant(**payload.applicant.dict()),
        "components": [intake.Component(**item.dict()) for item in payload.components],
        "matter": payload.matter,
        "return_channel": payload.return_channel,
    }


# -- output shaping ---------------------------------------------------------------------------


def _named(obj: Any) -> dict[str, Any]:
    return {"id": obj.pk, "code": obj.code, "name": obj.name}


def _overdue(dossier: Dossier, now: dt.datetime) -> bool:
    return dossier.is_open and dossier.due is not None and dossier.due < now


def _file(f: StoredFile, code: str, event_seq: int | None) -> dict[str, Any]:
    return {
        "id": f.pk,
        "name": f.name,
        "content_type": f.content_type,
        "size": f.size,
        "sha256": f.sha256,
        "uploaded_at": f.uploaded_at,
        "event_seq": event_seq,
        "component": f.component_id,
        "url": reverse("api:dossier_file", kwargs={"code": code, "file_id": f.pk}),
    }


def _detail(user: Any, code: str, now: dt.datetime) -> dict[str, Any]:
    d = Dossier.objects.select_related(
        "procedure", "desk", "receiving_agency", "competent_agency", "current_agency", "assignee"
    ).get(code=code)
    events: list[DossierEvent] = list(d.events.order_by("seq"))
    stored = list(d.files.all())
    seq_of = {e.pk: e.seq for e in events}
    files_of: dict[int, list[int]] = {}
    for f in stored:
        if f.event_id:
            files_of.setdefault(f.event_id, []).append(f.pk)
    p = services.project(d, events)
    explained = services.explain(d, p)
    appointment = (
        explained.explanation.texts() if explained and explained.explanation is not None else []
    )
    steps = [
        {
            "index": row.number - 1,
            "name": row.name,
            "budget": str(d.step_plan[row.number - 1]["budget"]),
            "due": row.due,
            "current": row.status in ("current", "late"),
            "behind_schedule": row.status == "late",
        }
        for row in presenters.steps(d, p, now)
    ]
    return {
        "code": d.code,
        "version": d.version,
        "state": d.state,
        "state_label": State(d.state).label,
        "ruleset": d.ruleset,
        "channel": d.channel,
        "online_level": d.online_level,
        "procedure": _named(d.procedure),
        "desk": _named(d.desk),
        "receiving_agency": _named(d.receiving_agency),
        "competent_agency": _named(d.competent_agency),
        "current_agency": _named(d.current_agency),
        "assignee": {"id": d.assignee.pk, "name": str(d.assignee)} if d.assignee else None,
        "applicant": presenters.applicant(user, d),
        "matter": d.matter,
        "sets": d.sets,
        "return_channel": d.return_channel,
        "submitted_at": d.submitted_at,
        "finished_at": d.finished_at,
        "returned_at": d.returned_at,
        "outcome": d.outcome,
        "at_risk": d.at_risk,
        "risk_note": d.risk_note,
        "supplement_requests": d.supplement_requests,
        "has_apology": d.has_apology,
        "clocks": {
            "received_at": d.received_at,
            "clock_start": d.clock_start,
            "original_due": d.original_due,
            "due": d.due,
            "paused_seconds": d.paused_seconds,
            "paused_since": d.paused_since,
            "step_due": d.step_due,
            "extensions": d.extensions,
            "overdue": _overdue(d, now),
            "calendar_version": d.calendar_version,
            "appointment": appointment,
            "steps": steps,
            "handoffs": [h.__dict__ for h in p.handoffs],
        },
        "components": [
            {
                "position": c.position,
                "document_id": c.document_id,
                "name": c.name,
                "originals": c.originals,
                "copies": c.copies,
                "digitised": c.digitised,
                "reused": c.reused,
            }
            for c in d.components.all()
        ],
        "fees": [{"name": f.name, "amount": f.amount} for f in d.fees.all()],
        "results": [
            {
                "number": r.number,
                "code": r.code,
                "title": r.title,
                "electronic": r.electronic,
                "issued_at": r.issued_at,
            }
            for r in d.results.all()
        ],
        "files": [_file(f, d.code, seq_of.get(f.event_id)) for f in stored],
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "label": services.ACTION_LABELS.get(e.action, e.action),
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": access.actor_label_for(user, d, e),
                "at": e.at,
                "reason": e.reason,
                "data": e.data,
                "files": files_of.get(e.pk, []),
            }
            for e in events
        ],
        "actions": [
            {"action": a["code"], "label": a["label"], "needs_reason": a["needs_reason"]}
            for a in presenters.actions(user, d)
        ],
    }


def _summary(user: Any, d: Dossier, now: dt.datetime) -> dict[str, Any]:
    return {
        "code": d.code,
        "version": d.version,
        "state": d.state,
        "state_label": State(d.state).label,
        "procedure_code": d.procedure.code,
        "procedure_name": d.procedure.name,
        "applicant_name": access.applicant_for(user, d).name,
        "current_agency": d.current_agency.short_name or d.current_agency.name,
        "assignee": str(d.assignee) if d.assignee else None,
        "received_at": d.received_at,
        "due": d.due,
        "step_index": d.step_index,
        "step_due": d.step_due,
        "at_risk": d.at_risk,
        "overdue": _overdue(d, now),
    }


# -- endpoints --------------------------------------------------------------------------------


@router.post(
    "/",
    response={201: DossierOut, **_errors(400, 403)},
    summary="Tiếp nhận hồ sơ tại bộ phận một cửa",
)
def receive_at_desk(request: HttpRequest, payload: DossierCreate):
    now = clock()
    dossier = intake.receive_at_desk(
        request.user,
        **_intake_arguments(payload, now),
        channel=payload.channel,
        sets=payload.sets,
        assignee=payload.assignee,
        now=now,
    )
    return Status(201, _detail(request.user, dossier.code, now))


@router.post(
    "/online",
    response={201: DossierOut, **_errors(400, 403)},
    summary="Nộp hồ sơ trực tuyến (chờ bộ phận một cửa tiếp nhận)",
)
def submit_online(request: HttpRequest, payload: DossierSubmit):
    now = clock()
    dossier = intake.submit_online(request.user, **_intake_arguments(payload, now), now=now)
    return Status(201, _detail(request.user, dossier.code, now))


@router.get(
    "/",
    response={200: QueuePageOut, **_errors(400)},
    summary="Danh sách hồ sơ cần xử lý (hạn sớm nhất trước)",
)
def work_queue(
    request: HttpRequest,
    q: str = "",
    state: str = "",
    mine: bool = False,
    risk: bool = False,
    overdue: bool = False,
    step: Whole | None = None,
    after: str | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    """`q` searches (at least 3 characters): the dossier's code or its tail ("240610-0001",
    "0001"), a phone number in any format ("0912 345 678", "+84 912.345.678"), an ID number
    (CCCD/CMND, tax code), the applicant's name with or without diacritics, the procedure.
    Outside the caller's personal-data reach only the code and the procedure match. A
    shorter `q` answers 400 `queue.search_too_short`."""
    now = clock()
    page = queries.work_queue(
        request.user,
        queries.QueueFilters(q=q, state=state, mine=mine, risk=risk, overdue=overdue, step=step),
        now=now,
        after=after,
        limit=limit,
    )
    items = [_summary(request.user, d, now) for d in page.items]
    return {"items": items, "next": page.next_cursor}


@router.get(
    "/{code}",
    response={200: DossierOut, **_errors(404)},
    summary="Một hồ sơ: diễn biến, thời hạn, giấy tờ, thao tác được phép",
)
def get_dossier(request: HttpRequest, code: str):
    access.get_visible(request.user, code)
    return _detail(request.user, code, clock())


@router.post(
    "/{code}/transitions",
    response={200: DossierOut, **_errors(400, 403, 404, 409)},
    summary="Thực hiện một thao tác trên hồ sơ",
)
def transition(request: HttpRequest, code: str, payload: TransitionIn):
    now = clock()
    dossier = access.get_visible(request.user, code)
    data = payload.data.dict(exclude_none=True)
    if "new_due" in data:
        data["new_due"] = data["new_due"].isoformat()
    services.act(
        request.user,
        dossier,
        payload.action,
        now=now,
        reason=payload.reason,
        data=data,
        expected_version=payload.expected_version,
    )
    return _detail(request.user, code, now)


@router.post(
    "/{code}/files",
    response={201: AttachOut, **_errors(400, 403, 404, 409)},
    summary="Đính kèm tệp vào hồ sơ (PDF, JPEG, PNG, DOCX, XLSX; tối đa 20 MB)",
)
def attach(
    request: HttpRequest,
    code: str,
    file: File[UploadedFile],
    reason: Form[str] = "",
    expected_version: Form[Whole | None] = None,
):
    now = clock()
    dossier = access.get_visible(request.user, code)
    access.require(request.user, dossier, "attach")  # before reading a stranger's upload
    upload = files.check(file.name or "", file)
    event = services.act(
        request.user,
        dossier,
        "attach",
        now=now,
        reason=reason,
        uploads=[upload],
        expected_version=expected_version,
    )
    stored = event.files.get()
    return Status(
        201, {"file": _file(stored, code, event.seq), "dossier": _detail(request.user, code, now)}
    )


@router.get(
    "/{code}/files/{file_id}",
    response=_errors(403, 404),
    url_name="dossier_file",
    summary="Tải tệp của hồ sơ",
    openapi_extra={
        "responses": {
            200: {
                "description": "Nội dung tệp",
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        }
    },
)
def download(request: HttpRequest, code: str, file_id: RecordId):
    dossier = access.get_visible(request.user, code)
    stored = access.readable_file(request.user, dossier, file_id)
    return FileResponse(
        files.open_stored(stored.path).open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )
