"""Data for the simulated portal: the national catalogue (built from our own catalogue with
deliberate differences, so the catalogue comparison has something to show), dossiers
"submitted on the national portal", and the 766 figures the portal publishes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cchc.catalog.models import Procedure
from cchc.errors import InvalidInput
from cchc.indicators import definitions
from cchc.indicators.periods import parse
from cchc.nationalsim.models import SimDossier, SimInbound, SimProcedure, SimPublished
from cchc.nationalsim.protocol import VIETNAM, format_date

NEW_PROCEDURE = "QG.GIALAP.0001"  # the procedure only the national catalogue has
MUC_DO = {"full": "Toàn trình", "partial": "Một phần", "none": "Không"}  # UNVERIFIED values


def _on_time_hours() -> float:
    return float((getattr(settings, "CCHC_DVCQG", {}) or {}).get("on_time_hours", 24.0))


def madonvi() -> str:
    return str((getattr(settings, "CCHC_DVCQG", {}) or {}).get("madonvi") or "000.00.00.H00")


def _date(day: dt.date | None) -> str:
    if day is None:
        return ""
    return format_date(dt.datetime.combine(day, dt.time.min, tzinfo=VIETNAM))


def _detail_from_local(p: Any) -> dict[str, Any]:
    return {
        "ThoiHanGiaiQuyet": [
            {
                "KenhNop": "",
                "ThoiGian": str(p.processing_time.normalize()),
                "DonViTinh": p.get_processing_time_unit_display(),
            }
        ],
        "PhiLePhi": [
            {"MaPhiLePhi": f"{p.code}-{f.position}", "TenPhiLePhi": f.name, "Gia": int(f.amount)}
            for f in p.fees.all()
        ],
        "ThanhPhanHoSo": [
            {"MaGiayTo": f"{p.code}-GT{d.position}", "TenGiayTo": d.name, "BatBuoc": d.mandatory}
            for d in p.documents.all()
        ],
        "CoQuanThucHien": p.competent_agency_type.name,  # UNVERIFIED field name
        "CanCuPhapLy": p.decision_number,
        "NgayCongBo": _date(p.published_on or p.decision_date),
        "CongBoQuocGia": bool(p.national_published),
        "TichHopThanhToan": bool(p.payment_integrated),
        "MucDo": MUC_DO.get(p.online_level, ""),
    }


def _new_procedure(agency_type: str) -> SimProcedure:
    detail = {
        "CoQuanThucHien": agency_type,  # UNVERIFIED field name
        "ThoiHanGiaiQuyet": [{"KenhNop": "", "ThoiGian": "5", "DonViTinh": "Ngày làm việc"}],
        "PhiLePhi": [],
        "ThanhPhanHoSo": [
            {"MaGiayTo": f"{NEW_PROCEDURE}-GT1", "TenGiayTo": "Tờ khai", "BatBuoc": True}
        ],
        "CanCuPhapLy": "Quyết định công bố (giả lập)",
        "NgayCongBo": _date(timezone.localdate()),
        "CongBoQuocGia": True,
        "TichHopThanhToan": False,
        "MucDo": "Toàn trình",
    }
    return SimProcedure(
        ma_tthc=NEW_PROCEDURE,
        ten_tthc="Thủ tục mới công bố trên CSDL quốc gia (giả lập)",
        cap_thuc_hien="Cấp tỉnh",
        linh_vuc="Giả lập",
        ngay_cong_bo=detail["NgayCongBo"],
        detail=detail,
    )


@transaction.atomic
def seed_catalogue(from_local: bool = True) -> dict[str, Any]:
    """Replace the national catalogue: our procedures (from `cchc.catalog`) with one changed
    fee, one changed legal time, one procedure only the portal has and one withdrawn.
    Returns what was changed, by procedure code."""
    SimProcedure.objects.all().delete()
    rows: list[SimProcedure] = []
    local = []
    if from_local:
        local = list(
            Procedure.objects.filter(active=True)
            .select_related("field", "competent_agency_type")
            .prefetch_related("fees", "documents")
            .order_by("code")
        )
    for p in local:
        detail = _detail_from_local(p)
        rows.append(
            SimProcedure(
                ma_tthc=p.code,
                ten_tthc=p.name,
                cap_thuc_hien=p.competent_agency_type.name,
                linh_vuc=p.field.name,
                ngay_cong_bo=detail["NgayCongBo"],
                detail=detail,
            )
        )
    changes: dict[str, Any] = {"fee": "", "time": "", "new": NEW_PROCEDURE, "withdrawn": ""}
    with_fee = [r for r in rows if r.detail["PhiLePhi"]]
    if with_fee:
        target = with_fee[0]
        target.detail["PhiLePhi"][0]["Gia"] += 10_000
        changes["fee"] = target.ma_tthc
    others = [r for r in rows if r.ma_tthc != changes["fee"]]
    if others:
        target = others[0]
        limit = target.detail["ThoiHanGiaiQuyet"][0]
        limit["ThoiGian"] = str(Decimal(limit["ThoiGian"] or "0") + 2)
        changes["time"] = target.ma_tthc
    rest = [r for r in rows if r.ma_tthc not in (changes["fee"], changes["time"])]
    if rest:
        rest[-1].withdrawn = True
        changes["withdrawn"] = rest[-1].ma_tthc
    rows.append(_new_procedure(local[0].competent_agency_type.name if local else "Sở Tư pháp"))
    SimProcedure.objects.bulk_create(rows)
    changes["count"] = len(rows)
    return changes


# A minimal one-page PDF (dossier files accept PDF, images and office files, not text).
ATTACHMENT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def submit_inbound(
    procedure_code: str,
    applicant: str,
    *,
    id_number: str = "",
    phone: str = "",
    email: str = "",
    address: str = "",
    summary: str = "",
    unit: str = "",
    submitted_at: dt.datetime | None = None,
) -> SimInbound:
    """A dossier "submitted on the national portal" for `procedure_code` (national
    catalogue first, then ours), with one small attachment, waiting to be fetched."""
    code = (procedure_code or "").strip()
    applicant = (applicant or "").strip()
    if not applicant:
        raise InvalidInput("Cần họ tên người nộp hồ sơ.")
    national = SimProcedure.objects.filter(ma_tthc=code, withdrawn=False).first()
    if national is not None:
        name, field = national.ten_tthc, national.linh_vuc
        parts = national.detail.get("ThanhPhanHoSo") or []
    else:
        local = Procedure.objects.filter(code=code).select_related("field").first()
        if local is None:
            raise InvalidInput(f"Không có thủ tục {code!r} trong danh mục.")
        name, field = local.name, local.field.name
        parts = [{"MaGiayTo": f"{code}-GT{d.position}"} for d in local.documents.all()]
    now = submitted_at or timezone.now()
    qg = f"G22.{now.astimezone(VIETNAM):%y%m%d}-{secrets.token_hex(3).upper()}"
    body = {
        "MaHoSo": "",
        "MaTTHC": code,
        "TenTTHC": name,
        "MaLinhVuc": "",
        "TenLinhVuc": field,
        "ChuHoSo": applicant,
        "LoaiDoiTuong": "1",
        "MaDoiTuong": id_number,
        "ThongTinLienHe": address,
        "SoDienThoai": phone,
        "Email": email,
        "TrichYeuHoSo": summary or f"Đề nghị giải quyết thủ tục {name}",
        "NgayTiepNhan": format_date(now),
        "NgayHenTra": "",
        "TrangThaiHoSo": "1",
        "HinhThuc": "0",
        "DanhSachTepDinhKem": [
            {
                "TenTepDinhKem": "don-de-nghi.pdf",
                "MaThanhPhanHoSo": (parts[0].get("MaGiayTo") if parts else "") or "",
                "NoiDungBase64": base64.b64encode(ATTACHMENT).decode("ascii"),
            }
        ],
    }
    return SimInbound.objects.create(
        madonvi=unit or madonvi(), ma_ho_so_qg=qg, ma_tthc=code, body=body, submitted_at=now
    )


def sync_count(madonvi: str, start: dt.date, end: dt.date) -> dict[str, int]:
    """The portal's own count for 1d: the dossiers received (NgayTiepNhan, Vietnam time) in
    [start, end], and those of them whose every record (the first DongBoHoSoMC, each
    CapNhatTienDoHoSoMC step) arrived within `on_time_hours` of its event time
    (NgayTiepNhan / ThoiDiemXuLy). A record without an event time counts as on time."""
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=VIETNAM)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=VIETNAM)
    limit = dt.timedelta(hours=_on_time_hours())
    dossiers = SimDossier.objects.filter(
        madonvi=madonvi, ngay_tiep_nhan__gte=lo, ngay_tiep_nhan__lt=hi
    ).prefetch_related("receipts")
    total = on_time = 0
    for d in dossiers:
        total += 1
        if all(r.event_at is None or r.received_at - r.event_at <= limit for r in d.receipts.all()):
            on_time += 1
    return {"HoSo": total, "DungHan": on_time}


def _fraction(seed: str) -> Decimal:
    """A stable fraction in [0.70, 0.95] for a seed string."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16)
    return Decimal(70 + digest % 26) / 100


