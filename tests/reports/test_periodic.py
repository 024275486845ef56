"""The periodic report: every Plan 213 target in the Word file, the PDF and the workbook with
the figure the indicator engine computes (independently here), the late/overdue task list,
Vietnamese text intact, real numbers in the workbook, reproducible bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import unicodedata
from decimal import Decimal

import pytest

from cchc.accounts.policy import SYSTEM
from cchc.indicators import periods
from cchc.indicators.services import Filters, fmt, plan_results
from cchc.plans.models import Task
from cchc.plans.services import task_states
from cchc.plans.status import TaskStatus
from cchc.reports import services
from tests.reports.conftest import AS_OF, ISSUE

pytestmark = pytest.mark.django_db
Q2 = periods.parse("2024-Q2")
CODES = [f"T{n}" for n in range(1, 12)]


def expected(data) -> dict:
    """The engine's own figures for the province in Q2 2024 at AS_OF."""
    f = Filters(unit_id=data.province.pk, units="historic")
    return {r.code: r for r in plan_results("bac-giang-2024", Q2, f, now=AS_OF)}


def result_text(r) -> str:
    if r.value is None:
        return "Không có dữ liệu"
    if r.unit == "%":
        return f"{fmt(r.value)}% ({r.numerator}/{r.denominator})"
    return f"{r.numerator}/{r.denominator} {r.unit}"


def expected_late(data) -> list[tuple[str, str]]:
    """Deliverables due in Q2 (to AS_OF) not done on time, computed from the plan monitor."""
    tasks = Task.objects.filter(plan__code="bac-giang-2024").order_by("position", "id")
    out = []
    for state in task_states(tasks, now=AS_OF):
        for item in state.deliverables:
            if Q2.start <= item.due <= Q2.end and item.status != TaskStatus.DONE_ON_TIME:
                out.append((state.task.code, item.status.label))
    return out


def generate(formats: str, **kw):
    kw.setdefault("now", AS_OF)
    kw.setdefault("issue_date", ISSUE)
    return {
        o.format: o
        for o in services.generate(SYSTEM, period="2024-Q2", issuer="24", formats=formats, **kw)
    }


def test_hand_computed_figures(data):
    """The data set is what the conftest says (guards the tests below against drift)."""
    r = expected(data)
    assert (r["T4"].numerator, r["T4"].denominator, r["T4"].previous) == (2, 4, Decimal(100))
    assert (r["T6"].numerator, r["T6"].denominator) == (1, 2)
    assert (r["T1"].numerator, r["T1"].denominator) == (1, 5)
    levels = {b["level"]: b for b in r["T7"].breakdown}
    assert levels["province"]["met"] is True and levels["district"]["met"] is False
    assert (r["T11"].numerator, r["T11"].denominator) == (2, 3)
    assert [code for code, _ in expected_late(data)] == ["2.1", "2.2", "4.1", "6.2"]


def test_word_document(data):
    from docx import Document

    want = expected(data)
    out = generate("docx", number="125")["docx"]
    assert out.filename == "bao-cao-cchc-2024-q2-24.docx"
    doc = Document(io.BytesIO(out.content))
    texts = [p.text for p in doc.paragraphs]
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    everything = "\n".join(texts + cells)
    assert unicodedata.normalize("NFC", everything) == everything
    for line in (
        "ỦY BAN NHÂN DÂN",
        "TỈNH BẮC GIANG",
        "Số: 125/BC-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Bắc Giang, ngày 05 tháng 7 năm 2024",
        "Nơi nhận:",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
    ):
        assert line in everything, line
    assert "BÁO CÁO" in texts
    assert "Kết quả công tác cải cách hành chính quý II năm 2024" in texts
    assert "(Số liệu từ ngày 01/04/2024 đến ngày 30/06/2024)" in texts
    for heading in (
        "1. Công tác chỉ đạo, điều hành",
        "2. Cải cách thể chế",
        "3. Cải cách thủ tục hành chính",
        "4. Cải cách tổ chức bộ máy hành chính nhà nước",
        "5. Cải cách chế độ công vụ",
        "6. Cải cách tài chính công",
        "7. Xây dựng và phát triển chính quyền điện tử, chính quyền số",
    ):
        assert heading in texts
    # Bảng 1: one row per target, with the engine's figure, previous value and verdict.
    targets = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mã")
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in targets.rows[1:]}
    assert sorted(rows, key=lambda c: (len(c), c))[1:] == CODES  # "" = the per-level rows
    for code in CODES:
        assert rows[code][3] == result_text(want[code]), code
    assert rows["T4"][4] == "100,00%" and rows["T4"][5] == "−50,00"
    assert rows["T4"][6] == "Chưa đạt" and rows["T9"][6] == "Đạt"
    assert rows["T3"][3] == rows["T3"][6] == "Không có dữ liệu"
    # sentences derived from the figures
    body = " ".join(texts)
    assert (
        "Tỷ lệ hồ sơ TTHC giải quyết trước và đúng hạn là 50,00% (2 hồ sơ trước hạn + hồ sơ "
        "đúng hạn trên 4 hồ sơ đã giải quyết); chỉ tiêu kế hoạch > 90%: chưa đạt. So với "
        "Quý I/2024 (100,00%): giảm 50,00 điểm phần trăm." in body
    )
    assert "Theo cấp: cấp tỉnh 96,00% (96/100; chỉ tiêu > 95%: đạt); cấp huyện 80,00%" in body
    # Bảng 2: late and overdue tasks
    late = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT")
    listed = [(r.cells[1].text.split(". ")[0], r.cells[4].text) for r in late.rows[1:]]
    assert listed == [(code, status) for code, status in expected_late(data)]
    assert all("(minh họa)" in r.cells[1].text for r in late.rows[1:])
    # charts: the three PNGs are embedded
    images = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert len(images) == 3
    # fixed metadata date: the first instant after the period, 1/7/2024 00:00 (+07:00)
    assert doc.core_properties.created == dt.datetime(2024, 6, 30, 17, 0, tzinfo=dt.UTC)


