"""Catalogue import: good files, bad rows with exact reasons, idempotent re-import."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from openpyxl import Workbook

from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.catalog.importers import PROCEDURE_COLUMNS, ProcedureImporter
from cchc.catalog.models import Procedure
from cchc.errors import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

GOOD = {
    "Mã TTHC": "1.001193",
    "Tên TTHC": "Thủ tục đăng ký khai sinh",
    "Lĩnh vực": "Hộ tịch",
    "Cấp thực hiện": "Cấp xã",
    "Cơ quan thực hiện": "UBND cấp xã",
    "Thời hạn giải quyết": "0",
    "Đơn vị thời hạn": "Ngày làm việc",
    "Phí lệ phí": "",
    "Thành phần hồ sơ": "Tờ khai đăng ký khai sinh [1 bản chính]\n"
    "Giấy chứng sinh [1 bản chính, 1 bản sao]\n"
    "Văn bản ủy quyền (nếu có) [1 bản sao]",
    "Loại kết quả": "Giấy và điện tử",
    "Mức độ DVC trực tuyến": "Toàn trình",
    "Đủ điều kiện toàn trình": "Có",
    "Kết nối CSDL dân cư": "Có",
    "Số QĐ công bố": "123/QĐ-UBND",
    "Ngày QĐ công bố": "15/03/2024",
    "Quy trình nội bộ": "",
}


def row(**changes):
    return {**GOOD, **changes}


def csv_bytes(rows, *, title_lines=()):
    out = io.StringIO()
    for line in title_lines:
        out.write(line + "\n")
    writer = csv.DictWriter(out, fieldnames=PROCEDURE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def run(data, now, **kw):
    return ProcedureImporter().run(data, actor=SYSTEM, now=now, filename="x.csv", **kw)


GOOD_ROWS = [
    row(),
    row(
        **{
            "Mã TTHC": "1.000894",
            "Tên TTHC": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
            "Lĩnh vực": "Xây dựng",
            "Cấp thực hiện": "Cấp huyện",
            "Cơ quan thực hiện": "UBND cấp huyện",
            "Thời hạn giải quyết": "15",
            "Phí lệ phí": "Lệ phí: 75.000",
            "Quy trình nội bộ": "Tiếp nhận: 4 giờ làm việc\nThẩm định: 13 ngày làm việc\n"
            "Phê duyệt: 1,5 ngày làm việc",
            "Mức độ DVC trực tuyến": "Một phần",
        }
    ),
    row(
        **{
            "Mã TTHC": "2.000488",
            "Tên TTHC": "Cấp Phiếu lý lịch tư pháp cho công dân",
            "Lĩnh vực": "Lý lịch tư pháp",
            "Cấp thực hiện": "Cấp tỉnh",
            "Cơ quan thực hiện": "Sở Tư pháp",
            "Thời hạn giải quyết": "10",
            "Đơn vị thời hạn": "Ngày",
            "Phí lệ phí": "Phí cấp phiếu: 200.000; Phí bản thứ 3: 5000",
        }
    ),
]


def test_good_file_lands_whole(org, now):
    report = run(csv_bytes(GOOD_ROWS), now)
    assert (report.created, report.updated, report.rejected) == (3, 0, [])
    birth = Procedure.objects.get(code="1.001193")
    assert birth.processing_time == 0 and birth.duration_spec == "0wd"
    assert [(d.name, d.originals, d.copies, d.mandatory) for d in birth.documents.all()] == [
        ("Tờ khai đăng ký khai sinh", 1, 0, True),
        ("Giấy chứng sinh", 1, 1, True),
        ("Văn bản ủy quyền", 0, 1, False),
    ]
    assert birth.online_level == "full" and birth.population_data_connected
    assert birth.decision_date.isoformat() == "2024-03-15"
    permit = Procedure.objects.get(code="1.000894")
    assert [s.duration_spec for s in permit.steps.all()] == ["4wh", "13wd", "1.5wd"]
    assert permit.total_fee == 75_000
    record = Procedure.objects.get(code="2.000488")
    assert [(f.name, f.amount) for f in record.fees.all()] == [
        ("Phí cấp phiếu", 200_000),
        ("Phí bản thứ 3", 5_000),
    ]
    assert record.duration_spec == "10d"
    assert AuditEntry.objects.filter(action="catalog.procedure.created").count() == 3


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept(org, now):
    rows = [
        GOOD_ROWS[0],  # line 2
        row(**{"Mã TTHC": ""}),  # line 3
        row(**{"Mã TTHC": "1.1", "Đơn vị thời hạn": "tuần"}),  # line 4
        row(**{"Mã TTHC": "1.2", "Cấp thực hiện": "Cấp thôn"}),  # line 5
        row(**{"Mã TTHC": "1.3", "Cơ quan thực hiện": "Bộ Ngoại giao"}),  # line 6
        row(**{"Mã TTHC": "1.4", "Thời hạn giải quyết": "ba ngày"}),  # line 7
        row(**{"Mã TTHC": "1.5", "Ngày QĐ công bố": "31/02/2024"}),  # line 8
        row(
            **{
                "Mã TTHC": "1.6",
                "Thời hạn giải quyết": "2",
                "Quy trình nội bộ": "Thụ lý: 1 ngày làm việc",
            }
        ),  # line 9
        GOOD_ROWS[1],  # line 10
        row(**{"Tên TTHC": "Bản trùng"}),  # line 11
        row(**{"Mã TTHC": "1.7", "Phí lệ phí": "-5000"}),  # line 12
    ]
    report = run(csv_bytes(rows), now)
    assert report.created == 2
    assert [(e.line, e.reason) for e in report.rejected] == [
        (3, "cột 'Mã TTHC' bị trống"),
        (
            4,
            "cột 'Đơn vị thời hạn': đơn vị 'tuần' không hợp lệ, cần Ngày làm việc, "
            "Giờ làm việc, Ngày hoặc Tháng",
        ),
        (5, "Cấp thực hiện 'Cấp thôn' không có trong danh mục (Cấp tỉnh, Cấp huyện, Cấp xã)."),
        (6, "Cơ quan thực hiện 'Bộ Ngoại giao' không có trong danh mục loại cơ quan."),
        (7, "'ba ngày' không phải là số"),
        (8, "cột 'Ngày QĐ công bố': ngày '31/02/2024' không hợp lệ, cần dạng dd/mm/yyyy"),
        (9, "Tổng thời gian các bước (8 giờ làm việc) khác thời hạn giải quyết (16 giờ làm việc)."),
        (11, "mã 1.001193 trùng với dòng 2"),
        (12, "Mức thu 'Lệ phí' không được âm."),
    ]
    assert set(Procedure.objects.values_list("code", flat=True)) == {"1.001193", "1.000894"}


def test_reimport_is_a_no_op_and_changes_update_only_what_changed(org, now):
    run(csv_bytes(GOOD_ROWS), now)
    audit_before = AuditEntry.objects.count()
    again = run(csv_bytes(GOOD_ROWS), now)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert AuditEntry.objects.count() == audit_before
    assert Procedure.objects.count() == 3

    changed = [GOOD_ROWS[0], {**GOOD_ROWS[1], "Phí lệ phí": "Lệ phí: 100.000"}, GOOD_ROWS[2]]
    report = run(csv_bytes(changed), now)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    entry = AuditEntry.objects.get(action="catalog.procedure.updated")
    assert entry.data == {"fees": [[["Lệ phí", 75000]], [["Lệ phí", 100000]]]}
    assert Procedure.objects.get(code="1.000894").total_fee == 100_000


def test_title_block_decomposed_unicode_and_stray_spaces_are_accepted(org, now):
    decomposed = unicodedata.normalize("NFD", "  Thủ tục   đăng ký khai sinh ")
    data = csv_bytes(
        [row(**{"Tên TTHC": decomposed})],
        title_lines=["UBND TỈNH BẮC GIANG", "DANH MỤC THỦ TỤC HÀNH CHÍNH", ""],
    )
    report = run(data, now)
    assert report.created == 1, report.rejected
    assert Procedure.objects.get().name == "Thủ tục đăng ký khai sinh"
    # The same text in composed form is the same procedure: re-import is a no-op.
    assert run(csv_bytes([row()]), now).unchanged == 1


def test_xlsx_with_excel_dates_and_numbers(org, now):
    book = Workbook()
    sheet = book.active
    sheet.append(["Danh mục thủ tục"])
    sheet.append(list(PROCEDURE_COLUMNS))
    values = row(**{"Thời hạn giải quyết": 3, "Ngày QĐ công bố": 45366, "Phí lệ phí": 50000})
    sheet.append([values.get(c) for c in PROCEDURE_COLUMNS])
    sheet.append([None] * len(PROCEDURE_COLUMNS))  # empty trailing row
    buffer = io.BytesIO()
    book.save(buffer)
    report = ProcedureImporter().run(
        buffer.getvalue(), actor=SYSTEM, now=now, filename="danh-muc.xlsx"
    )
    assert (report.created, report.rejected) == (1, [])
    p = Procedure.objects.get()
    assert p.processing_time == 3 and p.total_fee == 50_000
    assert p.decision_date.isoformat() == "2024-03-15"


def test_dry_run_validates_and_writes_nothing(org, now):
    report = run(csv_bytes([*GOOD_ROWS, row(**{"Mã TTHC": ""})]), now, dry_run=True)
    assert report.created == 3 and len(report.rejected) == 1 and report.dry_run
    assert not Procedure.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="catalog.").exists()


def test_file_without_the_header_is_refused_clearly(org, now):
    with pytest.raises(InvalidInput, match="Không tìm thấy dòng tiêu đề"):
        run(b"a,b,c\n1,2,3\n", now)


def test_officer_cannot_import(org, now, make_user):
    officer = make_user(Role.PROCESSING_OFFICER, agency=org.justice)
    with pytest.raises(PermissionDenied):
        ProcedureImporter().run(csv_bytes(GOOD_ROWS), actor=officer, now=now, filename="x.csv")
    assert not Procedure.objects.exists()


def test_search_ignores_diacritics(org, now):
    from cchc.catalog.services import search_procedures

    run(csv_bytes(GOOD_ROWS), now)
    assert [p.code for p in search_procedures("cap giay phep")] == ["1.000894"]
    assert [p.code for p in search_procedures("LÝ LỊCH")] == ["2.000488"]
    assert [p.code for p in search_procedures("1.001193")] == ["1.001193"]
