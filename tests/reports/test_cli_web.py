"""`cchc report` (paths printed, exit codes and Vietnamese messages) and the "Báo cáo định
kỳ" page under the dashboard (permission, download, audit). The page's job machinery
(queue, states, reuse, stored files) is tested in test_report_jobs.py."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cchc.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
ARGS = ["--as-of", "2024-07-05T09:00", "--date", "2024-07-05"]


def run(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        call_command("report", *args)
    return caught.value


def test_command_writes_the_files_and_prints_their_paths(data, tmp_path, capsys):
    out = tmp_path / "bao-cao"
    call_command(
        "report",
        "--period",
        "2024-Q2",
        "--issuer",
        "24",
        "--out",
        str(out),
        "--format",
        "docx,xlsx",
        "--number",
        "125",
        *ARGS,
    )
    printed = capsys.readouterr().out.split()
    assert printed == [
        str(out / "bao-cao-cchc-2024-q2-24.docx"),
        str(out / "bao-cao-cchc-2024-q2-24.xlsx"),
    ]
    assert all((out / p).stat().st_size > 1000 for p in printed)
    entry = AuditEntry.objects.get(action="reports.periodic.generated")
    assert entry.actor is None and entry.actor_label == "hệ thống"
    assert entry.data["number"] == "125/BC-UBND" and entry.data["formats"] == ["docx", "xlsx"]


def test_command_errors_are_vietnamese_with_exit_codes(data, tmp_path):
    out = str(tmp_path)
    err = run("--period", "2024-Q5", "--issuer", "24", "--out", out, *ARGS)
    assert err.returncode == 2 and "Kỳ báo cáo '2024-Q5' không hợp lệ" in str(err)
    err = run("--period", "2024-Q2", "--issuer", "99.99", "--out", out, *ARGS)
    assert err.returncode == 4
    assert str(err) == (
        "Không tìm thấy cơ quan (mã định danh) hoặc đơn vị hành chính (mã ĐVHC) có mã '99.99'."
    )
    err = run("--period", "2024-Q2", "--issuer", "24", "--out", out, "--format", "odt", *ARGS)
    assert err.returncode == 2 and "Định dạng 'odt' không hợp lệ" in str(err)
    err = run("--period", "2024-Q2", "--issuer", "24", "--out", out, "--date", "5/7/2024")
    assert err.returncode == 2 and "Ngày báo cáo '5/7/2024' không hợp lệ" in str(err)
    err = run("--period", "2024-Q2", "--issuer", "24", "--out", out, "--as-of", "hôm qua")
    assert err.returncode == 2 and "Không đọc được thời điểm" in str(err)
    err = run("--period", "2024-Q2", "--issuer", "24", "--out", out, "--user", "khong-co", *ARGS)
    assert err.returncode == 4 and "Không có người dùng 'khong-co'" in str(err)
    err = run("--period", "2030-Q1", "--issuer", "24", "--out", out)
    assert err.returncode == 2 and "chưa bắt đầu" in str(err)
    # a leader of Sở Xây dựng may not report for the whole province
    user = data.construction_leader.username
    err = run("--period", "2024-Q2", "--issuer", "24", "--out", out, "--user", user, *ARGS)
    assert err.returncode == 3 and "chỉ tiêu" in str(err)
    assert not list(tmp_path.iterdir())  # nothing written on any error
    assert not AuditEntry.objects.filter(action="reports.periodic.generated").exists()


def test_page_needs_indicator_rights(data, client):
    url = reverse("reports:periodic")
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/dang-nhap/" in anonymous["Location"]
    client.force_login(data.officer)  # a processing officer: no indicator.view
    assert client.get(url).status_code == 403
    response = client.post(url, {"period": "2024-Q2", "issuer": "24", "format": "pdf"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="reports.periodic.generated").exists()


def _request_id(response) -> int:
    """The request id in the 303 to the request's page."""
    return int(response["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_leader_downloads_own_agency_but_not_the_province(
    data, client, django_capture_on_commit_callbacks
):
    url = reverse("reports:periodic")
    client.force_login(data.justice_leader)
    page = client.get(url, {"period": "2024-Q2", "issuer": data.justice.code}).content.decode()
    assert "Báo cáo định kỳ kết quả công tác cải cách hành chính" in page
    assert f'value="{data.justice.code}" selected' in page
    assert 'value="24"' not in page  # the province is not theirs to report for
    form = {"period": "2024-Q2", "format": "xlsx", "date": "2024-07-05"}
    denied = client.post(url, {**form, "issuer": "24"})
    assert denied.status_code == 403 and "chỉ tiêu" in denied.content.decode()
    other = client.post(url, {**form, "issuer": data.construction.code})
    assert other.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):  # the queued job runs at once
        posted = client.post(url, {**form, "issuer": data.justice.code})
    assert posted.status_code == 303
    ok = client.get(reverse("reports:download", args=[_request_id(posted)]))
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheet"
    )
    assert ok["Content-Disposition"] == (
        'attachment; filename="bao-cao-cchc-2024-q2-000-00-03-h06.xlsx"'
    )
    assert b"".join(ok.streaming_content)[:2] == b"PK"
    entry = AuditEntry.objects.get(action="reports.periodic.generated")
    assert entry.actor == data.justice_leader and entry.agency_id == data.justice.pk
    assert entry.data["formats"] == ["xlsx"] and entry.data["issuer"] == data.justice.code


def test_supervisor_downloads_the_province_report_as_word(
    data, client, django_capture_on_commit_callbacks
):
    url = reverse("reports:periodic")
    client.force_login(data.supervisor)
    page = client.get(url).content.decode()
    assert 'value="24"' in page and "Tỉnh Bắc Giang" in page
    with django_capture_on_commit_callbacks(execute=True):  # the queued job runs at once
        posted = client.post(
            url, {"period": "2024-Q2", "issuer": "24", "format": "docx", "date": "2024-07-05"}
        )
    assert posted.status_code == 303
    response = client.get(reverse("reports:download", args=[_request_id(posted)]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('bao-cao-cchc-2024-q2-24.docx"')
    bad = client.post(url, {"period": "2024-Q9", "issuer": "24", "format": "docx"})
    assert bad.status_code == 400 and "Kỳ báo cáo &#x27;2024-Q9&#x27; không hợp lệ" in (
        bad.content.decode()
    )
    dashboard = client.get(reverse("dashboard:overview"), {"period": "2024-Q2"}).content.decode()
    assert f'href="{url}?period=2024-Q2' in dashboard and "Báo cáo định kỳ" in dashboard


def test_the_form_opens_on_the_report_being_written(data, client):
    """Not the year's first quarter in December: the period whose report is due now."""
    from django.utils import timezone

    from cchc.indicators import periods

    client.force_login(data.supervisor)
    page = client.get(reverse("reports:periodic")).content.decode()
    due = periods.report_due(timezone.localdate()).code
    assert f'value="{due}" selected' in page
