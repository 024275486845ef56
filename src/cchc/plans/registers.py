"""Registers behind the non-dossier targets (T2, T3, T7, T11): legal normative documents,
internal procedures' publication/review, work-record statistics, external indices.

Each save function checks permission, validates, writes inside a transaction with its
audit entry, and returns 'created', 'updated' or 'unchanged' (identical data writes
nothing), so imports are idempotent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from cchc.accounts import policy
from cchc.audit import log
from cchc.catalog.models import InternalProcedure
from cchc.catalog.services import InternalProcedureData, save_internal_procedure
from cchc.errors import InvalidInput, NotFound
from cchc.org.models import AdministrativeUnit, Agency
from cchc.plans.models import (
    ExternalIndex,
    IndexName,
    LegalDocType,
    LegalDocument,
    WorkRecordStat,
)
from cchc.plans.status import ROMAN, month_end
from cchc.vietnamese import fold, nfc


def resolve_agency(key: str, day: dt.date) -> Agency:
    """The agency valid on `day` whose identifier code, name or short name is `key`."""
    key = nfc(key)
    qs = Agency.objects.valid_on(day)
    by_code = qs.filter(code=key).first()
    if by_code:
        return by_code
    folded = fold(key)
    found = [a for a in qs if folded in (fold(a.name), fold(a.short_name))]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"Không có cơ quan '{key}' còn hiệu lực ngày {day:%d/%m/%Y}.")
    raise InvalidInput(f"Tên '{key}' ứng với nhiều cơ quan; hãy ghi mã định danh.")


def _save(
    actor: Any, model: Any, lookup: dict, values: dict, *, action: str, agency_id, now
) -> tuple[Any, str]:
    with transaction.atomic():
        row = model.objects.select_for_update().filter(**lookup).first()
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            return row, "unchanged"
        before = {k: getattr(row, k) for k in values} if row is not None else {}
        if row is None:
            row = model(**lookup)
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now
        row.save()
        outcome = "updated" if before else "created"
        log.record(
            f"{action}.{outcome}",
            actor=actor,
            obj=row,
            data={k: [before.get(k), v] for k, v in values.items() if before.get(k) != v},
            agency_id=agency_id,
            at=now,
        )
    return row, outcome


# ---------------------------------------------------------------- legal documents (T2)


@dataclass(frozen=True)
class LegalDocumentData:
    number: str
    issued_on: dt.date
    doc_type: str
    title: str
    drafting_agency: str  # code or name
    appraised: bool = False
    consulted: bool = False
    published: bool = False
    note: str = ""

    @property
    def key(self) -> str:
        return self.number


def save_legal_document(actor: Any, data: LegalDocumentData, *, now: dt.datetime):
    """Create or update a legal normative document keyed by its number. Needs
    `plan.register` for the drafting agency."""
    number = nfc(data.number)
    if not number or not nfc(data.title):
        raise InvalidInput("Số ký hiệu và trích yếu không được trống.")
    if data.doc_type not in LegalDocType.values:
        raise InvalidInput(f"Loại văn bản '{data.doc_type}' không hợp lệ.")
    if data.issued_on > now.date():
        raise InvalidInput("Ngày ban hành không thể ở tương lai.")
    agency = resolve_agency(data.drafting_agency, data.issued_on)
    policy.require(actor, "plan.register", agency=agency)
    values = {
        "issued_on": data.issued_on,
        "doc_type": data.doc_type,
        "title": nfc(data.title),
        "drafting_agency": agency,
        "appraised": data.appraised,
        "consulted": data.consulted,
        "published": data.published,
        "note": nfc(data.note),
    }
    return _save(
        actor,
        LegalDocument,
        {"number": number},
        values,
        action="plans.legal_document",
        agency_id=agency.pk,
        now=now,
    )


def legal_summary(year: int | None = None) -> dict[str, Any]:
    qs = LegalDocument.objects.all()
    if year:
        qs = qs.filter(issued_on__year=year)
    totals = qs.aggregate(
        total=Count("id"),
        proper=Count("id", filter=Q(appraised=True, consulted=True, published=True)),
    )
    totals["rate"] = _rate(totals["proper"], totals["total"])
    return totals


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


# ---------------------------------------------------------------- internal procedures (T3)


def update_internal_status(
    actor: Any,
    code: str,
    *,
    published: bool,
    decision_number: str,
    published_on: dt.date | None,
    reviewed: bool,
    reviewed_on: dt.date | None,
    now: dt.datetime,
) -> tuple[InternalProcedure, str]:
    """Update the publication and simplification-review status of an internal procedure
    of the catalogue, through the catalogue's own service (needs `catalog.manage`)."""
    item = (
        InternalProcedure.objects.select_related("field", "lead_agency").filter(code=code).first()
    )
    if item is None:
        raise NotFound(f"Không có thủ tục nội bộ mã '{code}'.")
    data = InternalProcedureData(
        code=item.code,
        name=item.name,
        field_name=item.field.name,
        levels=tuple(item.levels.values_list("code", flat=True)),
        lead_agency_code=item.lead_agency.code,
        published=published,
        decision_number=decision_number,
        published_on=published_on,
        reviewed=reviewed,
        reviewed_on=reviewed_on,
    )
    return save_internal_procedure(actor, data, now=now)