def publish_766(unit: str, ky: str) -> SimPublished:
    """The portal's published 766 figures for `unit` and period `ky` (code as
    `cchc.indicators.periods`): the six columns from a stable fraction of each column's
    maximum, "Tiến độ giải quyết" scaled by the share of timely synchronised dossiers,
    and TruDiem = 0.25 point per dossier synchronised late (at most 5). The simulator's
    own rule, not the portal's (UNVERIFIED)."""
    period = parse(ky)
    count = sync_count(unit, period.start, period.end)
    timely = Decimal(count["DungHan"]) / Decimal(count["HoSo"]) if count["HoSo"] else Decimal(1)
    columns = []
    for c in definitions.shipped("index766").portal:
        share = _fraction(f"{unit}|{period.code}|{c.code}")
        if c.code == "2":
            share = share * timely
        columns.append(
            {
                "Ma": c.code,
                "Ten": c.name,
                "Diem": float((Decimal(c.max_points) * share).quantize(Decimal("0.01"))),
                "DiemToiDa": float(c.max_points),
            }
        )
    deduction = min(Decimal(5), Decimal("0.25") * (count["HoSo"] - count["DungHan"]))
    total = sum(Decimal(str(c["Diem"])) for c in columns) - deduction
    figures = {
        "ChiSo": columns,
        "TongDiem": float(total.quantize(Decimal("0.01"))),
        "TruDiem": float(deduction),
    }
    row, _ = SimPublished.objects.update_or_create(
        madonvi=unit, ky=period.code, defaults={"figures": figures}
    )
    return row
