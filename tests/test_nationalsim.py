"""The national-portal simulator (issue 20 item 6): every service through the real client
(`cchc.national.client.call`, in-process URL resolution, and once over real HTTP), its
idempotency, its refusals, its faults, its seeding, its page and its command."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from cchc.accounts.policy import SYSTEM
from cchc.catalog.models import Procedure
from cchc.catalog.services import DocumentData, ProcedureData, save_procedure
from cchc.national import client
from cchc.national.client import NationalError
from cchc.nationalsim import faults, seeding
from cchc.nationalsim.models import (
    CallOutcome,
    SimCall,
    SimDossier,
    SimInbound,
    SimProcedure,
    SimStep,
)
from cchc.nationalsim.protocol import VIETNAM, format_date

pytestmark = pytest.mark.django_db

MADONVI = "000.00.00.H24"
CONFIG = {
    "url": "/gia-lap-dvcqg/api/",
    "madonvi": MADONVI,
    "username": "cchc",
    "password": "mat-khau-gia-lap",
    "timeout": 5,
    "max_attempts": 3,
    "backoff_max_minutes": 1.0,
    "lease_minutes": 1,
    "on_time_hours": 24.0,
}


@pytest.fixture(autouse=True)
def simulator(settings):
    settings.CCHC_DVCQG_SIMULATOR = True
    settings.CCHC_DVCQG = dict(CONFIG)
    settings.ROOT_URLCONF = "cchc.nationalsim.test_urls"
    client.forget_sessions()
    yield
    client.forget_sessions()


def vn(days_ago: float = 0, hours_ago: float = 0) -> str:
    now = dt.datetime.now(VIETNAM)
    return format_date(now - dt.timedelta(days=days_ago, hours=hours_ago))


def dossier(code: str = "H24.01-261207-0001", **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "MaHoSo": code,
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT",
        "TenLinhVuc": "Hộ tịch",
        "SoBienNhan": code,
        "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": "1",
        "SoDienThoai": "0912345678",
        "Email": "an@example.vn",
        "TrichYeuHoSo": "Đăng ký khai sinh cho con",
        "NgayTiepNhan": vn(hours_ago=1),
        "NgayHenTra": vn(days_ago=-3),
        "TrangThaiHoSo": "2",
        "HinhThuc": "0",
        "DonViXuLy": "Sở Tư pháp",
        "DanhSachLePhi": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
    }
    body.update(changes)
    return body


def step(code: str = "H24.01-261207-0001", at: str = "", state: str = "4") -> dict[str, str]:
    return {
        "MaHoSo": code,
        "NguoiXuLy": "Trần Thị Bình",
        "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": at or vn(),
        "DonViXuLy": "Sở Tư pháp",
        "PhongBanXuLy": "Phòng Hộ tịch",
        "NoiDungXuLy": "Chuyển xử lý",
        "TrangThai": state,
        "NgayBatDau": "",
        "NgayKetThucTheoQuyDinh": "",
    }


def sync(*items: dict[str, object], updating: bool = False, key: str = "") -> list[dict]:
    return client.call(
        "DongBoHoSoMC",
        list(items),
        key=key,
        extra={"isUpdating": "True" if updating else "False"},
    )


def refused(exc: pytest.ExceptionInfo[NationalError]) -> tuple[str, str, bool]:
    return exc.value.error_code, exc.value.message, exc.value.transient


# --- Session and envelope ------------------------------------------------------------------
def test_a_call_logs_in_once_and_reuses_the_session():
    sync(dossier())
    client.call("TraCuuHoSo", extra={"MaHoSo": "H24.01-261207-0001"})
    calls = list(SimCall.objects.values_list("service", "outcome"))
    assert calls == [
        ("LayPhienLamViec", "ok"),
        ("DongBoHoSoMC", "ok"),
        ("TraCuuHoSo", "ok"),
    ]


def test_an_unknown_session_is_refused_with_401_and_the_client_logs_in_again(django_client):
    answer = django_client.post(
        "/gia-lap-dvcqg/api/",
        json.dumps({"service": "TraCuuHoSo", "session": "khong-co", "madonvi": MADONVI}),
        content_type="application/json",
    ).json()
    assert answer["error_code"] == "401"
    assert "Phiên làm việc không hợp lệ" in answer["message"]
    # the client's cached session is gone (the database was emptied): it logs in again
    sync(dossier())
    client._sessions[CONFIG["url"]] = "het-han"
    assert client.call("TraCuuHoSo", extra={"MaHoSo": "H24.01-261207-0001"})["SoBuoc"] == 0
    services = list(SimCall.objects.values_list("service", "error_code"))
    assert services[-3:] == [("TraCuuHoSo", "401"), ("LayPhienLamViec", ""), ("TraCuuHoSo", "")]


def test_a_wrong_password_gets_no_session(django_client):
    def login(**changes: str) -> dict:
        body = {
            "service": "LayPhienLamViec",
            "username": "cchc",
            "password": CONFIG["password"],
            "madonvi": MADONVI,
            **changes,
        }
        return django_client.post(
            "/gia-lap-dvcqg/api/", json.dumps(body), content_type="application/json"
        ).json()

    assert login()["error_code"] == 0 and login()["session"]
    for wrong in ({"password": "sai"}, {"username": "khac"}, {"madonvi": "000.00.00.H99"}):
        answer = login(**wrong)
        assert answer["error_code"] == "401" and "session" not in answer
        assert answer["message"] == "Sai tên đăng nhập, mật khẩu hoặc mã đơn vị."


def test_malformed_json_and_unknown_services_are_refused(django_client):
    bad = django_client.post("/gia-lap-dvcqg/api/", b"{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error_code"] == "400"
    with pytest.raises(NationalError) as exc:
        client.call("KhongCoDichVuNay")
    assert refused(exc) == (
        "400",
        "Cổng quốc gia từ chối (KhongCoDichVuNay): Dịch vụ không tồn tại: KhongCoDichVuNay.",
        False,
    )
    assert SimCall.objects.filter(outcome=CallOutcome.BAD).count() == 2


def test_the_simulator_is_off_unless_enabled(settings, django_client):
    settings.CCHC_DVCQG_SIMULATOR = False
    assert django_client.post("/gia-lap-dvcqg/api/", b"{}", content_type="x").status_code == 404
    assert django_client.get("/gia-lap-dvcqg/").status_code == 404
    with pytest.raises(NationalError) as exc:
        client.call("TraCuuHoSo", extra={"MaHoSo": "X"})
    assert exc.value.error_code == "404" and not exc.value.transient


# --- DongBoHoSoMC --------------------------------------------------------------------------
def test_sync_creates_one_national_dossier_per_code():
    first = sync(dossier(), key="k1")
    assert first[0]["MaHoSo"] == "H24.01-261207-0001" and first[0]["MaHoSoQG"].startswith("G22.")
    again = sync(dossier(), key="k1")  # a retry of the first send
    update = sync(dossier(TrangThaiHoSo="4"), updating=True, key="k2")
    assert again == first and update == first
    row = SimDossier.objects.get()
    assert row.madonvi == MADONVI and row.trang_thai == "4" and row.updates == 2
    assert row.body["TrangThaiHoSo"] == "4"


def test_sync_keeps_supplements_and_results():
    supplement = {"HoSoBoSungId": "1", "NoiDungBoSung": "Bản sao giấy chứng sinh"}
    result = {"TenGiayTo": "Giấy khai sinh", "GiayToId": "9"}
    sync(dossier())
    sync(dossier(DanhSachHoSoBoSung=[supplement], DanhSachGiayToKetQua=[result]), updating=True)
    row = SimDossier.objects.get()
    assert row.supplements == [supplement] and row.results == [result]


def test_updating_a_dossier_the_portal_never_received_is_refused():
    with pytest.raises(NationalError) as exc:
        sync(dossier("H24.X"), updating=True)
    code, message, transient = refused(exc)
    assert code == "404" and not transient
    assert "Cập nhật (isUpdating=True) hồ sơ chưa có trên Cổng: H24.X" in message
    assert not SimDossier.objects.exists()


def test_sync_refuses_incomplete_dossiers_precisely_and_keeps_nothing():
    incomplete = dossier("H24.B")
    del incomplete["NgayTiepNhan"]
    incomplete["NgayHenTra"] = "2026-12-10"
    with pytest.raises(NationalError) as exc:
        sync(dossier("H24.A"), incomplete, dossier("H24.C", TrangThaiHoSo="99", LoaiDoiTuong="3"))
    code, message, _ = refused(exc)
    assert code == "400"
    assert (
        "hồ sơ thứ 2 (MaHoSo=H24.B): thiếu NgayTiepNhan, NgayHenTra sai định dạng "
        "yyyyMMddHHmmss ('2026-12-10')" in message
    )
    assert "hồ sơ thứ 3 (MaHoSo=H24.C): TrangThaiHoSo không hợp lệ ('99'), LoaiDoiTuong" in message
    assert "thứ 1" not in message
    assert not SimDossier.objects.exists()  # H24.A was valid but the call was refused whole
    with pytest.raises(NationalError, match="data phải là danh sách không rỗng"):
        client.call("DongBoHoSoMC", [], extra={"isUpdating": "False"})


# --- CapNhatTienDoHoSoMC -------------------------------------------------------------------
def test_a_step_is_recorded_once_per_idempotency_key():
    sync(dossier())
    client.call("CapNhatTienDoHoSoMC", [step(at=vn(hours_ago=1))], key="ev-1")
    again = client.call("CapNhatTienDoHoSoMC", [step(at=vn(hours_ago=1))], key="ev-1")
    client.call("CapNhatTienDoHoSoMC", [step(at=vn(), state="9")], key="ev-2")
    assert again[0]["ThuTu"] == 1
    assert list(SimStep.objects.values_list("key", "seq", "trang_thai")) == [
        ("ev-1", 1, "4"),
        ("ev-2", 2, "9"),
    ]
    assert SimDossier.objects.get().trang_thai == "9"


def test_a_step_earlier_than_the_last_one_is_flagged_out_of_order():
    sync(dossier())
    client.call("CapNhatTienDoHoSoMC", [step(at=vn(hours_ago=1), state="9")], key="ev-2")
    late = client.call("CapNhatTienDoHoSoMC", [step(at=vn(hours_ago=3), state="4")], key="ev-1")
    assert late[0]["SaiThuTu"] is True and late[0]["ThuTu"] == 2
    steps = list(SimStep.objects.values_list("key", "seq", "out_of_order"))
    assert steps == [("ev-2", 1, False), ("ev-1", 2, True)]
    assert SimDossier.objects.get().trang_thai == "9"  # the late step does not go back


def test_steps_of_an_unknown_dossier_or_without_required_fields_are_refused():
    with pytest.raises(NationalError) as exc:
        client.call("CapNhatTienDoHoSoMC", [step("H24.KHONG")], key="k")
    assert refused(exc)[0] == "404"
    assert "chưa được đồng bộ lên Cổng (gọi DongBoHoSoMC trước): H24.KHONG" in exc.value.message
    sync(dossier())
    bad = step()
    bad["ThoiDiemXuLy"] = ""
    with pytest.raises(NationalError, match="thiếu ThoiDiemXuLy"):
        client.call("CapNhatTienDoHoSoMC", [bad], key="k2")
    assert not SimStep.objects.exists()


# --- TraCuuHoSo ----------------------------------------------------------------------------
def test_look_up_reports_the_national_code_status_and_steps():
    qg = sync(dossier())[0]["MaHoSoQG"]
    client.call("CapNhatTienDoHoSoMC", [step()], key="ev-1")
    found = client.call("TraCuuHoSo", extra={"MaHoSo": "H24.01-261207-0001"})
    assert found["MaHoSoQG"] == qg and found["TrangThaiHoSo"] == "4" and found["SoBuoc"] == 1
    assert len(found["NgayHenTra"]) == 14
    with pytest.raises(NationalError) as exc:
        client.call("TraCuuHoSo", extra={"MaHoSo": "H24.KHONG"})
    assert refused(exc)[0] == "404" and "Không tìm thấy hồ sơ H24.KHONG" in exc.value.message


# --- Inbound -------------------------------------------------------------------------------
@pytest.fixture
def catalogue(org, now):
    for code, name, fee, days in (
        ("1.001193", "Đăng ký khai sinh", 8_000, 1),
        ("1.001022", "Đăng ký kết hôn", 0, 3),
        ("1.000894", "Cấp phiếu lý lịch tư pháp", 200_000, 10),
        ("1.004227", "Chứng thực bản sao", 2_000, 1),
    ):
        save_procedure(
            SYSTEM,
            ProcedureData(
                code=code,
                name=name,
                field_name="Hộ tịch",
                levels=("province",),
                agency_type="so-tu-phap",
                processing_time=Decimal(days),
                fees=(("Lệ phí", fee),) if fee else (),
                documents=(DocumentData("Tờ khai", originals=1),),
            ),
            now=now,
        )
    return seeding.seed_catalogue(from_local=True)


def test_inbound_dossiers_are_listed_until_acknowledged(catalogue):
    a = seeding.submit_inbound("1.001193", "Lê Văn Cường", phone="0901234567", unit=MADONVI)
    b = seeding.submit_inbound("1.001022", "Phạm Thị Dung", unit=MADONVI)
    listed = client.call("LayDanhSachHoSoMoi", extra={"TuNgay": vn(days_ago=1)})
    assert [d["MaHoSoQG"] for d in listed] == [a.ma_ho_so_qg, b.ma_ho_so_qg]
    first = listed[0]
    assert first["KenhNop"] == "DVCQG" and first["ChuHoSo"] == "Lê Văn Cường"
    attachment = first["DanhSachTepDinhKem"][0]
    assert attachment["TenTepDinhKem"] == "don-de-nghi.pdf" and attachment["NoiDungBase64"]
    ack = [{"MaHoSoQG": a.ma_ho_so_qg, "MaHoSo": "H24.01-261207-0100"}]
    client.call("XacNhanHoSo", ack, key="ack-1")
    client.call("XacNhanHoSo", ack, key="ack-1")  # repeating it is harmless
    assert [d["MaHoSoQG"] for d in client.call("LayDanhSachHoSoMoi")] == [b.ma_ho_so_qg]
    with pytest.raises(NationalError) as exc:
        client.call("XacNhanHoSo", [{"MaHoSoQG": a.ma_ho_so_qg, "MaHoSo": "KHAC"}])
    assert refused(exc)[0] == "409" and "đã được xác nhận với mã H24.01-261207-0100" in (
        exc.value.message
    )
    with pytest.raises(NationalError) as exc:
        client.call("XacNhanHoSo", [{"MaHoSoQG": "G22.KHONG", "MaHoSo": "X"}])
    assert refused(exc)[0] == "404"
    assert SimInbound.objects.get(pk=a.pk).local_code == "H24.01-261207-0100"


def test_duplicate_inbound_repeats_even_acknowledged_dossiers(catalogue):
    a = seeding.submit_inbound("1.001193", "Lê Văn Cường", unit=MADONVI)
    b = seeding.submit_inbound("1.001022", "Phạm Thị Dung", unit=MADONVI)
    client.call("LayDanhSachHoSoMoi")
    client.call("XacNhanHoSo", [{"MaHoSoQG": a.ma_ho_so_qg, "MaHoSo": "H24.1"}])
    faults.set(duplicate_inbound=True)
    codes = [d["MaHoSoQG"] for d in client.call("LayDanhSachHoSoMoi")]
    assert sorted(codes) == sorted([b.ma_ho_so_qg, a.ma_ho_so_qg, b.ma_ho_so_qg])


def test_shuffled_inbound_is_repeatable_with_a_seed(catalogue):
    rows = [seeding.submit_inbound("1.001193", f"Người nộp {i}", unit=MADONVI) for i in range(6)]
    submitted = [r.ma_ho_so_qg for r in rows]
    orders = []
    for _ in range(2):
        faults.set(shuffle_inbound=True, seed=20)
        orders.append([d["MaHoSoQG"] for d in client.call("LayDanhSachHoSoMoi")])
    assert orders[0] == orders[1] and sorted(orders[0]) == sorted(submitted)
    assert orders[0] != submitted


# --- Catalogue -----------------------------------------------------------------------------
def test_the_national_catalogue_differs_from_ours_on_purpose(catalogue):
    listed = {p["MaTTHC"]: p for p in client.call("LayDanhSachTTHC", extra={"MaCoQuan": "X"})}
    assert catalogue["new"] in listed and catalogue["withdrawn"] not in listed
    assert {"1.001193", "1.001022", "1.000894", "1.004227"} - {catalogue["withdrawn"]} <= set(
        listed
    )
    assert listed["1.001193"]["TenTTHC"] == "Đăng ký khai sinh"
    fee = client.call("LayThuTuc", extra={"MaTTHC": catalogue["fee"]})
    ours_fee = Procedure.objects.get(code=catalogue["fee"]).fees.first().amount
    assert fee["PhiLePhi"][0]["Gia"] == ours_fee + 10_000
    timed = client.call("LayThuTuc", extra={"MaTTHC": catalogue["time"]})
    assert timed["ThoiHanGiaiQuyet"][0]["DonViTinh"] == "Ngày làm việc"
    assert set(timed) >= {"ThanhPhanHoSo", "CanCuPhapLy", "CongBoQuocGia", "TichHopThanhToan"}
    with pytest.raises(NationalError) as exc:
        client.call("LayThuTuc", extra={"MaTTHC": catalogue["withdrawn"]})
    assert refused(exc)[0] == "404" and "đã bãi bỏ" in exc.value.message


# --- LayChiSo766 ---------------------------------------------------------------------------
def test_published_766_counts_timely_synchronisation():
    month = f"{dt.datetime.now(VIETNAM) - dt.timedelta(hours=3):%Y-%m}"  # of NgayTiepNhan
    sync(dossier("H24.DUNG", NgayTiepNhan=vn(hours_ago=2)))
    client.call("CapNhatTienDoHoSoMC", [step("H24.DUNG", at=vn(hours_ago=1))], key="s1")
    # received now, but the step is reported two days after it happened
    sync(dossier("H24.TRE", NgayTiepNhan=vn(hours_ago=3)))
    client.call("CapNhatTienDoHoSoMC", [step("H24.TRE", at=vn(days_ago=2))], key="s2")
    figures = client.call("LayChiSo766", extra={"Ky": month})
    assert figures["DongBo"] == {"HoSo": 2, "DungHan": 1}
    assert figures["Ky"] == month and figures["MaDonVi"] == MADONVI
    columns = {c["Ma"]: c for c in figures["ChiSo"]}
    assert list(columns) == ["1", "2", "4-dvc", "4-tt", "5", "3"]
    assert all(0 <= c["Diem"] <= c["DiemToiDa"] for c in columns.values())
    assert figures["TruDiem"] == 0.25
    assert figures["TongDiem"] == pytest.approx(sum(c["Diem"] for c in columns.values()) - 0.25)
    with pytest.raises(NationalError) as exc:
        client.call("LayChiSo766", extra={"Ky": "2026-13"})
    assert refused(exc)[0] == "400" and "tháng 13" in exc.value.message


def test_on_time_hours_is_configurable(settings):
    settings.CCHC_DVCQG = {**CONFIG, "on_time_hours": 0.5}
    sync(dossier("H24.A", NgayTiepNhan=vn(hours_ago=1)))
    month = f"{dt.datetime.now(VIETNAM) - dt.timedelta(hours=1):%Y-%m}"
    assert client.call("LayChiSo766", extra={"Ky": month})["DongBo"] == {"HoSo": 1, "DungHan": 0}


# --- Faults --------------------------------------------------------------------------------
def test_fail_rate_answers_503_without_doing_anything():
    faults.set(fail_rate=1.0)
    with pytest.raises(NationalError) as exc:
        sync(dossier())
    assert exc.value.transient and exc.value.error_code == "503"
    assert not SimDossier.objects.exists()
    assert SimCall.objects.filter(outcome=CallOutcome.FAILED).exists()


def test_a_lost_answer_did_the_work_and_the_retry_is_idempotent():
    sync(dossier())
    faults.set(lost_answer_rate=1.0)
    with pytest.raises(NationalError) as exc:
        client.call("CapNhatTienDoHoSoMC", [step()], key="ev-1")
    assert exc.value.transient and SimStep.objects.count() == 1
    faults.reset()
    assert client.call("CapNhatTienDoHoSoMC", [step()], key="ev-1")[0]["ThuTu"] == 1
    assert SimStep.objects.count() == 1
    assert list(SimCall.objects.filter(service="CapNhatTienDoHoSoMC").values_list("outcome")) == [
        ("lost",),
        ("ok",),
    ]


def test_fault_rates_follow_the_seed():
    def pattern() -> list[bool]:
        client.forget_sessions()
        faults.set(fail_rate=0.5, seed=7)
        out = []
        for _ in range(8):
            try:
                client.call("LayDanhSachTTHC")
                out.append(True)
            except NationalError:
                out.append(False)
        return out

    first = pattern()
    assert first == pattern() and True in first and False in first


def test_fault_settings_are_checked():
    with pytest.raises(Exception, match="Không có thiết lập lỗi giả lập: nope"):
        faults.set(nope=1)
    with pytest.raises(Exception, match="fail_rate phải nằm trong khoảng 0–1"):
        faults.set(fail_rate=2)


@pytest.mark.django_db(transaction=True)
def test_a_slow_portal_times_out_over_http(live_server, settings):
    faults.set(slow_seconds=1.5)
    settings.CCHC_DVCQG = {**CONFIG, "url": live_server.url + "/gia-lap-dvcqg/api/", "timeout": 5}
    with pytest.raises(NationalError) as exc:
        client.call("LayDanhSachTTHC", timeout=0.5)  # the login has the longer time-out
    assert exc.value.transient and exc.value.error_code == "timeout"
    assert "Cổng quốc gia: hết thời gian chờ" in exc.value.message
    faults.reset()
    time.sleep(1.2)  # let the server finish the slow answer before the next call
    assert client.call("LayDanhSachTTHC", timeout=5) == []


# --- Page and command ----------------------------------------------------------------------
def test_the_page_shows_dossiers_steps_inbound_calls_and_faults(django_client, catalogue):
    sync(dossier())
    client.call("CapNhatTienDoHoSoMC", [step(at=vn(), state="9")], key="ev-2")
    client.call("CapNhatTienDoHoSoMC", [step(at=vn(hours_ago=2))], key="ev-1")
    page = django_client.get("/gia-lap-dvcqg/").content.decode()
    assert "H24.01-261207-0001" in page and "Sai thứ tự" in page and "data-out-of-order" in page
    assert 'data-service="CapNhatTienDoHoSoMC" data-outcome="ok"' in page
    response = django_client.post(
        "/gia-lap-dvcqg/nop-ho-so/",
        {"procedure": "1.001193", "applicant": "Võ Thị Giang", "phone": "0987654321"},
    )
    assert response.status_code == 302
    row = SimInbound.objects.get()
    assert row.body["ChuHoSo"] == "Võ Thị Giang"
    page = django_client.get("/gia-lap-dvcqg/").content.decode()
    assert row.ma_ho_so_qg in page and "Võ Thị Giang" not in page  # the name is masked
    django_client.post(
        "/gia-lap-dvcqg/loi-gia-lap/",
        {
            "fail_rate": "0.25",
            "lost_answer_rate": "0",
            "slow_seconds": "0",
            "seed": "9",
            "shuffle_inbound": "on",
        },
    )
    f = faults.current()
    assert f.fail_rate == 0.25 and f.shuffle_inbound and not f.duplicate_inbound and f.seed == 9
    django_client.post("/gia-lap-dvcqg/loi-gia-lap/", {"fail_rate": "7"})
    assert faults.current().fail_rate == 0.25  # refused, unchanged


def test_the_command_seeds_submits_and_shows(catalogue):
    out = StringIO()
    call_command("nationalsim", "seed", "--publish", "2026-Q3", "--json", stdout=out)
    seeded = json.loads(out.getvalue())
    assert seeded["new"] == seeding.NEW_PROCEDURE and seeded["published"]["Ky"] == "2026-Q3"
    assert SimProcedure.objects.filter(withdrawn=True).count() == 1
    out = StringIO()
    call_command("nationalsim", "submit", "1.001193", "Đỗ Văn Hải", "--json", stdout=out)
    qg = json.loads(out.getvalue())["MaHoSoQG"]
    out = StringIO()
    call_command("nationalsim", "show", "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert [i["MaHoSoQG"] for i in shown["inbound"]] == [qg]
    assert "Đỗ Văn Hải" not in out.getvalue()
    out = StringIO()
    call_command("nationalsim", "show", stdout=out)
    assert "1/1 hồ sơ nộp trên Cổng chờ lấy" in out.getvalue()


@override_settings(CCHC_DVCQG_SIMULATOR=False)
def test_the_command_is_refused_when_the_simulator_is_off():
    with pytest.raises(CommandError, match="không bật"):
        call_command("nationalsim", "show")


@pytest.fixture
def django_client(client):
    """pytest-django's test client (the module's `client` is the national client)."""
    return client
