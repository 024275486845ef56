"""Catalogue workflows: create or update procedures and internal procedures.

Each function checks permission, validates, changes inside a transaction and writes the
audit entry there. Saving identical data is a no-op (no write, no audit), which makes
imports idempotent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from cchc.accounts import policy
from cchc.audit import log
from cchc.catalog import synonyms
from cchc.catalog.models import (
    Field,
    InternalProcedure,
    OnlineLevel,
    Procedure,
    ProcedureFee,
    ProcedureStep,
    RequiredDocument,
    ResultType,
    TimeUnit,
)
from cchc.errors import InvalidInput, NotFound
from cchc.org.models import Agency, AgencyType, UnitLevel
from cchc.vietnamese import fold, nfc

HOURS_PER_WORKING_DAY = Decimal(8)
# Durations are stored with 7 digits, 2 of them decimals (Procedure.processing_time,
# ProcedureStep.budget); fees in a 64-bit integer. Checked before any arithmetic, so a
# value like 1e225 is refused with a message instead of breaking Decimal or the database.
MAX_DURATION = Decimal("99999.99")
MAX_FEE = 2**63 - 1


def _check_duration(value: Decimal, label: str) -> None:
    if value.is_finite() and value < 0:
        raise InvalidInput(f"{label} không được âm.")
    if not value.is_finite() or value > MAX_DURATION or value != value.quantize(Decimal("0.01")):
        raise InvalidInput(f"{label} phải từ 0 đến 99999,99 (tối đa 2 chữ số thập phân).")


@dataclass(frozen=True)
class DocumentData:
    name: str
    originals: int = 0
    copies: int = 0
    mandatory: bool = True


@dataclass(frozen=True)
class StepData:
    name: str
    budget: Decimal
    unit: str = TimeUnit.WORKING_HOUR


@dataclass(frozen=True)
class ProcedureData:
    """Everything that defines a procedure; `levels` are level codes or names."""

    code: str
    name: str
    field_name: str
    levels: tuple[str, ...]
    agency_type: str  # code or name of an AgencyType
    processing_time: Decimal
    processing_time_unit: str = TimeUnit.WORKING_DAY
    fees: tuple[tuple[str, int], ...] = ()
    documents: tuple[DocumentData, ...] = ()
    result_type: str = ResultType.PAPER
    online_level: str = OnlineLevel.NONE
    eligible_full_online: bool = False
    population_data_connected: bool = False
    decision_number: str = ""
    decision_date: dt.date | None = None
    steps: tuple[StepData, ...] = ()
    active: bool = True

    @property
    def key(self) -> str:
        return self.code


def _working_hours(amount: Decimal, unit: str) -> Decimal | None:
    if unit == TimeUnit.WORKING_DAY:
        return amount * HOURS_PER_WORKING_DAY
    if unit == TimeUnit.WORKING_HOUR:
        return amount
    return None


def _resolve_levels(names: tuple[str, ...]) -> list[UnitLevel]:
    if not names:
        raise InvalidInput("Chưa có cấp thực hiện.")
    by_key = {}
    for level in UnitLevel.objects.all():
        by_key[fold(level.code)] = level
        by_key[fold(level.name)] = level
    out = []
    for name in names:
        level = by_key.get(fold(name))
        if level is None:
            known = ", ".join(UnitLevel.objects.values_list("name", flat=True))
            raise InvalidInput(f"Cấp thực hiện '{name}' không có trong danh mục ({known}).")
        out.append(level)
    return out


def _resolve_agency_type(key: str) -> AgencyType:
    for candidate in AgencyType.objects.all():
        if fold(key) in (fold(candidate.code), fold(candidate.name)):
            return candidate
    raise InvalidInput(f"Cơ quan thực hiện '{key}' không có trong danh mục loại cơ quan.")


def _validate(data: ProcedureData) -> None:
    if not data.code.strip():
        raise InvalidInput("Mã TTHC bị trống.")
    if not data.name.strip():
        raise InvalidInput("Tên thủ tục bị trống.")
    _check_duration(data.processing_time, "Thời hạn giải quyết")
    if data.processing_time_unit not in TimeUnit.values:
        raise InvalidInput(f"Đơn vị thời hạn '{data.processing_time_unit}' không hợp lệ.")
    if data.processing_time_unit == TimeUnit.WORKING_DAY and (data.processing_time * 2) % 1:
        raise InvalidInput("Thời hạn theo ngày làm việc chỉ được lẻ nửa ngày (0,5).")
    for fee_name, amount in data.fees:
        if amount < 0:
            raise InvalidInput(f"Mức thu '{fee_name}' không được âm.")
        if amount > MAX_FEE:
            raise InvalidInput(f"Mức thu '{fee_name}' quá lớn.")
    for step in data.steps:
        _check_duration(step.budget, f"Thời gian bước '{step.name}'")
    if data.steps:
        legal = _working_hours(data.processing_time, data.processing_time_unit)
        budgets = [_working_hours(s.budget, s.unit) for s in data.steps]
        if legal is None or any(b is None for b in budgets):
            raise InvalidInput(
                "Quy trình nội bộ chỉ áp dụng cho thời hạn tính theo ngày/giờ làm việc."
            )
        total = sum(b for b in budgets if b is not None)
        if total != legal:
            raise InvalidInput(
                f"Tổng thời gian các bước ({total:g} giờ làm việc) khác thời hạn giải quyết "
                f"({legal:g} giờ làm việc)."
            )


def _state(procedure: Procedure) -> dict[str, Any]:
    """A comparable picture of a stored procedure, the same shape `_wanted` builds."""
    return {
        "name": procedure.name,
        "field": procedure.field.name,
        "levels": sorted(procedure.levels.values_list("code", flat=True)),
        "agency_type": procedure.competent_agency_type.code,
        "processing_time": procedure.processing_time.normalize(),
        "processing_time_unit": procedure.processing_time_unit,
        "fees": [(f.name, f.amount) for f in procedure.fees.all()],
        "documents": [
            (d.name, d.originals, d.copies, d.mandatory) for d in procedure.documents.all()
        ],
        "result_type": procedure.result_type,
        "online_level": procedure.online_level,
        "eligible_full_online": procedure.eligible_full_online,
        "population_data_connected": procedure.population_data_connected,
        "decision_number": procedure.decision_number,
        "decision_date": procedure.decision_date,
        "steps": [(s.name, s.budget.normalize(), s.budget_unit) for s in procedure.steps.all()],
        "active": procedure.active,
    }


def _wanted(data: ProcedureData, levels: list[UnitLevel], agency_type: AgencyType) -> dict:
    return {
        "name": nfc(data.name),
        "field": nfc(data.field_name),
        "levels": sorted({lv.code for lv in levels}),
        "agency_type": agency_type.code,
        "processing_time": Decimal(data.processing_time).normalize(),
        "processing_time_unit": data.processing_time_unit,
        "fees": [(nfc(n), a) for n, a in data.fees],
        "documents": [(nfc(d.name), d.originals, d.copies, d.mandatory) for d in data.documents],
        "result_type": data.result_type,
        "online_level": data.online_level,
        "eligible_full_online": data.eligible_full_online,
        "population_data_connected": data.population_data_connected,
        "decision_number": nfc(data.decision_number),
        "decision_date": data.decision_date,
        "steps": [(nfc(s.name), Decimal(s.budget).normalize(), s.unit) for s in data.steps],
        "active": data.active,
    }


def save_procedure(actor: Any, data: ProcedureData, *, now: dt.datetime) -> tuple[Procedure, str]:
    """Create or update the procedure with `data.code`.

    Returns the procedure and 'created', 'updated' or 'unchanged'. Raises PermissionDenied
    without `catalog.manage`, InvalidInput for inconsistent data.
    """
    policy.require(actor, "catalog.manage")
    _validate(data)
    levels = _resolve_levels(data.levels)
    agency_type = _resolve_agency_type(data.agency_type)
    wanted = _wanted(data, levels, agency_type)
    code = nfc(data.code)

    with transaction.atomic():
        procedure = Procedure.objects.select_for_update().filter(code=code).first()
        before = _state(procedure) if procedure else None
        if before == wanted:
            return procedure, "unchanged"  # type: ignore[return-value]
        field_obj, _ = Field.objects.get_or_create(name=wanted["field"])
        if procedure is None:
            procedure = Procedure(code=code, created_at=now)
        procedure.name = wanted["name"]
        procedure.search_text = fold(f"{code} {wanted['name']}")
        procedure.field = field_obj
        procedure.competent_agency_type = agency_type
        procedure.processing_time = data.processing_time
        procedure.processing_time_unit = data.processing_time_unit
        procedure.result_type = data.result_type
        procedure.online_level = data.online_level
        procedure.eligible_full_online = data.eligible_full_online
        procedure.population_data_connected = data.population_data_connected
        procedure.decision_number = wanted["decision_number"]
        procedure.decision_date = data.decision_date
        procedure.active = data.active
        procedure.updated_at = now
        procedure.save()
        procedure.levels.set(levels)
        procedure.fees.all().delete()
        ProcedureFee.objects.bulk_create(
            ProcedureFee(procedure=procedure, position=i, name=n, amount=a)
            for i, (n, a) in enumerate(wanted["fees"])
        )
        procedure.documents.all().delete()
        RequiredDocument.objects.bulk_create(
            RequiredDocument(
                procedure=procedure, position=i, name=n, originals=o, copies=c, mandatory=m
            )
            for i, (n, o, c, m) in enumerate(wanted["documents"])
        )
        procedure.steps.all().delete()
        ProcedureStep.objects.bulk_create(
            ProcedureStep(procedure=procedure, position=i, name=n, budget=b, budget_unit=u)
            for i, (n, b, u) in enumerate(wanted["steps"])
        )
        outcome = "created" if before is None else "updated"
        changed = (
            {k: wanted[k] for k in wanted}
            if before is None
            else {k: [before[k], wanted[k]] for k in wanted if before[k] != wanted[k]}
        )
        log.record(f"catalog.procedure.{outcome}", actor=actor, obj=procedure, data=changed, at=now)
    return procedure, outcome


@dataclass(frozen=True)
class InternalProcedureData:
    code: str
    name: str
    field_name: str
    levels: tuple[str, ...]
    lead_agency_code: str
    published: bool = False
    decision_number: str = ""
    published_on: dt.date | None = None
    reviewed: bool = False
    reviewed_on: dt.date | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.code


INTERNAL_FIELDS = [
    "name",
    "published",
    "decision_number",
    "published_on",
    "reviewed",
    "reviewed_on",
]


def save_internal_procedure(
    actor: Any, data: InternalProcedureData, *, now: dt.datetime
) -> tuple[InternalProcedure, str]:
    """Create or update an internal procedure (TTHC nội bộ) keyed by code."""
    policy.require(actor, "catalog.manage")
    if not data.code.strip() or not data.name.strip():
        raise InvalidInput("Mã và tên thủ tục nội bộ không được trống.")
    if data.published and data.published_on is None:
        raise InvalidInput("Đã công bố nhưng thiếu ngày công bố.")
    if data.reviewed and data.reviewed_on is None:
        raise InvalidInput("Đã rà soát nhưng thiếu ngày rà soát.")
    levels = _resolve_levels(data.levels)
    agency = (
        Agency.objects.valid_on(now.date()).filter(code=data.lead_agency_code).first()
        or Agency.objects.filter(code=data.lead_agency_code).order_by("-valid_from").first()
    )
    if agency is None:
        raise NotFound(f"Không có cơ quan mã '{data.lead_agency_code}'.")
    with transaction.atomic():
        item = InternalProcedure.objects.select_for_update().filter(code=data.code).first()
        created = item is None
        if item is None:
            item = InternalProcedure(code=nfc(data.code), created_at=now)
            before: dict[str, Any] = {}
        else:
            before = log.snapshot(item, INTERNAL_FIELDS)
            before["field"] = item.field.name
            before["lead_agency"] = item.lead_agency.code
            before["levels"] = sorted(item.levels.values_list("code", flat=True))
        field_obj, _ = Field.objects.get_or_create(name=nfc(data.field_name))
        item.name = nfc(data.name)
        item.field = field_obj
        item.lead_agency = agency
        item.published = data.published
        item.decision_number = nfc(data.decision_number)
        item.published_on = data.published_on
        item.reviewed = data.reviewed
        item.reviewed_on = data.reviewed_on
        after = log.snapshot(item, INTERNAL_FIELDS)
        after["field"] = field_obj.name
        after["lead_agency"] = agency.code
        after["levels"] = sorted(lv.code for lv in levels)
        if not created and before == after:
            return item, "unchanged"
        item.updated_at = now
        item.save()
        item.levels.set(levels)
        outcome = "created" if created else "updated"
        diff = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        log.record(
            f"catalog.internal_procedure.{outcome}",
            actor=actor,
            obj=item,
            data=diff,
            agency_id=agency.pk,
            at=now,
        )
    return item, outcome


def _whole_word(word: str) -> Q:
    """`word` as a whole word of a procedure's folded code and name (a comma may follow)."""
    return (
        Q(search_text__startswith=f"{word} ")
        | Q(search_text__contains=f" {word} ")
        | Q(search_text__contains=f" {word},")
        | Q(search_text__endswith=f" {word}")
    )


