"""Administrative units over time, successor mapping, structure loading."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from cchc.accounts.policy import SYSTEM
from cchc.audit.models import AuditEntry
from cchc.demo.loader import DATA_DIR
from cchc.errors import InvalidInput, NotFound
from cchc.org import services, tree
from cchc.org.models import AdministrativeUnit, UnitSuccession
from cchc.org.structure import load_structure
from tests.factories import STRUCTURE

pytestmark = pytest.mark.django_db


def test_validity_interval_is_inclusive_start_exclusive_end(org):
    assert org.tran_phu.is_valid_on(dt.date(2025, 6, 30))
    assert not org.tran_phu.is_valid_on(dt.date(2025, 7, 1))
    on_last_day = AdministrativeUnit.objects.valid_on(dt.date(2025, 6, 30))
    on_merger_day = AdministrativeUnit.objects.valid_on(dt.date(2025, 7, 1))
    assert set(on_last_day.values_list("name", flat=True)) == {
        "Tỉnh Bắc Giang",
        "Thành phố Bắc Giang",
        "Phường Trần Phú",
        "Phường Ngô Quyền",
    }
    assert set(on_merger_day.values_list("name", flat=True)) == {
        "Tỉnh Bắc Ninh",
        "Phường Bắc Giang",
    }


def test_same_official_code_resolves_by_date(org):
    assert services.unit_on("24", dt.date(2024, 1, 1)).name == "Tỉnh Bắc Giang"
    assert services.unit_on("24", dt.date(2025, 7, 1)).name == "Tỉnh Bắc Ninh"
    with pytest.raises(NotFound):
        services.unit_on("213", dt.date(2025, 7, 1))


def test_2024_commune_maps_to_its_2025_successor(org):
    assert services.map_unit(org.tran_phu, dt.date(2025, 8, 1)) == org.bac_giang_ward
    assert services.map_unit(org.tran_phu, dt.date(2024, 8, 1)) == org.tran_phu
    # The district disappears: its data goes to the province.
    assert services.map_unit(org.city, dt.date(2025, 8, 1)) == org.province_2025


def test_mapping_before_a_unit_existed_is_refused(org):
    with pytest.raises(NotFound, match="chưa tồn tại"):
        services.map_unit(org.bac_giang_ward, dt.date(2024, 1, 1))


def test_bulk_mapping_matches_single_mapping(org):
    day = dt.date(2025, 8, 1)
    mapping = services.unit_mapping(day)
    for unit in AdministrativeUnit.objects.all():
        assert mapping[unit.pk] == services.map_unit(unit, day).pk


def test_levels_are_data_not_code(org):
    # Four levels work the same as three: add a hamlet level below communes.
    data = copy.deepcopy(STRUCTURE)
    data["levels"].append({"code": "hamlet", "name": "Thôn", "rank": 4})
    data["units"].append(
        {
            "code": "T1",
            "name": "Thôn Một",
            "kind": "Thôn",
            "level": "hamlet",
            "parent": "07210",
            "valid_from": "2020-01-01",
            "valid_to": "2025-07-01",
        }
    )
    load_structure(SYSTEM, data, now=dt.datetime(2024, 6, 3, tzinfo=dt.UTC))
    hamlet = AdministrativeUnit.objects.get(code="T1")
    assert hamlet.parent == org.tran_phu
    assert hamlet.pk in tree.unit_subtree([org.city.pk])


def test_reloading_the_same_structure_changes_nothing(org, now):
    before = AuditEntry.objects.count()
    report = load_structure(SYSTEM, STRUCTURE, now=now)
    assert (report.created, report.updated) == (0, 0)
    assert report.unchanged > 0
    assert AuditEntry.objects.count() == before


def test_overlapping_validity_for_one_code_is_refused_and_nothing_lands(org, now):
    data = copy.deepcopy(STRUCTURE)
    data["units"].append(
        {
            "code": "07210",
            "name": "Phường Trần Phú (trùng)",
            "kind": "Phường",
            "level": "commune",
            "parent": "213",
            "valid_from": "2020-01-01",
            "valid_to": None,
        }
    )
    data["agency_types"].append({"code": "so-moi", "name": "Sở Mới", "level": "province"})
    with pytest.raises(InvalidInput, match="trùng thời gian hiệu lực"):
        load_structure(SYSTEM, data, now=now)
    assert not AdministrativeUnit.objects.filter(name__contains="trùng").exists()


def test_reference_to_a_unit_not_valid_on_the_date_is_refused(db, now):
    data = copy.deepcopy(STRUCTURE)
    data["units"][2]["parent"] = "999"
    with pytest.raises(InvalidInput, match="mã '999'"):
        load_structure(SYSTEM, data, now=now)


def test_demo_structure_models_bac_giang_and_its_2025_successor(db, now):
    load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)
    before = AdministrativeUnit.objects.valid_on(dt.date(2025, 6, 30))
    after = AdministrativeUnit.objects.valid_on(dt.date(2025, 7, 1))
    assert before.filter(level__code="district").count() >= 4
    assert not after.filter(level__code="district").exists()
    assert after.get(level__code="province").name == "Tỉnh Bắc Ninh"
    assert all(u.is_demo for u in AdministrativeUnit.objects.all())
    day = dt.date(2025, 8, 1)
    for commune in before.filter(level__code="commune"):
        successor = services.map_unit(commune, day)
        assert successor.level.code == "commune"
        assert successor.is_valid_on(day)
    assert UnitSuccession.objects.filter(primary=True).count() >= before.count()
