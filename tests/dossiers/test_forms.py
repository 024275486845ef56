"""Printed forms (PDF) and the register (XLSX) of dossiers walked through the services."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import unicodedata
import zlib

import pytest

from cchc.dossiers import intake, services
from cchc.dossiers.access import TO_APPLICANT
from cchc.dossiers.documents import (
    REGISTER_HEADER,
    FontsMissing,
    available_forms,
    build_form,
    pdf,
    received_between,
    register_rows,
    register_xlsx,
    render_form,
)
from cchc.errors import InvalidInput
from tests.dossiers.conftest import at
from tests.dossiers.factories import applicant

PDFTOTEXT = shutil.which("pdftotext")
A4 = (595.28, 841.89)  # points


# -- reading PDFs without extra libraries ---------------------------------------------------


def internals(data: bytes) -> bytes:
    """The PDF's bytes plus every Flate stream inflated (object streams hide the page and
    font dictionaries when the PDF is compressed)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def text_of(data: bytes, html: str) -> str:
    """The PDF's text: poppler's pdftotext when installed, else WeasyPrint's layout of the
    same HTML (the text it is about to write)."""
    if PDFTOTEXT:
        out = subprocess.run(
            [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
        )
        return words(out.stdout.decode("utf-8"))
    return words(weasyprint_text(html))


def weasyprint_text(html: str) -> str:
    from weasyprint import HTML

    document = HTML(string=html).render()
    pieces = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if getattr(box, "text", None):
                pieces.append(box.text)
    return " ".join(pieces)


def render(dossier, purpose, **kw):
    """The applicant's copy of the form (nothing masked; the masking of every output is
    tested in tests/test_personal_data_outputs.py)."""
    kw.setdefault("viewer", TO_APPLICANT)
    name, data = render_form(dossier, purpose, **kw)
    return name, data, text_of(data, build_form(dossier, purpose, **kw).html)


def assert_printable_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-")
    inner = internals(data)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", inner)
    assert boxes, "no page found"
    for width, height in boxes:
        assert (round(float(width), 1), round(float(height), 1)) == (
            round(A4[0], 1),
            round(A4[1], 1),
        )
    assert b"/FontFile" in inner  # the font program is in the file…
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+CCHC-NotoSerif", inner)  # …and it is Noto Serif


# -- dossiers walked through the services ----------------------------------------------------


def assign(w, dossier, when):
    """The leader assigns the dossier to the processing officer (the desk's hand-over)."""
    return services.act(w.leader, dossier, "assign", now=when, data={"assignee": w.officer.pk})


def walk_late_dossier(w):
    """Received on a Friday afternoon; supplement, apology, approval, return."""
    d = w.intake(at=at("2024-06-07", "15:30"))
    assign(w, d, at("2024-06-10", "10:00"))
    services.act(
        w.officer,
        d,
        "request_supplement",
        now=at("2024-06-10", "14:00"),
        reason="Thiếu bản sao căn cước công dân có chứng thực.",
    )
    services.act(w.desk_officer, d, "supplement_received", now=at("2024-06-11", "10:00"))
    services.act(
        w.officer,
        d,
        "apologise",
        now=at("2024-06-11", "10:30"),
        reason="Cần xác minh thông tin lý lịch tại Công an tỉnh.",
        data={"reference": "125/STP-HCTP"},
    )
    services.act(w.officer, d, "propose", now=at("2024-06-12", "10:00"))
    services.act(w.leader, d, "approve", now=at("2024-06-12", "11:00"))
    services.act(w.desk_officer, d, "return_result", now=at("2024-06-13", "11:00"))
    d.refresh_from_db()
    return d


@pytest.fixture
def world_2025(world, make_user):
    """A desk of the merged province, valid from 1/7/2025 (TT 03/2025 applies)."""
    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.org.models import Desk
    from cchc.org.structure import load_structure

    load_structure(
        SYSTEM,
        {
            "desks": [
                {
                    "code": "ttpvhcc-bn",
                    "name": "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
                    "unit": "24",
                    "host_agency": "000.00.12.H27",
                    "receives_for": ["000.00.12.H27"],
                    "calendar": "vn-civil-service",
                    "valid_from": "2025-07-01",
                }
            ]
        },
        now=world.now,
    )
    desk = Desk.objects.get(code="ttpvhcc-bn")
    justice = world.org.justice_2025
    return {
        "desk": desk,
        "desk_officer": make_user(Role.DESK_OFFICER, agency=justice, desk=desk),
        "leader": make_user(Role.AGENCY_LEADER, agency=justice),
    }


def intake_2025(world, w25, when):
    from tests.dossiers.factories import components_for

    return intake.receive_at_desk(
        w25["desk_officer"],
        desk=w25["desk"],
        procedure=world.procedure,
        applicant=applicant(name="Trần Văn Đức", address="Số 12 phố Lý Thái Tổ, phường Bắc Giang"),
        components=components_for(world.procedure),
        now=when,
    )


# -- forms -----------------------------------------------------------------------------------


def test_receipt_is_an_a4_pdf_with_the_embedded_font_and_vietnamese_text(world):
    d = world.intake(at=at("2024-06-03", "09:00"))
    name, data, text = render(d, "receipt")
    assert name == f"01-{d.code}.pdf"
    assert_printable_pdf(data)
    for expected in (
        "Mẫu số 01",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH BẮC GIANG",
        "Bắc Giang, ngày 03 tháng 06 năm 2024",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        d.code,
        "Nguyễn Thị Hoà",
        "Số 5 đường Hoàng Văn Thụ, phường Trần Phú",
        "0912345678",
        "hoa@example.vn",
        "Tờ khai yêu cầu cấp phiếu lý lịch tư pháp",
        "Bản chụp giấy tờ tùy thân",
        "3 ngày làm việc",
        "09 giờ 00 phút, ngày 03 tháng 06 năm 2024",  # receipt
        "09 giờ 00 phút, thứ Năm, ngày 06 tháng 06 năm 2024",  # appointment
        "Nhận trực tiếp tại bộ phận một cửa",
        "200.000 đồng",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        world.desk_officer.full_name,
    ):
        assert expected in text, expected


def test_receipt_explains_an_appointment_that_skips_the_weekend(world):
    d = world.intake(at=at("2024-06-07", "15:30"))  # Friday afternoon
    _, _, text = render(d, "receipt")
    assert "15 giờ 30 phút, thứ Tư, ngày 12 tháng 06 năm 2024" in text
    assert "Thứ Bảy 08/06/2024: nghỉ cuối tuần" in text
    assert "Hẹn trả kết quả: 15:30 thứ Tư 12/06/2024" in text


def test_receipt_keeps_the_appointment_given_at_intake_after_a_pause(world):
    d = walk_late_dossier(world)
    assert d.due != d.original_due  # the pause and the apology moved the due…
    _, _, text = render(d, "receipt")
    # …but the receipt shows what the applicant was told at the desk.
    assert "15 giờ 30 phút, thứ Tư, ngày 12 tháng 06 năm 2024" in text
    assert "Tạm dừng" not in text


def test_supplement_form_prints_the_latest_request_or_the_one_asked_for(world):
    d = world.intake(at=at("2024-06-03", "09:00"))
    assign(world, d, at("2024-06-03", "10:00"))
    first = services.act(
        world.officer,
        d,
        "request_supplement",
        now=at("2024-06-03", "14:00"),
        reason="Bổ sung bản sao giấy khai sinh.",
    )
    services.act(world.desk_officer, d, "supplement_received", now=at("2024-06-04", "09:00"))
    services.act(
        world.officer,
        d,
        "request_supplement",
        now=at("2024-06-04", "15:00"),
        reason="Tờ khai chưa ghi rõ nơi cư trú hiện nay.",
    )
    name, data, text = render(d, "supplement")
    assert name == f"02-{d.code}.pdf"
    assert_printable_pdf(data)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert "SỞ TƯ PHÁP TỈNH BẮC GIANG" in text
    assert "Tờ khai chưa ghi rõ nơi cư trú hiện nay." in text
    assert "(lần 2)" in text
    assert "Bắc Giang, ngày 04 tháng 06 năm 2024" in text
    _, _, earlier = render(d, "supplement", event=first)
    assert "Bổ sung bản sao giấy khai sinh." in earlier
    assert "nơi cư trú" not in earlier


def test_refusal_at_intake_and_after_acceptance(world):
    submitted = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(name="Lê Thị Ánh Tuyết"),
        now=at("2024-06-03", "08:15"),
    )
    services.act(
        world.desk_officer,
        submitted,
        "refuse_intake",
        now=at("2024-06-03", "10:00"),
        reason="Hồ sơ không thuộc thẩm quyền giải quyết của tỉnh.",
    )
    name, data, text = render(submitted, "refusal")
    assert name == f"03-{submitted.code}.pdf"
    assert_printable_pdf(data)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Lê Thị Ánh Tuyết" in text
    assert "không tiếp nhận hồ sơ này" in text
    assert "Hồ sơ không thuộc thẩm quyền giải quyết của tỉnh." in text

    d = world.intake(at=at("2024-06-04", "08:00"))
    assign(world, d, at("2024-06-04", "10:00"))
    services.act(
        world.leader,
        d,
        "refuse",
        now=at("2024-06-05", "10:00"),
        reason="Người yêu cầu không thuộc đối tượng được cấp phiếu.",
    )
    _, _, text = render(d, "refusal")
    assert "từ chối giải quyết hồ sơ này" in text
    assert "Người yêu cầu không thuộc đối tượng được cấp phiếu." in text
    assert "THỦ TRƯỞNG CƠ QUAN" in text
    assert world.leader.full_name in text


