"""The auditor's log (issue 17, item 8): Vietnamese labels, a refused attempt named as such,
filters by date range, dossier code, agency and person, and the CSV/XLSX export of the
filtered list — masked as the page is, neutralised, audited, refused without the right."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import transaction
from django.urls import reverse

from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.audit.models import AuditEntry
from cchc.dossiers import services
from cchc.errors import DomainError
from cchc.portal import services as portal
from tests.conftest import VN
from tests.dossiers.conftest import build_world

pytestmark = pytest.mark.django_db

URL = reverse("web:audit")
PHONE = "0987001122"


@pytest.fixture
def world(org, now):
    return build_world(now, org)


@pytest.fixture
def log_data(world, now):
    """Two dossiers received on different days, a refused attempt on the first, a citizen
    who registered with a phone number, a failed sign-in with a formula as user name."""
    first = world.intake(at=now - dt.timedelta(days=10))
    second = world.intake(at=now - dt.timedelta(days=2))
    with pytest.raises(DomainError):
        services.act(world.officer, first, "approve", now=now - dt.timedelta(days=9))
    citizen = portal.register_citizen(
        portal.Registration(
            full_name="Phạm Thị Lan", identifier=PHONE, password="mat-khau-rat-dai-123"
        ),
        now=now - dt.timedelta(days=1),
    )
    with transaction.atomic():  # a citizen mistypes their password: the name is their phone
        entry = log.entry_for(
            "auth.login_failed",
            actor=None,
            data={"ip": "203.0.113.9"},
            at=now - dt.timedelta(days=1),
        )
        entry.actor_label = "0911222333"
        entry.save()
    return first, second, citizen


@pytest.fixture
def auditor(client, make_user):
    user = make_user(Role.AUDITOR)
    client.force_login(user)
    return user


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def body(response) -> str:
    """The page's messages and the log's table (not the filter form's suggestions)."""
    text = page_text(response)
    return text.split("<main", 1)[1].split("<form", 1)[0] + text.split("<tbody>", 1)[1]


def test_codes_read_as_vietnamese_and_a_refused_attempt_is_named(client, log_data, auditor):
    page = body(client.get(URL, {"nhom": "bi-tu-choi"}))
    assert "Thao tác bị từ chối (hồ sơ)" in page and "Bị từ chối" in page
    assert '<code class="muted">dossier.refused</code>' in page
    assert "Hồ sơ: Tiếp nhận hồ sơ" not in page  # the group keeps only refusals
    page = body(client.get(URL, {"ma_ho_so": log_data[0].code}))
    assert "Hồ sơ: Tiếp nhận hồ sơ" in page


def test_date_range_typed_either_way(client, log_data, auditor, now):
    first, second, _ = log_data
    day = (now - dt.timedelta(days=2)).date()
    for start in (f"{day:%d/%m/%Y}", day.isoformat()):
        page = body(client.get(URL, {"tu_ngay": start, "den_ngay": f"{day:%d/%m/%Y}"}))
        assert second.code in page and first.code not in page
    page = body(client.get(URL, {"den_ngay": f"{now - dt.timedelta(days=9):%d/%m/%Y}"}))
    assert first.code in page and second.code not in page


def test_bad_dates_get_a_vietnamese_message_not_an_error(client, log_data, auditor):
    page = body(client.get(URL, {"tu_ngay": "31/02/2024"}))
    assert "Từ ngày «31/02/2024» không phải là ngày hợp lệ" in page
    page = body(client.get(URL, {"tu_ngay": "hôm qua", "den_ngay": "2024-13-01"}))
    assert "Từ ngày «hôm qua»" in page and "Đến ngày «2024-13-01»" in page
    page = body(client.get(URL, {"tu_ngay": "10/06/2024", "den_ngay": "01/06/2024"}))
    assert "Từ ngày 10/06/2024 sau đến ngày 01/06/2024" in page
    page = body(client.get(URL, {"co_quan": "abc"}))
    assert "Cơ quan không hợp lệ" in page


def test_dossier_code_full_or_tail(client, log_data, auditor):
    first, second, _ = log_data
    page = body(client.get(URL, {"ma_ho_so": first.code}))
    assert first.code in page and second.code not in page
    assert "org.agency.created" not in page
    tail = first.code.rsplit("-", 2)[-2] + "-" + first.code.rsplit("-", 1)[-1]
    page = body(client.get(URL, {"ma_ho_so": tail}))
    assert first.code in page and second.code not in page
    page = body(client.get(URL, {"ma_ho_so": "KHONG-CO"}))
    assert "Không có hồ sơ nào mã «KHONG-CO»" in page


def test_agency_person_and_account(client, world, log_data, auditor):
    first = log_data[0]
    page = body(client.get(URL, {"co_quan": world.org.justice.pk}))
    assert first.code in page  # the dossier's events carry its agency
    assert "Sắp xếp đơn vị hành chính" not in page
    page = body(client.get(URL, {"nguoi": "Phạm Thị Lan"}))
    assert "Công dân đăng ký tài khoản" in page and first.code not in page
    page = body(client.get(URL, {"nguoi": world.officer.username}))
    assert "Thao tác bị từ chối (hồ sơ)" in page and "Công dân đăng ký tài khoản" not in page
    page = body(client.get(URL, {"nguoi": "không ai tên này"}))
    assert "Không có người dùng nào" in page
    page = body(client.get(URL, {"tai_khoan": world.desk_officer.username}))
    assert "Hồ sơ: Tiếp nhận hồ sơ" in page and "Thao tác bị từ chối" not in page


def test_the_page_masks_a_citizens_personal_data(client, log_data, auditor):
    page = body(client.get(URL, {"nguoi": "Phạm Thị Lan"}))
    assert PHONE not in page and "*******122" in page
    assert "Phạm Thị Lan" not in page and "P*** T*** L***" in page


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw)))


