"""The periodic report as a job: the POST checks and queues (303 to the request's page), the
worker makes the file in the requester's name, only the requester downloads it, a double
POST makes one request, a right lost before the job runs fails it, and old files are
pruned. Queued jobs run in-process (CCHC_JOBS_SYNC) once the request's transaction
commits: `django_capture_on_commit_callbacks(execute=True)` stands for that commit."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from cchc.accounts.models import RoleAssignment
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.accounts.services import revoke_role
from cchc.audit.models import AuditEntry
from cchc.reports import jobs
from cchc.reports.models import ReportRequest, RequestState
from tests.factories import make_user

pytestmark = pytest.mark.django_db
URL = "/chi-so/bao-cao/"
FORM = {"period": "2024-Q2", "date": "2024-07-05"}


def request_of(response) -> ReportRequest:
    """The request a 303 from the form points at."""
    assert response.status_code == 303, response.content.decode()[:500]
    pk = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert response["Location"] == reverse("reports:request", args=[pk])
    return ReportRequest.objects.get(pk=pk)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_post_queues_and_the_worker_makes_the_word_file(
    data, client, django_capture_on_commit_callbacks, private_files
):
    client.force_login(data.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(URL, {**FORM, "issuer": "24", "format": "docx", "number": "125"})
    req = request_of(posted)
    assert req.state == RequestState.DONE, (req.state, req.error)
    assert req.requested_by == data.supervisor and req.attempts == 1 and not req.error
    assert req.filename == "bao-cao-cchc-2024-q2-24.docx" and req.size and len(req.sha256) == 64
    stored = Path(private_files) / req.file
    assert stored.is_file() and stored.parent.parent.parent == Path(private_files) / "reports"
    assert jobs.file_digest(stored) == req.sha256

    page = client.get(posted["Location"])
    text = page.content.decode()
    assert page.status_code == 200 and "Đã lập xong" in text
    assert 'http-equiv="refresh"' not in text  # finished: no more reloading
    download = reverse("reports:download", args=[req.pk])
    assert f'href="{download}"' in text
    got = client.get(download)
    assert got.status_code == 200
    assert got["Content-Disposition"] == 'attachment; filename="bao-cao-cchc-2024-q2-24.docx"'
    assert got["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.word")
    content = body(got)
    assert content[:2] == b"PK" and content == stored.read_bytes()

    # the audit: the request (in the request's transaction) and the generation (as before)
    asked = AuditEntry.objects.get(action="reports.periodic.requested")
    assert asked.actor == data.supervisor and asked.data["number"] == "125"
    made = AuditEntry.objects.get(action="reports.periodic.generated")
    assert made.actor == data.supervisor and made.data["files"] == {req.filename: req.sha256}
    assert made.data["number"] == "125/BC-UBND"

    # the form lists the request, with its state and the download
    form = client.get(URL).content.decode()
    assert "Báo cáo bạn yêu cầu gần đây" in form and f'href="{download}"' in form


def test_the_pdf_is_only_the_requesters(data, client, django_capture_on_commit_callbacks):
    client.force_login(data.justice_leader)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(URL, {**FORM, "issuer": data.justice.code, "format": "pdf"})
    req = request_of(posted)
    assert req.state == RequestState.DONE, (req.state, req.error)
    page, download = posted["Location"], reverse("reports:download", args=[req.pk])
    got = client.get(download)
    assert got["Content-Type"] == "application/pdf" and body(got)[:4] == b"%PDF"

    # anyone else: the request does not exist (a supervisor who could see the figures too)
    for other in (data.supervisor, data.construction_leader):
        client.force_login(other)
        assert client.get(page).status_code == 404
        assert client.get(download).status_code == 404
        assert f'href="{page}"' not in client.get(URL).content.decode()
    client.logout()
    assert client.get(download).status_code == 302  # to the sign-in page


def test_a_double_post_makes_one_request(data, client, django_capture_on_commit_callbacks):
    client.force_login(data.justice_leader)
    form = {**FORM, "issuer": data.justice.code, "format": "xlsx"}
    with django_capture_on_commit_callbacks() as queued:  # the worker has not run yet
        first = request_of(client.post(URL, form))
        second = request_of(client.post(URL, {**form, "issuer": f" {data.justice.code} "}))
    assert first.pk == second.pk and len(queued) == 1
    assert ReportRequest.objects.count() == 1
    assert AuditEntry.objects.filter(action="reports.periodic.requested").count() == 1

    page = client.get(reverse("reports:request", args=[first.pk])).content.decode()
    assert "Đang chờ xử lý" in page and '<meta http-equiv="refresh" content="3">' in page
    assert f'href="{reverse("reports:download", args=[first.pk])}"' not in page
    assert client.get(reverse("reports:download", args=[first.pk])).status_code == 404

    # other parameters make another request
    with django_capture_on_commit_callbacks() as other:
        third = request_of(client.post(URL, {**form, "number": "7"}))
    assert third.pk != first.pk and len(other) == 1

    # once the first is done, the same parameters make a new report (fresh figures)
    for callback in queued:
        callback()
    first.refresh_from_db()
    assert first.state == RequestState.DONE, first.error
    with django_capture_on_commit_callbacks() as again:
        fourth = request_of(client.post(URL, form))
    assert fourth.pk not in (first.pk, third.pk) and len(again) == 1


def test_a_right_lost_before_the_job_runs_fails_the_request(
    data, client, django_capture_on_commit_callbacks, private_files
):
    client.force_login(data.justice_leader)
    with django_capture_on_commit_callbacks() as queued:
        req = request_of(client.post(URL, {**FORM, "issuer": data.justice.code, "format": "docx"}))
    for assignment in RoleAssignment.objects.filter(user=data.justice_leader, active=True):
        revoke_role(SYSTEM, assignment, now=timezone.now())
    for callback in queued:
        callback()  # the worker picks the job up now
    req.refresh_from_db()
    assert req.state == RequestState.FAILED and req.finished_at is not None
    assert req.error == "Bạn không có quyền xem chỉ tiêu, chỉ số CCHC."
    assert not req.file and not (Path(private_files) / "reports").exists()
    assert not AuditEntry.objects.filter(action="reports.periodic.generated").exists()
    failed = AuditEntry.objects.get(action="reports.periodic.failed")
    assert failed.actor == data.justice_leader and failed.data["message"] == req.error
    # without the right the user sees neither the request nor a file
    assert client.get(reverse("reports:download", args=[req.pk])).status_code == 404
    assert jobs.run_request(req.pk) == {"skipped": 1}  # the queue handing it out again
    # administrators see the failed request and its reason (read-only)
    client.force_login(make_user(Role.ADMINISTRATOR, now=timezone.now()))
    listing = client.get(reverse("admin:reports_reportrequest_changelist"))
    assert listing.status_code == 200 and req.error in listing.content.decode()
    change = reverse("admin:reports_reportrequest_change", args=[req.pk])
    assert client.post(change, {"state": "done"}).status_code == 403


def test_bad_inputs_get_the_same_form_errors_and_nothing_is_queued(data, client):
    client.force_login(data.supervisor)
    cases = [
        ({"period": "2024-Q9"}, 400, "Kỳ báo cáo &#x27;2024-Q9&#x27; không hợp lệ"),
        ({"format": "odt"}, 400, "Định dạng &#x27;odt&#x27; không hợp lệ"),
        ({"date": "5/7/2024"}, 400, "Ngày báo cáo &#x27;5/7/2024&#x27; không hợp lệ"),
        ({"period": "2030-Q1"}, 400, "chưa bắt đầu"),
        ({"issuer": "99.99"}, 404, "Không tìm thấy cơ quan (mã định danh)"),
        ({"number": "9" * 61}, 400, "Số báo cáo quá dài"),
    ]
    for change, status, message in cases:
        response = client.post(URL, {**FORM, "issuer": "24", "format": "docx", **change})
        assert response.status_code == status, (change, response.status_code)
        assert message in response.content.decode(), change
        assert 'name="period"' in response.content.decode()  # the form again, filled in
    client.force_login(data.construction_leader)
    denied = client.post(URL, {**FORM, "issuer": "24", "format": "docx"})
    assert denied.status_code == 403 and "chỉ tiêu" in denied.content.decode()
    assert not ReportRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="reports.periodic").exists()


def test_a_request_left_running_by_a_dead_worker_is_interrupted_and_made_again(
    data, client, django_capture_on_commit_callbacks
):
    client.force_login(data.justice_leader)
    form = {**FORM, "issuer": data.justice.code, "format": "xlsx"}
    with django_capture_on_commit_callbacks():
        req = request_of(client.post(URL, form))
    # a worker took it and was killed: "running", and nobody holds its lock
    ReportRequest.objects.filter(pk=req.pk).update(state=RequestState.RUNNING)
    page = client.get(reverse("reports:request", args=[req.pk])).content.decode()
    assert "Bị gián đoạn" in page and "Hãy lập lại báo cáo" in page
    assert 'http-equiv="refresh"' not in page
    # asking again does not reuse the dead request
    with django_capture_on_commit_callbacks(execute=True):
        again = request_of(client.post(URL, form))
    again.refresh_from_db()  # the job ran when the request committed
    assert again.pk != req.pk and again.state == RequestState.DONE, again.error
    req.refresh_from_db()
    assert req.state == RequestState.FAILED and req.error == jobs.INTERRUPTED
    # the queue handing the dead job out again after its time-out starts it over
    other = jobs.ask(
        data.justice_leader,
        period="2024-Q2",
        issuer=data.justice.code,
        format="pdf",
        number="",
        issue_date=dt.date(2024, 7, 5),
    )
    ReportRequest.objects.filter(pk=other.pk).update(state=RequestState.RUNNING, attempts=1)
    counts = jobs.run_request(other.pk)
    assert counts["done"] == 1 and counts["bytes"] > 1000
    other.refresh_from_db()
    assert other.state == RequestState.DONE and other.attempts == 2


def test_a_file_that_cannot_be_stored_fails_cleanly(
    data, client, django_capture_on_commit_callbacks, settings, tmp_path
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker  # the file store is unusable (full, read-only, a file)
    client.force_login(data.justice_leader)
    with django_capture_on_commit_callbacks(execute=True):
        req = request_of(client.post(URL, {**FORM, "issuer": data.justice.code, "format": "xlsx"}))
    req.refresh_from_db()  # the job ran when the request committed
    assert req.state == RequestState.FAILED and req.error == jobs.NOT_STORED
    page = client.get(reverse("reports:request", args=[req.pk])).content.decode()
    assert jobs.NOT_STORED in page and "Traceback" not in page


def test_old_files_are_pruned(data, client, django_capture_on_commit_callbacks, private_files):
    client.force_login(data.justice_leader)
    with django_capture_on_commit_callbacks(execute=True):
        req = request_of(client.post(URL, {**FORM, "issuer": data.justice.code, "format": "xlsx"}))
    req.refresh_from_db()  # the job ran when the request committed
    stored = Path(private_files) / req.file
    assert stored.is_file()
    call_command("reports", "prune", "--days", "30", "--json")  # too recent: kept
    assert stored.is_file()
    finished = timezone.now() - dt.timedelta(days=31)
    ReportRequest.objects.filter(pk=req.pk).update(finished_at=finished)
    out = StringIO()
    call_command("reports", "prune", "--days", "30", "--json", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {
        "pruned": 1,
        "bytes": req.size,
    }
    assert not stored.exists()
    req.refresh_from_db()
    assert req.state == RequestState.DONE and req.file == ""
    assert client.get(reverse("reports:download", args=[req.pk])).status_code == 404
    page = client.get(reverse("reports:request", args=[req.pk])).content.decode()
    assert "không còn được lưu" in page
    entry = AuditEntry.objects.get(action="reports.periodic.file_pruned")
    assert entry.actor is None and entry.data["sha256"] == req.sha256
    with pytest.raises(CommandError) as caught:
        call_command("reports", "prune", "--days", "0")
    assert caught.value.returncode == 2 and "số ngày dương" in str(caught.value)