def internal_summary() -> dict[str, Any]:
    totals = InternalProcedure.objects.aggregate(
        total=Count("id"),
        published_count=Count("id", filter=Q(published=True)),
        both=Count("id", filter=Q(published=True, reviewed=True)),
    )
    totals["rate"] = _rate(totals["both"], totals["total"])
    return totals


# ---------------------------------------------------------------- work records (T7)


def parse_period(raw: str) -> tuple[str, dt.date, dt.date]:
    """'2024' | '2024-H1' | '2024-Q2' | '2024-03' -> (normalised key, first day, last day)."""
    text = nfc(str(raw)).upper()
    if match := re.fullmatch(r"(\d{4})", text):
        y = int(match[1])
        return text, dt.date(y, 1, 1), dt.date(y, 12, 31)
    if match := re.fullmatch(r"(\d{4})-H([12])", text):
        y, h = int(match[1]), int(match[2])
        return text, dt.date(y, 1 if h == 1 else 7, 1), month_end(y, 6 if h == 1 else 12)
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        y, q = int(match[1]), int(match[2])
        return text, dt.date(y, q * 3 - 2, 1), month_end(y, q * 3)
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        y, m = int(match[1]), int(match[2])
        if 1 <= m <= 12:
            return f"{y}-{m:02d}", dt.date(y, m, 1), month_end(y, m)
    raise InvalidInput(f"Kỳ '{raw}' không hợp lệ; cần 2024, 2024-H1, 2024-Q2 hoặc 2024-03.")


def period_label(key: str) -> str:
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", key):
        return f"Quý {ROMAN[int(match[2])]}/{match[1]}"
    if match := re.fullmatch(r"(\d{4})-H([12])", key):
        return f"6 tháng {'đầu' if match[2] == '1' else 'cuối'} năm {match[1]}"
    if match := re.fullmatch(r"(\d{4})-(\d{2})", key):
        return f"Tháng {int(match[2])}/{match[1]}"
    return f"Năm {key}"


@dataclass(frozen=True)
class WorkRecordData:
    agency: str  # code or name
    period: str
    total: int
    online: int
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.agency}/{self.period}"


