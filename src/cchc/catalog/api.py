"""Catalogue API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from cchc.accounts import policy
from cchc.catalog import services, versions
from cchc.catalog.models import Procedure, ProcedureVersion
from cchc.errors import NotFound
from cchc.webkit.params import MAX_ID

router = Router(tags=["Thủ tục hành chính"])


class DocumentIO(Schema):
    name: str
    originals: int = 0
    copies: int = 0
    mandatory: bool = True
    # A valid digital signature required (issue 21); omitted on input: the local value kept.
    signature_required: bool | None = None


class FeeIO(Schema):
    name: str
    amount: int


class StepIO(Schema):
    name: str
    budget: Decimal
    unit: str = "wh"


class ProcedureOut(Schema):
    code: str
    name: str
    field: str
    levels: list[str]
    agency_type: str
    processing_time: Decimal
    processing_time_unit: str
    duration: str
    fees: list[FeeIO]
    documents: list[DocumentIO]
    steps: list[StepIO]
    result_type: str
    online_level: str
    eligible_full_online: bool
    population_data_connected: bool
    decision_number: str
    decision_date: dt.date | None
    active: bool
    cutoff: dt.time | None
    cutoff_source: str
    cutoff_verified: bool
    version: int


class VersionOut(Schema):
    number: int
    effective_from: dt.date
    basis: str
    in_force: bool
    name: str
    duration: str
    fees: list[FeeIO]
    documents: list[DocumentIO]
    steps: list[StepIO]
    online_level: str
    decision_number: str
    decision_date: dt.date | None
    active: bool
    cutoff: dt.time | None
    cutoff_source: str
    cutoff_verified: bool
    created_at: dt.datetime


class ProcedureIn(Schema):
    name: str
    field: str
    levels: list[str]
    agency_type: str
    processing_time: Decimal
    processing_time_unit: str = "wd"
    fees: list[FeeIO] = []
    documents: list[DocumentIO] = []
    steps: list[StepIO] = []
    result_type: str = "paper"
    online_level: str = "none"
    eligible_full_online: bool = False
    population_data_connected: bool = False
    decision_number: str = ""
    decision_date: dt.date | None = None
    active: bool = True
    cutoff: dt.time | None = None
    cutoff_source: str = ""
    cutoff_verified: bool = False
    cutoff_note: str = ""
    effective_from: dt.date | None = None
    basis: str = ""


class SaveResult(Schema):
    outcome: str
    procedure: ProcedureOut


def _parts(terms: Any) -> dict[str, list[dict[str, Any]]]:
    """The fees, documents and steps of a procedure or of one of its versions."""
    return {
        "fees": [{"name": f.name, "amount": f.amount} for f in terms.fees.all()],
        "documents": [
            {
                "name": d.name,
                "originals": d.originals,
                "copies": d.copies,
                "mandatory": d.mandatory,
                "signature_required": d.signature_required,
            }
            for d in terms.documents.all()
        ],
        "steps": [
            {"name": s.name, "budget": s.budget, "unit": s.budget_unit} for s in terms.steps.all()
        ],
    }


def _out(p: Procedure) -> dict:
    return {
        "code": p.code,
        "name": p.name,
        "field": p.field.name,
        "levels": [lv.code for lv in p.levels.all()],
        "agency_type": p.competent_agency_type.code,
        "processing_time": p.processing_time,
        "processing_time_unit": p.processing_time_unit,
        "duration": p.duration_spec,
        **_parts(p),
        "result_type": p.result_type,
        "online_level": p.online_level,
        "eligible_full_online": p.eligible_full_online,
        "population_data_connected": p.population_data_connected,
        "decision_number": p.decision_number,
        "decision_date": p.decision_date,
        "active": p.active,
        "cutoff": p.cutoff,
        "cutoff_source": p.cutoff_source,
        "cutoff_verified": p.cutoff_verified,
        "version": p.version,
    }


def _version_out(v: ProcedureVersion, current: int) -> dict:
    return {
        "number": v.number,
        "effective_from": v.effective_from,
        "basis": v.basis,
        "in_force": v.number == current,
        "name": v.name,
        "duration": v.duration_spec,
        **_parts(v),
        "online_level": v.online_level,
        "decision_number": v.decision_number,
        "decision_date": v.decision_date,
        "active": v.active,
        "cutoff": v.cutoff,
        "cutoff_source": v.cutoff_source,
        "cutoff_verified": v.cutoff_verified,
        "created_at": v.created_at,
    }


PREFETCH = ("levels", "fees", "documents", "steps")


@router.get("/procedures", response=list[ProcedureOut], summary="Tìm thủ tục (không phân biệt dấu)")
def list_procedures(
    request: HttpRequest,
    q: str = "",
    level: str | None = None,
    limit: int = 50,
    offset: int = Query(0, ge=0, le=MAX_ID),  # a slice past 64 bits breaks the database
):
    policy.require(request.user, "catalog.view")
    limit = max(1, min(limit, 500))
    qs = services.search_procedures(q, level=level).prefetch_related(*PREFETCH)
    return [_out(p) for p in qs[offset : offset + limit]]


@router.get("/procedures/{code}", response=ProcedureOut, summary="Một thủ tục")
def get_procedure(request: HttpRequest, code: str):
    policy.require(request.user, "catalog.view")
    p = Procedure.objects.prefetch_related(*PREFETCH).filter(code=code).first()
    if p is None:
        raise NotFound(f"Không có thủ tục mã {code}.")
    return _out(p)


@router.get(
    "/procedures/{code}/versions",
    response=list[VersionOut],
    summary="Các phiên bản của thủ tục theo ngày hiệu lực (mới nhất trước)",
)
def procedure_versions(request: HttpRequest, code: str):
    policy.require(request.user, "catalog.view")
    p = Procedure.objects.filter(code=code).first()
    if p is None:
        raise NotFound(f"Không có thủ tục mã {code}.")
    return [_version_out(v, p.version) for v in versions.history(p)]


@router.put("/procedures/{code}", response=SaveResult, summary="Thêm hoặc cập nhật thủ tục")
def put_procedure(request: HttpRequest, code: str, payload: ProcedureIn):
    data = services.ProcedureData(
        code=code,
        name=payload.name,
        field_name=payload.field,
        levels=tuple(payload.levels),
        agency_type=payload.agency_type,
        processing_time=payload.processing_time,
        processing_time_unit=payload.processing_time_unit,
        fees=tuple((f.name, f.amount) for f in payload.fees),
        documents=tuple(services.DocumentData(**d.dict()) for d in payload.documents),
        result_type=payload.result_type,
        online_level=payload.online_level,
        eligible_full_online=payload.eligible_full_online,
        population_data_connected=payload.population_data_connected,
        decision_number=payload.decision_number,
        decision_date=payload.decision_date,
        steps=tuple(
            services.StepData(name=s.name, budget=s.budget, unit=s.unit) for s in payload.steps
        ),
        active=payload.active,
        cutoff=payload.cutoff,
        cutoff_source=payload.cutoff_source,
        cutoff_verified=payload.cutoff_verified,
        cutoff_note=payload.cutoff_note,
        effective_from=payload.effective_from,
        basis=payload.basis,
    )
    procedure, outcome = services.save_procedure(request.user, data, now=timezone.now())
    return {"outcome": outcome, "procedure": _out(procedure)}
