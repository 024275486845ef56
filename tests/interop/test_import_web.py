"""The web import page: preview first (nothing written), then import; refused rows listed."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cchc.accounts.roles import Role
from cchc.dossiers.models import Dossier
from cchc.interop.models import ImportRun

from .test_import_dossiers import MESSY, province  # noqa: F401 - fixture

URL = "/nhap-du-lieu/ho-so/"


def upload(name: str = "xuat-igate.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MESSY.read_bytes(), content_type="text/csv")


def test_preview_then_import(client, province, make_user):  # noqa: F811
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Mẫu chuẩn" in page.content.decode() and "Ngày hẹn trả" in page.content.decode()

    preview = client.post(URL, {"file": upload(), "source": "iGate", "action": "preview"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Xem trước: xuat-igate.csv" in html
    assert "Sẽ thêm mới: <strong>5</strong>" in html and "Bị từ chối: <strong>8</strong>" in html
    assert "mã TTHC &#x27;9.999999&#x27; không có trong danh mục thủ tục" in html
    assert "BG-2404-001" in html  # the sample of parsed rows
    assert not Dossier.objects.exists()

    token = client.session["cchc.import.dossiers"]["token"]
    done = client.post(URL, {"action": "confirm", "token": token})
    assert done.status_code == 302
    run = ImportRun.objects.get()
    assert done["Location"] == f"/nhap-du-lieu/ho-so/lan-nhap/{run.pk}/"
    assert Dossier.objects.filter(source="iGate").count() == 5
    result = client.get(done["Location"]).content.decode()
    assert "Thêm mới: <strong>5</strong>" in result and "thiếu Ngày tiếp nhận" in result
    rejected = client.get(done["Location"] + "?tai=csv")
    assert rejected["Content-Type"].startswith("text/csv")
    text = rejected.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "Dòng,Mã hồ sơ,Lý do" and len(text.splitlines()) == 9

    # The same token cannot import twice.
    again = client.post(URL, {"action": "confirm", "token": token})
    assert "Phiên xem trước đã hết" in again.content.decode()
    assert Dossier.objects.count() == 5


def test_wrong_file_type_and_missing_header_are_explained(client, province, make_user):  # noqa: F811
    client.force_login(make_user(Role.ADMINISTRATOR))
    page = client.post(URL, {"file": SimpleUploadedFile("x.pdf", b"%PDF"), "action": "preview"})
    assert "Chỉ nhận tệp .csv hoặc .xlsx." in page.content.decode()
    page = client.post(
        URL, {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n"), "action": "preview"}
    )
    assert "Không tìm thấy dòng tiêu đề" in page.content.decode()


def test_only_importers_see_the_page(client, province, make_user):  # noqa: F811
    from cchc.org.models import Agency

    officer = make_user(Role.PROCESSING_OFFICER, agency=Agency.objects.get(code="000.00.03.H06"))
    client.force_login(officer)
    assert client.get(URL).status_code == 403
    assert client.get("/nhap-du-lieu/ho-so/mau.csv").status_code == 403


@pytest.fixture(autouse=True)
def _jobs_run_at_once(monkeypatch):
    """The suite's CCHC_JOBS_SYNC, made sure of: django-q2 reads its configuration once, at
    import, which may come before tests/conftest.py sets the variable."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def _confirm(client, settings, tmp_path, callbacks_fixture, *, execute: bool):
    """Upload and preview the messy export with a low inline threshold, then confirm:
    the import is queued for the worker. Returns (response, captured callbacks)."""
    settings.CCHC_IMPORT_INLINE_ROWS = 5  # the file has 13 data rows: too many to wait for
    settings.CCHC_VAR_DIR = tmp_path
    preview = client.post(URL, {"file": upload(), "source": "iGate", "action": "preview"})
    assert "13 dòng: việc nhập chạy nền" in preview.content.decode()
    token = client.session["cchc.import.dossiers"]["token"]
    with callbacks_fixture(execute=execute) as callbacks:
        done = client.post(URL, {"action": "confirm", "token": token})
    assert done.status_code == 302
    return done, callbacks