def test_apology_form_under_tt01(world):
    d = walk_late_dossier(world)
    event = d.events.get(action="apologise")
    name, data, text = render(d, "apology")
    assert name == f"04-{d.code}.pdf"
    assert_printable_pdf(data)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text
    assert "SỞ TƯ PHÁP TỈNH BẮC GIANG" in text  # the agency at fault
    assert "Số: 125/STP-HCTP" in text
    assert "Kính gửi: Nguyễn Thị Hoà" in text
    assert d.code in text
    assert "15 giờ 30 phút, ngày 07 tháng 06 năm 2024" in text  # receipt
    assert "Cần xác minh thông tin lý lịch tại Công an tỉnh." in text
    assert "thành thật xin lỗi" in text
    new_due = dt.datetime.fromisoformat(event.data["new_due"])
    previous = dt.datetime.fromisoformat(event.data["previous_due"])
    assert f"{previous:%H} giờ {previous:%M} phút" in text
    assert f"ngày {new_due:%d} tháng {new_due:%m} năm {new_due:%Y}" in text
    assert "GIÁM ĐỐC" in text
    assert "Nguyễn Văn A" in text  # the head of the agency at fault
    assert "Bắc Giang, ngày 11 tháng 06 năm 2024" in text


def test_control_slip_has_one_row_per_handoff_with_its_outcome(world):
    d = walk_late_dossier(world)
    handoffs = services.project(d).handoffs
    assert len(handoffs) == 4
    name, data, text = render(d, "control")
    assert name == f"05-{d.code}.pdf"
    assert_printable_pdf(data)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    for handoff in handoffs:
        assert handoff.step_name in text
    assert "10 giờ 00 phút, ngày 10 tháng 06 năm 2024" in text  # the desk's hand-over
    assert f"Người nhận: {world.officer.full_name}" in text
    assert "Người nhận: Người nộp hồ sơ" in text
    labels = {"early": "Trước hạn", "on_time": "Đúng hạn", "overdue": "Quá hạn"}
    html = build_form(d, "control", viewer=TO_APPLICANT).html
    rows = re.findall(r'<td class="num">(Trước hạn|Đúng hạn|Quá hạn)</td>', html)
    assert rows == [labels[h.outcome] for h in handoffs]