def test_pdf_round_trips_through_pdftotext(data, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: apt-get install poppler-utils")
    want = expected(data)
    out = generate("pdf")["pdf"]
    assert out.content.startswith(b"%PDF")
    path = tmp_path / out.filename
    path.write_bytes(out.content)
    plain = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    text = " ".join(plain.stdout.decode("utf-8").split())
    assert unicodedata.normalize("NFC", text) == text
    for phrase in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Bắc Giang, ngày 05 tháng 7 năm 2024",
        "Kết quả công tác cải cách hành chính quý II năm 2024",
        "Số: /BC-UBND",
        "Nơi nhận:",
        "Chỉ tiêu chưa đạt trong kỳ",
    ):
        assert phrase in text, phrase
    layout = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    lines = layout.splitlines()
    for code in CODES:
        r = want[code]
        # the table row: the code's line and its neighbours (cells wrap and centre)
        at = [n for n, line in enumerate(lines) if re.match(rf"^\s*{code}\s", line)]
        assert at, code
        window = " ".join(" ".join(lines[max(at[0] - 3, 0) : at[0] + 4]).split())
        figure = (
            "Không có"
            if r.value is None
            else (f"{fmt(r.value)}%" if r.unit == "%" else f"{r.numerator}/{r.denominator}")
        )
        assert figure in window, (code, figure, window)
        # and its sentence
        if r.unit == "%" and r.value is not None:
            assert re.search(
                rf"là {re.escape(fmt(r.value))}% \({r.numerator} [^()]*? trên {r.denominator} ",
                text,
            ), code
    for code, status in expected_late(data):
        assert re.search(rf"{re.escape(code)}\. .*?{status}", text)


