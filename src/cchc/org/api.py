"""Organisation API: parse, call a scoped query or service, shape the response."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from cchc.accounts import policy
from cchc.errors import NotFound
from cchc.org import services
from cchc.org.models import AdministrativeUnit, Agency
from cchc.webkit.params import RecordId

router = Router(tags=["Tổ chức"])


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    level: str
    parent_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None


class AgencyOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    type: str
    level: str
    unit_id: int
    parent_id: int | None
    successor_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None
    head_name: str
    head_title: str


class AgencyUpdate(Schema):
    head_name: str | None = None
    head_title: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


def _unit(u: AdministrativeUnit) -> dict:
    return {
        "id": u.pk,
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "level": u.level.code,
        "parent_id": u.parent_id,
        "valid_from": u.valid_from,
        "valid_to": u.valid_to,
    }


def _agency(a: Agency) -> dict:
    return {
        "id": a.pk,
        "code": a.code,
        "name": a.name,
        "short_name": a.short_name,
        "type": a.agency_type.code,
        "level": a.agency_type.level.code,
        "unit_id": a.unit_id,
        "parent_id": a.parent_id,
        "successor_id": a.successor_id,
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "head_name": a.head_name,
        "head_title": a.head_title,
    }


@router.get("/units", response=list[UnitOut], summary="Đơn vị hành chính hiệu lực vào một ngày")
def list_units(request: HttpRequest, on: dt.date | None = None, level: str | None = None):
    policy.require(request.user, "org.view")
    qs = AdministrativeUnit.objects.valid_on(on or timezone.localdate()).select_related("level")
    if level:
        qs = qs.filter(level__code=level)
    return [_unit(u) for u in qs]


@router.get(
    "/units/{unit_id}/mapped",
    response=UnitOut,
    summary="Đơn vị kế thừa số liệu của một đơn vị vào một ngày",
)
def mapped_unit(request: HttpRequest, unit_id: RecordId, on: dt.date):
    policy.require(request.user, "org.view")
    unit = AdministrativeUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("Không có đơn vị hành chính này.")
    return _unit(services.map_unit(unit, on))


@router.get("/agencies", response=list[AgencyOut], summary="Cơ quan trong phạm vi được xem")
def list_agencies(request: HttpRequest, on: dt.date | None = None):
    qs = policy.visible_agencies(request.user).valid_on(on or timezone.localdate())
    return [_agency(a) for a in qs.select_related("agency_type__level")]


def _visible_agency(request: HttpRequest, agency_id: int, permission: str) -> Agency:
    agency = Agency.objects.select_related("agency_type__level").filter(pk=agency_id).first()
    # Out of scope looks the same as absent: no probing of other agencies' ids.
    if agency is None or not policy.can(request.user, "org.view", agency=agency):
        raise NotFound("Không có cơ quan này.")
    policy.require(request.user, permission, agency=agency)
    return agency


@router.get("/agencies/{agency_id}", response=AgencyOut, summary="Một cơ quan")
def get_agency(request: HttpRequest, agency_id: RecordId):
    return _agency(_visible_agency(request, agency_id, "org.view"))


@router.patch("/agencies/{agency_id}", response=AgencyOut, summary="Sửa thông tin cơ quan")
def update_agency(request: HttpRequest, agency_id: RecordId, payload: AgencyUpdate):
    agency = _visible_agency(request, agency_id, "org.view")
    changes = payload.dict(exclude_unset=True)
    updated = services.update_agency_profile(request.user, agency, now=timezone.now(), **changes)
    return _agency(updated)