def test_a_large_upload_runs_on_the_worker_and_its_page_shows_progress(
    client,
    province,  # noqa: F811
    make_user,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    from cchc.audit.models import AuditEntry

    client.force_login(make_user(Role.ADMINISTRATOR))
    done, callbacks = _confirm(
        client, settings, tmp_path, django_capture_on_commit_callbacks, execute=False
    )
    run = ImportRun.objects.get()
    assert done["Location"] == f"/nhap-du-lieu/ho-so/lan-nhap/{run.pk}/"
    # Recorded at once, queued, nothing written yet; its page says so and reloads itself.
    assert (run.state, run.total, run.rows) == ("queued", 13, 0)
    assert not Dossier.objects.exists()
    page = client.get(done["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "Trạng thái: <strong>Đang chờ xử lý</strong>" in page
    assert "Đã xử lý 0 / 13 dòng (0%)" in page and 'value="0"' in page
    stored = list((tmp_path / "imports").iterdir())
    assert len(stored) == 1  # the upload, kept for the worker

    # The worker's turn (CCHC_JOBS_SYNC: the queued job runs at once, in this process).
    assert len(callbacks) == 1
    callbacks[0]()
    run.refresh_from_db()
    assert (run.state, run.rows, run.created, run.rejected) == ("ok", 13, 5, 8)
    assert Dossier.objects.filter(source="iGate").count() == 5
    page = client.get(done["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "Trạng thái: <strong>Hoàn tất</strong>" in page
    assert "Đã xử lý 13 / 13 dòng (100%)" in page and "thiếu Ngày tiếp nhận" in page
    assert run.upload == {} and not list((tmp_path / "imports").iterdir())
    actions = list(
        AuditEntry.objects.filter(object_id=str(run.pk), action__startswith="dossier.import")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "dossier.import_queued",
        "dossier.import_started",
        "dossier.import",
        "dossier.import_finished",
    ]
    # Who may see the run: as before, only importers.
    from cchc.org.models import Agency

    officer = make_user(Role.PROCESSING_OFFICER, agency=Agency.objects.get(code="000.00.03.H06"))
    client.force_login(officer)
    assert client.get(done["Location"]).status_code == 403


def test_an_interrupted_worker_import_can_be_resumed(
    client,
    province,  # noqa: F811
    make_user,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    """A worker killed mid-way leaves its run "running" with nobody holding its lock: the
    page shows it interrupted and offers to resume, which queues a new run on the same
    stored upload; rows already written are found unchanged."""
    client.force_login(make_user(Role.ADMINISTRATOR))
    done, callbacks = _confirm(
        client, settings, tmp_path, django_capture_on_commit_callbacks, execute=False
    )
    run = ImportRun.objects.get()
    # What a killed worker leaves: the run started, its process gone.
    ImportRun.objects.filter(pk=run.pk).update(state="running", rows=7)
    page = client.get(done["Location"]).content.decode()
    assert "Trạng thái: <strong>Bị gián đoạn</strong>" in page
    assert 'http-equiv="refresh"' not in page and 'value="resume"' in page
    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(done["Location"], {"action": "resume"})
    assert resumed.status_code == 302
    old, new = ImportRun.objects.order_by("pk")
    assert resumed["Location"] == f"/nhap-du-lieu/ho-so/lan-nhap/{new.pk}/"
    assert (old.state, old.upload) == ("interrupted", {})
    assert (new.state, new.created, new.rows) == ("ok", 5, 13)
    # The original job, delivered late, finds its run no longer queued and does nothing.
    callbacks[0]()
    assert Dossier.objects.count() == 5 and ImportRun.objects.count() == 2


def test_a_job_handed_out_again_after_its_worker_died_carries_on(
    client,
    province,  # noqa: F811
    make_user,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    """The queue delivers a job again when the worker running it died: the job finds its
    run interrupted and carries on as a new run on the same upload."""
    from cchc.interop.dossiers import run_import

    client.force_login(make_user(Role.ADMINISTRATOR))
    _confirm(client, settings, tmp_path, django_capture_on_commit_callbacks, execute=False)
    run = ImportRun.objects.get()
    ImportRun.objects.filter(pk=run.pk).update(state="running", rows=7)  # worker killed
    with django_capture_on_commit_callbacks(execute=True):
        assert run_import(run.pk) == {"resumed": 1}
    old, new = ImportRun.objects.order_by("pk")
    assert (old.state, new.state, new.created) == ("interrupted", "ok", 5)
    assert run_import(old.pk) == {"skipped": 1} and run_import(new.pk) == {"skipped": 1}
    assert Dossier.objects.count() == 5
