"""The catalogue sync with the national database of procedures (CSDL quốc gia về TTHC).

`fetch(now)` (the periodic job ``national-catalogue``, ``cchc dvcqg catalogue fetch``) asks
the national portal for the province's procedures (`LIST_SERVICE`) and each one's details
(`DETAIL_SERVICE`), compares them with the local catalogue — name, legal time and its unit,
fees, documents, online level and the publication facts (date published, public on the
national database, online payment integrated) — and stores the difference as a PENDING
`CatalogSync` (an older pending one becomes SUPERSEDED). Nothing changes in the catalogue
until an administrator reviews it:

- `apply(actor, sync, now)` creates a NEW version of each changed procedure through
  `cchc.catalog.services.save_procedure` (in force from the next day, or from the date the
  national answer gives), creates the new procedures, and sets the publication facts;
  each procedure in its own savepoint, so one that cannot be saved (its internal steps no
  longer add up to the new legal time, an unknown agency type) is reported and the others
  are applied;
- `reject(actor, sync, note)` closes it unchanged.

Both are audited. Procedures the national database no longer lists are shown, never
deactivated automatically.

Service and field names marked UNVERIFIED are not confirmed against the portal's
specification (docs/national-platform.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from cchc.accounts import policy
from cchc.audit import log
from cchc.catalog import versions
from cchc.catalog.models import OnlineLevel, Procedure, ProcedureTerms, TimeUnit
from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
from cchc.errors import Conflict, DomainError, InvalidInput
from cchc.national import client
from cchc.national.models import CatalogState, CatalogSync
from cchc.national.protocol import VN, parse_stamp
from cchc.org.models import AgencyType, UnitLevel
from cchc.vietnamese import fold, nfc

LIST_SERVICE = "LayDanhSachTTHC"  # UNVERIFIED service name
DETAIL_SERVICE = "LayThuTuc"  # UNVERIFIED service name
# Optional field of LayThuTuc giving the date a change takes effect (yyyyMMdd[HHmmss]).
EFFECTIVE_FIELD = "NgayHieuLuc"  # UNVERIFIED
PERMISSION = "admin.site"  # reviewing the sync: administrators

LABELS = {
    "name": "Tên thủ tục",
    "processing_time": "Thời hạn giải quyết",
    "fees": "Phí, lệ phí",
    "documents": "Thành phần hồ sơ",
    "online_level": "Mức độ dịch vụ công trực tuyến",
    "published_on": "Ngày công bố",
    "national_published": "Công khai trên CSDL quốc gia",
    "payment_integrated": "Tích hợp thanh toán trực tuyến",
}
# What a new procedure version is made for (the others are publication facts only).
TERMS = ("name", "processing_time", "fees", "documents", "online_level")
UNIT_LABELS = dict(TimeUnit.choices)


# --- the national record, normalised ----------------------------------------------------------
def _date(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    if not text:
        return None
    moment = parse_stamp(text[:14].ljust(14, "0")) if text.isdigit() else None
    if moment is not None:
        return moment.date()
    for form in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text[:10], form).date()
        except ValueError:
            continue
    return None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return fold(str(value or "")).strip() in ("1", "true", "co", "yes", "x")


def _unit(text: str) -> str:
    word = fold(text or "").strip()
    if word in TimeUnit.values:
        return word
    if "gio" in word:
        return TimeUnit.WORKING_HOUR
    if "thang" in word:
        return TimeUnit.MONTH
    if "lam viec" in word:
        return TimeUnit.WORKING_DAY
    if "ngay" in word:
        return TimeUnit.CALENDAR_DAY
    return TimeUnit.WORKING_DAY


def _time(items: Any) -> tuple[str, str]:
    """(amount, unit) of ThoiHanGiaiQuyet: the entry for submission in person (KenhNop
    "Trực tiếp" or 1 — UNVERIFIED), else the first one."""
    entries = [e for e in items if isinstance(e, dict)] if isinstance(items, list) else []
    if not entries:
        return "0", TimeUnit.WORKING_DAY
    chosen = next(
        (e for e in entries if fold(str(e.get("KenhNop", ""))) in ("truc tiep", "1")),
        entries[0],
    )
    try:
        amount = Decimal(str(chosen.get("ThoiGian", "0")).replace(",", ".")).normalize()
    except InvalidOperation:
        amount = Decimal(0)
    return f"{amount:f}", _unit(str(chosen.get("DonViTinh", "")))


def _online(value: Any) -> str:
    word = fold(str(value or "")).strip()
    if word in ("4", "toan trinh", "full") or "toan trinh" in word:
        return OnlineLevel.FULL
    if word in ("3", "mot phan", "partial") or "mot phan" in word:
        return OnlineLevel.PARTIAL
    return OnlineLevel.NONE


def _amount(value: Any) -> int:
    """A fee in đồng: a number, or text with thousands separators ("100.000")."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return max(int(value), 0)
    text = str(value or "0").strip().replace(".", "").replace(",", "").replace(" ", "")
    try:
        return max(int(Decimal(text or "0")), 0)
    except InvalidOperation:
        return 0