def test_csv_export_of_the_filtered_list_is_masked_neutralised_and_audited(
    client, log_data, auditor, now
):
    day = now - dt.timedelta(days=1)
    response = client.get(URL, {"tu_ngay": f"{day:%d/%m/%Y}", "xuat": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="nhat-ky-')
    assert response["Cache-Control"] == "no-store"
    rows = _csv(response)
    assert rows[0][:4] == ["Thời điểm", "Tài khoản", "Mã hành động", "Hành động"]
    actions = [r[2] for r in rows[1:]]
    assert "auth.login_failed" in actions and "dossier.receive" not in actions
    failed = next(r for r in rows if r[2] == "auth.login_failed")
    assert failed[3].startswith("Đăng nhập không thành công")
    text = "\n".join(",".join(r) for r in rows)
    assert PHONE not in text and "*******122" in text and "Phạm Thị Lan" not in text
    assert "0911222333" not in text and "*******333" in text
    assert all(not cell.startswith("=") for r in rows for cell in r)
    entry = AuditEntry.objects.filter(action="export.audit").get()
    assert entry.actor == auditor and entry.data["format"] == "csv"
    assert entry.data["rows"] == len(rows) - 1 and entry.data["complete"] is True
    assert entry.data["filters"] == {"tu_ngay": f"{day:%d/%m/%Y}"}


def test_a_formula_typed_as_a_user_name_is_neutralised(client, world, auditor, now):
    with transaction.atomic():
        entry = log.entry_for("auth.login_failed", actor=None, data={"ip": "203.0.113.9"}, at=now)
        entry.actor_label = '=HYPERLINK("http://x","y")'
        entry.save()
    rows = _csv(client.get(URL, {"nhom": "dang-nhap", "xuat": "csv"}))
    cells = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x","y")' in cells


def test_xlsx_export_opens_and_is_masked_and_audited(client, log_data, auditor):
    from openpyxl import load_workbook

    response = client.get(URL, {"nguoi": "Phạm Thị Lan", "xuat": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = [[c for c in row] for row in book.active.iter_rows(values_only=True)]
    assert values[0][3] == "Hành động"
    assert any(row[3] == "Công dân đăng ký tài khoản" for row in values[1:])
    assert isinstance(values[1][0], dt.datetime)
    flat = " ".join(str(c) for row in values for c in row if c is not None)
    assert PHONE not in flat and "Phạm Thị Lan" not in flat and "P*** T*** L***" in flat
    entry = AuditEntry.objects.filter(action="export.audit").get()
    assert entry.data["format"] == "xlsx" and entry.data["rows"] == len(values) - 1


def test_export_is_refused_without_the_right_and_a_bad_format_explained(
    client, world, log_data, auditor
):
    assert "export.audit" not in body(client.get(URL))
    response = client.get(URL, {"xuat": "pdf"}, follow=True)
    assert "Định dạng «pdf» không hỗ trợ" in body(response)
    for user in (world.leader, world.supervisor, world.desk_officer, world.citizen):
        client.force_login(user)
        assert client.get(URL, {"xuat": "csv"}).status_code == 403
    assert not AuditEntry.objects.filter(action="export.audit").exists()


def test_query_count_does_not_grow_with_the_log(
    client, world, auditor, django_assert_max_num_queries, now
):
    def add(n: int) -> None:
        with transaction.atomic():
            for i in range(n):
                log.record("dossier.refused", actor=world.officer, data={"i": i}, at=now)

    add(5)
    with django_assert_max_num_queries(12) as few:
        body(client.get(URL, {"nhom": "bi-tu-choi"}))
    add(80)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body(client.get(URL, {"nhom": "bi-tu-choi", "trang": "2"}))
    with django_assert_max_num_queries(len(few.captured_queries) + 3):
        _csv(client.get(URL, {"nhom": "bi-tu-choi", "xuat": "csv"}))


def test_times_and_days_are_vietnamese_days(client, world, auditor):
    late = dt.datetime(2024, 6, 3, 23, 30, tzinfo=VN)  # 16:30 UTC: still 3 June in Hà Nội
    with transaction.atomic():
        log.record("backup.created", actor=None, data={}, at=late)
    page = body(client.get(URL, {"tu_ngay": "03/06/2024", "den_ngay": "03/06/2024"}))
    assert "Sao lưu dữ liệu" in page
    page = body(client.get(URL, {"tu_ngay": "04/06/2024", "den_ngay": "04/06/2024"}))
    assert "Sao lưu dữ liệu" not in page
