"""Dossier exports written by a vendor's system, not by us (issue 19, item 5): a
semicolon-separated file whose title lines carry fewer separators than its header row and
which ends with a footer (totals, the place and date, "Người lập biểu", signatures); the
same file tab- and comma-separated, in Windows-1258 and as an Excel workbook. Non-data
lines are skipped, not refused; fees not paid online are recorded as paid at the desk, and
T10 / the 766 online-payment sub-indicator are computed through the indicator services as
the pages compute them."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from cchc.dossiers import verify
from cchc.dossiers.models import Dossier
from cchc.indicators import aggregates, definitions, periods, services
from cchc.indicators.score766 import index766
from cchc.interop.dossiers import Mapping, load_mapping
from cchc.interop.models import ImportRun
from tests.tabular.encodings import cp1258

from .test_import_dossiers import NOW, province, run  # noqa: F401 - fixture

VENDOR = Path(__file__).parent / "data" / "vendor-export-semicolon.csv"
APRIL = periods.parse("2024-04")
CODES = [f"VX-2404-{i:03d}" for i in range(1, 11)]
REFUSED = {19: "mã TTHC '9.999999' không có trong danh mục thủ tục"}
# Lines that are not dossiers: title block 1-2, 4-6 and the column numbers (8); blank
# lines 3, 20, 22, 26, 27 (the trailing ones are not lines); the footer 21, 23-25, 28.
SKIPPED = {"title": 6, "blank": 5, "footer": 5}
RANGES = [
    [1, 2, "title"], [3, 3, "blank"], [4, 6, "title"], [8, 8, "title"], [20, 20, "blank"],
    [21, 21, "footer"], [22, 22, "blank"], [23, 25, "footer"], [26, 27, "blank"],
    [28, 28, "footer"],
]  # fmt: skip


def vendor_rows() -> list[list[str]]:
    """The vendor file's lines as cells (ragged: each line as long as the vendor wrote it)."""
    text = VENDOR.read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def variant(tmp_path: Path, delimiter: str, encoding: str) -> Path:
    """The vendor file written with another separator and encoding (quoted where a cell
    holds the separator, as spreadsheets write it)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(vendor_rows())
    text = buffer.getvalue()
    data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path = tmp_path / f"vendor-{encoding}-{ord(delimiter)}.csv"
    path.write_bytes(data)
    return path


def t10() -> services.Result:
    return next(
        r for r in services.plan_results(services.DEFAULT_PLAN, APRIL, now=NOW) if r.code == "T10"
    )


def online_payment_766():
    """The 766 sub-indicator of dossiers paid online among fee-bearing dossiers, found by
    its formula (its code follows the decision's group order)."""
    d = definitions.current("index766", on=APRIL.end)
    code = next(s.code for s in d.subs if s.numerator and s.numerator.text == "paid_online")
    index = index766(APRIL, now=NOW)
    return next(s for g in index.groups for s in g.subs if s.code == code)


def assert_imported_as_the_vendor_meant(report) -> None:
    assert (report.created, report.updated, report.unchanged) == (10, 0, 0)
    assert {e.line: e.reason for e in report.rejected} == REFUSED
    skipped = report.skipped.as_dict()
    assert {k: skipped[k] for k in SKIPPED} == SKIPPED and skipped["total"] == 16
    assert skipped["ranges"] == RANGES
    assert sorted(Dossier.objects.values_list("code", flat=True)) == CODES
    # Cells decoded right whatever the encoding: names composed (NFC), as written.
    assert Dossier.objects.get(code="VX-2404-007").applicant_name == "Đặng Văn Hải"


def test_semicolon_export_with_ragged_title_and_footer(province):  # noqa: F811
    report = run(VENDOR)
    assert_imported_as_the_vendor_meant(report)
    # The run's summary says the same: data rows processed, skipped lines apart.
    record = ImportRun.objects.get()
    assert (record.rows, record.created, record.rejected, record.skipped) == (11, 10, 1, 16)
    assert record.skipped_lines["footer"] == 5
    assert [r["line"] for r in record.rejected_rows] == [19]
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [
        (";", "utf-8"),  # without BOM
        (";", "cp1258"),
        ("\t", "utf-8-sig"),
        ("\t", "cp1258"),
        (",", "utf-8-sig"),  # the title's and footer's commas quoted
    ],
    ids=["semicolon-utf8", "semicolon-cp1258", "tab-bom", "tab-cp1258", "comma-bom"],
)
def test_other_separators_and_encodings(province, tmp_path, delimiter, encoding):  # noqa: F811
    assert_imported_as_the_vendor_meant(run(variant(tmp_path, delimiter, encoding)))


