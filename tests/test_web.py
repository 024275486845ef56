"""The base web layout: login, per-role home pages, navigation, errors, throttling."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cchc.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/dang-nhap/")
    page = client.get(response["Location"]).content.decode()
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "Tên đăng nhập" in page


def test_pages_are_utf8_with_composed_vietnamese(client, org, make_user):
    client.force_login(make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024))
    response = client.get("/")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.content.decode("utf-8")
    assert "Quản lý danh mục thủ tục" in text
    import unicodedata

    assert unicodedata.normalize("NFC", text) == text


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        (Role.DESK_OFFICER, "Tra cứu thủ tục và thành phần hồ sơ", "Nhật ký"),
        (Role.AGENCY_LEADER, "Cập nhật thông tin và người đứng đầu", "Nhập danh mục"),
        (Role.AUDITOR, "Xem nhật ký hệ thống (chỉ đọc)", "Nhập danh mục"),
        (Role.ADMINISTRATOR, "Quản trị người dùng", "chưa được giao vai trò"),
    ],
)
def test_home_page_tells_each_role_what_it_can_do(client, org, make_user, role, expected, absent):
    scope = {"agency": org.justice} if role in (Role.DESK_OFFICER, Role.AGENCY_LEADER) else {}
    client.force_login(make_user(role, **scope))
    page = client.get("/").content.decode()
    assert expected in page
    assert absent not in page


def test_user_without_role_is_told_so(client, org, make_user):
    client.force_login(make_user(""))
    assert "chưa được giao vai trò" in client.get("/").content.decode()


def test_navigation_shows_only_permitted_pages(client, org, make_user):
    client.force_login(make_user(Role.PROCESSING_OFFICER, agency=org.justice))
    page = client.get("/").content.decode()
    assert 'href="/thu-tuc/"' in page and 'href="/nhat-ky/"' not in page
    assert 'href="/admin/"' not in page


def test_login_logout_roundtrip(client, org, make_user):
    user = make_user(Role.DESK_OFFICER, agency=org.justice, password="mat-khau-dai-123")
    response = client.post(
        reverse("web:login"), {"username": user.username, "password": "mat-khau-dai-123"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_login_is_throttled_after_repeated_failures(client, org, make_user, settings):
    user = make_user(Role.DESK_OFFICER, agency=org.justice, password="mat-khau-dai-123")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        failed = client.post(reverse("web:login"), {"username": user.username, "password": "sai"})
        assert "không đúng" in failed.content.decode()
    last = client.post(reverse("web:login"), {"username": user.username, "password": "sai"})
    assert last.status_code == 429
    # Locked: even the right password is refused until the cool-off ends.
    locked = client.post(
        reverse("web:login"), {"username": user.username, "password": "mat-khau-dai-123"}
    )
    assert locked.status_code == 429
    assert "tạm thời bị khóa" in locked.content.decode()


def test_error_pages_are_vietnamese(client, org, make_user):
    client.force_login(make_user(Role.DESK_OFFICER, agency=org.justice))
    missing = client.get("/thu-tuc/khong-ton-tai/")
    assert missing.status_code == 404
    assert "Không tìm thấy" in missing.content.decode()


def test_unit_pages_show_history_and_successor(client, org, make_user):
    client.force_login(make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024))
    listing = client.get(reverse("web:units") + "?ngay=2024-06-01").content.decode()
    assert "Phường Trần Phú" in listing and "Phường Bắc Giang" not in listing
    detail = client.get(reverse("web:unit", args=[org.tran_phu.pk])).content.decode()
    assert "Sắp xếp vào" in detail and "Phường Bắc Giang" in detail


def test_procedure_pages(client, org, make_user, now):
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import ProcedureImporter
    from tests.test_catalog_import import GOOD_ROWS, csv_bytes

    ProcedureImporter().run(csv_bytes(GOOD_ROWS), actor=SYSTEM, now=now, filename="a.csv")
    client.force_login(make_user(Role.DESK_OFFICER, agency=org.justice))
    listing = client.get(reverse("web:procedures") + "?q=giay+phep").content.decode()
    assert "Cấp giấy phép xây dựng nhà ở riêng lẻ" in listing
    assert "Thủ tục đăng ký khai sinh" not in listing
    detail = client.get(reverse("web:procedure", args=["1.000894"])).content.decode()
    assert "Thẩm định — 13 ngày làm việc" in detail and "75.000 đ" in detail


def test_import_page_previews_then_imports(client, org, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cchc.catalog.models import Procedure
    from tests.test_catalog_import import GOOD_ROWS, csv_bytes, row

    client.force_login(make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024))
    data = csv_bytes([*GOOD_ROWS, row(**{"Mã TTHC": ""})])
    preview = client.post(
        reverse("web:procedure_import"),
        {"file": SimpleUploadedFile("tthc.csv", data), "dry_run": "on"},
    ).content.decode()
    assert "chưa ghi dữ liệu" in preview and "cột &#x27;Mã TTHC&#x27; bị trống" in preview
    assert not Procedure.objects.exists()
    done = client.post(
        reverse("web:procedure_import"), {"file": SimpleUploadedFile("tthc.csv", data)}
    ).content.decode()
    assert "Kết quả nhập" in done
    assert Procedure.objects.count() == 3
    wrong = client.post(
        reverse("web:procedure_import"), {"file": SimpleUploadedFile("tthc.pdf", b"%PDF")}
    ).content.decode()
    assert "Chỉ nhận tệp .csv hoặc .xlsx" in wrong
