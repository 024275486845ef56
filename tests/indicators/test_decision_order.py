"""The 766 groups in QĐ 766/QĐ-TTg's order (3 Số hóa hồ sơ, 4 Cung cấp dịch vụ trực tuyến),
the national portal's six published columns and its deduction, the data migration of stored
figures and definitions, and the PAR period labels (581/BNV-CCHC)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from cchc.accounts.policy import SYSTEM
from cchc.errors import InvalidInput
from cchc.indicators import definitions, periods, published
from cchc.indicators.importers import PublishedImporter
from cchc.indicators.models import DefinitionSet, PublishedFigure
from tests.conftest import VN
from tests.indicators.conftest import at, make

pytestmark = pytest.mark.django_db
JUNE = periods.parse("2024-06")
NOW = dt.datetime(2024, 7, 10, tzinfo=VN)
D = Decimal

# Golden: `cchc index766 --json` groups and sub-indicators, in the decision's order.
GOLDEN = [
    ("1", "Công khai, minh bạch", 18, ["1a", "1b", "1c", "1d"]),
    ("2", "Tiến độ, kết quả giải quyết", 20, ["2a", "2b"]),
    ("3", "Số hóa hồ sơ", 22, ["3a", "3b", "3c", "3d", "3e", "3f", "3g"]),
    ("4", "Cung cấp dịch vụ trực tuyến", 22, ["4a", "4b", "4c", "4d", "4e", "4f"]),
    ("5", "Mức độ hài lòng", 18, ["5a", "5b", "5c"]),
]
SUB_NAMES = {
    "3a": "Hồ sơ được cấp kết quả điện tử",
    "3b": "Hồ sơ được số hóa",
    "4a": "TTHC cung cấp dịch vụ công trực tuyến",
    "4f": "Hồ sơ thanh toán trực tuyến trên hồ sơ có phí, lệ phí",
}


def test_index766_json_golden_group_order_and_names(world, capsys):
    make(world, at("2024-06-03"), approve=at("2024-06-03", "15:00"))
    call_command("index766", "--period", "2024-06", "--json", "--now", "2024-07-10T09:00")
    data = json.loads(capsys.readouterr().out)
    got = [
        (g["code"], g["name"], g["nominal_max"], [s["code"] for s in g["subs"]])
        for g in data["groups"]
    ]
    assert got == GOLDEN
    subs = {s["code"]: s for g in data["groups"] for s in g["subs"]}
    assert {c: subs[c]["name"] for c in SUB_NAMES} == SUB_NAMES
    assert all(s["group"] == c[0] for c, s in subs.items())
    assert data["definition_version"] == "766@2022.2"


def test_portal_columns_split_group_4_into_online_services_and_payments():
    d = definitions.shipped("index766")
    cols = [(c.code, c.name, int(c.max_points), c.group, c.subs) for c in d.portal]
    assert cols == [
        ("1", "Công khai minh bạch", 18, "1", ()),
        ("2", "Tiến độ giải quyết", 20, "2", ()),
        ("4-dvc", "Dịch vụ trực tuyến", 12, "", ("4a", "4b", "4c")),
        ("4-tt", "Thanh toán trực tuyến", 10, "", ("4d", "4e", "4f")),
        ("5", "Mức độ hài lòng", 18, "5", ()),
        ("3", "Số hóa hồ sơ", 22, "3", ()),
    ]


def test_portal_columns_that_do_not_add_up_are_refused():
    raw = definitions.shipped("index766").raw
    bad = {**raw, "portal_columns": [dict(c) for c in raw["portal_columns"]]}
    bad["portal_columns"][2]["subs"] = ["4a", "4b"]  # 4c left out, points 6 ≠ 12
    bad["portal_columns"][3]["subs"] = ["4d", "4e", "4f", "1a"]
    with pytest.raises(InvalidInput) as refused:
        definitions.validate(bad)
    text = refused.value.message
    assert "tổng điểm các chỉ số là 6, khác max_points 12" in text
    assert "chỉ số 1a đã thuộc cột 1" in text
    assert "các chỉ số 4c không thuộc cột nào" in text


SIX = (
    "Kỳ;Mã địa bàn;Công khai minh bạch (18);Tiến độ giải quyết (20);Dịch vụ trực tuyến (12);"
    "Thanh toán trực tuyến (10);Mức độ hài lòng (18);Số hóa hồ sơ (22);Điểm trừ;Tổng điểm;Nguồn\n"
    "2024-06;24;15,5;10;8;5,5;12;11;2;60;dichvucong.gov.vn, tra cứu 10/7/2024\n"
)


def _import(world, text, name):
    return PublishedImporter().run(text.encode("utf-8"), actor=SYSTEM, now=world.now, filename=name)


def test_six_column_portal_layout_lands_in_the_decisions_groups(world):
    make(world, at("2024-06-03"), approve=at("2024-06-03", "15:00"))
    report = _import(world, SIX, "cong-dvc.csv")
    assert (report.created, report.rejected) == (1, [])
    unit = world.org.province_2024
    stored = dict(
        PublishedFigure.objects.filter(period="2024-06", unit=unit).values_list("code", "value")
    )
    assert stored == {
        "1": D("15.50"),
        "2": D("10.00"),
        "4-dvc": D("8.00"),
        "4-tt": D("5.50"),
        "5": D("12.00"),
        "3": D("11.00"),  # "Số hóa hồ sơ" is the decision's group 3
        "4": D("13.50"),  # group 4 = the portal's two columns
        "tru-diem": D("2.00"),
        "total": D("60.00"),
    }
    assert "Thanh toán" in PublishedFigure.objects.get(code="4").source
    rows = published.reconcile(JUNE, unit.pk, now=NOW)
    kinds = [(d.code, d.kind) for d in rows]
    # The deduction is its own line; the portal's split columns sit under group 4.
    assert kinds[:6] == [
        ("total", "total"),
        ("1", "group"),
        ("2", "group"),
        ("3", "group"),
        ("4", "group"),
        ("4-dvc", "portal"),
    ]
    assert kinds[-3:] == [
        ("5", "group"),
        ("tru-diem", "deduction"),
        ("truoc-tru", "before_deduction"),
    ]
    by = {d.code: d for d in rows}
    assert (by["tru-diem"].ours, by["tru-diem"].published) == (D("0.00"), D("2.00"))
    assert by["tru-diem"].difference == D("-2.00")
    assert by["truoc-tru"].published == D("62.00")
    assert by["truoc-tru"].difference == by["truoc-tru"].ours - D("62.00")
    # Ours for a portal column: the points of its sub-indicators (4a–4c).
    subs = {d.code: d.ours for d in published.reconcile(JUNE, unit.pk, now=NOW, every=True)}
    measured = [subs[c] for c in ("4a", "4b", "4c") if subs[c] is not None]
    assert measured and by["4-dvc"].ours == sum(measured, D(0))
    assert by["4-dvc"].published == D("8.00")
    # Every code, for the page: the sub-indicators too, in reading order under their group.
    every = [d.code for d in published.reconcile(JUNE, unit.pk, now=NOW, every=True)]
    assert every.index("3") < every.index("3a") < every.index("4") < every.index("4-dvc")
    assert every.index("4-tt") < every.index("4a") < every.index("5")


def test_five_group_layout_and_a_file_in_no_known_layout(world, tmp_path):
    five = (
        'Kỳ,Mã địa bàn,"Công khai, minh bạch","Tiến độ, kết quả giải quyết",Số hóa hồ sơ,'
        "Cung cấp dịch vụ trực tuyến,Mức độ hài lòng,Nguồn\n"
        "2024-06,24,16,12,9,14,,Cổng DVC quốc gia\n"
    )
    report = _import(world, five, "qd766.csv")
    assert (report.created, report.rejected) == (1, [])
    stored = dict(PublishedFigure.objects.values_list("code", "value"))
    assert stored == {"1": D(16), "2": D(12), "3": D(9), "4": D(14)}
    # Imported again: nothing changes.
    assert _import(world, five, "qd766.csv").unchanged == 1
    odd = "Kỳ;Mã địa bàn;Công khai minh bạch;Tiến độ giải quyết;Nguồn\n2024-06;24;1;2;x\n"
    with pytest.raises(InvalidInput) as refused:
        _import(world, odd, "odd.csv")
    assert refused.value.code == "indicators.published_layout"
    assert "Dịch vụ trực tuyến, Thanh toán trực tuyến" in refused.value.message
    path = tmp_path / "odd.csv"
    path.write_text(odd, encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import", "published-766", str(path))
    assert failed.value.returncode == 2 and "Nguồn" in str(failed.value)


def test_long_layout_accepts_the_portal_codes_and_refuses_unknown_ones(world):
    text = (
        "Kỳ,Mã địa bàn,Chỉ số,Điểm,Nguồn\n"
        "2024-06,24,4-TT,5,Cổng\n"
        "2024-06,24,tru-diem,1.5,Cổng\n"
        "2024-06,24,truoc-tru,61,Cổng\n"
    )
    report = _import(world, text, "long.csv")
    assert report.created == 2 and len(report.rejected) == 1
    assert report.rejected[0].line == 4 and "không hợp lệ" in report.rejected[0].reason


def _migration():
    return importlib.import_module(
        "cchc.indicators.migrations.0005_index766_groups_in_decision_order"
    )


def test_migration_renumbers_stored_figures_and_loaded_definitions(world):
    unit = world.org.province_2024
    now = timezone.now()
    for code, value in (("3", 7), ("4", 9), ("3f", 1), ("4a", 2), ("2a", 3), ("4-dvc", 4)):
        PublishedFigure.objects.create(
            period="2024-06", unit=unit, code=code, value=value, source="Cổng", updated_at=now
        )
    # A 766 definition loaded in the old order (groups 3 and 4 swapped).
    old = json.loads(json.dumps(definitions._jsonable(definitions.shipped("index766").raw)))
    m = _migration()
    old = m.converted(old)  # the swap is its own inverse: back to the 2022.1 order
    old.pop("portal_columns")
    old["definition"]["version"] = "2022.1"
    DefinitionSet.objects.create(
        kind="index766", code="766", version="2022.1", effective_from=dt.date(2022, 6, 23),
        content=old, source="index766.toml", sha256="0" * 64, loaded_at=now,
    )  # fmt: skip
    assert definitions.current("index766", on=JUNE.end).groups[2].name.startswith("Cung cấp")
    m.forward(apps, None)
    stored = dict(PublishedFigure.objects.values_list("code", "value"))
    assert stored == {"4": 7, "3": 9, "4f": 1, "3a": 2, "2a": 3, "4-dvc": 4}
    assert "migration indicators/0005" in PublishedFigure.objects.get(code="4").source
    assert PublishedFigure.objects.get(code="4f").source == "Cổng"
    # The converted copy is a new version and wins; the old one stays as it was.
    d = definitions.current("index766", on=JUNE.end)
    assert d.version == "2022.1-qd766"
    assert [g.name for g in d.groups] == [name for _, name, _, _ in GOLDEN]
    assert [s.code for s in d.subs if s.group == "3"] == ["3a", "3b", "3c", "3d", "3e", "3f", "3g"]
    assert published.portal_columns(d)[2].subs == ("4a", "4b", "4c")  # the shipped columns
    assert DefinitionSet.objects.get(version="2022.1").content == old
    m.backward(apps, None)
    assert dict(PublishedFigure.objects.values_list("code", "value")) == {
        "3": 7, "4": 9, "3f": 1, "4a": 2, "2a": 3, "4-dvc": 4,
    }  # fmt: skip
    assert PublishedFigure.objects.get(code="3").source == "Cổng"
    assert list(DefinitionSet.objects.values_list("version", flat=True)) == ["2022.1"]


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("2024-BC-Q1", "Báo cáo quý I năm 2024 (15/12/2023–14/03/2024)"),
        ("2024-BC-H1", "Báo cáo 6 tháng đầu năm 2024 (15/12/2023–14/06/2024)"),
        ("2024-BC-Q3", "Báo cáo quý III năm 2024 (15/06/2024–14/09/2024)"),
        ("2024-BC-NAM", "Báo cáo năm 2024 (15/12/2023–14/12/2024)"),
    ],
)
def test_par_period_labels_name_their_window(code, label, settings):
    settings.CCHC_PAR_CUTOFF_DAY = 15
    period = periods.parse(code)
    assert period.label == label
    assert "9 tháng" not in period.label