def test_stop_form_is_refused_under_tt01(world):
    d = world.intake(at=at("2024-06-03", "09:00"))
    services.act(
        world.leader, d, "stop", now=at("2024-06-04", "09:00"), reason="Người nộp đề nghị dừng."
    )
    assert "stop" not in [purpose for purpose, _, _ in available_forms(d)]
    with pytest.raises(InvalidInput) as refused:
        render_form(d, "stop", viewer=TO_APPLICANT)
    assert "Thông tư 01/2018/TT-VPCP" in refused.value.message
    assert "thông báo dừng giải quyết hồ sơ" in refused.value.message


def test_tt03_dossier_uses_the_2025_numbering(world, world_2025):
    d = intake_2025(world, world_2025, at("2025-08-01", "09:00"))
    assert d.ruleset == "tt03-2025"
    services.act(
        world_2025["leader"],
        d,
        "apologise",
        now=at("2025-08-04", "09:00"),
        reason="Hệ thống cơ sở dữ liệu lý lịch tư pháp gián đoạn.",
    )
    services.act(
        world_2025["leader"],
        d,
        "stop",
        now=at("2025-08-05", "09:00"),
        reason="Cơ quan công an đề nghị tạm dừng để xác minh.",
    )
    assert [(p, n) for p, n, _ in available_forms(d)] == [
        ("receipt", "01"),
        ("apology", "04"),
        ("stop", "05"),
        ("control", "06"),
    ]
    name, data, text = render(d, "receipt")
    assert name == f"01-{d.code}.pdf"
    assert "Trần Văn Đức" in text
    assert "Quyển số" not in text  # TT 01/2018's register number line
    name, _, text = render(d, "apology")
    assert name == f"04-{d.code}.pdf"
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in text
    assert "đồng ý gia hạn" in text
    name, data, text = render(d, "stop")
    assert name == f"05-{d.code}.pdf"
    assert_printable_pdf(data)
    assert "Mẫu số 05" in text
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text
    assert "SỞ TƯ PHÁP TỈNH BẮC NINH" in text
    assert "Bắc Ninh, ngày 05 tháng 08 năm 2025" in text
    assert "Cơ quan công an đề nghị tạm dừng để xác minh." in text
    name, _, text = render(d, "control")
    assert name == f"06-{d.code}.pdf"
    assert "Mẫu số 06" in text


