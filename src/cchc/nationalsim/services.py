"""The simulated portal's services (registered with `@service`): what the national portal
does with each call, as far as the contract in docs/national-platform.md describes it.

Each handler gets the call's body (``madonvi`` set from the session, ``idempotency_key``
from the body or the header) and runs inside the view's transaction: a `Refusal` undoes
everything the call did."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from django.db.models import Max
from django.utils import timezone

from cchc.errors import DomainError
from cchc.indicators.periods import parse
from cchc.nationalsim import faults, seeding
from cchc.nationalsim.models import (
    SimCall,
    SimDossier,
    SimInbound,
    SimProcedure,
    SimPublished,
    SimReceipt,
    SimSession,
    SimStep,
)
from cchc.nationalsim.protocol import (
    DOSSIER_DATES,
    DOSSIER_REQUIRED,
    OBJECT_TYPES,
    STATUSES,
    STEP_DATES,
    STEP_REQUIRED,
    format_date,
    parse_date,
    truthy,
)
from cchc.nationalsim.registry import Refusal, service


def log_call(
    service_name: str, body: dict[str, Any], outcome: str, *, error_code: str, message: str
) -> None:
    """Record one call in the simulator's call log (counted by tests and the page)."""
    SimCall.objects.create(
        service=service_name[:60],
        madonvi=str(body.get("madonvi") or "")[:40],
        idempotency_key=str(body.get("idempotency_key") or "")[:200],
        outcome=outcome,
        error_code="" if error_code == "0" else error_code,
        message=message[:500],
    )


def open_session(madonvi: str) -> str:
    """A new session token for the province's account."""
    token = secrets.token_urlsafe(24)
    SimSession.objects.create(token=token, madonvi=madonvi)
    return token


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise Refusal("400", "Thiếu danh sách hồ sơ (data phải là danh sách không rỗng).")
    if not all(isinstance(item, dict) for item in data):
        raise Refusal("400", "Mỗi phần tử của data phải là một đối tượng JSON.")
    return data


def _problems(
    item: dict[str, Any], required: tuple[str, ...], dates: tuple[str, ...], status: str
) -> list[str]:
    out = [f"thiếu {name}" for name in required if not str(item.get(name) or "").strip()]
    for name in dates:
        try:
            parse_date(item.get(name))
        except ValueError:
            out.append(f"{name} sai định dạng yyyyMMddHHmmss ({item.get(name)!r})")
    code = str(item.get(status) or "").strip()
    if code and code not in STATUSES:
        out.append(f"{status} không hợp lệ ({code!r})")
    return out


def _refuse_invalid(problems: list[tuple[int, dict[str, Any], list[str]]]) -> None:
    if problems:
        raise Refusal(
            "400",
            "Dữ liệu không hợp lệ: "
            + "; ".join(
                f"hồ sơ thứ {i + 1} (MaHoSo={item.get('MaHoSo') or '?'}): " + ", ".join(p)
                for i, item, p in problems
            )
            + ".",
        )


def _arg(body: dict[str, Any], name: str) -> Any:
    """A parameter given at the top level of the body or inside ``data`` (an object)."""
    data = body.get("data")
    return body.get(name) or (data.get(name) if isinstance(data, dict) else None)


def _national_code(now: dt.datetime) -> str:
    """A national dossier code (the real format is UNVERIFIED)."""
    return f"G22.{now:%y%m%d}-{secrets.token_hex(3).upper()}"


# --- DongBoHoSoMC --------------------------------------------------------------------------
@service("DongBoHoSoMC")
def sync_dossiers(body: dict[str, Any]) -> list[dict[str, str]]:
    """Create (isUpdating "False") or update (isUpdating "True") national dossiers. The same
    MaHoSo never creates a second national dossier: a repeated "False" (a retry after a
    lost answer) updates the one that exists; "True" for an unknown MaHoSo is refused."""
    items = _items(body)
    madonvi = body["madonvi"]
    updating = truthy(body.get("isUpdating", "False"))
    problems = []
    for i, item in enumerate(items):
        p = _problems(item, DOSSIER_REQUIRED, DOSSIER_DATES, "TrangThaiHoSo")
        kind = str(item.get("LoaiDoiTuong") or "").strip()
        if kind and kind not in OBJECT_TYPES:
            p.append(f"LoaiDoiTuong không hợp lệ ({kind!r}, cần 1 hoặc 2)")
        if p:
            problems.append((i, item, p))
    _refuse_invalid(problems)
    codes = [str(item["MaHoSo"]).strip() for item in items]
    if len(set(codes)) != len(codes):
        raise Refusal("400", "Một mã hồ sơ (MaHoSo) xuất hiện hai lần trong cùng lần gửi.")
    known = {
        d.ma_ho_so: d
        for d in SimDossier.objects.select_for_update().filter(madonvi=madonvi, ma_ho_so__in=codes)
    }
    if updating:
        missing = [c for c in codes if c not in known]
        if missing:
            raise Refusal(
                "404",
                "Cập nhật (isUpdating=True) hồ sơ chưa có trên Cổng: "
                + ", ".join(missing)
                + " — gửi lần đầu với isUpdating=False.",
            )
    now = timezone.now()
    out = []
    for code, item in zip(codes, items, strict=True):
        fields = {
            "ma_tthc": str(item.get("MaTTHC") or ""),
            "trang_thai": str(item.get("TrangThaiHoSo") or ""),
            "ngay_tiep_nhan": parse_date(item.get("NgayTiepNhan")),
            "ngay_hen_tra": parse_date(item.get("NgayHenTra")),
            "body": item,
            "supplements": list(item.get("DanhSachHoSoBoSung") or []),
            "results": list(item.get("DanhSachGiayToKetQua") or []),
            "last_received_at": now,
        }
        dossier = known.get(code)
        if dossier is None:
            # A dossier submitted on the portal keeps the national code it was given there.
            inbound = (
                SimInbound.objects.filter(madonvi=madonvi, local_code=code)
                .values_list("ma_ho_so_qg", flat=True)
                .first()
            )
            dossier = SimDossier.objects.create(
                madonvi=madonvi,
                ma_ho_so=code,
                ma_ho_so_qg=inbound or _national_code(now),
                first_received_at=now,
                **fields,
            )
            SimReceipt.objects.create(
                dossier=dossier, kind="DongBo", event_at=dossier.ngay_tiep_nhan, received_at=now
            )
        else:
            for name, value in fields.items():
                setattr(dossier, name, value)
            dossier.updates += 1
            dossier.save()
        out.append({"MaHoSo": code, "MaHoSoQG": dossier.ma_ho_so_qg})
    return out


