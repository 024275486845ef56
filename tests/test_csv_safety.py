"""No formula injection in any CSV the system writes (issue 14, item 2).

A cell a spreadsheet would evaluate (``=…``, ``+…``, ``-…``, ``@…``, tab, carriage return)
comes out with a leading ``'`` (OWASP); numbers stay numbers; XLSX keeps typed cells and
stores hostile text as text, never as a formula. The first test guards the future: every
CSV writer goes through `cchc.csvsafe`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cchc import csvsafe
from cchc.accounts.roles import Role
from cchc.dashboard.tables import Table, download
from cchc.interop import exports
from cchc.interop.dossiers import DossierImporter
from cchc.interop.exports import ExportFilters
from tests.dashboard.conftest import build, finish
from tests.dossiers.conftest import at, world  # noqa: F401  (the `world` fixture)
from tests.dossiers.factories import applicant
from tests.interop.test_import_dossiers import MESSY, NOW, province  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parent.parent / "src" / "cchc"
HOSTILE = '=HYPERLINK("http://x","y")'
ESCAPED = "'" + HOSTILE


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# -- the guard --------------------------------------------------------------------------------


def test_every_csv_writer_goes_through_csvsafe():
    direct = re.compile(
        r"\bcsv\s*\.\s*(writer|DictWriter)\b|from\s+csv\s+import\s+[^\n]*\b(writer|DictWriter)\b"
    )
    offenders = [
        f"{path.relative_to(SRC)}:{text[: m.start()].count(chr(10)) + 1}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "csvsafe.py" or path.parent != SRC
        for text in [path.read_text(encoding="utf-8")]
        for m in direct.finditer(text)
    ]
    assert offenders == [], "use cchc.csvsafe.writer, not csv.writer/DictWriter: " + ", ".join(
        offenders
    )


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HOSTILE, ESCAPED),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),  # a numeral is a number to a spreadsheet, not a formula
        ("-1.5", "-1.5"),
        ("+84912345678", "+84912345678"),
        ("Nguyễn Thị Hoà", "Nguyễn Thị Hoà"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_that_a_spreadsheet_would_evaluate_are_neutralised(cell, written):
    assert csvsafe.neutralise(cell) == written


def test_typed_numbers_pass_unchanged():
    buffer = io.StringIO()
    csvsafe.writer(buffer).writerows([[-5, -1.5, Decimal("-2.25"), None, HOSTILE]])
    assert buffer.getvalue() == '-5,-1.5,-2.25,,"\'=HYPERLINK(""http://x"",""y"")"\r\n'


# -- exports ----------------------------------------------------------------------------------


def test_dossier_export_neutralises_a_hostile_name_in_csv_and_keeps_xlsx_typed(world, tmp_path):  # noqa: F811
    from openpyxl import load_workbook

    hostile = world.intake(applicant=applicant(name=HOSTILE))
    export = exports.dossier_export(world.leader, ExportFilters(), now=world.now)
    out = io.BytesIO()
    export.write("csv", out)
    table = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    row = next(r for r in table if r["Mã hồ sơ"] == hostile.code)
    assert row["Người nộp / tổ chức"] == ESCAPED
    assert row["Số lần yêu cầu bổ sung"] == "0"  # numbers stay plain numbers

    # XLSX: the name is a string cell exactly as typed (XlsxWriter's write_string, never a
    # formula); numbers and instants keep their types.
    path = tmp_path / "ho-so.xlsx"
    export = exports.dossier_export(world.leader, ExportFilters(), now=world.now)
    exports.write_file(export, "xlsx", path)
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == hostile.code)
    name = cells[header.index("Người nộp / tổ chức")]
    assert (name.data_type, name.value) == ("s", HOSTILE)
    count = cells[header.index("Số lần yêu cầu bổ sung")]
    assert (count.data_type, count.value) == ("n", 0)
    assert isinstance(cells[header.index("Thời điểm tiếp nhận (giờ Việt Nam)")].value, dt.datetime)


# -- dashboard tables -------------------------------------------------------------------------


def test_dashboard_table_download_neutralises_text_and_keeps_numbers():
    table = Table(
        name="bang",
        title="Bảng",
        headers=["Cơ quan", "Chênh lệch", "Tỷ lệ"],
        rows=[(HOSTILE, -5, Decimal("-1.5")), ("@cmd", 3, 2.5)],
    )
    rows = rows_of(download(table, "csv").content)
    assert rows[1:] == [[ESCAPED, "-5", "-1.5"], ["'@cmd", "3", "2.5"]]

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(download(table, "xlsx").content)).active
    cells = {c.coordinate: c for r in sheet.iter_rows() for c in r}
    data_row = next(r for r in sheet.iter_rows() if r[1].value == -5)
    assert data_row[0].data_type == "s" and data_row[0].value == HOSTILE
    assert isinstance(data_row[2].value, float) and data_row[2].value == -1.5
    assert not any(c.data_type == "f" for c in cells.values())


def test_dashboard_drill_down_download_neutralises_an_applicant_name(client, world, make_user):  # noqa: F811
    dash = build(world, make_user)
    hostile = finish(
        world,
        at("2024-06-04", "10:00"),
        at("2024-06-04", "15:00"),
        applicant=applicant(name=HOSTILE),
    )
    client.force_login(dash.world.leader)
    url = reverse("dashboard:drill", args=["T4"])
    params = {"period": "2024-06", "part": "denominator"}
    rows = rows_of(client.get(url, {**params, "format": "csv"}).content)
    names = {r[0]: r[2] for r in rows[1:]}
    assert names[hostile.code] == ESCAPED

    from openpyxl import load_workbook

    xlsx = client.get(url, {**params, "format": "xlsx"}).content
    sheet = load_workbook(io.BytesIO(xlsx)).active
    row = next(r for r in sheet.iter_rows() if r[0].value == hostile.code)
    assert (row[2].data_type, row[2].value) == ("s", HOSTILE)


# -- refused rows of imports ------------------------------------------------------------------


def hostile_dossier_file() -> bytes:
    lines = MESSY.read_text(encoding="utf-8-sig").splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("Mã hồ sơ,"))
    good = lines[header + 1].split(",")
    bad = [f'"{HOSTILE.replace(chr(34), chr(34) * 2)}"', "9.999999", *good[2:]]
    return "\n".join([*lines[: header + 1], ",".join(bad)]).encode("utf-8")


def test_dossier_import_refused_rows_download_is_neutralised(client, province, make_user):  # noqa: F811
    admin = make_user(Role.ADMINISTRATOR)
    report = DossierImporter().run(hostile_dossier_file(), actor=admin, now=NOW, filename="x.csv")
    assert [e.key for e in report.rejected] == [HOSTILE]
    client.force_login(admin)
    response = client.get(reverse("imports:run", args=[report.run_id]), {"tai": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of(response.content)
    assert rows[0] == ["Dòng", "Mã hồ sơ", "Lý do"]
    assert rows[1][1] == ESCAPED and "9.999999" in rows[1][2]


def test_catalogue_import_refused_rows_download_is_neutralised(client, org, make_user):
    from tests.test_catalog_import import GOOD_ROWS, csv_bytes, row

    hostile = row(**{"Mã TTHC": HOSTILE})
    data = csv_bytes([GOOD_ROWS[0], hostile, hostile])  # the repeat is refused under its key
    client.force_login(make_user(Role.ADMINISTRATOR))
    response = client.post(
        reverse("web:procedure_import"),
        {"file": SimpleUploadedFile("tthc.csv", data), "dry_run": "on", "tai": "csv"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "dong-bi-tu-choi-procedures.csv" in response["Content-Disposition"]
    rows = rows_of(response.content)
    assert rows[0] == ["Dòng", "Mã", "Lý do"]
    assert [r[1] for r in rows[1:]] == [ESCAPED]
    # Without the download button the page shows the same refusals.
    page = client.post(
        reverse("web:procedure_import"),
        {"file": SimpleUploadedFile("tthc.csv", data), "dry_run": "on"},
    )
    assert (
        page["Content-Type"].startswith("text/html") and "trùng với dòng" in page.content.decode()
    )