def test_available_forms_follow_the_dossiers_events(world):
    d = world.intake(at=at("2024-06-03", "09:00"))
    assert available_forms(d) == [
        ("receipt", "01", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
        ("control", "05", "Phiếu kiểm soát quá trình giải quyết hồ sơ"),
    ]
    assign(world, d, at("2024-06-03", "10:00"))
    services.act(
        world.officer,
        d,
        "request_supplement",
        now=at("2024-06-03", "11:00"),
        reason="Thiếu tờ khai.",
    )
    assert [p for p, _, _ in available_forms(d)] == ["receipt", "supplement", "control"]
    submitted = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        now=at("2024-06-03", "08:00"),
    )
    assert available_forms(submitted) == []


def test_forms_that_do_not_apply_are_refused_clearly(world):
    d = world.intake(at=at("2024-06-03", "09:00"))
    with pytest.raises(InvalidInput, match="chưa có phiếu yêu cầu bổ sung"):
        render_form(d, "supplement", viewer=TO_APPLICANT)
    with pytest.raises(InvalidInput, match="Không có biểu mẫu"):
        render_form(d, "invoice", viewer=TO_APPLICANT)
    receive = d.events.get(action="receive")
    with pytest.raises(InvalidInput, match="không dùng để lập"):
        render_form(d, "apology", viewer=TO_APPLICANT, event=receive)
    other = world.intake(at=at("2024-06-03", "10:00"))
    assign(world, other, at("2024-06-03", "11:00"))
    foreign = services.act(
        world.officer,
        other,
        "request_supplement",
        now=at("2024-06-03", "14:00"),
        reason="Thiếu tờ khai.",
    )
    with pytest.raises(InvalidInput, match="không dùng để lập"):
        render_form(d, "supplement", viewer=TO_APPLICANT, event=foreign)


def test_missing_font_files_stop_rendering_with_a_clear_error(world, tmp_path, monkeypatch):
    d = world.intake(at=at("2024-06-03", "09:00"))
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    with pytest.raises(FontsMissing, match="fonts-noto-core") as missing:
        render_form(d, "receipt", viewer=TO_APPLICANT)
    assert "NotoSerif-Regular.ttf" in str(missing.value)


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils not installed")
def test_weasyprint_layout_text_matches_the_pdf_text(world):
    d = world.intake(at=at("2024-06-03", "09:00"))
    form = build_form(d, "receipt", viewer=TO_APPLICANT)
    _, data = render_form(d, "receipt", viewer=TO_APPLICANT)
    from_pdf = text_of(data, form.html)
    from_layout = words(weasyprint_text(form.html))
    for expected in ("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", d.code, "Nguyễn Thị Hoà"):
        assert expected in from_pdf
        assert expected in from_layout


# -- register --------------------------------------------------------------------------------


