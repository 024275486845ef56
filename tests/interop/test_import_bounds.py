"""Hostile import files are bounded (issue 14, item 9): size, decompressed size, compression
ratio, rows, columns and field length are refused with a Vietnamese message (CLI exit 2,
a form error on the web preview), an XLSX before its body is read."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.catalog.importers import ProcedureImporter
from cchc.catalog.models import Procedure
from cchc.errors import InvalidInput
from tests.test_catalog_import import GOOD_ROWS, csv_bytes, row

pytestmark = pytest.mark.django_db


def run(data, now, filename="x.csv"):
    return ProcedureImporter().run(data, actor=SYSTEM, now=now, filename=filename)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    """An XLSX as Excel writes it (texts in the shared-strings part)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, values in enumerate(rows):
        sheet.write_row(r, 0, values)
    book.close()
    return out.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """`data` (a zip) with the central directory claiming `member` is `size` bytes
    uncompressed — what a crafted archive says; only a reader that trusts it is fooled."""
    buf = bytearray(data)
    start = 0
    while (start := buf.find(b"PK\x01\x02", start)) >= 0:
        name_len = struct.unpack_from("<H", buf, start + 28)[0]
        name = bytes(buf[start + 46 : start + 46 + name_len]).decode()
        if name == member:
            struct.pack_into("<I", buf, start + 24, size)
            return bytes(buf)
        start += 4
    raise AssertionError(f"{member} not in archive")


def test_csv_field_past_the_csv_module_limit_is_a_file_error(org, now):
    data = csv_bytes([row(**{"Tên TTHC": "x" * 200_000})])
    with pytest.raises(InvalidInput, match="Dòng 2: không đọc được") as refused:
        run(data, now)
    assert refused.value.code == "import.too_large"
    assert not Procedure.objects.exists()


def test_csv_over_the_row_limit_is_refused_before_anything_lands(org, now, settings):
    settings.CCHC_IMPORT_MAX_ROWS = 3  # header + 2 rows
    with pytest.raises(InvalidInput, match="Tệp có hơn 3 dòng") as refused:
        run(csv_bytes(GOOD_ROWS), now)
    assert refused.value.code == "import.too_large"
    assert not Procedure.objects.exists()


def test_csv_over_the_byte_and_column_limits(org, now, settings):
    settings.CCHC_IMPORT_MAX_BYTES = 1_000
    with pytest.raises(InvalidInput, match="Tệp quá lớn"):
        run(csv_bytes(GOOD_ROWS), now)
    settings.CCHC_IMPORT_MAX_BYTES = 10_000_000
    settings.CCHC_IMPORT_MAX_COLUMNS = 10
    with pytest.raises(InvalidInput, match=r"Dòng 1: có \d+ cột, tối đa 10"):
        run(csv_bytes(GOOD_ROWS), now)


def test_xlsx_shared_string_bomb_is_refused_from_the_directory_alone(org, now):
    data = xlsx_bytes([["Mã TTHC", "Tên TTHC"], ["1.1", "x" * 1000]])
    # The file: 300 MB of shared string (openpyxl took 1.3 GB and 11 s on it).
    bomb = declare_size(data, "xl/sharedStrings.xml", 300 << 20)
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match="bảng chuỗi dùng chung lớn 300 MB") as refused:
        run(bomb, now, filename="bom.xlsx")
    assert time.perf_counter() - started < 5  # nothing was decompressed
    assert refused.value.code == "import.too_large"


def test_xlsx_decompressed_size_and_ratio(org, now, settings):
    big = xlsx_bytes([["Mã TTHC"], *[["a" * 30_000 + str(i)] for i in range(80)]])  # 2.4 MB
    with pytest.raises(InvalidInput, match="nén bất thường"):
        run(big, now, filename="nen.xlsx")
    settings.CCHC_IMPORT_MAX_BYTES = 100_000
    with pytest.raises(InvalidInput, match="khi giải nén lớn"):
        run(big, now, filename="nen.xlsx")


def test_xlsx_declared_dimension_over_the_limits(org, now, settings):
    settings.CCHC_IMPORT_MAX_ROWS = 5
    data = xlsx_bytes([["Mã TTHC"], *[[str(i)] for i in range(10)]])
    with pytest.raises(InvalidInput, match="Trang tính khai báo 11 dòng × 1 cột"):
        run(data, now, filename="dai.xlsx")


def test_not_a_zip_is_a_clear_error(org, now):
    with pytest.raises(InvalidInput, match=r"không phải là tệp \.xlsx hợp lệ"):
        run(b"PK\x03\x04 broken", now, filename="hong.xlsx")


def test_cli_exits_2_with_the_message(org, tmp_path, settings):
    settings.CCHC_IMPORT_MAX_ROWS = 2
    path = tmp_path / "tthc.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    with pytest.raises(CommandError, match="Tệp có hơn 2 dòng") as refused:
        call_command("import", "procedures", str(path))
    assert refused.value.returncode == 2


def test_web_preview_shows_the_refusal(client, org, make_user, settings):
    settings.CCHC_IMPORT_MAX_ROWS = 2
    client.force_login(make_user(Role.ADMINISTRATOR))
    upload = io.BytesIO(csv_bytes(GOOD_ROWS))
    upload.name = "tthc.csv"
    response = client.post("/thu-tuc/nhap/", {"file": upload, "dry_run": "on"})
    assert response.status_code == 200
    assert "Tệp có hơn 2 dòng" in response.content.decode()


def test_zip_members_are_counted(org, now, monkeypatch):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(30):
            archive.writestr(f"x/{i}.xml", "<a/>")
    monkeypatch.setattr("cchc.tabular.tables.MAX_ZIP_MEMBERS", 20)
    with pytest.raises(InvalidInput, match="30 thành phần nén"):
        run(out.getvalue(), now, filename="nhieu.xlsx")