def test_workbook_holds_real_numbers(data):
    from openpyxl import load_workbook

    want = expected(data)
    out = generate("xlsx")["xlsx"]
    book = load_workbook(io.BytesIO(out.content))
    assert book.sheetnames == [
        "Thông tin",
        "Chỉ tiêu",
        "Nhiệm vụ chậm, quá hạn",
        "Bộ chỉ số 766",
        "Chỉ số 766 thành phần",
        "Nhiệm vụ đến hạn",
    ]
    sheet = book["Chỉ tiêu"]
    header = [c.value for c in sheet[3]]
    assert header[:7] == [
        "Mã",
        "Chỉ tiêu",
        "Chỉ tiêu kế hoạch",
        "Kết quả trong kỳ",
        "Đơn vị",
        "Tử số",
        "Mẫu số",
    ]
    assert sheet.freeze_panes == "A4"
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=4) if row[0].value}
    assert sorted(rows, key=lambda c: (len(c), c)) == CODES
    for code in CODES:
        r = want[code]
        value, numerator, denominator = (rows[code][i].value for i in (3, 5, 6))
        assert numerator == r.numerator and type(numerator) is int, code
        assert denominator == r.denominator and type(denominator) is int, code
        if r.value is None:
            assert value is None, code
        elif r.unit == "%":
            assert isinstance(value, int | float) and value == pytest.approx(float(r.value) / 100)
            assert rows[code][3].number_format == "0.00%"
        else:
            assert value == int(r.value) and type(value) is int
    assert rows["T4"][7].value == pytest.approx(1.0)  # previous period, 100 %
    assert rows["T4"][8].value == pytest.approx(-50.0)  # change in percentage points
    # no number stored as text anywhere (codes such as task "2.1" are identifiers)
    number_like = re.compile(r"^[+−-]?\d+([.,]\d+)?%?$")
    for ws in book.worksheets:
        codes = {c.column for c in ws[3] if str(c.value or "").startswith("Mã")}
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.column not in codes:
                    assert not number_like.match(cell.value.strip()), (ws.title, cell.coordinate)
    late = book["Nhiệm vụ chậm, quá hạn"]
    listed = [(r[1].value, r[6].value) for r in late.iter_rows(min_row=4)]
    assert listed == expected_late(data)
    assert all(isinstance(r[5].value, dt.datetime) for r in late.iter_rows(min_row=4))
    assert len(listed) == want["T1"].denominator - want["T1"].numerator
    groups = book["Bộ chỉ số 766"]
    total = next(r for r in groups.iter_rows(min_row=4) if r[1].value == "Tổng cộng")
    assert all(isinstance(c.value, int | float) for c in total[2:5])


def test_same_data_same_bytes_and_audit(data):
    from cchc.audit.models import AuditEntry

    first = generate("docx,pdf,xlsx")
    second = generate("docx,pdf,xlsx")
    for code in ("docx", "pdf", "xlsx"):
        assert first[code].content == second[code].content, code
    entries = AuditEntry.objects.filter(action="reports.periodic.generated")
    assert entries.count() == 2
    entry = entries.first()
    assert entry.data["period"] == "2024-Q2" and entry.data["issuer"] == "24"
    assert entry.data["formats"] == ["docx", "pdf", "xlsx"]
    assert entry.data["as_of"].startswith("2024-07-05T09:00")
    assert entry.data["files"]["bao-cao-cchc-2024-q2-24.xlsx"] == first["xlsx"].sha256


def test_agency_report_has_its_own_figures_and_header(data):
    from docx import Document

    outputs = services.generate(
        data.justice_leader,
        period="2024-Q2",
        issuer=data.justice.code,
        formats="docx",
        now=AS_OF,
        issue_date=ISSUE,
    )
    doc = Document(io.BytesIO(outputs[0].content))
    header = "\n".join(c.text for t in doc.tables[:1] for c in t.rows[0].cells)
    assert header.startswith("UBND TỈNH BẮC GIANG\nSỞ TƯ PHÁP\n")
    assert "Số: \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/BC-STP" in header
    sign = "\n".join(c.text for c in doc.tables[-1].rows[0].cells)
    assert "- UBND tỉnh Bắc Giang;\n- Sở Nội vụ;\n- Lưu: VT." in sign
    assert "GIÁM ĐỐC" in sign or "THỦ TRƯỞNG CƠ QUAN" in sign
    targets = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mã")
    rows = {r.cells[0].text: r.cells[3].text for r in targets.rows[1:]}
    mine = Filters(agency_id=data.justice.pk, units="historic")
    want = {r.code: r for r in plan_results("bac-giang-2024", Q2, mine, now=AS_OF)}
    assert rows["T1"] == result_text(want["T1"]) == "100,00% (1/1)"  # only task 1.2 is theirs
    assert rows["T8"] == result_text(want["T8"])  # H is Sở Xây dựng's, not theirs


@pytest.mark.parametrize(
    ("period", "phrase"),
    [
        ("2024", "năm 2024"),
        ("2024-H1", "6 tháng đầu năm 2024"),
        ("2024-BC-H1", "6 tháng đầu năm 2024"),
        ("2024-BC-Q3", "quý III năm 2024"),
        ("2024-BC-NAM", "năm 2024"),
        ("2024-06", "tháng 6 năm 2024"),
    ],
)
def test_title_wording_by_period(period, phrase):
    from cchc.reports.wording import day_month, period_phrase

    assert period_phrase(periods.parse(period)) == phrase
    assert day_month(dt.date(2024, 2, 5)) == "ngày 05 tháng 02 năm 2024"
    assert day_month(dt.date(2024, 11, 20)) == "ngày 20 tháng 11 năm 2024"
