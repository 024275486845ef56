"""Exports (issue 8): dossiers, events and indicator results as CSV, XLSX and Parquet, for
any filter, scoped to what the user may see, audited; from the CLI and the web pages.

Data: the dashboard's dossiers (`tests/dashboard/conftest.build`, made through the real
services) — 2024-05: 2 early at Sở Tư pháp; 2024-06: Sở Tư pháp 3 early in person, 1 early
by post, 1 overdue; Sở Xây dựng 1 overdue — plus one open dossier received at Sở Tư pháp
and one online submission by a citizen waiting for the desk.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cchc.audit.models import AuditEntry
from cchc.dossiers import intake
from cchc.dossiers.models import Dossier, DossierEvent
from cchc.errors import InvalidInput, PermissionDenied
from cchc.indicators import periods
from cchc.indicators.services import Filters
from cchc.interop import export_datasets, exports
from cchc.interop.exports import ExportFilters
from cchc.privacy import mask_name
from cchc.tabular.export_formats import Column, write_parquet
from tests.conftest import NOW as WORLD_NOW
from tests.conftest import VN, built_once, fresh
from tests.dashboard.conftest import build
from tests.dossiers.conftest import at, build_world
from tests.dossiers.factories import applicant
from tests.factories import make_user

pytestmark = pytest.mark.django_db
NAME = "Nguyễn Thị Hoà"  # the default applicant of tests.dossiers.factories
ID_NUMBER = "024190001234"
CITIZEN_NAME = "Lê Thị Ánh Tuyết"
NOW = dt.datetime(2024, 7, 10, 9, 0, tzinfo=VN)


@dataclass
class Data:
    dash: Any
    open_dossier: Dossier
    online: Dossier

    @property
    def w(self) -> Any:
        return self.dash.world

    def codes(self, **filters: Any) -> set[str]:
        qs = Dossier.objects.filter(**filters)
        return set(qs.values_list("code", flat=True))


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker) -> Iterator[Data]:
    """The data set, built once for the module (each test runs in its own savepoint)."""
    with built_once(django_db_blocker):
        world = build_world(WORLD_NOW)
        dash = build(world, lambda role, **scope: make_user(role, now=WORLD_NOW, **scope))
        open_dossier = world.intake(at=at("2024-06-10", "10:00"))
        online = intake.submit_online(
            world.citizen,
            desk=world.desk,
            procedure=world.procedure,
            applicant=applicant(name=CITIZEN_NAME, id_number="024199998888"),
            now=at("2024-06-11", "08:15"),
        )
        yield Data(dash=dash, open_dossier=open_dossier, online=online)


@pytest.fixture
def data(built, db) -> Data:
    return fresh(built)


def everything(**changes: Any) -> ExportFilters:
    return ExportFilters(**changes)


def dossier_table(user: Any, filters: ExportFilters | None = None) -> list[dict[str, Any]]:
    """The dossier export of `user` as dicts keyed by the Vietnamese headers (via CSV)."""
    export = exports.dossier_export(user, filters or everything(), now=NOW)
    out = io.BytesIO()
    export.write("csv", out)
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))


def justice_codes(data: Data) -> set[str]:
    justice = data.w.org.justice.pk
    return data.codes(competent_agency_id=justice)


# -- formats ----------------------------------------------------------------------------------


def test_csv_has_bom_vietnamese_headers_and_local_times(data, tmp_path):
    export = exports.dossier_export(data.w.leader, everything(), now=NOW)
    path = tmp_path / "ho-so.csv"
    assert exports.write_file(export, "csv", path) == len(justice_codes(data))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["Mã hồ sơ", "Mã thủ tục", "Tên thủ tục"]
    assert "Người nộp / tổ chức" in header and "Số định danh / mã số thuế" in header
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_code) == justice_codes(data)
    first = by_code[data.dash.june_early[0].code]
    assert first["Tên thủ tục"] == "Chứng thực bản sao từ bản chính"
    assert first["Cơ quan có thẩm quyền giải quyết"] == "Sở Tư pháp tỉnh Bắc Giang"
    assert first["Cấp giải quyết"] == "Cấp tỉnh"
    assert first["Thời điểm tiếp nhận (giờ Việt Nam)"] == "2024-06-03 09:00:00"
    assert (first["Trạng thái"], first["Mã trạng thái"]) == ("Đã xử lý xong", "resolved")
    assert first["Kết quả giải quyết"] == "Trước hạn"
    assert first["Kênh nộp"] == "Trực tiếp" and first["Mã kênh nộp"] == "1"
    assert first["Người nộp / tổ chức"] == NAME
    assert first["Số định danh / mã số thuế"] == ID_NUMBER
    assert first["Đã số hóa thành phần hồ sơ"] in ("Có", "Không")


def test_xlsx_round_trips_with_real_dates_numbers_and_booleans(data, tmp_path):
    from openpyxl import load_workbook

    export = exports.dossier_export(data.w.leader, everything(), now=NOW)
    path = tmp_path / "ho-so.xlsx"
    exports.write_file(export, "xlsx", path)
    sheet = load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[0] == "Mã hồ sơ" and "Thời điểm tiếp nhận (giờ Việt Nam)" in header
    records = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(records) == justice_codes(data)
    late = records[data.dash.june_overdue[0].code]
    assert late["Thời điểm tiếp nhận (giờ Việt Nam)"] == dt.datetime(2024, 6, 3, 9, 30)
    assert late["Thời điểm hoàn thành (giờ Việt Nam)"] == dt.datetime(2024, 6, 5, 10, 0)
    assert late["Kết quả giải quyết"] == "Quá hạn"
    assert late["Số lần yêu cầu bổ sung"] == 0 and late["Mã kênh nộp"] == 1
    assert isinstance(late["Đã số hóa thành phần hồ sơ"], bool)
    assert late["Người nộp / tổ chức"] == NAME
    waiting = records[data.open_dossier.code]
    assert waiting["Thời điểm hoàn thành (giờ Việt Nam)"] is None
    assert isinstance(waiting["Hạn giải quyết (giờ Việt Nam)"], dt.datetime)


def test_parquet_round_trips_with_typed_columns(data, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    export = exports.dossier_export(data.w.leader, everything(), now=NOW)
    path = tmp_path / "ho-so.parquet"
    exports.write_file(export, "parquet", path)
    table = pq.read_table(path)
    schema = table.schema
    received = schema.field("Thời điểm tiếp nhận (giờ Việt Nam)")
    assert received.type == pa.timestamp("us", tz="Asia/Ho_Chi_Minh")
    assert received.metadata == {b"key": b"received_at"}
    assert schema.field("Số lần yêu cầu bổ sung").type == pa.int64()
    assert schema.field("Phí, lệ phí (đồng)").type == pa.int64()
    assert schema.field("Có kết quả điện tử").type == pa.bool_()
    assert schema.field("Tên thủ tục").type == pa.string()
    assert schema.metadata[b"dataset"] == b"dossiers"
    rows = {r["Mã hồ sơ"]: r for r in table.to_pylist()}
    assert set(rows) == justice_codes(data)
    first = rows[data.dash.june_early[0].code]
    assert first["Thời điểm tiếp nhận (giờ Việt Nam)"] == at("2024-06-03", "09:00")
    assert first["Người nộp / tổ chức"] == NAME
    assert first["Kết quả giải quyết"] == "Trước hạn"
    assert rows[data.open_dossier.code]["Thời điểm hoàn thành (giờ Việt Nam)"] is None


def test_parquet_is_written_in_row_groups(tmp_path):
    import pyarrow.parquet as pq

    columns = [Column("n", "Số", "int"), Column("t", "Tên"), Column("ok", "Đạt", "bool")]
    rows = ((n, f"Hồ sơ số {n}", n % 2 == 0) for n in range(7))
    write_parquet(columns, rows, tmp_path / "x.parquet", batch=3, group=3)
    read = pq.ParquetFile(tmp_path / "x.parquet")
    assert read.metadata.num_row_groups == 3  # 3 + 3 + 1
    assert read.read().column("Tên").to_pylist()[6] == "Hồ sơ số 6"
    empty = tmp_path / "empty.parquet"
    write_parquet(columns, iter(()), empty)
    assert pq.read_table(empty).num_rows == 0 and pq.read_table(empty).num_columns == 3


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from cchc.tabular import export_formats

    monkeypatch.setattr(export_formats, "XLSX_MAX_ROWS", 4)
    path = tmp_path / "x.xlsx"
    export_formats.write_xlsx([Column("n", "Số", "int")], ((n,) for n in range(7)), path)
    book = load_workbook(path, read_only=True)
    sheets = [[r[0] for r in ws.iter_rows(values_only=True)] for ws in book.worksheets]
    assert sheets == [["Số", 0, 1, 2], ["Số", 3, 4, 5], ["Số", 6]]


# -- events ---------------------------------------------------------------------------------------


def test_events_export_lists_every_event_in_order(data, tmp_path):
    export = exports.event_export(data.w.leader, everything(), now=NOW)
    path = tmp_path / "su-kien.xlsx"
    count = exports.write_file(export, "xlsx", path)
    visible = justice_codes(data)
    assert count == DossierEvent.objects.filter(dossier__code__in=visible).count()
    from openpyxl import load_workbook

    rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã hồ sơ", "Số thứ tự", "Mã hành động", "Hành động")
    first = [r for r in rows[1:] if r[0] == data.dash.june_early[0].code]
    assert [r[1] for r in first] == sorted(r[1] for r in first)
    assert [r[1] for r in first] == list(range(1, len(first) + 1))
    assert ("receive", "Tiếp nhận hồ sơ") in {(r[2], r[3]) for r in first}
    assert first[-1][3] == "Phê duyệt kết quả" and first[-1][5] == "Đã xử lý xong"
    assert isinstance(first[0][7], dt.datetime)


def test_events_hide_the_applicants_name_from_readers_without_personal_data(data):
    def actors(user: Any) -> set[str]:
        export = exports.event_export(user, everything(queue=_queue(q=data.online.code)))
        return {row[6] for row in export.rows}

    assert actors(data.w.leader) == {data.w.citizen.full_name}
    assert actors(data.w.supervisor) == {mask_name(data.w.citizen.full_name)}


# -- filters --------------------------------------------------------------------------------------


def _queue(**kw: Any) -> Any:
    from cchc.dossiers.queries import QueueFilters

    return QueueFilters(**{"state": "all", **kw})


def codes_of(user: Any, **changes: Any) -> set[str]:
    return {r["Mã hồ sơ"] for r in dossier_table(user, everything(**changes))}


def test_filters_restrict_rows(data):
    sup, dash = data.w.supervisor, data.dash
    june = periods.parse("2024-06")
    may = {d.code for d in dash.may_early}
    assert codes_of(sup, period=periods.parse("2024-05")) == may
    assert codes_of(sup, outcome="overdue") == {d.code for d in dash.june_overdue}
    assert codes_of(sup, scope=Filters(channel=3)) == {dash.june_early[3].code}
    assert codes_of(sup, scope=Filters(agency_id=data.w.org.construction.pk)) == {
        dash.june_overdue[1].code
    }
    assert codes_of(sup, scope=Filters(procedure_id=data.w.procedure.pk)) == {
        data.open_dossier.code,
        data.online.code,
    }
    assert codes_of(sup, queue=_queue(state="submitted")) == {data.online.code}
    assert codes_of(sup, queue=_queue(state="open")) == {data.open_dossier.code, data.online.code}
    received_june = codes_of(sup, period=june)
    assert data.open_dossier.code in received_june and not received_june & may
    # The online submission is not received yet: no receipt day, in no period.
    assert data.online.code not in received_june
    finished_wed = codes_of(
        sup, start=dt.date(2024, 6, 5), end=dt.date(2024, 6, 5), basis="finished"
    )
    assert finished_wed == {d.code for d in dash.june_overdue}
    assert codes_of(sup, scope=Filters(level="district")) == set()
    assert codes_of(sup, scope=Filters(level="province")) == data.codes()


def test_bad_filters_are_refused_precisely():
    with pytest.raises(InvalidInput, match="Kết quả giải quyết 'late'"):
        ExportFilters(outcome="late")
    with pytest.raises(InvalidInput, match="không chọn cả hai"):
        ExportFilters(period=periods.parse("2024"), start=dt.date(2024, 1, 1))
    with pytest.raises(InvalidInput, match="phải trước hoặc bằng"):
        ExportFilters(start=dt.date(2024, 2, 1), end=dt.date(2024, 1, 1))
    with pytest.raises(InvalidInput, match="Trạng thái 'xong'"):
        ExportFilters(queue=_queue(state="xong"))
    with pytest.raises(InvalidInput, match="Từ ngày không hợp lệ"):
        exports.parse_day("31/02/2024", "Từ ngày")


# -- scope and personal data -------------------------------------------------------------------


def test_an_officer_gets_only_their_agencys_dossiers(data):
    construction = codes_of(data.w.outsider)
    assert construction == {data.dash.june_overdue[1].code}
    justice = codes_of(data.w.officer)
    assert justice == justice_codes(data)
    assert not construction & justice
    # Asking for the other agency gives nothing, not its dossiers.
    other = Filters(agency_id=data.w.org.construction.pk)
    assert codes_of(data.w.officer, scope=other) == set()


def test_personal_data_is_masked_for_users_who_do_not_handle_dossiers(data):
    rows = dossier_table(data.w.supervisor)
    assert rows and rows[0]["Người nộp / tổ chức"] == mask_name(NAME)
    assert rows[0]["Số định danh / mã số thuế"] == "*********234"
    blob = repr(rows)
    assert NAME not in blob and ID_NUMBER not in blob and CITIZEN_NAME not in blob
    assert {r["Mã hồ sơ"] for r in rows} == data.codes()  # sees every dossier of the province
    leader = dossier_table(data.w.leader)
    assert all(
        r["Người nộp / tổ chức"] == NAME for r in leader if r["Mã hồ sơ"] != data.online.code
    )


def test_a_user_without_dossier_access_cannot_export(data):
    with pytest.raises(PermissionDenied):
        exports.dossier_export(data.dash.focal_point, everything())
    with pytest.raises(PermissionDenied):
        exports.event_export(data.w.citizen, everything())


def test_source_column_follows_the_model():
    headers = [c.header for c in export_datasets.dossier_columns()]
    has = any(f.name == "source" for f in Dossier._meta.concrete_fields)
    assert (export_datasets.SOURCE_COLUMN.header in headers) == has


# -- audit ----------------------------------------------------------------------------------------


def test_each_export_is_audited_with_who_what_filters_format_and_rows(data, tmp_path):
    filters = everything(period=periods.parse("2024-06"), outcome="overdue")
    export = exports.dossier_export(data.w.supervisor, filters, now=NOW)
    exports.write_file(export, "parquet", tmp_path / "x.parquet")
    entry = AuditEntry.objects.get(action="export.dossiers")
    assert entry.actor == data.w.supervisor
    assert entry.data["format"] == "parquet" and entry.data["rows"] == 2
    assert entry.data["filters"] == {
        "period": "2024-06",
        "basis": "received",
        "outcome": "overdue",
        "state": "all",
    }
    assert entry.data["personal_data"] is False and entry.data["complete"] is True


def test_an_interrupted_download_is_audited_as_incomplete(data, monkeypatch):
    from cchc.tabular import export_formats

    monkeypatch.setattr(export_formats, "CSV_FLUSH_ROWS", 2)
    export = exports.dossier_export(data.w.supervisor, everything(), now=NOW)
    stream = export.csv_stream()
    next(stream)  # the reader went away after the first chunk
    stream.close()
    entry = AuditEntry.objects.get(action="export.dossiers")
    assert entry.data["complete"] is False and entry.data["rows"] == 2  # the rows sent
    assert entry.data["format"] == "csv"


# -- indicators -----------------------------------------------------------------------------------


def test_indicator_results_export_targets_and_766(data, tmp_path):
    import pyarrow.parquet as pq

    export = exports.indicator_export(
        data.dash.admin,
        periods.parse("2024-06"),
        Filters(),
        plan_code="bac-giang-2024",
        now=NOW,
    )
    path = tmp_path / "chi-so.parquet"
    exports.write_file(export, "parquet", path)
    rows = pq.read_table(path).to_pylist()
    t4 = next(r for r in rows if r["Mã"] == "T4")
    assert t4["Loại"] == "Chỉ tiêu kế hoạch"
    assert (t4["Tử số"], t4["Mẫu số"]) == (4.0, 6.0)
    assert abs(t4["Giá trị"] - 66.67) < 0.01 and t4["Đạt chỉ tiêu"] is False
    assert t4["Kỳ báo cáo"] == "2024-06"
    subs = [r for r in rows if r["Loại"] == "Chỉ số thành phần 766"]
    assert {"2a", "5c"} <= {r["Mã"] for r in subs}
    total = next(r for r in rows if r["Loại"] == "Tổng điểm Bộ chỉ số 766")
    assert total["Điểm"] is not None and total["Điểm tối đa"] > 0
    assert AuditEntry.objects.filter(action="export.indicators").count() == 1


def test_indicator_export_follows_the_engines_scope(data):
    june = periods.parse("2024-06")
    with pytest.raises(PermissionDenied):
        exports.indicator_export(
            data.dash.construction_leader,
            june,
            Filters(agency_id=data.w.org.justice.pk),
            plan_code=None,
        )
    export = exports.indicator_export(
        data.dash.construction_leader,
        june,
        Filters(agency_id=data.w.org.construction.pk),
        plan_code=None,
    )
    assert export.count == 0 and len(list(export.rows)) > 0


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_exports_as_a_user_with_filters(data, tmp_path, capsys):
    out = tmp_path / "ho-so.csv"
    call_command(
        "export",
        "dossiers",
        "--out",
        str(out),
        "--user",
        data.w.outsider.username,
        "--period",
        "2024-06",
    )
    assert "Đã xuất 1 dòng (csv)" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [data.dash.june_overdue[1].code]
    call_command("export", "events", "--format", "xlsx", "--out", str(tmp_path / "e.xlsx"))
    call_command(
        "export",
        "indicators",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "i.csv"),
        "--period",
        "2024-06",
        "--agency",
        data.w.org.justice.code,
    )
    indicators = (tmp_path / "i.csv").read_text(encoding="utf-8-sig")
    assert "Chỉ tiêu kế hoạch" in indicators and "Chỉ số thành phần 766" in indicators
    entries = AuditEntry.objects.filter(action__startswith="export.").order_by("id")
    assert [e.action for e in entries] == ["export.dossiers", "export.events", "export.indicators"]
    assert entries[0].actor == data.w.outsider and entries[1].actor_label == "hệ thống"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["dossiers", "--period", "2024-13"], 2, "tháng 13 không hợp lệ"),
        (["dossiers", "--outcome", "tre"], 2, "Kết quả giải quyết 'tre'"),
        (["dossiers", "--state", "xong"], 2, "Trạng thái 'xong'"),
        (["dossiers", "--from", "2024-02-30"], 2, "--from không hợp lệ"),
        (["dossiers", "--level", "thon"], 2, "Cấp hành chính không hợp lệ: thon"),
        (["dossiers", "--agency", "khong-co"], 4, "Không tìm thấy cơ quan 'khong-co'"),
        (["dossiers", "--procedure", "9.999999"], 4, "Không tìm thấy thủ tục '9.999999'"),
        (["dossiers", "--user", "khong-ai"], 4, "Không có người dùng 'khong-ai'"),
        (["indicators"], 2, "cần --period"),
        (["indicators", "--period", "2024", "--outcome", "overdue"], 2, "--outcome chỉ dùng"),
    ],
)
def test_cli_errors_are_precise_with_exit_codes(data, tmp_path, args, code, message):
    out = tmp_path / "x.csv"
    with pytest.raises(CommandError) as caught:
        call_command("export", *args, "--out", str(out))
    assert caught.value.returncode == code
    assert message in str(caught.value)
    assert not out.exists()
    assert not AuditEntry.objects.filter(action__startswith="export.").exists()


def test_cli_refuses_unknown_format_missing_folder_and_forbidden_user(data, tmp_path):
    with pytest.raises(CommandError, match="Không đoán được định dạng") as caught:
        call_command("export", "dossiers", "--out", str(tmp_path / "x.txt"))
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="không tồn tại") as caught:
        call_command("export", "dossiers", "--out", str(tmp_path / "no" / "x.csv"))
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="không có quyền xem hồ sơ") as caught:
        call_command(
            "export", "events", "--out", str(tmp_path / "x.csv"), "--user", data.w.citizen.username
        )
    assert caught.value.returncode == 3
    assert list(tmp_path.iterdir()) == []


# -- web ------------------------------------------------------------------------------------------


def test_queue_page_offers_downloads_with_its_filters(client, data):
    client.force_login(data.w.leader)
    page = client.get(reverse("dossiers:queue"), {"trang_thai": "all", "q": "1.000"})
    text = page.content.decode()
    base = reverse("interop:dossiers")
    assert f"{base}?trang_thai=all&amp;q=1.000&amp;format=csv" in text
    assert f"{base}?trang_thai=all&amp;q=1.000&amp;format=parquet" in text
    assert reverse("interop:events") in text


def test_web_csv_is_streamed_with_the_lists_filters_and_audited(client, data):
    client.force_login(data.w.leader)
    response = client.get(reverse("interop:dossiers"), {"format": "csv"})  # the list: open only
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="ho-so-')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["Mã hồ sơ"] for r in rows} == {data.open_dossier.code, data.online.code}
    entry = AuditEntry.objects.get(action="export.dossiers")
    assert entry.actor == data.w.leader and entry.data["rows"] == 2
    assert entry.data["format"] == "csv" and entry.data["filters"]["state"] == "open"


def test_web_xlsx_and_parquet_downloads(client, data):
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    client.force_login(data.w.supervisor)
    url = reverse("interop:dossiers")
    params = {"trang_thai": "all", "period": "2024-06", "ket_qua": "overdue"}
    xlsx = client.get(url, {**params, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    codes = {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {d.code for d in data.dash.june_overdue}
    parquet = client.get(reverse("interop:events"), {**params, "format": "parquet"})
    table = pq.read_table(io.BytesIO(b"".join(parquet.streaming_content)))
    assert set(table.column("Mã hồ sơ").to_pylist()) == codes
    assert AuditEntry.objects.filter(action__startswith="export.").count() == 2


def test_web_bad_filters_go_back_to_the_list_with_a_message(client, data):
    client.force_login(data.w.leader)
    response = client.get(reverse("interop:dossiers"), {"period": "2024-99"}, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("dossiers:queue"))
    assert "tháng 99 không hợp lệ" in response.content.decode()
    bad = client.get(reverse("interop:dossiers"), {"format": "pdf"}, follow=True)
    assert "Định dạng 'pdf' không hỗ trợ" in html.unescape(bad.content.decode())


def test_web_exports_need_login_and_permission(client, data):
    for name in ("interop:dossiers", "interop:events", "interop:indicators"):
        anonymous = client.get(reverse(name))
        assert anonymous.status_code == 302 and reverse("web:login") in anonymous["Location"]
    client.force_login(data.w.citizen)
    for name in ("interop:dossiers", "interop:events", "interop:indicators"):
        assert client.get(reverse(name)).status_code == 403
    client.force_login(data.w.desk_officer)  # no indicator.view
    assert client.get(reverse("interop:indicators"), {"period": "2024-06"}).status_code == 403


def test_dashboard_offers_parquet_tables_and_the_full_results(client, data):
    import pyarrow.parquet as pq

    client.force_login(data.w.supervisor)
    page = client.get(reverse("dashboard:overview"), {"period": "2024-06"}).content.decode()
    assert reverse("interop:indicators") + "?period=2024-06" in page
    assert "table=chi-tieu&amp;format=parquet" in page
    table = client.get(
        reverse("dashboard:overview"),
        {"period": "2024-06", "table": "chi-tieu", "format": "parquet"},
    )
    read = pq.read_table(io.BytesIO(table.content)).to_pylist()
    t4 = next(r for r in read if r["Mã"] == "T4")
    assert (t4["Tử số"], t4["Mẫu số"]) == (4, 6)
    full = client.get(reverse("interop:indicators"), {"period": "2024-06", "format": "xlsx"})
    assert full.status_code == 200
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(b"".join(full.streaming_content))).active.values)
    assert rows[0][:3] == ("Loại", "Mã", "Chỉ tiêu, chỉ số")
    assert any(r[1] == "T4" for r in rows) and any(r[1] == "5c" for r in rows)


def test_agency_leader_gets_their_agencys_indicator_results_only(client, data):
    client.force_login(data.dash.construction_leader)
    url = reverse("interop:indicators")
    own = client.get(url, {"period": "2024-06", "format": "csv"})
    assert own.status_code == 200
    b"".join(own.streaming_content)
    entry = AuditEntry.objects.get(action="export.indicators")
    assert entry.data["filters"]["agency_id"] == data.w.org.construction.pk
    other = client.get(url, {"period": "2024-06", "agency": data.w.org.justice.pk})
    assert other.status_code == 403
