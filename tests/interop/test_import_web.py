"""The web import page: preview first (nothing written), then import; refused rows listed."""

from __future__ import annotations

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