def test_fees_not_paid_online_count_as_paid_at_the_desk(province):  # noqa: F811
    """Six returned dossiers paid online, three returned and paid at the desk, one still
    open (the export does not say it was paid): T10 = 6/9, not 6/6."""
    run(VENDOR)
    paid = {
        d["code"]: (d["fee_total"], d["paid_amount"], d["payment_channel"])
        for d in Dossier.objects.values("code", "fee_total", "paid_amount", "payment_channel")
    }
    assert {paid[c] for c in CODES[:6]} == {(200_000, 200_000, "1")}
    assert {paid[c] for c in CODES[6:9]} == {(200_000, 200_000, "cash")}
    assert paid["VX-2404-010"] == (200_000, 0, "")

    result = t10()
    assert (result.numerator, result.denominator) == (6, 9)
    assert result.value == Decimal("66.67")
    # The 766 sub-indicator counts paid online among every fee-bearing dossier received.
    sub = online_payment_766()
    assert (sub.numerator, sub.denominator) == (6, 10)
    assert aggregates.verify().clean


def test_the_paid_column_says_it_explicitly(province, tmp_path):  # noqa: F811
    """ "Đã thanh toán" decides where the export says it: an open dossier paid at receipt
    counts as paid at the desk, a returned one marked unpaid does not; paid online but
    "not paid" is a contradiction and refused."""
    rows = vendor_rows()
    rows[6].insert(13, "Đã thanh toán")
    rows[7].insert(13, "(14)")
    for row in rows[8:19]:
        row.insert(13, "")
    rows[17][13] = "Có"  # VX-2404-010, open: paid at receipt
    rows[16][13] = "Không"  # VX-2404-009, returned: exempted, nothing paid
    rows[8][13] = "Không"  # VX-2404-001 paid online: contradiction
    path = tmp_path / "paid.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";").writerows(rows)
    report = run(path)
    assert {e.line: e.reason for e in report.rejected} == {
        9: "Thanh toán trực tuyến ghi Có nhưng Đã thanh toán ghi Không",
        **REFUSED,
    }
    channels = dict(Dossier.objects.values_list("code", "payment_channel"))
    assert channels["VX-2404-010"] == "cash" and channels["VX-2404-009"] == ""
    assert channels["VX-2404-008"] == "cash"  # not said: returned, so paid at the desk
    result = t10()
    assert (result.numerator, result.denominator) == (5, 8)


def test_excel_workbook_with_title_rows_and_footer(province, tmp_path):  # noqa: F811
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in vendor_rows():
        sheet.append([None if cell == "" else cell for cell in row])
    sheet.merge_cells("A4:O4")  # the report's title across the table
    path = tmp_path / "vendor.xlsx"
    book.save(path)
    report = run(path)
    assert_imported_as_the_vendor_meant(report)
    assert (t10().numerator, t10().denominator) == (6, 9)


def test_cli_reports_skipped_lines(province, capsys):  # noqa: F811
    with pytest.raises(SystemExit) as info:
        call_command("import", "dossiers", str(VENDOR), "--dry-run", "--json")
    assert info.value.code == 1  # one row refused
    data = json.loads(capsys.readouterr().out)
    assert data["imported"] == 10 and len(data["rejected"]) == 1
    assert data["skipped"]["total"] == 16 and data["skipped"]["footer"] == 5
    with pytest.raises(SystemExit):
        call_command("import", "dossiers", str(VENDOR), "--dry-run")
    out = capsys.readouterr().out
    assert "Bỏ qua (không phải dòng dữ liệu): 16" in out
    assert "21 (chân trang)" in out and "1–2 (tiêu đề)" in out
    assert not Dossier.objects.exists()


