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
from django.utils import timezone

from cchc.accounts import policy
from cchc.audit import log
from cchc.catalog import synonyms, versions
from cchc.catalog.models import (
    Field,
    InternalProcedure,
    OnlineLevel,
    Procedure,
    ProcedureFee,
    ProcedureStep,
    ProcedureTerms,
    ProcedureVersion,
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
    # Whether the component must carry a valid digital signature (issue 21). None: not
    # given by the source (a catalogue file without the column, the national database):
    # the document of the same name keeps its local value (`_keep_signature`), else False.
    signature_required: bool | None = None


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
    # The procedure's own reception cut-off (None: the calendar's, the global setting).
    cutoff: dt.time | None = None
    cutoff_source: str = ""
    cutoff_verified: bool = False
    cutoff_note: str = ""
    # About the change, not the procedure: from when it applies (None: today) and the
    # document that makes it (a law, a publication decision).
    effective_from: dt.date | None = None
    basis: str = ""

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
    if data.cutoff is not None:
        if data.cutoff.tzinfo is not None:
            raise InvalidInput("Giờ chốt tiếp nhận là giờ địa phương, không kèm múi giờ.")
        if not nfc(data.cutoff_source).strip():
            raise InvalidInput(
                "Giờ chốt tiếp nhận riêng cần ghi căn cứ pháp lý (văn bản, điều khoản); "
                "chưa đối chiếu được thì ghi nguồn và để 'chưa xác minh'."
            )
    elif data.cutoff_source.strip() or data.cutoff_verified:
        raise InvalidInput("Có căn cứ giờ chốt nhưng chưa có giờ chốt tiếp nhận riêng.")
    check_steps(data.processing_time, data.processing_time_unit, data.steps)


def check_steps(processing_time: Decimal, unit: str, steps: tuple[StepData, ...]) -> None:
    """The internal steps' budgets: each valid, and together the legal time."""
    for step in steps:
        _check_duration(step.budget, f"Thời gian bước '{step.name}'")
    if steps:
        legal = _working_hours(processing_time, unit)
        budgets = [_working_hours(s.budget, s.unit) for s in steps]
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


def _terms_state(terms: ProcedureTerms, levels: list[str]) -> dict[str, Any]:
    """A comparable picture of stored terms (a procedure row or a version), the same shape
    `_wanted` builds."""
    return {
        "name": terms.name,
        "field": terms.field.name,
        "levels": sorted(levels),
        "agency_type": terms.competent_agency_type.code,
        "processing_time": terms.processing_time.normalize(),
        "processing_time_unit": terms.processing_time_unit,
        "fees": [(f.name, f.amount) for f in terms.fees.all()],  # type: ignore[attr-defined]
        "documents": [
            (d.name, d.originals, d.copies, d.mandatory, d.signature_required)
            for d in terms.documents.all()  # type: ignore[attr-defined]
        ],
        "result_type": terms.result_type,
        "online_level": terms.online_level,
        "eligible_full_online": terms.eligible_full_online,
        "population_data_connected": terms.population_data_connected,
        "decision_number": terms.decision_number,
        "decision_date": terms.decision_date,
        "steps": [
            (s.name, s.budget.normalize(), s.budget_unit)
            for s in terms.steps.all()  # type: ignore[attr-defined]
        ],
        "active": terms.active,
        "cutoff": terms.cutoff,
        "cutoff_source": terms.cutoff_source,
        "cutoff_verified": terms.cutoff_verified,
        "cutoff_note": terms.cutoff_note,
    }


def _state(procedure: Procedure) -> dict[str, Any]:
    return _terms_state(procedure, list(procedure.levels.values_list("code", flat=True)))


def _version_state(version: ProcedureVersion) -> dict[str, Any]:
    return _terms_state(version, list(version.levels))


def _wanted(data: ProcedureData, levels: list[UnitLevel], agency_type: AgencyType) -> dict:
    return {
        "name": nfc(data.name),
        "field": nfc(data.field_name),
        "levels": sorted({lv.code for lv in levels}),
        "agency_type": agency_type.code,
        "processing_time": Decimal(data.processing_time).normalize(),
        "processing_time_unit": data.processing_time_unit,
        "fees": [(nfc(n), a) for n, a in data.fees],
        "documents": [
            (nfc(d.name), d.originals, d.copies, d.mandatory, d.signature_required)
            for d in data.documents
        ],
        "result_type": data.result_type,
        "online_level": data.online_level,
        "eligible_full_online": data.eligible_full_online,
        "population_data_connected": data.population_data_connected,
        "decision_number": nfc(data.decision_number),
        "decision_date": data.decision_date,
        "steps": [(nfc(s.name), Decimal(s.budget).normalize(), s.unit) for s in data.steps],
        "active": data.active,
        "cutoff": data.cutoff,
        "cutoff_source": nfc(data.cutoff_source).strip() if data.cutoff else "",
        "cutoff_verified": data.cutoff_verified if data.cutoff else False,
        "cutoff_note": nfc(data.cutoff_note).strip() if data.cutoff else "",
    }


# The scalar terms copied between a procedure row and its versions.
TERMS = (
    "name",
    "field",
    "competent_agency_type",
    "processing_time",
    "processing_time_unit",
    "result_type",
    "online_level",
    "eligible_full_online",
    "population_data_connected",
    "decision_number",
    "decision_date",
    "active",
    "cutoff",
    "cutoff_source",
    "cutoff_verified",
    "cutoff_note",
)


def _keep_signature(wanted: list[tuple[Any, ...]], before: list[tuple[Any, ...]]) -> list:
    """`wanted` documents with an unknown `signature_required` (None) given the value of the
    document of the same name (diacritic- and case-insensitive) in `before`, else False: a
    source that does not say never resets a requirement set locally."""
    known = {fold(str(d[0])): d[4] for d in before}
    return [
        (*d[:4], bool(known.get(fold(str(d[0])), False)) if d[4] is None else bool(d[4]))
        for d in wanted
    ]


def _local_day(now: dt.datetime) -> dt.date:
    return timezone.localdate(now) if timezone.is_aware(now) else now.date()


def save_procedure(actor: Any, data: ProcedureData, *, now: dt.datetime) -> tuple[Procedure, str]:
    """Create or update the procedure with `data.code`, as a version in force from
    `data.effective_from` (default: today).

    A change creates a new `ProcedureVersion`; the procedure row (what the rest of cchc
    reads) takes it when it is in force today, otherwise `apply_versions_due` gives it on
    its date. Data identical to the version in force on that date changes nothing (no
    write, no audit), which keeps imports idempotent. Returns the procedure and 'created',
    'updated' or 'unchanged'. Raises PermissionDenied without `catalog.manage`,
    InvalidInput for inconsistent data.
    """
    policy.require(actor, "catalog.manage")
    _validate(data)
    levels = _resolve_levels(data.levels)
    agency_type = _resolve_agency_type(data.agency_type)
    wanted = _wanted(data, levels, agency_type)
    code = nfc(data.code)
    today = _local_day(now)
    effective = data.effective_from or today

    with transaction.atomic():
        procedure = Procedure.objects.select_for_update().filter(code=code).first()
        if procedure is not None:
            history = list(procedure.versions.all())
            in_force = versions.pick(history, effective)
            # A procedure without recorded versions: its row is its only state.
            before = _version_state(in_force) if in_force is not None else _state(procedure)
            wanted["documents"] = _keep_signature(wanted["documents"], before["documents"])
            if before == wanted:
                return procedure, "unchanged"
        else:
            before, history = None, []
            wanted["documents"] = _keep_signature(wanted["documents"], [])
        field_obj, _ = Field.objects.get_or_create(name=wanted["field"])
        version = _new_version(
            procedure, history, data, wanted, field_obj, agency_type, actor=actor, now=now,
            effective=effective,
        )  # fmt: skip
        if procedure is None:
            procedure = version.procedure
            _apply(procedure, version, levels, now=now)
        elif versions.pick([*history, version], today) == version:
            _apply(procedure, version, levels, now=now)
        outcome = "created" if before is None else "updated"
        changed = (
            {k: wanted[k] for k in wanted}
            if before is None
            else {k: [before[k], wanted[k]] for k in wanted if before[k] != wanted[k]}
        )
        if version.effective_from != today or data.basis:
            changed["version"] = {
                "number": version.number,
                "effective_from": version.effective_from,
                "basis": version.basis,
            }
        log.record(f"catalog.procedure.{outcome}", actor=actor, obj=procedure, data=changed, at=now)
    return procedure, outcome


def _new_version(
    procedure: Procedure | None,
    history: list[ProcedureVersion],
    data: ProcedureData,
    wanted: dict[str, Any],
    field_obj: Field,
    agency_type: AgencyType,
    *,
    actor: Any,
    now: dt.datetime,
    effective: dt.date,
) -> ProcedureVersion:
    """Write the next version of `procedure` (None: a new procedure, saved first) with its
    fees, documents and steps, which belong to no procedure row until it is in force."""
    if procedure is None:
        # The row must exist for the version to point at it; `_apply` fills it just after.
        procedure = Procedure(code=nfc(data.code), created_at=now, updated_at=now)
        procedure.name = wanted["name"]
        procedure.field = field_obj
        procedure.competent_agency_type = agency_type
        procedure.save()
    version = ProcedureVersion(
        procedure=procedure,
        number=max((v.number for v in history), default=0) + 1,
        effective_from=effective,
        levels=wanted["levels"],
        basis=nfc(data.basis).strip()[:300],
        created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        name=wanted["name"],
        field=field_obj,
        competent_agency_type=agency_type,
        processing_time=data.processing_time,
        processing_time_unit=data.processing_time_unit,
        result_type=data.result_type,
        online_level=data.online_level,
        eligible_full_online=data.eligible_full_online,
        population_data_connected=data.population_data_connected,
        decision_number=wanted["decision_number"],
        decision_date=data.decision_date,
        active=data.active,
        cutoff=wanted["cutoff"],
        cutoff_source=wanted["cutoff_source"],
        cutoff_verified=wanted["cutoff_verified"],
        cutoff_note=wanted["cutoff_note"],
    )
    version.save()
    ProcedureFee.objects.bulk_create(
        ProcedureFee(version=version, position=i, name=n, amount=a)
        for i, (n, a) in enumerate(wanted["fees"])
    )
    RequiredDocument.objects.bulk_create(
        RequiredDocument(
            version=version,
            position=i,
            name=n,
            originals=o,
            copies=c,
            mandatory=m,
            signature_required=bool(signed),
        )
        for i, (n, o, c, m, signed) in enumerate(wanted["documents"])
    )
    ProcedureStep.objects.bulk_create(
        ProcedureStep(version=version, position=i, name=n, budget=b, budget_unit=u)
        for i, (n, b, u) in enumerate(wanted["steps"])
    )
    return version


def _apply(
    procedure: Procedure,
    version: ProcedureVersion,
    levels: list[UnitLevel] | None = None,
    *,
    now: dt.datetime,
) -> None:
    """Make `version` the procedure row's terms: scalar fields, levels, and the fees,
    documents and steps (the version's rows become the procedure's current rows; the
    previous version's rows keep their version and leave the procedure, never deleted, so
    dossiers that point at them keep them)."""
    for name in TERMS:
        setattr(procedure, name, getattr(version, name))
    procedure.search_text = fold(f"{procedure.code} {version.name}")
    procedure.version = version.number
    procedure.updated_at = now
    procedure.save()
    if levels is None:
        levels = list(UnitLevel.objects.filter(code__in=version.levels))
    procedure.levels.set(levels)
    for model in (ProcedureFee, RequiredDocument, ProcedureStep):
        model.objects.filter(procedure=procedure).exclude(version=version).update(procedure=None)
        model.objects.filter(version=version).update(procedure=procedure)


def apply_versions_due(*, now: dt.datetime, actor: Any = None) -> list[tuple[str, int]]:
    """Give every procedure row the version in force today when it holds another (a
    version whose effective date has come). Returns (code, version number) of each change,
    each audited. Run daily (`cchc catalog apply-versions`); two queries when nothing is
    due."""
    today = _local_day(now)
    held = dict(Procedure.objects.values_list("pk", "version"))
    started: dict[int, list[ProcedureVersion]] = {}
    for version in ProcedureVersion.objects.filter(effective_from__lte=today).only(
        "pk", "procedure_id", "number", "effective_from"
    ):
        started.setdefault(version.procedure_id, []).append(version)
    stale = sorted(
        pk
        for pk, items in started.items()
        if (chosen := versions.pick(items, today)) and chosen.number != held.get(pk)
    )
    changed = []
    for procedure_id in stale:
        with transaction.atomic():
            procedure = Procedure.objects.select_for_update().get(pk=procedure_id)
            version = versions.pick(list(procedure.versions.all()), today)
            if version is None or version.number == procedure.version:
                continue
            previous = procedure.version
            _apply(procedure, version, now=now)
            log.record(
                "catalog.procedure.version_applied",
                actor=actor,
                obj=procedure,
                data={
                    "version": [previous, version.number],
                    "effective_from": version.effective_from,
                },
                at=now,
            )
            changed.append((procedure.code, version.number))
    return changed


def record_first_version(actor: Any, procedure: Procedure, *, now: dt.datetime) -> ProcedureVersion:
    """Version 1 of a procedure made outside `save_procedure` (the admin's add form): the
    row as saved, in force from today; its fees, documents and steps become the version's."""
    policy.require(actor, "catalog.manage")
    with transaction.atomic():
        version = ProcedureVersion(
            procedure=procedure,
            number=1,
            effective_from=_local_day(now),
            levels=sorted(procedure.levels.values_list("code", flat=True)),
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
            **{name: getattr(procedure, name) for name in TERMS},
        )
        version.save()
        for model in (ProcedureFee, RequiredDocument, ProcedureStep):
            model.objects.filter(procedure=procedure).update(version=version)
        Procedure.objects.filter(pk=procedure.pk).update(version=1)
        procedure.version = 1
        log.record(
            "catalog.procedure.version_added",
            actor=actor,
            obj=procedure,
            data={"number": 1, "effective_from": version.effective_from, "applied": True},
            at=now,
        )
    return version


def next_version_number(procedure: Procedure) -> int:
    return max(procedure.versions.values_list("number", flat=True), default=0) + 1


def publish_version(actor: Any, version: ProcedureVersion, *, now: dt.datetime) -> bool:
    """A version written with its fees, documents and steps (the admin's version form):
    the procedure row takes it when it is the one in force today. Returns whether it did;
    audited either way."""
    policy.require(actor, "catalog.manage")
    with transaction.atomic():
        procedure = Procedure.objects.select_for_update().get(pk=version.procedure_id)
        today = _local_day(now)
        applied = versions.pick(list(procedure.versions.all()), today) == version
        if applied:
            _apply(procedure, version, now=now)
        log.record(
            "catalog.procedure.version_added",
            actor=actor,
            obj=procedure,
            data={
                "number": version.number,
                "effective_from": version.effective_from,
                "basis": version.basis,
                "applied": applied,
            },
            at=now,
        )
    return applied


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