def _any_of(alternatives: list[tuple[str, ...]]) -> Q:
    """One word group of the query (`cchc.catalog.synonyms.groups`): a word typed is found
    anywhere, as before; a synonym key and its expansions match whole words, all words of
    one alternative, so "KT" (khai tử) finds neither every "khai" nor the "tu" of "thủ
    tục"."""
    if len(alternatives) == 1 and len(alternatives[0]) == 1:
        return Q(search_text__contains=alternatives[0][0])
    any_q = Q(pk__in=[])
    for words in alternatives:
        all_q = Q()
        for word in words:
            all_q &= _whole_word(word)
        any_q |= all_q
    return any_q


def search_procedures(query: str = "", *, level: str | None = None, field_id: int | None = None):
    """Active procedures matching `query` by code or name, ignoring case and diacritics;
    abbreviations and everyday phrases ("GPLX", "sổ đỏ") are expanded from the maintained
    synonyms file (`cchc.catalog.synonyms`)."""
    qs = Procedure.objects.filter(active=True).select_related("field", "competent_agency_type")
    for alternatives in synonyms.groups(query):
        qs = qs.filter(_any_of(alternatives))
    if level:
        qs = qs.filter(levels__code=level)
    if field_id:
        qs = qs.filter(field_id=field_id)
    return qs.distinct()
