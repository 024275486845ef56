"""`cchc import dossiers`: a messy export from another one-stop system, its re-import, a
later export with changes, and the same data in another layout through a mapping file."""

from __future__ import annotations

import csv
import datetime as dt
import json
import unicodedata
from pathlib import Path

import pytest
from django.core.management import call_command

from cchc.accounts.policy import SYSTEM
from cchc.audit.models import AuditEntry
from cchc.dossiers import verify
from cchc.dossiers.models import Dossier, DossierEvent, DossierResult
from cchc.errors import InvalidInput, PermissionDenied
from cchc.indicators import aggregates
from cchc.interop.dossiers import DossierImporter, load_mapping
from cchc.interop.models import ImportRun

DATA = Path(__file__).parent / "data"
MESSY = DATA / "messy-export.csv"
VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 7, 20, 9, 0, tzinfo=VN)

# Line (spreadsheet row) -> reason, for the rejected rows of the messy export.
EXPECTED_REJECTED = {
    9: "Mã hồ sơ BG-2404-001 trùng với dòng 6",
    10: "thiếu Mã hồ sơ",
    11: "mã TTHC '9.999999' không có trong danh mục thủ tục",
    12: "thiếu Ngày tiếp nhận",
    13: "Ngày tiếp nhận: ngày '31/02/2024' không hợp lệ, cần dạng dd/mm/yyyy hoặc dd/mm/yyyy HH:MM",
    15: "Cấp 'Huyện' không khớp với đơn vị xử lý UBND phường Trần Phú (cấp xã)",
    16: "Trạng thái 'Lạ' không nhận biết được",
    17: "hồ sơ đã trả kết quả cần Ngày trả kết quả",
}
CREATED = ["BG-2404-001", "BG-2404-003", "BG-2405-008", "BG-2406-002", "BG-2406-012"]


@pytest.fixture
def province(db):
    """The demo organisation (Bắc Giang 2024) and procedure catalogue."""
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.structure import load_structure

    load_structure(SYSTEM, DATA_DIR / "org.json", now=NOW, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=NOW)


def run(path, **kwargs):
    return DossierImporter().run(str(path), actor=SYSTEM, now=NOW, **kwargs)


def state_of_dossiers() -> dict[str, dict]:
    fields = ["state", "received_at", "due", "finished_at", "returned_at", "outcome",
              "supplement_requests", "fee_total", "paid_amount", "payment_channel", "rating",
              "digitised", "channel", "competent_agency_id", "receiving_agency_id",
              "applicant_name", "source"]  # fmt: skip
    return {d["code"]: d for d in Dossier.objects.values("code", *fields)}


def test_messy_export_imports_good_rows_and_reports_every_bad_one(province):
    report = run(MESSY)
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    assert {e.line: e.reason for e in report.rejected} == EXPECTED_REJECTED
    assert [e.line for e in report.rejected] == sorted(EXPECTED_REJECTED)

    got = state_of_dossiers()
    assert sorted(got) == CREATED
    first = got["BG-2404-001"]
    assert first["state"] == "returned" and first["outcome"] == "early"
    assert first["received_at"] == dt.datetime(2024, 4, 2, 8, 15, tzinfo=VN)
    # A date-only appointment means the whole day.
    assert first["due"] == dt.datetime(2024, 4, 12, 23, 59, 59, tzinfo=VN)
    assert (first["fee_total"], first["paid_amount"], first["payment_channel"]) == (
        200000,
        200000,
        "1",
    )
    assert first["rating"] == "satisfied" and first["channel"] == 2
    assert first["source"] == "Tệp nhập"
    # Excel serial date, thousands separator, stray spaces, overdue.
    third = got["BG-2404-003"]
    assert third["received_at"] == dt.datetime(2024, 4, 1, tzinfo=VN)
    assert third["fee_total"] == 1_000_000 and third["channel"] == 1
    assert third["outcome"] == "overdue" and third["rating"] == "dissatisfied"
    assert third["applicant_name"] == "Lê Văn Cường"
    # Decomposed Unicode is stored composed; the competent agency was matched through it.
    second = got["BG-2406-002"]
    assert second["state"] == "in_progress" and second["finished_at"] is None
    assert second["applicant_name"] == unicodedata.normalize("NFC", "Trần Thị Bình")
    assert got["BG-2405-008"]["state"] == "resolved"
    assert got["BG-2405-008"]["outcome"] == "on_time"  # result on the appointment day
    assert got["BG-2406-012"]["supplement_requests"] == 2

    # Through the services' data: one import event each, an electronic result where the
    # row says so, projections that replay, indicator cells equal to a recomputation.
    assert DossierEvent.objects.filter(action="import").count() == 5
    assert DossierResult.objects.filter(electronic=True).count() == 2
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean
    # Recorded: the run and an audit entry.
    run_row = ImportRun.objects.get()
    assert (run_row.created, run_row.rejected, run_row.rows) == (5, 8, 13)
    assert AuditEntry.objects.filter(action="dossier.import").count() == 1