def save_work_record_stat(actor: Any, data: WorkRecordData, *, now: dt.datetime):
    """Create or update the work-record statistics of an agency for a period. Needs
    `plan.register` for the agency."""
    key, start, end = parse_period(data.period)
    if data.total < 0 or data.online < 0:
        raise InvalidInput("Số hồ sơ không được âm.")
    if data.online > data.total:
        raise InvalidInput(
            f"Số hồ sơ xử lý trên môi trường mạng ({data.online}) lớn hơn tổng số ({data.total})."
        )
    if start > now.date():
        raise InvalidInput(f"Kỳ {period_label(key)} chưa bắt đầu.")
    agency = resolve_agency(data.agency, start)
    policy.require(actor, "plan.register", agency=agency)
    values = {
        "level": agency.agency_type.level,
        "period_start": start,
        "period_end": end,
        "total": data.total,
        "online": data.online,
        "note": nfc(data.note),
    }
    return _save(
        actor,
        WorkRecordStat,
        {"agency": agency, "period": key},
        values,
        action="plans.work_records",
        agency_id=agency.pk,
        now=now,
    )


def work_record_summary(year: int) -> list[dict[str, Any]]:
    """Online share of work records per level for `year` (sum over agencies and periods;
    yearly rows are used for an agency only when it has no shorter periods)."""
    rows = WorkRecordStat.objects.filter(period_start__year=year).select_related("level")
    by_agency: dict[int, list[WorkRecordStat]] = defaultdict(list)
    for row in rows:
        by_agency[row.agency_id].append(row)
    levels: dict[str, dict[str, Any]] = {}
    for items in by_agency.values():
        short = [r for r in items if r.period != str(year)]
        for r in short or items:
            entry = levels.setdefault(
                r.level.code, {"level": r.level, "total": 0, "online": 0, "agencies": set()}
            )
            entry["total"] += r.total
            entry["online"] += r.online
            entry["agencies"].add(r.agency_id)
    out = []
    for entry in sorted(levels.values(), key=lambda e: e["level"].rank):
        entry["rate"] = _rate(entry["online"], entry["total"])
        entry["agencies"] = len(entry["agencies"])
        out.append(entry)
    return out


# ---------------------------------------------------------------- external indices (T11)


@dataclass(frozen=True)
class ExternalIndexData:
    index: str
    year: int
    unit: str  # province code (mã ĐVHC), resolved on 1 January of `year`
    source: str
    score: Decimal | None = None
    rank: int | None = None
    group: str = ""

    @property
    def key(self) -> str:
        return f"{self.index}/{self.year}/{self.unit}"


def save_external_index(actor: Any, data: ExternalIndexData, *, now: dt.datetime):
    """Enter an external index result (PCI, PAPI, PAR INDEX, SIPAS). Needs `plan.manage`."""
    policy.require(actor, "plan.manage")
    if data.index not in IndexName.values:
        raise InvalidInput(
            f"Chỉ số '{data.index}' không hợp lệ (có: {', '.join(IndexName.values)})."
        )
    if not 2000 <= data.year <= now.year:
        raise InvalidInput(f"Năm {data.year} không hợp lệ.")
    if data.score is None and data.rank is None and not data.group:
        raise InvalidInput("Cần ít nhất điểm, xếp hạng hoặc nhóm.")
    if data.score is not None and not 0 <= data.score <= 100:
        raise InvalidInput("Điểm phải từ 0 đến 100.")
    if data.rank is not None and data.rank < 1:
        raise InvalidInput("Xếp hạng phải từ 1 trở lên.")
    if not nfc(data.source):
        raise InvalidInput("Cần ghi nguồn công bố của chỉ số.")
    unit = (
        AdministrativeUnit.objects.valid_on(dt.date(data.year, 1, 1))
        .filter(code=data.unit, level__rank=1)
        .first()
    )
    if unit is None:
        raise NotFound(f"Không có tỉnh mã '{data.unit}' trong năm {data.year}.")
    values = {
        "score": data.score,
        "rank": data.rank,
        "group": nfc(data.group),
        "source": nfc(data.source),
    }
    return _save(
        actor,
        ExternalIndex,
        {"index": data.index, "year": data.year, "unit": unit},
        values,
        action="plans.external_index",
        agency_id=None,
        now=now,
    )
