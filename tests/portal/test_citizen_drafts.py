"""Issue 17 (citizen): one draft per submission form. A failed submit updates the draft it
made; a double click, or the same form sent again, never makes another draft or dossier."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client

from tests.portal.conftest import PDF

pytestmark = pytest.mark.django_db

NEW = "/dich-vu-cong/thu-tuc/1.009999/nop/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(name: str):
    f = io.BytesIO(PDF + name.encode())
    f.name = name
    return f


def _token(html: str) -> str:
    return re.search(r'name="submission_token" value="([^"]+)"', html).group(1)


def _form(portal, token: str, **extra):
    return {
        "submission_token": token,
        "action": "submit",
        "desk": portal.desk.pk,
        "kind": "person",
        "name": "Nguyễn Thị Hoà",
        "phone": "0912345678",
        "matter": "Cấp giấy phép",
        "return_channel": "online",
        **extra,
    }


def test_three_failed_submits_make_one_draft(portal):
    from cchc.portal.models import Draft

    client = signed_in(portal.citizen)
    token = _token(client.get(NEW).content.decode())
    first = client.post(NEW, _form(portal, token))  # no files: refused, draft kept
    assert first.status_code == 400
    assert "Thiếu tệp «Đơn đề nghị cấp giấy phép»" in first.content.decode()
    draft = Draft.objects.get(citizen=portal.citizen)
    # The page answered carries the same token and posts to the draft itself.
    page = first.content.decode()
    assert _token(page) == token and f'action="/dich-vu-cong/nhap/{draft.pk}/"' in page
    second = client.post(f"/dich-vu-cong/nhap/{draft.pk}/", _form(portal, token, name=""))
    assert second.status_code == 400
    # The browser's back button and "send again": the first form, to the new-submission URL.
    third = client.post(NEW, _form(portal, token, matter="Cấp lại giấy phép"))
    assert third.status_code == 400
    assert Draft.objects.filter(citizen=portal.citizen).count() == 1
    draft.refresh_from_db()
    assert draft.data["matter"] == "Cấp lại giấy phép"  # the last attempt is what is kept


def test_a_double_click_on_submit_makes_one_dossier(portal):
    from cchc.dossiers.models import Dossier
    from cchc.portal.models import Draft

    client = signed_in(portal.citizen)
    token = _token(client.get(NEW).content.decode())
    docs = [d for d in portal.procedure.documents.all() if d.mandatory]

    def post():
        files = {f"doc_{d.pk}": _upload(f"giay-to-{d.pk}.pdf") for d in docs}
        return client.post(NEW, _form(portal, token, **files))

    done = post()
    assert done.status_code == 302
    again = post()
    assert again.status_code == 302 and again["Location"] == done["Location"]
    assert Dossier.objects.filter(applicant_user=portal.citizen).count() == 1
    assert Draft.objects.filter(citizen=portal.citizen).count() == 1
    page = client.get(again["Location"]).content.decode()
    assert "đã được nộp từ biểu mẫu này; không cần nộp lại" in page


def test_each_new_form_is_its_own_submission(portal):
    from cchc.portal.models import Draft

    client = signed_in(portal.citizen)
    one = _token(client.get(NEW).content.decode())
    two = _token(client.get(NEW).content.decode())
    assert one != two
    client.post(NEW, _form(portal, one, action="save"))
    client.post(NEW, _form(portal, two, action="save"))
    assert Draft.objects.filter(citizen=portal.citizen).count() == 2


def test_a_token_is_the_citizens_own(portal):
    """Another citizen's token never reaches their draft."""
    from cchc.portal.models import Draft

    token = "chung-mot-ma-phien-nhap"
    signed_in(portal.citizen).post(NEW, _form(portal, token, action="save"))
    signed_in(portal.other_citizen).post(NEW, _form(portal, token, action="save", name="B"))
    assert Draft.objects.filter(client_token=token).count() == 2
    assert Draft.objects.get(citizen=portal.citizen).data["applicant"]["name"] == "Nguyễn Thị Hoà"


def test_service_reuses_the_draft_of_a_token(portal):
    from cchc.portal import services
    from tests.portal.conftest import applicant_data

    a = services.save_draft(
        portal.citizen, procedure=portal.procedure, data=applicant_data(), token="t-1"
    )
    b = services.save_draft(
        portal.citizen, procedure=portal.procedure, data=applicant_data(name="X"), token="t-1"
    )
    assert a.pk == b.pk and b.data["applicant"]["name"] == "X"