def test_reimport_is_a_no_op_and_a_later_export_updates(province, tmp_path):
    run(MESSY)
    before = state_of_dossiers()
    events = DossierEvent.objects.count()
    again = run(MESSY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert {e.line for e in again.rejected} == set(EXPECTED_REJECTED)
    assert state_of_dossiers() == before and DossierEvent.objects.count() == events

    # The source system finished BG-2406-002 since; the later export says so.
    rows = list(csv.reader(MESSY.open(encoding="utf-8-sig")))
    for row in rows:
        if row and row[0] == "BG-2406-002":
            row[9], row[10], row[11] = "03/07/2024 10:00", "04/07/2024 08:00", "Đã trả kết quả"
            row[16] = "Có"
    later = tmp_path / "later.csv"
    with later.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    report = run(later)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 4)
    updated = Dossier.objects.get(code="BG-2406-002")
    assert updated.state == "returned" and updated.outcome == "early"
    assert list(updated.events.values_list("action", flat=True)) == ["import", "import_update"]
    assert updated.results.get().electronic
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean


def test_many_changed_rows_in_one_export(province, tmp_path):
    """Several rows change at once (a state, a result, a fee, the applicant), one only
    changes its formatting: each changed dossier gets one import_update, audited."""
    run(MESSY)
    events = DossierEvent.objects.count()
    rows = list(csv.reader(MESSY.open(encoding="utf-8-sig")))
    for row in rows:
        if row[:1] == ["BG-2406-012"]:  # the supplement arrived; returned early
            row[9], row[10], row[11], row[16] = (
                "10/06/2024 09:00",
                "11/06/2024 09:00",
                "Đã trả kết quả",
                "Có",
            )
        elif row[:1] == ["BG-2404-001"]:  # the source corrected the electronic result
            row[16] = "Không"
        elif row[:1] == ["BG-2405-008"]:  # the result was handed over
            row[11], row[10] = "Đã trả kết quả", "16/05/2024 08:00"
        elif row[:1] == ["BG-2404-003"]:  # the same fee, written differently
            row[14] = "1000000"
    later = tmp_path / "later.csv"
    with later.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    report = run(later)
    assert (report.created, report.updated, report.unchanged) == (0, 3, 2)
    assert DossierEvent.objects.count() == events + 3
    assert AuditEntry.objects.filter(action="dossier.import_update").count() == 3
    got = state_of_dossiers()
    assert got["BG-2406-012"]["state"] == "returned" and got["BG-2406-012"]["outcome"] == "early"
    assert got["BG-2405-008"]["state"] == "returned"
    assert not DossierResult.objects.get(dossier__code="BG-2404-001").electronic
    assert DossierResult.objects.get(dossier__code="BG-2406-012").electronic
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean
    # And again: nothing left to change.
    again = run(later)
    assert (again.updated, again.unchanged) == (0, 5)


def test_a_dossier_with_other_events_is_updated_through_the_event_primitive(province, tmp_path):
    from django.db import transaction

    from cchc.dossiers import services

    run(MESSY)
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(code="BG-2406-002")
        services._append(dossier, "note", actor=SYSTEM, now=NOW, reason="Đối chiếu với hồ sơ giấy")
    rows = list(csv.reader(MESSY.open(encoding="utf-8-sig")))
    for row in rows:
        if row[:1] == ["BG-2406-002"]:
            row[9], row[10], row[11] = "03/07/2024 10:00", "04/07/2024 08:00", "Đã trả kết quả"
    later = tmp_path / "later.csv"
    with later.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    assert run(later).updated == 1
    dossier = Dossier.objects.get(code="BG-2406-002")
    assert list(dossier.events.values_list("action", flat=True)) == [
        "import",
        "note",
        "import_update",
    ]
    assert dossier.state == "returned"
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean


def test_dry_run_writes_nothing(province):
    report = run(MESSY, dry_run=True)
    assert report.created == 5 and len(report.rejected) == 8
    assert not Dossier.objects.exists() and not ImportRun.objects.exists()


