"""The desk's intake form never loses work (issue 17, part "counter"): every field, tick,
count and uploaded file survives a validation error; one dossier per form; channels that
fit the counter; form 02 / form 03 issued at the counter instead of receiving."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse

from cchc.dossiers import files
from cchc.dossiers.models import Dossier, IntakeKey, State
from cchc.indicators.models import Cell
from tests.conftest import NOW

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """Web pages take "today" from the clock: pin it to the suite's Monday 03/06/2024."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def desk_client(client, world):
    client.force_login(world.desk_officer)
    return client


def _docs(world):
    return list(world.procedure.documents.order_by("pk"))


def _form(world, **changes):
    """A complete intake form for world.procedure, as the page posts it."""
    data = {
        "desk": world.desk.pk,
        "procedure": world.procedure.pk,
        "intake_key": "k" * 32,
        "kind": "person",
        "name": "Trần Văn Bình",
        "id_number": "024190001234",
        "address": "Số 1 đường Lê Lợi",
        "phone": "0912345678",
        "email": "binh@example.vn",
        "matter": "Cấp phiếu lý lịch tư pháp số 1",
        "sets": "1",
        "channel": "1",
        "return_channel": "desk",
        "outcome": "receive",
    }
    for doc in _docs(world):
        if doc.mandatory:
            data[f"doc_{doc.pk}_given"] = "1"
        data[f"doc_{doc.pk}_originals"] = str(doc.originals)
        data[f"doc_{doc.pk}_copies"] = str(doc.copies)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _url():
    return reverse("dossiers:intake")


def test_everything_typed_ticked_and_attached_survives_an_error(desk_client, world):
    form_doc, id_doc, proxy_doc = _docs(world)
    data = _form(
        world,
        name="",  # the error
        email="not-an-email",
        **{
            f"doc_{proxy_doc.pk}_given": "1",  # an optional document ticked
            f"doc_{proxy_doc.pk}_originals": "2",
            f"doc_{id_doc.pk}_copies": "3",
            f"doc_{form_doc.pk}_file": SimpleUploadedFile("to-khai.pdf", PDF),
        },
    )
    response = desk_client.post(_url(), data)
    assert response.status_code == 400
    page = response.content.decode()
    # The message says exactly what is wrong, field by field.
    assert "Họ tên người nộp / tên tổ chức:" in page
    assert "Thư điện tử:" in page
    # Every tick and count as typed.
    for doc in (form_doc, id_doc, proxy_doc):
        assert re.search(rf'name="doc_{doc.pk}_given" value="1"[^>]*checked', page)
    assert f'name="doc_{proxy_doc.pk}_originals" value="2"' in page
    assert f'name="doc_{id_doc.pk}_copies" value="3"' in page
    assert 'value="Số 1 đường Lê Lợi"' in page
    assert 'value="not-an-email"' in page
    # The file is kept as a pending upload, named, with a token and a way to drop it.
    assert "Đã tải lên: <strong>to-khai.pdf</strong>" in page
    token = re.search(rf'name="doc_{form_doc.pk}_pending" value="([^"]+)"', page).group(1)
    assert f'name="doc_{form_doc.pk}_drop" value="{token}"' in page
    assert not Dossier.objects.exists()

    # Fixed and sent again with the token only: received, the file is on the dossier.
    data.pop(f"doc_{form_doc.pk}_file")
    data.update({"name": "Trần Văn Bình", "email": "", f"doc_{form_doc.pk}_pending": token})
    response = desk_client.post(_url(), data)
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    assert response["Location"] == reverse("dossiers:detail", args=[dossier.code])
    assert dossier.state == State.RECEIVED
    component = dossier.components.get(document=form_doc)
    assert [f.name for f in component.files.all()] == ["to-khai.pdf"]
    assert component.digitised
    assert dossier.components.get(document=proxy_doc).originals == 2
    # "Reused" is derived (issue 21): no digitised paper was chosen, so none is reused.
    assert not dossier.components.get(document=id_doc).reused


def test_missing_documents_are_named_and_nothing_is_lost(desk_client, world):
    form_doc, id_doc, _ = _docs(world)
    response = desk_client.post(_url(), _form(world, **{f"doc_{id_doc.pk}_given": None}))
    assert response.status_code == 400
    page = response.content.decode()
    assert f"Thiếu «{id_doc.name}»." in page
    assert re.search(rf'name="doc_{form_doc.pk}_given" value="1"[^>]*checked', page)
    assert not re.search(rf'name="doc_{id_doc.pk}_given" value="1"[^>]*checked', page)
    assert 'value="Trần Văn Bình"' in page


def test_a_dropped_pending_file_is_not_used(desk_client, world):
    form_doc = _docs(world)[0]
    upload = files.check("cu.pdf", PDF)
    token = files.keep_pending(upload, user_id=world.desk_officer.pk).token
    data = _form(world, **{f"doc_{form_doc.pk}_pending": token, f"doc_{form_doc.pk}_drop": token})
    assert desk_client.post(_url(), data).status_code == 302
    assert not Dossier.objects.get().files.exists()


