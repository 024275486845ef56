"""What the simulated portal checks: dates, status codes, required fields (all as far as
OpenCPS shows them; docs/national-platform.md says which parts are UNVERIFIED)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # dvcqg.java:130 HCM_TIMEZONE
DATE_FORMAT = "%Y%m%d%H%M%S"  # dvcqg.java:129 "yyyyMMddHHmmss"

# TrangThaiHoSo / TrangThai codes (UNVERIFIED: OpenCPS maps them from a configurable table).
STATUSES: dict[str, str] = {
    "1": "Mới đăng ký, chờ tiếp nhận",
    "2": "Đã tiếp nhận",
    "3": "Không được tiếp nhận",
    "4": "Đang xử lý",
    "5": "Yêu cầu bổ sung hồ sơ",
    "6": "Chờ thực hiện nghĩa vụ tài chính",
    "7": "Công dân rút hồ sơ",
    "8": "Dừng xử lý",
    "9": "Đã xử lý xong",
    "10": "Đã trả kết quả",
}

# DongBoHoSoMC: the fields OpenCPS fills without its "ko bb" (không bắt buộc) comment
# (dvcqg.java:164-225), less MaLinhVuc/TenLinhVuc/Email/SoDienThoai (a local system may not
# know them) — UNVERIFIED.
DOSSIER_REQUIRED = (
    "MaHoSo",
    "MaTTHC",
    "TenTTHC",
    "LoaiDoiTuong",
    "NgayTiepNhan",
    "NgayHenTra",
    "TrangThaiHoSo",
    "HinhThuc",
    "DonViXuLy",
)
DOSSIER_DATES = ("NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy")
# CapNhatTienDoHoSoMC: OpenCPS fills these without "ko bb" (dvcqg.java:505-520).
STEP_REQUIRED = ("MaHoSo", "NguoiXuLy", "ThoiDiemXuLy", "TrangThai")
STEP_DATES = ("ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")
OBJECT_TYPES = {"1": "Công dân", "2": "Tổ chức, doanh nghiệp"}  # dvcqg.java:190-197


def parse_date(value: object) -> dt.datetime | None:
    """`yyyyMMddHHmmss` in Vietnam time → an aware datetime; None for empty; ValueError
    when malformed."""
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) != 14 or not text.isdigit():
        raise ValueError(text)
    return dt.datetime.strptime(text, DATE_FORMAT).replace(tzinfo=VIETNAM)


def format_date(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(VIETNAM).strftime(DATE_FORMAT)


def truthy(value: object) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")