# --- CapNhatTienDoHoSoMC -------------------------------------------------------------------
def _step_key(body: dict[str, Any], item: dict[str, Any], index: int, count: int) -> str:
    key = str(body.get("idempotency_key") or "")
    if key:
        return key if count == 1 else f"{key}#{index}"
    raw = json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "body:" + hashlib.sha256(raw).hexdigest()[:40]


@service("CapNhatTienDoHoSoMC")
def update_progress(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Record processing steps: one per idempotency key (a repeated key records nothing);
    each step keeps its arrival order, and a step whose ThoiDiemXuLy is earlier than the
    latest step already received for that dossier is flagged out of order."""
    items = _items(body)
    madonvi = body["madonvi"]
    problems = [
        (i, item, p)
        for i, item in enumerate(items)
        if (p := _problems(item, STEP_REQUIRED, STEP_DATES, "TrangThai"))
    ]
    _refuse_invalid(problems)
    codes = {str(item["MaHoSo"]).strip() for item in items}
    known = {
        d.ma_ho_so: d
        for d in SimDossier.objects.select_for_update().filter(madonvi=madonvi, ma_ho_so__in=codes)
    }
    missing = sorted(codes - set(known))
    if missing:
        raise Refusal(
            "404",
            "Hồ sơ chưa được đồng bộ lên Cổng (gọi DongBoHoSoMC trước): "
            + ", ".join(missing)
            + ".",
        )
    now = timezone.now()
    out = []
    for index, item in enumerate(items):
        dossier = known[str(item["MaHoSo"]).strip()]
        key = _step_key(body, item, index, len(items))
        step = SimStep.objects.filter(dossier=dossier, key=key).first()
        if step is None:
            at = parse_date(item.get("ThoiDiemXuLy"))
            latest = dossier.steps.aggregate(m=Max("processed_at"), s=Max("seq"))
            late = latest["m"] is not None and at is not None and at < latest["m"]
            step = SimStep.objects.create(
                dossier=dossier,
                key=key,
                seq=(latest["s"] or 0) + 1,
                body=item,
                trang_thai=str(item.get("TrangThai") or ""),
                processed_at=at,
                out_of_order=late,
                received_at=now,
            )
            SimReceipt.objects.create(dossier=dossier, kind="TienDo", event_at=at, received_at=now)
            if not late:
                dossier.trang_thai = step.trang_thai
                dossier.save(update_fields=["trang_thai"])
        out.append(
            {
                "MaHoSo": dossier.ma_ho_so,
                "MaHoSoQG": dossier.ma_ho_so_qg,
                "ThuTu": step.seq,
                "SaiThuTu": step.out_of_order,
            }
        )
    return out


# --- TraCuuHoSo ----------------------------------------------------------------------------
@service("TraCuuHoSo")
def look_up(body: dict[str, Any]) -> dict[str, Any]:
    # The contract sends "MaHoSo"; OpenCPS sends "mahoso" (dvcqg.java:1992): accept both.
    code = str(body.get("MaHoSo") or body.get("mahoso") or "").strip()
    if not code:
        raise Refusal("400", "Thiếu mã hồ sơ (MaHoSo).")
    dossier = SimDossier.objects.filter(madonvi=body["madonvi"], ma_ho_so=code).first()
    if dossier is None:
        raise Refusal("404", f"Không tìm thấy hồ sơ {code} trên Cổng.")
    return {
        "MaHoSo": dossier.ma_ho_so,
        "MaHoSoQG": dossier.ma_ho_so_qg,
        "TrangThaiHoSo": dossier.trang_thai,
        "NgayHenTra": format_date(dossier.ngay_hen_tra),
        "SoBuoc": dossier.steps.count(),
    }


# --- Inbound: LayDanhSachHoSoMoi / XacNhanHoSo ---------------------------------------------
def _inbound_item(row: SimInbound) -> dict[str, Any]:
    return {**row.body, "MaHoSoQG": row.ma_ho_so_qg, "KenhNop": "DVCQG"}


@service("LayDanhSachHoSoMoi")
def new_dossiers(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Dossiers submitted on the portal and not yet acknowledged (from TuNgay on)."""
    rows = SimInbound.objects.filter(madonvi=body["madonvi"])
    since_raw = _arg(body, "TuNgay")
    try:
        since = parse_date(since_raw)
    except ValueError:
        raise Refusal("400", f"TuNgay sai định dạng yyyyMMddHHmmss ({since_raw!r}).") from None
    if since is not None:
        rows = rows.filter(submitted_at__gte=since)
    rows = list(rows.order_by("submitted_at", "id"))
    listing = [r for r in rows if r.acknowledged_at is None]
    setting = faults.current()
    if setting.duplicate_inbound:
        listing += [r for r in rows if r.listed > 0]
    if setting.shuffle_inbound:
        listing = faults.shuffled(listing)
    for row in {r.pk: r for r in listing}.values():
        SimInbound.objects.filter(pk=row.pk).update(listed=row.listed + 1)
    return [_inbound_item(r) for r in listing]


@service("XacNhanHoSo")
def acknowledge(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The province took these dossiers (MaHoSoQG → its own MaHoSo). Repeating the same
    acknowledgement is harmless; a different MaHoSo for an acknowledged one is refused."""
    items = _items(body)
    now = timezone.now()
    out = []
    for i, item in enumerate(items):
        qg = str(item.get("MaHoSoQG") or "").strip()
        local = str(item.get("MaHoSo") or "").strip()
        if not qg or not local:
            raise Refusal("400", f"Phần tử thứ {i + 1}: cần MaHoSoQG và MaHoSo.")
        row = (
            SimInbound.objects.select_for_update()
            .filter(madonvi=body["madonvi"], ma_ho_so_qg=qg)
            .first()
        )
        if row is None:
            raise Refusal("404", f"Không có hồ sơ {qg} nộp trên Cổng cho đơn vị này.")
        if row.acknowledged_at is not None and row.local_code != local:
            raise Refusal(
                "409",
                f"Hồ sơ {qg} đã được xác nhận với mã {row.local_code}, không nhận mã {local}.",
            )
        if row.acknowledged_at is None:
            row.acknowledged_at, row.local_code = now, local
            row.save(update_fields=["acknowledged_at", "local_code"])
        out.append({"MaHoSoQG": qg, "MaHoSo": local, "XacNhan": True})
    return out


# --- Catalogue: LayDanhSachTTHC / LayThuTuc ------------------------------------------------
@service("LayDanhSachTTHC")
def procedures(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The national database of procedures (withdrawn ones are no longer listed). MaCoQuan
    is accepted and ignored: the simulator holds one province's procedures."""
    return [
        {
            "MaTTHC": p.ma_tthc,
            "TenTTHC": p.ten_tthc,
            "CapThucHien": p.cap_thuc_hien,
            "LinhVuc": p.linh_vuc,
            "NgayCongBo": p.ngay_cong_bo,
        }
        for p in SimProcedure.objects.filter(withdrawn=False)
    ]


@service("LayThuTuc")
def procedure(body: dict[str, Any]) -> dict[str, Any]:
    # The contract sends "MaTTHC"; OpenCPS sends "maTTHC" (dvcqg.java:172): accept both.
    code = str(body.get("MaTTHC") or body.get("maTTHC") or "").strip()
    if not code:
        raise Refusal("400", "Thiếu mã thủ tục (MaTTHC).")
    row = SimProcedure.objects.filter(ma_tthc=code, withdrawn=False).first()
    if row is None:
        raise Refusal("404", f"Không có thủ tục {code} trong CSDL TTHC quốc gia (hoặc đã bãi bỏ).")
    return {**row.detail, "MaTTHC": row.ma_tthc, "TenTTHC": row.ten_tthc}


# --- LayChiSo766 ---------------------------------------------------------------------------
@service("LayChiSo766")
def index766(body: dict[str, Any]) -> dict[str, Any]:
    raw = str(_arg(body, "Ky") or "").strip()
    if not raw:
        raise Refusal("400", "Thiếu kỳ (Ky), ví dụ 2026-Q3 hoặc 2026-11.")
    try:
        period = parse(raw)
    except DomainError as exc:
        raise Refusal("400", exc.message) from None
    madonvi = body["madonvi"]
    row = SimPublished.objects.filter(madonvi=madonvi, ky=period.code).first()
    if row is None:
        row = seeding.publish_766(madonvi, period.code)
    return {
        "Ky": period.code,
        "MaDonVi": madonvi,
        **row.figures,
        "DongBo": seeding.sync_count(madonvi, period.start, period.end),
    }