def test_another_officers_or_a_forged_token_is_refused(desk_client, world):
    form_doc = _docs(world)[0]
    theirs = files.keep_pending(files.check("x.pdf", PDF), user_id=world.officer.pk).token
    for token in (theirs, "forged:token"):
        response = desk_client.post(_url(), _form(world, **{f"doc_{form_doc.pk}_pending": token}))
        assert response.status_code == 400
        assert f"«{form_doc.name}»: Tệp tải lên tạm không hợp lệ." in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_bad_file_is_named_and_the_good_one_kept(desk_client, world):
    form_doc, id_doc, _ = _docs(world)
    data = _form(
        world,
        **{
            f"doc_{form_doc.pk}_file": SimpleUploadedFile("to-khai.pdf", PDF),
            f"doc_{id_doc.pk}_file": SimpleUploadedFile("cccd.exe", b"MZ..."),
        },
    )
    response = desk_client.post(_url(), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"«{id_doc.name}»: Tệp «cccd.exe» có định dạng không được chấp nhận" in page
    assert "Đã tải lên: <strong>to-khai.pdf</strong>" in page


def test_one_dossier_per_form_however_often_it_is_sent(desk_client, world):
    data = _form(world)
    first = desk_client.post(_url(), data)
    second = desk_client.post(_url(), data, follow=True)
    assert Dossier.objects.count() == 1
    dossier = Dossier.objects.get()
    assert first["Location"] == reverse("dossiers:detail", args=[dossier.code])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "đã được lập, không tạo thêm hồ sơ mới" in second.content.decode()
    assert IntakeKey.objects.get().dossier == dossier
    # A new form (a new key) makes a new dossier.
    desk_client.post(_url(), _form(world, intake_key="n" * 32))
    assert Dossier.objects.count() == 2


def test_the_page_gives_each_form_its_own_key(desk_client, world):
    url = f"{_url()}?desk={world.desk.pk}&procedure={world.procedure.pk}"
    keys = {
        re.search(r'name="intake_key" value="(\w+)"', desk_client.get(url).content.decode()).group(
            1
        )
        for _ in range(2)
    }
    assert len(keys) == 2


def _channel_select(client, url):
    return re.search(r'<select name="channel".*?</select>', client.get(url).content.decode(), re.S)


def test_channels_follow_the_place(desk_client, world, settings):
    url = f"{_url()}?desk={world.desk.pk}&procedure={world.procedure.pk}"
    select = re.search(
        r'<select name="channel".*?</select>', desk_client.get(url).content.decode(), re.S
    )
    assert "Trực tiếp" in select.group(0)
    assert "Bưu chính công ích" in select.group(0)
    assert "Trực tuyến" not in select.group(0)
    response = desk_client.post(_url(), _form(world, channel="2"))
    assert response.status_code == 400
    assert "Kênh nộp:" in response.content.decode()
    assert not Dossier.objects.exists()
    settings.CCHC_POSTAL_INTAKE = False
    select = re.search(
        r'<select name="channel".*?</select>', desk_client.get(url).content.decode(), re.S
    )
    assert "Bưu chính" not in select.group(0)


def _received_cells() -> int:
    return Cell.objects.aggregate(n=Sum("received"))["n"] or 0


def test_form_02_at_the_counter(desk_client, world):
    id_doc = _docs(world)[1]
    before = _received_cells()
    data = _form(
        world,
        outcome="guide",
        counter_reason="Bổ sung bản chụp căn cước công dân.\nTờ khai ghi thiếu nơi sinh.",
        **{f"doc_{id_doc.pk}_given": None},
    )
    response = desk_client.post(_url(), data)
    dossier = Dossier.objects.get()
    assert response["Location"] == reverse("dossiers:detail", args=[dossier.code])
    assert dossier.state == State.AWAITING_COMPLETION
    assert dossier.received_at is None and dossier.due is None
    assert list(dossier.events.values_list("action", flat=True).order_by("seq")) == [
        "submit",
        "request_completion",
    ]
    assert dossier.events.get(action="request_completion").reason.splitlines() == [
        "Bổ sung bản chụp căn cước công dân.",
        "Tờ khai ghi thiếu nơi sinh.",
    ]
    # Never received: not counted as received by the indicators, no supplement counted.
    assert _received_cells() == before
    assert dossier.supplement_requests == 0
    page = desk_client.get(response["Location"]).content.decode()
    pdf_url = reverse("dossiers:form", args=[dossier.code, "supplement"])
    assert "Đã lập phiếu hướng dẫn bổ sung" in page and pdf_url in page
    pdf = desk_client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # The applicant comes back with it completed: taken up again, then received.
    assert "Người nộp đã hoàn thiện" in page
    desk_client.post(
        reverse("dossiers:act", args=[dossier.code]),
        {"action": "resubmit", "version": dossier.version},
    )
    dossier.refresh_from_db()
    assert dossier.state == State.SUBMITTED


def test_form_03_at_the_counter_needs_a_reason(desk_client, world):
    response = desk_client.post(_url(), _form(world, outcome="refuse", counter_reason=" "))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ghi rõ lý do từ chối tiếp nhận hồ sơ (mẫu 03)." in page
    assert 'value="Trần Văn Bình"' in page
    assert not Dossier.objects.exists()
    before = _received_cells()
    reason = "Thủ tục không thuộc thẩm quyền giải quyết của Sở Tư pháp."
    response = desk_client.post(
        _url(), _form(world, outcome="refuse", counter_reason=reason, intake_key="r" * 32)
    )
    dossier = Dossier.objects.get()
    assert dossier.state == State.REFUSED_AT_INTAKE
    assert dossier.events.get(action="refuse_intake").reason == reason
    assert _received_cells() == before
    page = desk_client.get(response["Location"]).content.decode()
    pdf_url = reverse("dossiers:form", args=[dossier.code, "refusal"])
    assert "Đã từ chối tiếp nhận hồ sơ" in page and pdf_url in page
    pdf = desk_client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_intake_page_queries_are_bounded(desk_client, world, django_assert_max_num_queries):
    url = f"{_url()}?desk={world.desk.pk}&procedure={world.procedure.pk}"
    with django_assert_max_num_queries(25):
        assert desk_client.get(url).status_code == 200
    with django_assert_max_num_queries(25):
        assert desk_client.post(_url(), _form(world, name="")).status_code == 400
