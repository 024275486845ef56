"""Loading an organisation structure (levels, units, successions, agencies, desks).

The file format is JSON (documented in the README and shipped as the demo data set).
References between records are by code and resolve to the record with that code valid on
the referencing date, so a code may be reused across periods (mergers). Loading is
idempotent: records are keyed by (code, valid_from) and only real changes are written
and audited. Errors name the record and the reason; a structure loads whole or not at all
(a half-loaded organisation tree would be worse than none).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import IO, Any

from django.db import models, transaction

from cchc.accounts import policy
from cchc.audit import log
from cchc.calendars.models import WorkingCalendar
from cchc.errors import InvalidInput
from cchc.org.models import (
    AdministrativeUnit,
    Agency,
    AgencyType,
    Desk,
    UnitLevel,
    UnitSuccession,
)
from cchc.tabular.registry import ImportReport, RowError


class _Loader:
    def __init__(self, actor: Any, now: dt.datetime, demo: bool) -> None:
        self.actor, self.now, self.demo = actor, now, demo
        self.report = ImportReport()

    def upsert(
        self,
        model: type[models.Model],
        key: dict[str, Any],
        values: dict[str, Any],
        *,
        agency_id: int | None = None,
    ) -> Any:
        obj = model._default_manager.filter(**key).first()
        if isinstance(obj, Agency):
            agency_id = obj.pk
        label = model._meta.model_name
        if obj is None:
            obj = model._default_manager.create(**key, **values)
            if isinstance(obj, Agency):
                agency_id = obj.pk
            self.report.created += 1
            log.record(
                f"org.{label}.created",
                actor=self.actor,
                obj=obj,
                data={**key, **values},
                agency_id=agency_id,
                at=self.now,
            )
            return obj
        diff = {k: [getattr(obj, k), v] for k, v in values.items() if getattr(obj, k) != v}
        if diff:
            for k, v in values.items():
                setattr(obj, k, v)
            obj.save()
            self.report.updated += 1
            log.record(
                f"org.{label}.updated",
                actor=self.actor,
                obj=obj,
                data=diff,
                agency_id=agency_id,
                at=self.now,
            )
        else:
            self.report.unchanged += 1
        return obj


def _date(value: str | None, where: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: ngày '{value}' không hợp lệ (cần YYYY-MM-DD).") from None


def _valid(model: type[Any], code: str, day: dt.date, where: str) -> Any:
    found = model.objects.valid_on(day).filter(code=code).first()
    if found is None:
        raise InvalidInput(
            f"{where}: không có {model._meta.verbose_name} mã '{code}' hiệu lực ngày "
            f"{day:%d/%m/%Y}."
        )
    return found


def load_structure(
    actor: Any,
    source: str | Path | IO[bytes] | bytes | dict[str, Any],
    *,
    now: dt.datetime,
    demo: bool = False,
) -> ImportReport:
    """Load an organisation structure; needs `org.structure.manage`. See module docstring."""
    policy.require(actor, "org.structure.manage")
    if isinstance(source, dict):
        data = source
    else:
        raw = (
            Path(source).read_bytes()
            if isinstance(source, str | Path)
            else (source if isinstance(source, bytes) else source.read())
        )
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"Tệp cơ cấu tổ chức không phải JSON hợp lệ: {exc}") from None
    loader = _Loader(actor, now, demo)
    try:
        with transaction.atomic():
            _load(loader, data)
    except InvalidInput as exc:
        loader.report = ImportReport(rejected=[RowError(0, exc.message)])
        raise
    return loader.report


def _load(ld: _Loader, data: dict[str, Any]) -> None:
    levels = {}
    for item in data.get("levels", []):
        levels[item["code"]] = ld.upsert(
            UnitLevel, {"code": item["code"]}, {"name": item["name"], "rank": item["rank"]}
        )

    def level(code: str, where: str) -> UnitLevel:
        if code in levels:
            return levels[code]
        found = UnitLevel.objects.filter(code=code).first()
        if found is None:
            raise InvalidInput(f"{where}: cấp '{code}' không tồn tại.")
        return found

    # Parents must exist first: load by level rank.
    units = sorted(data.get("units", []), key=lambda u: level(u["level"], u["code"]).rank)
    for item in units:
        where = f"Đơn vị {item['code']} {item['name']}"
        start = _date(item["valid_from"], where)
        assert start is not None
        end = _date(item.get("valid_to"), where)
        lv = level(item["level"], where)
        parent = (
            _valid(AdministrativeUnit, item["parent"], start, where) if item.get("parent") else None
        )
        if parent is not None and parent.level.rank >= lv.rank:
            raise InvalidInput(f"{where}: đơn vị trực thuộc phải ở cấp dưới của {parent}.")
        clash = AdministrativeUnit.objects.filter(code=item["code"]).exclude(valid_from=start)
        for other in clash:
            if other.valid_from < (end or dt.date.max) and start < (other.valid_to or dt.date.max):
                raise InvalidInput(f"{where}: trùng thời gian hiệu lực với {other}.")
        ld.upsert(
            AdministrativeUnit,
            {"code": item["code"], "valid_from": start},
            {
                "name": item["name"],
                "kind": item["kind"],
                "level": lv,
                "parent": parent,
                "valid_to": end,
                "is_demo": ld.demo,
            },
        )

    for item in data.get("successions", []):
        where = f"Sắp xếp {item['predecessor']} → {item['successor']}"
        effective = _date(item["effective"], where)
        assert effective is not None
        before = _valid(
            AdministrativeUnit, item["predecessor"], effective - dt.timedelta(days=1), where
        )
        after = _valid(AdministrativeUnit, item["successor"], effective, where)
        ld.upsert(
            UnitSuccession,
            {"predecessor": before, "successor": after},
            {
                "effective": effective,
                "primary": bool(item.get("primary", True)),
                "source": item.get("source", ""),
            },
        )

    for item in data.get("agency_types", []):
        ld.upsert(
            AgencyType,
            {"code": item["code"]},
            {"name": item["name"], "level": level(item["level"], item["name"])},
        )

    pending_successors = []
    agencies = sorted(
        data.get("agencies", []), key=lambda a: (a["valid_from"], a.get("parent") is not None)
    )
    for item in agencies:
        where = f"Cơ quan {item['code']} {item['name']}"
        start = _date(item["valid_from"], where)
        assert start is not None
        agency_type = AgencyType.objects.filter(code=item["type"]).first()
        if agency_type is None:
            raise InvalidInput(f"{where}: loại cơ quan '{item['type']}' không tồn tại.")
        values = {
            "name": item["name"],
            "short_name": item.get("short_name", ""),
            "agency_type": agency_type,
            "unit": _valid(AdministrativeUnit, item["unit"], start, where),
            "parent": _valid(Agency, item["parent"], start, where) if item.get("parent") else None,
            "valid_to": _date(item.get("valid_to"), where),
            "is_demo": ld.demo,
        }
        for name in ("head_name", "head_title", "address", "phone", "email"):
            values[name] = item.get(name, "") or ""
        agency = ld.upsert(Agency, {"code": item["code"], "valid_from": start}, values)
        if item.get("successor"):
            pending_successors.append((agency, item["successor"], where))
    for agency, code, where in pending_successors:
        successor = _valid(Agency, code, agency.valid_to or agency.valid_from, where)
        if agency.successor_id != successor.pk:
            agency.successor = successor
            agency.save(update_fields=["successor"])
            log.record(
                "org.agency.updated",
                actor=ld.actor,
                obj=agency,
                data={"successor": successor.code},
                agency_id=agency.pk,
                at=ld.now,
            )

    for item in data.get("desks", []):
        where = f"Bộ phận một cửa {item['code']}"
        start = _date(item["valid_from"], where)
        assert start is not None
        calendar = WorkingCalendar.objects.filter(code=item.get("calendar", "")).first()
        if calendar is None:
            raise InvalidInput(f"{where}: lịch làm việc '{item.get('calendar')}' không tồn tại.")
        existed = Desk.objects.filter(code=item["code"], valid_from=start).exists()
        desk = ld.upsert(
            Desk,
            {"code": item["code"], "valid_from": start},
            {
                "name": item["name"],
                "unit": _valid(AdministrativeUnit, item["unit"], start, where),
                "host_agency": _valid(Agency, item["host_agency"], start, where),
                "calendar": calendar,
                "valid_to": _date(item.get("valid_to"), where),
                "saturday_reception": bool(item.get("saturday_reception", False)),
                "address": item.get("address", ""),
                "is_demo": ld.demo,
            },
        )
        wanted = {_valid(Agency, code, start, where).pk for code in item.get("receives_for", [])}
        current = set(desk.receives_for.values_list("pk", flat=True))
        if wanted != current:
            desk.receives_for.set(wanted)
            log.record(
                "org.desk.agencies_changed",
                actor=ld.actor,
                obj=desk,
                data={"added": sorted(wanted - current), "removed": sorted(current - wanted)},
                at=ld.now,
            )
            if existed:  # a new desk's agencies are part of its creation
                ld.report.updated += 1


class StructureImporter:
    """`cchc import org FILE.json`: the structure loader behind the importer registry."""

    name = "org"
    title = "Cơ cấu tổ chức (đơn vị hành chính, cơ quan, bộ phận một cửa)"
    permission = "org.structure.manage"
    columns = ("levels", "units", "successions", "agency_types", "agencies", "desks")

    def run(
        self,
        source: str | IO[bytes] | bytes,
        *,
        actor: Any,
        now: dt.datetime,
        dry_run: bool = False,
        filename: str | None = None,
    ) -> ImportReport:
        with transaction.atomic():
            report = load_structure(actor, source, now=now)
            report.dry_run = dry_run
            if dry_run:
                transaction.set_rollback(True)
        return report