def test_register_xlsx_lists_the_dossiers_received_in_the_period(world):
    from openpyxl import load_workbook

    before = world.intake(at=at("2024-05-31", "16:00"))
    late = walk_late_dossier(world)  # received 07/06
    first = world.intake(at=at("2024-06-03", "08:00"))
    last = world.intake(at=at("2024-06-28", "16:30"), applicant=applicant(name="Phạm Đức Thắng"))
    after = world.intake(at=at("2024-07-01", "08:00"))
    start, end = dt.date(2024, 6, 1), dt.date(2024, 6, 30)
    data = register_xlsx(
        received_between(start, end),
        start=start,
        end=end,
        title="Trung tâm Phục vụ hành chính công tỉnh Bắc Giang",
        ruleset_code="tt01-2018",
        viewer=world.desk_officer,
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH BẮC GIANG"
    assert sheet.cell(1, len(REGISTER_HEADER)).value == "Mẫu số 06"
    assert sheet["A2"].value == "SỔ THEO DÕI HỒ SƠ"
    assert "Từ ngày 01/06/2024 đến ngày 30/06/2024" in sheet["A3"].value
    header = [cell.value for cell in sheet[5]]
    assert header == list(REGISTER_HEADER)
    assert header[:4] == ["STT", "Mã hồ sơ", "Tên thủ tục", "Người nộp"]
    assert sheet.freeze_panes == "A6"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=6, max_row=8)]
    assert [r[1] for r in rows] == [first.code, late.code, last.code]
    assert [r[0] for r in rows] == [1, 2, 3]
    codes = {c.value for c in sheet["B"]}
    assert before.code not in codes and after.code not in codes
    assert sheet.cell(9, 1).value is None
    assert sheet.cell(10, 1).value == "Tổng số: 3 hồ sơ"

    row = dict(zip(REGISTER_HEADER, rows[1], strict=True))
    assert row["Tên thủ tục"] == "Cấp phiếu lý lịch tư pháp"
    assert row["Người nộp"] == "Nguyễn Thị Hoà"
    assert row["Địa chỉ/Điện thoại"] == "Số 5 đường Hoàng Văn Thụ, phường Trần Phú; ĐT: 0912345678"
    assert row["Ngày tiếp nhận"] == dt.datetime(2024, 6, 7, 15, 30)  # local time
    assert row["Ngày hẹn trả"] == dt.datetime(2024, 6, 12, 15, 30)
    assert row["Ngày chuyển xử lý"] == dt.datetime(2024, 6, 10, 10, 0)
    assert row["Ngày có kết quả"] == dt.datetime(2024, 6, 12, 11, 0)
    assert row["Ngày trả kết quả"] == dt.datetime(2024, 6, 13, 11, 0)
    assert row["Trạng thái"] == "Đã trả kết quả"
    assert row["Kết quả"] == late.get_outcome_display()
    assert "Yêu cầu bổ sung 1 lần" in row["Ghi chú"]
    assert "Xin lỗi, hẹn lại" in row["Ghi chú"]
    assert sheet.cell(7, 6).number_format == "dd/mm/yyyy hh:mm"
    open_row = dict(zip(REGISTER_HEADER, rows[2], strict=True))
    assert open_row["Người nộp"] == "Phạm Đức Thắng"
    assert open_row["Ngày trả kết quả"] is None
    assert open_row["Trạng thái"] == "Đã tiếp nhận"


def test_register_rows_filter_any_iterable_and_tt03_numbers_the_register_07(world):
    inside = world.intake(at=at("2024-06-03", "08:00"))
    outside = world.intake(at=at("2024-06-04", "08:00"))
    day = dt.date(2024, 6, 3)
    rows = list(register_rows([outside, inside], start=day, end=day, viewer=world.desk_officer))
    assert [(r.number, r.code) for r in rows] == [(1, inside.code)]
    from openpyxl import load_workbook

    data = register_xlsx(
        [inside],
        start=day,
        end=day,
        title="Sở Tư pháp",
        ruleset_code="tt03-2025",
        viewer=world.desk_officer,
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.cell(1, len(REGISTER_HEADER)).value == "Mẫu số 07"
    with pytest.raises(InvalidInput, match="Khoảng thời gian không hợp lệ"):
        list(
            register_rows(
                [inside], start=day, end=day - dt.timedelta(days=1), viewer=world.desk_officer
            )
        )