def _other_layout(tmp_path: Path) -> Path:
    """The messy export as another vendor writes it: other column names, state codes,
    compact dates, an XLSX file with real dates."""
    from openpyxl import Workbook

    rows = list(csv.reader(MESSY.open(encoding="utf-8-sig")))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã hồ sơ")
    names = {
        "Mã hồ sơ": "SoHoSo", "Mã TTHC": "MaThuTuc", "Tên TTHC": "TenThuTuc",
        "Đơn vị tiếp nhận": "NoiTiepNhan", "Đơn vị xử lý": "CoQuanGiaiQuyet", "Cấp": "CapThucHien",
        "Kênh nộp": "HinhThucNop", "Ngày tiếp nhận": "NgayNhan", "Ngày hẹn trả": "NgayHen",
        "Ngày có kết quả": "NgayKetQua", "Ngày trả kết quả": "NgayTra", "Trạng thái": "TinhTrang",
        "Số lần bổ sung": "SoLanBoSung", "Thanh toán trực tuyến": "TTTT", "Lệ phí": "LePhi",
        "Số hóa": "SoHoa", "Có kết quả điện tử": "KQDT", "Đánh giá": "DanhGia",
        "Người nộp": "ChuHoSo",
    }  # fmt: skip
    codes = {"Đã trả kết quả": "DA_TRA_KQ", "Đang xử lý": "DANG_XL", "Đã có kết quả": "CO_KQ",
             "Chờ bổ sung": "CHO_BS"}  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.append(["HỆ THỐNG MỘT CỬA ĐIỆN TỬ — DANH SÁCH HỒ SƠ"])
    sheet.append([])
    header = rows[header_at]
    sheet.append([names[h] for h in header])
    status = header.index("Trạng thái")
    for row in rows[header_at + 1 :]:
        out: list[object] = list(row)
        if not any(row):
            continue
        if row[0]:
            out[0] = "V2-" + row[0]
        nfc = unicodedata.normalize("NFC", row[status])
        out[status] = codes.get(nfc, row[status])
        received = header.index("Ngày tiếp nhận")
        value = row[received]
        if len(value) == 16 and value[2] == "/":  # dd/mm/yyyy HH:MM -> a real Excel datetime
            out[received] = dt.datetime.strptime(value, "%d/%m/%Y %H:%M")
        elif value.isdigit():
            out[received] = int(value)
        due = header.index("Ngày hẹn trả")
        if len(row[due]) == 10 and row[due][2] == "/":  # compact yyyymmdd
            out[due] = dt.datetime.strptime(row[due], "%d/%m/%Y").strftime("%Y%m%d")
        sheet.append(out)
    path = tmp_path / "other-layout.xlsx"
    book.save(path)
    return path


def test_mapping_file_gives_the_same_result(province, tmp_path):
    reference = run(MESSY)
    canonical = state_of_dossiers()
    mapping = load_mapping(DATA / "mapping-other-layout.toml")
    report = DossierImporter().run(
        str(_other_layout(tmp_path)), actor=SYSTEM, now=NOW, mapping=mapping
    )
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    # Same reasons on the same rows (two rows higher: a shorter title block).
    expected = {
        e.line - 2: e.reason.replace("BG-", "V2-BG-").replace("dòng 6", "dòng 4")
        for e in reference.rejected
    }
    assert {e.line: e.reason for e in report.rejected} == expected
    got = state_of_dossiers()
    mapped = {c.removeprefix("V2-"): d for c, d in got.items() if c.startswith("V2-")}
    assert sorted(mapped) == CREATED
    for code, facts in mapped.items():
        assert facts.pop("source") == "iGate (mẫu)"
        assert canonical[code].pop("source") == "Tệp nhập"
        assert facts.pop("code") == "V2-" + canonical[code].pop("code")
        assert facts == canonical[code], code
    assert verify.verify().mismatches == []
    assert aggregates.verify().clean


def test_bad_mapping_files_are_refused_with_the_reason(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\n"Mã hồ sơ x" = "A"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="không phải cột của mẫu chuẩn"):
        load_mapping(bad)
    bad.write_text("[colums]\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="mục không biết: colums"):
        load_mapping(bad)
    bad.write_text("source = ", encoding="utf-8")
    with pytest.raises(InvalidInput, match="không đọc được"):
        load_mapping(bad)


def test_a_file_without_the_header_is_refused(province, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="Không tìm thấy dòng tiêu đề"):
        run(path)


def test_only_those_allowed_may_import_and_only_in_their_scope(province, make_user):
    from cchc.accounts.roles import Role
    from cchc.org.models import AdministrativeUnit, Agency

    centre = Agency.objects.get(code="000.00.21.H06")
    clerk = make_user(Role.DESK_OFFICER, agency=centre)
    with pytest.raises(PermissionDenied):
        DossierImporter().run(str(MESSY), actor=clerk, now=NOW)
    # A supervisor of one city imports that city's rows only.
    city = AdministrativeUnit.objects.get(code="213")
    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=city)
    report = DossierImporter().run(str(MESSY), actor=supervisor, now=NOW)
    assert report.created == 1  # BG-2405-008, received in a ward of the city
    outside = {e.key for e in report.rejected if "ngoài phạm vi" in e.reason}
    assert outside == {"BG-2404-001", "BG-2406-002", "BG-2404-003", "BG-2406-012", "BG-2405-011"}


def test_cli_json_report(province, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "dossiers", str(MESSY), "--json", "--source", "iGate Bắc Giang")
    assert exit_.value.code == 1  # some rows were rejected
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 5 and out["updated"] == 0
    assert {r["line"]: r["reason"] for r in out["rejected"]} == EXPECTED_REJECTED
    assert set(Dossier.objects.values_list("source", flat=True)) == {"iGate Bắc Giang"}


def test_imported_dossiers_are_not_processed_here(province, make_user):
    from cchc.dossiers import services

    run(MESSY)
    dossier = Dossier.objects.get(code="BG-2406-002")
    with pytest.raises(InvalidInput, match="được nhập từ"):
        services.act(SYSTEM, dossier, "note", reason="x")
