"""Factories that go through the real services (no hand-written rows)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from cchc.accounts import services as accounts
from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.org.models import AdministrativeUnit, Agency
from cchc.org.structure import load_structure

STRUCTURE: dict[str, Any] = {
    "levels": [
        {"code": "province", "name": "Cấp tỉnh", "rank": 1},
        {"code": "district", "name": "Cấp huyện", "rank": 2},
        {"code": "commune", "name": "Cấp xã", "rank": 3},
    ],
    "units": [
        {
            "code": "24",
            "name": "Tỉnh Bắc Giang",
            "kind": "Tỉnh",
            "level": "province",
            "parent": None,
            "valid_from": "1997-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "213",
            "name": "Thành phố Bắc Giang",
            "kind": "Thành phố",
            "level": "district",
            "parent": "24",
            "valid_from": "1997-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "07210",
            "name": "Phường Trần Phú",
            "kind": "Phường",
            "level": "commune",
            "parent": "213",
            "valid_from": "1997-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "07213",
            "name": "Phường Ngô Quyền",
            "kind": "Phường",
            "level": "commune",
            "parent": "213",
            "valid_from": "1997-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "24",
            "name": "Tỉnh Bắc Ninh",
            "kind": "Tỉnh",
            "level": "province",
            "parent": None,
            "valid_from": "2025-07-01",
            "valid_to": None,
        },
        {
            "code": "07999",
            "name": "Phường Bắc Giang",
            "kind": "Phường",
            "level": "commune",
            "parent": "24",
            "valid_from": "2025-07-01",
            "valid_to": None,
        },
    ],
    "successions": [
        {"predecessor": "24", "successor": "24", "effective": "2025-07-01", "primary": True},
        {"predecessor": "213", "successor": "24", "effective": "2025-07-01", "primary": True},
        {
            "predecessor": "07210",
            "successor": "07999",
            "effective": "2025-07-01",
            "primary": True,
            "source": "thử nghiệm",
        },
        {"predecessor": "07213", "successor": "07999", "effective": "2025-07-01", "primary": True},
    ],
    "agency_types": [
        {"code": "so-tu-phap", "name": "Sở Tư pháp", "level": "province"},
        {"code": "so-xay-dung", "name": "Sở Xây dựng", "level": "province"},
        {"code": "ubnd-huyen", "name": "UBND cấp huyện", "level": "district"},
        {"code": "ubnd-xa", "name": "UBND cấp xã", "level": "commune"},
        {
            "code": "trung-tam-pvhcc",
            "name": "Trung tâm Phục vụ hành chính công",
            "level": "province",
        },
    ],
    "agencies": [
        {
            "code": "000.00.12.H06",
            "name": "Sở Tư pháp tỉnh Bắc Giang",
            "short_name": "Sở Tư pháp",
            "type": "so-tu-phap",
            "unit": "24",
            "valid_from": "2008-01-01",
            "valid_to": "2025-07-01",
            "head_name": "Nguyễn Văn A",
            "head_title": "Giám đốc",
        },
        {
            "code": "000.01.12.H06",
            "name": "Phòng Hành chính tư pháp",
            "short_name": "Phòng HCTP",
            "type": "so-tu-phap",
            "unit": "24",
            "parent": "000.00.12.H06",
            "valid_from": "2008-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "000.00.15.H06",
            "name": "Sở Xây dựng tỉnh Bắc Giang",
            "short_name": "Sở Xây dựng",
            "type": "so-xay-dung",
            "unit": "24",
            "valid_from": "2008-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "000.00.30.H06",
            "name": "Trung tâm Phục vụ hành chính công tỉnh Bắc Giang",
            "short_name": "TTPVHCC",
            "type": "trung-tam-pvhcc",
            "unit": "24",
            "valid_from": "2019-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "000.20.21.H06",
            "name": "UBND thành phố Bắc Giang",
            "type": "ubnd-huyen",
            "unit": "213",
            "valid_from": "2008-01-01",
            "valid_to": "2025-07-01",
        },
        {
            "code": "000.00.12.H27",
            "name": "Sở Tư pháp tỉnh Bắc Ninh",
            "short_name": "Sở Tư pháp",
            "type": "so-tu-phap",
            "unit": "24",
            "valid_from": "2025-07-01",
        },
    ],
    "desks": [
        {
            "code": "ttpvhcc-bg",
            "name": "Trung tâm Phục vụ hành chính công tỉnh Bắc Giang",
            "unit": "24",
            "host_agency": "000.00.30.H06",
            "receives_for": ["000.00.12.H06", "000.00.15.H06"],
            "calendar": "vn-civil-service",
            "valid_from": "2019-01-01",
            "valid_to": "2025-07-01",
        },
    ],
}


@dataclass
class Org:
    province_2024: AdministrativeUnit
    province_2025: AdministrativeUnit
    city: AdministrativeUnit
    tran_phu: AdministrativeUnit
    bac_giang_ward: AdministrativeUnit
    justice: Agency
    justice_office: Agency
    construction: Agency
    city_committee: Agency
    justice_2025: Agency


def small_structure(now: dt.datetime) -> Org:
    load_structure(SYSTEM, STRUCTURE, now=now)
    day24, day25 = dt.date(2024, 6, 1), dt.date(2025, 8, 1)
    unit = AdministrativeUnit.objects.valid_on
    agency = Agency.objects.valid_on
    return Org(
        province_2024=unit(day24).get(code="24"),
        province_2025=unit(day25).get(code="24"),
        city=unit(day24).get(code="213"),
        tran_phu=unit(day24).get(code="07210"),
        bac_giang_ward=unit(day25).get(code="07999"),
        justice=agency(day24).get(code="000.00.12.H06"),
        justice_office=agency(day24).get(code="000.01.12.H06"),
        construction=agency(day24).get(code="000.00.15.H06"),
        city_committee=agency(day24).get(code="000.20.21.H06"),
        justice_2025=agency(day25).get(code="000.00.12.H27"),
    )


_numbers = itertools.count(1)


def make_user(
    role: str, *, now: dt.datetime, agency=None, unit=None, desk=None, password: str | None = None
) -> User:
    user = accounts.create_user(
        SYSTEM,
        username=f"{role}{next(_numbers)}",
        password=password,
        full_name=f"Người dùng {role}",
        now=now,
        check_password=False,
    )
    if role:
        accounts.grant_role(SYSTEM, user, role, agency=agency, unit=unit, desk=desk, now=now)
    return user
