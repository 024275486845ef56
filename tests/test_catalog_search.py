"""The procedure search's maintained synonyms (issue 17, item 7): abbreviations and everyday
phrases people type find the procedures of the demo catalogue, on every page that searches
it (the citizens' portal, the staff catalogue, the API)."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.catalog import synonyms
from cchc.catalog.services import search_procedures
from tests.conftest import VN

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=VN)


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """The demo catalogue (its structure and ~58 procedures), loaded once for the module."""
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.structure import load_structure
    from tests.conftest import built_once

    with built_once(django_db_blocker):
        load_structure(SYSTEM, DATA_DIR / "org.json", now=NOW, demo=True)
        ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=NOW)
        yield


def names(query: str) -> list[str]:
    return sorted(p.name for p in search_procedures(query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("GPLX", ["Cấp đổi giấy phép lái xe", "Cấp lại giấy phép lái xe"]),
        ("gplx", ["Cấp lại giấy phép lái xe"]),
        ("cấp lại GPLX", ["Cấp lại giấy phép lái xe"]),
        ("LLTP", ["Thủ tục cấp Phiếu lý lịch tư pháp cho công dân Việt Nam"]),
        ("QSDĐ", ["quyền sử dụng đất"]),
        ("qsdd", ["quyền sử dụng đất"]),
        ("làm sổ đỏ", ["Giấy chứng nhận quyền sử dụng đất"]),
        ("ĐKKD", ["hộ kinh doanh"]),
        ("HKD", ["Thủ tục chấm dứt hoạt động hộ kinh doanh"]),
        ("KS", ["Thủ tục đăng ký khai sinh"]),
        ("đăng ký KS", ["Thủ tục đăng ký lại khai sinh"]),
        ("GCN", ["Giấy chứng nhận"]),
        ("GPXD", ["Thủ tục gia hạn giấy phép xây dựng"]),
        ("giấy độc thân", ["Thủ tục cấp Giấy xác nhận tình trạng hôn nhân"]),
    ],
)
def test_abbreviations_find_the_procedures(db, catalogue, query, expected):
    found = names(query)
    for part in expected:
        assert any(part.lower() in name.lower() for name in found), (query, part, found)


def test_short_keys_match_whole_words_only(db, catalogue):
    """ "KH" (kết hôn) finds marriage registrations, not every name with "khai" or "khoa"."""
    found = names("KH")
    assert found and all("kết hôn" in n.lower() for n in found), found
    assert names("KT") and all("khai tử" in n.lower() for n in names("KT"))


def test_plain_words_behave_as_before(db, catalogue):
    assert names("lái xe") == names("giay phep lai xe")
    assert "Cấp lại giấy phép lái xe" in names("cap lai giay phep lai xe")
    assert names("không có thủ tục này") == []
    assert len(names("")) > 50  # no query: the whole catalogue


def test_the_portal_and_the_api_use_the_synonyms(db, catalogue, client):
    page = client.get("/dich-vu-cong/thu-tuc/", {"q": "GPLX"})
    assert page.status_code == 200
    assert "giấy phép lái xe" in page.content.decode()
    api = client.get("/api/procedures/", {"q": "LLTP"})
    if api.status_code == 200:  # the catalogue API may ask for a signed-in user
        assert any("lý lịch tư pháp" in p["name"] for p in api.json()["items"])


def test_the_synonyms_file_is_well_formed():
    table = synonyms.table()
    assert ("gplx",) in table and ("qsdd",) in table and ("so", "do") in table
    for key, alternatives in table.items():
        assert key and alternatives, key
        assert all(alternative for alternative in alternatives), key
    assert synonyms.groups("GPLX hạng A1")[0][1] == ("giay", "phep", "lai", "xe")
    assert synonyms.groups("làm sổ đỏ ở đâu") == [
        [("so", "do"), ("giay", "chung", "nhan", "quyen", "su", "dung", "dat")]
    ]
    assert synonyms.groups("làm") == [[("lam",)]]  # nothing but a stop word: kept