def test_an_unrecognised_file_still_names_the_missing_columns(province, tmp_path):  # noqa: F811
    from cchc.errors import InvalidInput

    path = tmp_path / "other.csv"
    path.write_text("BÁO CÁO;;\nMã;Tên;Ngày\n1;a;b\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="Không tìm thấy dòng tiêu đề"):
        run(path)


def test_web_preview_and_run_page_show_skipped_lines_and_payments(client, province, make_user):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cchc.accounts.roles import Role

    client.force_login(make_user(Role.ADMINISTRATOR))
    upload = SimpleUploadedFile("bao-cao.csv", VENDOR.read_bytes(), content_type="text/csv")
    preview = client.post("/nhap-du-lieu/ho-so/", {"file": upload, "action": "preview"})
    html = preview.content.decode()
    assert "Sẽ thêm mới: <strong>10</strong>" in html and "Bị từ chối: <strong>1</strong>" in html
    assert "Bỏ qua (không phải dòng hồ sơ): <strong>16</strong>" in html
    assert "23–25 (chân trang)" in html
    # The sample says how each fee was paid.
    assert "Trực tuyến qua Cổng DVC quốc gia" in html
    assert "Tiền mặt tại bộ phận một cửa" in html and "Chưa thanh toán" in html

    token = client.session["cchc.import.dossiers"]["token"]
    done = client.post("/nhap-du-lieu/ho-so/", {"action": "confirm", "token": token})
    page = client.get(done["Location"]).content.decode()
    assert "Bị từ chối: <strong>1</strong>" in page
    assert "Bỏ qua (không phải dòng hồ sơ): <strong>16</strong>" in page
    assert "Bỏ qua dòng 1–2 (tiêu đề), 3 (dòng trống)" in page


def test_the_same_table_saved_in_another_encoding_is_unchanged(province, tmp_path):  # noqa: F811
    run(VENDOR)
    again = run(variant(tmp_path, "\t", "cp1258"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)


def test_a_payment_status_column_through_a_mapping(province, tmp_path):  # noqa: F811
    """The shipped example mapping reads a vendor's "Tình trạng thanh toán" words."""
    example = Path(__file__).parents[2] / "src/cchc/interop/data/dossier-mapping-example.toml"
    mapping = load_mapping(example)
    rows = vendor_rows()
    rows[6].append("Tình trạng thanh toán")
    for row in rows[8:19]:
        row.append("")
    rows[17][-1] = "Đã nộp phí"  # VX-2404-010, open
    rows[16][-1] = "Miễn phí"  # VX-2404-009, returned
    path = tmp_path / "status.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";").writerows(rows)
    report = run(
        path,
        mapping=Mapping(
            columns={"Đã thanh toán": "Tình trạng thanh toán"},
            values={"Đã thanh toán": mapping.values["Đã thanh toán"]},
        ),
    )
    assert report.created == 10
    channels = dict(Dossier.objects.values_list("code", "payment_channel"))
    assert (channels["VX-2404-010"], channels["VX-2404-009"]) == ("cash", "")


def test_importing_again_corrects_dossiers_imported_before_the_payment_rule(province, tmp_path):  # noqa: F811
    """Before issue 19 the three desk payments were imported as unpaid, under a row digest
    without the reading rules' version. Importing the same export again re-reads the rows:
    the three get an import_update with the payment, the others only their new digest."""
    import hashlib

    from cchc.dossiers.models import DossierEvent
    from cchc.interop.dossier_reader import HEADERS, REQUIRED
    from cchc.tabular.tables import read_rows

    # What the import wrote then: the same facts as a row saying "Đã thanh toán: Không".
    rows = vendor_rows()
    rows[6].append("Đã thanh toán")
    for row in rows[14:17]:  # VX-2404-007 … 009
        row.append("Không")
    unpaid = tmp_path / "then.csv"
    with unpaid.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";").writerows(rows)
    run(unpaid)
    assert (t10().numerator, t10().denominator) == (6, 6)
    # …under the digest of the row as the export wrote it, without a reading version.
    for row in read_rows(VENDOR, required=REQUIRED, known=HEADERS):
        raw = "\x1f".join(map(str, row.cells.values())).encode()
        old = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        Dossier.objects.filter(code=row.get("Mã hồ sơ")).update(source_digest=old)

    again = run(VENDOR)
    assert (again.created, again.updated, again.unchanged) == (0, 3, 7)
    assert DossierEvent.objects.filter(action="import_update").count() == 3
    assert (t10().numerator, t10().denominator) == (6, 9)
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean
    # And the export is then known as it is: nothing more to do.
    assert run(VENDOR).unchanged == 10
