"""`cchc.tabular.tables.read_rows` on exports written by other systems: the separator found
under ragged title lines, encodings, and the lines that are not data (title block, blank
lines, footers) counted as skipped instead of yielded."""

from __future__ import annotations

import pytest

from cchc.errors import InvalidInput
from cchc.tabular.tables import Skipped, describe_skipped, read_rows
from tests.tabular.encodings import cp1258

REQUIRED = ["Mã hồ sơ", "Mã TTHC", "Trạng thái"]
HEADER = "STT;Mã hồ sơ;Mã TTHC;Ngày tiếp nhận;Trạng thái"


def read(text: str, *, encoding: str = "utf-8", name: str = "x.csv") -> tuple[list, Skipped]:
    skipped = Skipped()
    data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    rows = list(read_rows(data, required=REQUIRED, filename=name, skipped=skipped))
    return rows, skipped


def test_ragged_title_lines_with_commas_do_not_hide_a_semicolon_header():
    text = "\n".join(
        [
            "UBND TỈNH BẮC GIANG",
            "BÁO CÁO HỒ SƠ, THỦ TỤC HÀNH CHÍNH, QUÝ II",
            "Từ ngày 01/04/2024, đến ngày 30/06/2024;;",
            HEADER,
            "1;A-1;1.001193;02/04/2024;Đã trả kết quả",
            "2;A-2;1.001193;03/04/2024;Đang xử lý",
        ]
    )
    rows, skipped = read(text)
    assert [(r.line, r.get("Mã hồ sơ"), r.get("Trạng thái")) for r in rows] == [
        (5, "A-1", "Đã trả kết quả"),
        (6, "A-2", "Đang xử lý"),
    ]
    assert (skipped.title, skipped.blank, skipped.footer) == (3, 0, 0)


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1258"])
def test_separators_and_encodings(delimiter, encoding):
    text = "\n".join(["Danh sách hồ sơ", HEADER, "1;A-1;1.001193;02/04/2024;Chờ bổ sung"])
    rows, _ = read(text.replace(";", delimiter), encoding=encoding)
    assert rows[0].get("Trạng thái") == "Chờ bổ sung" and rows[0].line == 3


def test_footer_lines_are_skipped_and_a_subtotal_does_not_end_the_data():
    text = "\n".join(
        [
            HEADER,
            "(1);(2);(3);(4);(5)",
            "1;A-1;1.001193;02/04/2024;Đã trả kết quả",
            "Cộng: Sở Tư pháp;1;;;",
            "2;A-2;1.001193;03/04/2024;Đang xử lý",
            ";;;;",
            "3;;1.001193;03/04/2024;Đang xử lý",  # a dossier row missing its code: data
            "Tổng cộng;3;;;",
            "",
            ";;;Hà Nội, ngày 30 tháng 6 năm 2024;",
            "Người lập biểu;;;Thủ trưởng đơn vị;",
            "Nguyễn Văn A;;;Trần Văn B;",  # the signatories' names, under the footer
            "",
            ";;;;",
        ]
    )
    rows, skipped = read(text)
    assert [r.line for r in rows] == [3, 5, 7]
    assert skipped.as_dict() == {
        "total": 8,
        "title": 1,
        "blank": 2,
        "footer": 5,
        "ranges": [
            [2, 2, "title"], [4, 4, "footer"], [6, 6, "blank"], [8, 8, "footer"],
            [9, 9, "blank"], [10, 12, "footer"],
        ],
    }  # fmt: skip
    assert describe_skipped(skipped.as_dict()) == (
        "dòng 2 (tiêu đề), 4 (chân trang), 6 (dòng trống), 8 (chân trang), 9 (dòng trống), "
        "10–12 (chân trang)"
    )


def test_a_row_filling_most_required_columns_is_data_whatever_it_says():
    text = "\n".join([HEADER, "Tổng cộng;X-1;1.001193;;Người lập biểu", "Ghi chú: không có;;;;"])
    rows, skipped = read(text)
    assert [r.get("Mã hồ sơ") for r in rows] == ["X-1"]
    assert skipped.footer == 1


def test_excel_rows_are_classified_the_same(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (
        ["BÁO CÁO"],
        [],
        HEADER.split(";"),
        [1, "A-1", "1.001193", "02/04/2024", "Đã trả kết quả"],
        [],
        ["Tổng cộng", 1],
        [None, None, None, "Ngày 30 tháng 6 năm 2024"],
        [None] * 5,
    ):
        sheet.append(row)
    path = tmp_path / "x.xlsx"
    book.save(path)
    skipped = Skipped()
    rows = list(read_rows(str(path), required=REQUIRED, skipped=skipped))
    assert [r.line for r in rows] == [4]
    assert (skipped.title, skipped.blank, skipped.footer) == (1, 2, 2)


def test_no_header_is_still_refused_with_the_missing_columns():
    with pytest.raises(InvalidInput, match="Không tìm thấy dòng tiêu đề có đủ các cột"):
        read("Tổng cộng;1\nMã;Tên\n")


def test_many_skipped_ranges_are_summarised():
    text = "\n".join([HEADER] + ["1;A-1;1;x;y", "", "Tổng cộng"] * 250)
    rows, skipped = read(text)
    assert len(rows) == 250 and (skipped.blank, skipped.footer) == (250, 250)
    assert len(skipped.ranges) == 200  # then only counted
    assert describe_skipped(skipped.as_dict()).endswith("và 300 dòng khác")