def national_record(listed: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """The comparable picture of a national procedure (JSON-safe)."""
    amount, unit = _time(detail.get("ThoiHanGiaiQuyet"))
    published = _date(detail.get("NgayCongBo") or listed.get("NgayCongBo"))
    effective = _date(detail.get(EFFECTIVE_FIELD))
    return {
        "code": nfc(str(detail.get("MaTTHC") or listed.get("MaTTHC") or "")).strip(),
        "name": nfc(str(detail.get("TenTTHC") or listed.get("TenTTHC") or "")).strip(),
        "field": nfc(str(listed.get("LinhVuc") or detail.get("LinhVuc") or "")).strip(),
        "levels": nfc(str(listed.get("CapThucHien") or detail.get("CapThucHien") or "")).strip(),
        "agency_type": nfc(str(detail.get("CoQuanThucHien") or "")).strip(),  # UNVERIFIED
        "processing_time": [amount, unit],
        "fees": [
            [nfc(str(f.get("TenPhiLePhi", ""))).strip(), _amount(f.get("Gia"))]
            for f in detail.get("PhiLePhi") or []
            if isinstance(f, dict)
        ],
        "documents": [
            [nfc(str(d.get("TenGiayTo", ""))).strip(), _bool(d.get("BatBuoc", True))]
            for d in detail.get("ThanhPhanHoSo") or []
            if isinstance(d, dict)
        ],
        "online_level": _online(detail.get("MucDo")),
        "published_on": published.isoformat() if published else None,
        "national_published": _bool(detail.get("CongBoQuocGia")),
        "payment_integrated": _bool(detail.get("TichHopThanhToan")),
        "basis": nfc(str(detail.get("CanCuPhapLy") or "")).strip()[:300],
        "effective_from": effective.isoformat() if effective else None,
    }


def _latest(procedure: Procedure) -> ProcedureTerms:
    """The terms that will apply: the latest version (a future one included), else the
    row."""
    chosen = versions.pick(list(procedure.versions.all()), dt.date.max)
    return chosen if chosen is not None else procedure


def local_record(procedure: Procedure) -> dict[str, Any]:
    terms = _latest(procedure)
    return {
        "code": procedure.code,
        "name": terms.name,
        "processing_time": [f"{terms.processing_time.normalize():f}", terms.processing_time_unit],
        "fees": [[f.name, f.amount] for f in terms.fees.all()],  # type: ignore[attr-defined]
        "documents": [[d.name, d.mandatory] for d in terms.documents.all()],  # type: ignore[attr-defined]
        "online_level": terms.online_level,
        "published_on": procedure.published_on.isoformat() if procedure.published_on else None,
        "national_published": procedure.national_published,
        "payment_integrated": procedure.payment_integrated,
    }


def compare(local: dict[str, Any], national: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field changes: [{field, label, old, new}]. Names compare after NFC and
    case folding of spaces only (the national text is authoritative when it differs)."""
    out = []
    for name, label in LABELS.items():
        old, new = local.get(name), national.get(name)
        if name in ("fees", "documents"):
            same = [[nfc(str(a)).strip(), b] for a, b in old or []] == new
        else:
            same = old == new
        if not same:
            out.append({"field": name, "label": label, "old": old, "new": new})
    return out


def describe(field: str, value: Any) -> str:
    """A value of the diff in words, for the review page and the CLI."""
    if value is None or value == []:
        return "—"
    if field == "processing_time":
        amount, unit = value
        return f"{amount.replace('.', ',')} {UNIT_LABELS.get(unit, unit).lower()}"
    if field == "fees":
        return "; ".join(f"{n}: {a:,} đ".replace(",", ".") for n, a in value)
    if field == "documents":
        return "; ".join(n + ("" if m else " (không bắt buộc)") for n, m in value)
    if field == "online_level":
        return dict(OnlineLevel.choices).get(value, value)
    if field in ("national_published", "payment_integrated"):
        return "Có" if value else "Không"
    if field == "published_on":
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)


# --- fetch ------------------------------------------------------------------------------------
def fetch(now: dt.datetime, *, actor: Any = policy.SYSTEM) -> CatalogSync:
    """Fetch the national catalogue and store the difference as a PENDING sync (the older
    pending ones SUPERSEDED). Raises `client.NationalError` when the list cannot be
    fetched; a procedure whose details cannot be fetched is listed under "errors"."""
    listed = client.call(LIST_SERVICE)
    entries = [e for e in (listed or []) if isinstance(e, dict) and e.get("MaTTHC")]
    national: dict[str, dict[str, Any]] = {}
    errors: list[dict[str, str]] = []
    for entry in entries:
        code = nfc(str(entry["MaTTHC"])).strip()
        try:
            detail = client.call(DETAIL_SERVICE, extra={"MaTTHC": code})
        except client.NationalError as exc:
            if exc.transient:
                raise
            errors.append({"code": code, "message": exc.message})
            continue
        national[code] = national_record(entry, detail if isinstance(detail, dict) else {})
    local = {p.code: p for p in Procedure.objects.prefetch_related("versions")}
    new, changed = [], []
    for code, record in sorted(national.items()):
        procedure = local.get(code)
        if procedure is None:
            new.append(record)
            continue
        changes = compare(local_record(procedure), record)
        if changes:
            changed.append({"code": code, "name": procedure.name, "changes": changes,
                            "national": record})  # fmt: skip
    missing = [
        {"code": p.code, "name": p.name}
        for code, p in sorted(local.items())
        if code not in national and p.active
    ]
    diff = {"new": new, "changed": changed, "missing": missing, "errors": errors}
    summary = (
        f"{len(national)} thủ tục trên CSDL quốc gia: {len(new)} mới, {len(changed)} thay đổi, "
        f"{len(missing)} không còn trên CSDL quốc gia"
        + (f", {len(errors)} không lấy được chi tiết" if errors else "")
        + "."
    )
    with transaction.atomic():
        superseded = list(
            CatalogSync.objects.select_for_update()
            .filter(state=CatalogState.PENDING)
            .values_list("pk", flat=True)
        )
        CatalogSync.objects.filter(pk__in=superseded).update(state=CatalogState.SUPERSEDED)
        sync = CatalogSync.objects.create(fetched_at=now, diff=diff, summary=summary[:300])
        if not (new or changed):
            # Nothing to review: kept for the history, closed at once.
            sync.state = CatalogState.APPLIED
            sync.note = "Không có thay đổi cần áp dụng."
            sync.save(update_fields=["state", "note"])
        log.record(
            "national.catalogue.fetched",
            actor=actor,
            obj=sync,
            data={
                "new": len(new),
                "changed": len(changed),
                "missing": len(missing),
                "errors": len(errors),
                "superseded": superseded,
            },
            at=now,
        )
    return sync


def has_changes(sync: CatalogSync) -> bool:
    d = sync.diff or {}
    return bool(d.get("new") or d.get("changed"))


# --- review -----------------------------------------------------------------------------------
def _pending(sync_id: int) -> CatalogSync:
    sync = CatalogSync.objects.select_for_update().filter(pk=sync_id).first()
    if sync is None:
        raise InvalidInput(f"Không có lần đồng bộ danh mục số {sync_id}.")
    if sync.state != CatalogState.PENDING:
        raise Conflict(
            f"Lần đồng bộ số {sync.pk} đã ở trạng thái «{sync.get_state_display()}», "
            "không xem xét lại được.",
            code="national.catalogue_reviewed",
        )
    return sync


def _effective(record: dict[str, Any], today: dt.date) -> dt.date:
    given = record.get("effective_from")
    day = dt.date.fromisoformat(given) if given else None
    return day if day is not None and day >= today else today + dt.timedelta(days=1)


def _documents(record: dict[str, Any], terms: ProcedureTerms | None) -> tuple[DocumentData, ...]:
    known = {}
    if terms is not None:
        known = {fold(d.name): d for d in terms.documents.all()}  # type: ignore[attr-defined]
    out = []
    for name, mandatory in record["documents"]:
        old = known.get(fold(name))
        originals, copies = (old.originals, old.copies) if old else (1, 0)
        # The national payload has no field saying a document must be digitally signed
        # (UNVERIFIED: none documented): the local value is kept across syncs.
        signed = old.signature_required if old else False
        out.append(
            DocumentData(
                name,
                originals=originals,
                copies=copies,
                mandatory=mandatory,
                signature_required=signed,
            )
        )
    return tuple(out)


def _data_for_change(procedure: Procedure, record: dict[str, Any], today: dt.date) -> ProcedureData:
    """The procedure as it will be: its latest terms with the national values."""
    terms = _latest(procedure)
    levels = (
        tuple(terms.levels)  # a version keeps level codes
        if not isinstance(terms, Procedure)
        else tuple(procedure.levels.values_list("code", flat=True))
    )
    amount, unit = record["processing_time"]
    base = ProcedureData(
        code=procedure.code,
        name=terms.name,
        field_name=terms.field.name,
        levels=levels,
        agency_type=terms.competent_agency_type.code,
        processing_time=terms.processing_time,
        processing_time_unit=terms.processing_time_unit,
        fees=tuple((f.name, f.amount) for f in terms.fees.all()),  # type: ignore[attr-defined]
        documents=tuple(
            DocumentData(d.name, d.originals, d.copies, d.mandatory, d.signature_required)
            for d in terms.documents.all()  # type: ignore[attr-defined]
        ),
        result_type=terms.result_type,
        online_level=terms.online_level,
        eligible_full_online=terms.eligible_full_online,
        population_data_connected=terms.population_data_connected,
        decision_number=terms.decision_number,
        decision_date=terms.decision_date,
        steps=tuple(
            StepData(s.name, s.budget, s.budget_unit)
            for s in terms.steps.all()  # type: ignore[attr-defined]
        ),
        active=terms.active,
        cutoff=terms.cutoff,
        cutoff_source=terms.cutoff_source,
        cutoff_verified=terms.cutoff_verified,
        cutoff_note=terms.cutoff_note,
    )
    return replace(
        base,
        name=record["name"] or terms.name,
        processing_time=Decimal(amount),
        processing_time_unit=unit,
        fees=tuple((n, a) for n, a in record["fees"]),
        documents=_documents(record, terms),
        online_level=record["online_level"],
        effective_from=_effective(record, today),
        basis=_basis(record),
    )


def _basis(record: dict[str, Any]) -> str:
    text = "Đồng bộ từ CSDL quốc gia về TTHC"
    if record.get("basis"):
        text += f"; căn cứ: {record['basis']}"
    return text[:300]


def _agency_type(*names: str) -> AgencyType | None:
    for name in names:
        for part in [p.strip() for p in name.replace(";", ",").split(",") if p.strip()]:
            for candidate in AgencyType.objects.select_related("level"):
                if fold(part) in (fold(candidate.code), fold(candidate.name)):
                    return candidate
    return None


def _levels(text: str) -> tuple[str, ...]:
    """The level codes CapThucHien names ("Cấp tỉnh, Cấp xã"), those we know."""
    known = {}
    for level in UnitLevel.objects.all():
        known[fold(level.code)] = level.code
        known[fold(level.name)] = level.code
    parts = [fold(p.strip()) for p in text.replace(";", ",").split(",") if p.strip()]
    return tuple(known[p] for p in parts if p in known)


def _data_for_new(record: dict[str, Any], today: dt.date) -> ProcedureData:
    """A procedure only the national database has. Its agency type: CoQuanThucHien
    (UNVERIFIED), else CapThucHien when it names an agency type; its levels: CapThucHien's
    levels, else the agency type's."""
    amount, unit = record["processing_time"]
    agency_type = _agency_type(record.get("agency_type", ""), record.get("levels", ""))
    if agency_type is None:
        raise InvalidInput(
            f"Thủ tục mới {record['code']}: không xác định được cơ quan thực hiện trong danh "
            "mục loại cơ quan; thêm thủ tục này vào danh mục bằng tay."
        )
    levels = _levels(record.get("levels", "")) or (agency_type.level.code,)
    return ProcedureData(
        code=record["code"],
        name=record["name"],
        field_name=record["field"] or "Chưa phân loại",
        levels=levels,
        agency_type=agency_type.code,
        processing_time=Decimal(amount),
        processing_time_unit=unit,
        fees=tuple((n, a) for n, a in record["fees"]),
        documents=_documents(record, None),
        online_level=record["online_level"],
        effective_from=_effective(record, today),
        basis=_basis(record),
    )


def _publication(actor: Any, code: str, record: dict[str, Any], *, now: dt.datetime) -> bool:
    """Set the publication facts of procedure `code` (not versioned); audited."""
    procedure = Procedure.objects.select_for_update().get(code=code)
    published = record.get("published_on")
    new = {
        "published_on": dt.date.fromisoformat(published) if published else None,
        "national_published": bool(record.get("national_published")),
        "payment_integrated": bool(record.get("payment_integrated")),
    }
    old = {k: getattr(procedure, k) for k in new}
    if old == new:
        return False
    Procedure.objects.filter(pk=procedure.pk).update(**new)
    log.record(
        "catalog.procedure.publication",
        actor=actor,
        obj=procedure,
        data={k: [old[k], new[k]] for k in new if old[k] != new[k]},
        at=now,
    )
    return True


def apply(actor: Any, sync: CatalogSync | int, now: dt.datetime) -> CatalogSync:
    """Apply a pending sync (see the module). Returns it APPLIED, its diff's ``outcome``
    saying what happened to each procedure."""
    policy.require(actor, PERMISSION)
    policy.require(actor, "catalog.manage")
    today = now.astimezone(VN).date()
    sync_id = sync if isinstance(sync, int) else sync.pk
    with transaction.atomic():
        sync = _pending(sync_id)
        diff = dict(sync.diff or {})
        outcome: dict[str, str] = {}
        for item in diff.get("changed", []):
            code, record = item["code"], item["national"]
            fields = {c["field"] for c in item["changes"]}
            try:
                with transaction.atomic():
                    parts = []
                    if fields & set(TERMS):
                        procedure = Procedure.objects.get(code=code)
                        data = _data_for_change(procedure, record, today)
                        _, done = save_procedure(actor, data, now=now)
                        if done != "unchanged":
                            parts.append(f"phiên bản mới từ {data.effective_from:%d/%m/%Y}")
                    if _publication(actor, code, record, now=now):
                        parts.append("cập nhật thông tin công bố")
                    outcome[code] = "; ".join(parts) or "không thay đổi"
            except Procedure.DoesNotExist:
                outcome[code] = "Lỗi: thủ tục đã bị xóa khỏi danh mục."
            except DomainError as exc:
                outcome[code] = f"Lỗi: {exc.message}"
        for record in diff.get("new", []):
            code = record["code"]
            try:
                with transaction.atomic():
                    data = _data_for_new(record, today)
                    save_procedure(actor, data, now=now)
                    _publication(actor, code, record, now=now)
                    outcome[code] = f"tạo mới, áp dụng từ {data.effective_from:%d/%m/%Y}"
            except DomainError as exc:
                outcome[code] = f"Lỗi: {exc.message}"
        diff["outcome"] = outcome
        failed = sum(1 for v in outcome.values() if v.startswith("Lỗi"))
        sync.diff = diff
        sync.state = CatalogState.APPLIED
        sync.reviewed_by = actor if getattr(actor, "pk", None) else None
        sync.reviewed_at = now
        if failed:
            sync.note = f"{failed} thủ tục chưa áp dụng được (xem từng dòng)."
        sync.save(update_fields=["diff", "state", "reviewed_by", "reviewed_at", "note"])
        log.record(
            "national.catalogue.applied",
            actor=actor,
            obj=sync,
            data={"outcome": outcome},
            at=now,
        )
    return sync


def reject(actor: Any, sync: CatalogSync | int, note: str, *, now: dt.datetime) -> CatalogSync:
    """Close a pending sync without changing the catalogue; `note` says why."""
    policy.require(actor, PERMISSION)
    text = nfc(note or "").strip()
    if not text:
        raise InvalidInput("Ghi rõ lý do từ chối.", code="national.catalogue_note")
    sync_id = sync if isinstance(sync, int) else sync.pk
    with transaction.atomic():
        sync = _pending(sync_id)
        sync.state = CatalogState.REJECTED
        sync.reviewed_by = actor if getattr(actor, "pk", None) else None
        sync.reviewed_at = now
        sync.note = text[:2000]
        sync.save(update_fields=["state", "reviewed_by", "reviewed_at", "note"])
        log.record("national.catalogue.rejected", actor=actor, obj=sync, data={"note": text},
                   at=now)  # fmt: skip
    return sync


def rows(sync: CatalogSync) -> list[dict[str, Any]]:
    """The diff as table rows for people: [{kind, code, name, field, old, new, outcome}]."""
    d = sync.diff or {}
    outcome = d.get("outcome", {})
    out: list[dict[str, Any]] = []
    for record in d.get("new", []):
        amount, unit = record["processing_time"]
        out.append(
            {
                "kind": "Thủ tục mới",
                "code": record["code"],
                "name": record["name"],
                "field": "",
                "old": "—",
                "new": f"{describe('processing_time', [amount, unit])}; "
                f"{len(record['fees'])} khoản phí; {len(record['documents'])} giấy tờ",
                "outcome": outcome.get(record["code"], ""),
            }
        )
    for item in d.get("changed", []):
        for n, change in enumerate(item["changes"]):
            out.append(
                {
                    "kind": "Thay đổi" if n == 0 else "",
                    "code": item["code"] if n == 0 else "",
                    "name": item["name"] if n == 0 else "",
                    "field": change["label"],
                    "old": describe(change["field"], change["old"]),
                    "new": describe(change["field"], change["new"]),
                    "outcome": outcome.get(item["code"], "") if n == 0 else "",
                }
            )
    for item in d.get("missing", []):
        out.append(
            {
                "kind": "Không còn trên CSDL quốc gia",
                "code": item["code"],
                "name": item["name"],
                "field": "",
                "old": "",
                "new": "",
                "outcome": "",
            }
        )
    for item in d.get("errors", []):
        out.append(
            {
                "kind": "Không lấy được chi tiết",
                "code": item["code"],
                "name": "",
                "field": "",
                "old": "",
                "new": item["message"],
                "outcome": "",
            }
        )
    return out
