"""Issue 17 (citizen): limits are stated before typing and never applied by silent
truncation: over-long text is kept in the draft and on the page, and refused with a clear
message when submitted; the same for the rating's comment and the PAKN rating."""

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


def _files(portal):
    out = {}
    for d in portal.procedure.documents.all():
        if d.mandatory:
            f = io.BytesIO(PDF + bytes([d.pk % 250]))
            f.name = f"giay-to-{d.pk}.pdf"
            out[f"doc_{d.pk}"] = f
    return out


def test_form_states_every_limit_and_loads_the_counter(portal):
    page = signed_in(portal.citizen).get(NEW).content.decode()
    assert "Tối đa 500 ký tự" in page  # nội dung yêu cầu
    assert "Tối đa 200 ký tự" in page  # họ tên
    assert "Tối đa 300 ký tự" in page  # địa chỉ
    assert 'data-limit="500"' in page and "maxlength" not in page  # no silent browser cut
    assert re.search(r'<script src="/static/portal/limits\.js" defer>', page)
    assert 'style="' not in page  # CSP: no inline styles


def test_a_34000_character_request_is_kept_and_refused_not_cut(portal):
    from cchc.dossiers.models import Dossier
    from cchc.portal.models import Draft

    long_text = ("Đề nghị cấp giấy phép. " * 1500).strip()  # 34 499 characters
    client = signed_in(portal.citizen)
    response = client.post(
        NEW,
        {
            "action": "submit",
            "desk": portal.desk.pk,
            "kind": "person",
            "name": "Nguyễn Thị Hoà",
            "phone": "0912345678",
            "matter": long_text,
            "return_channel": "online",
            **_files(portal),
        },
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "«Nội dung yêu cầu» tối đa 500 ký tự; bạn đã nhập 34.499 ký tự" in text
    assert long_text in text  # what was typed is on the page, whole
    assert not Dossier.objects.exists()
    draft = Draft.objects.get()
    assert draft.data["matter"] == long_text  # and in the draft, whole
    # Saving only: kept and told, without being asked to submit.
    saved = client.post(
        f"/dich-vu-cong/nhap/{draft.pk}/",
        {"action": "save", "desk": portal.desk.pk, "name": "A" * 250, "matter": "Ngắn"},
    )
    assert saved.status_code == 200
    body = saved.content.decode()
    assert "Một số mục dài hơn giới hạn" in body
    assert "«Họ tên / tên tổ chức» tối đa 200 ký tự; bạn đã nhập 250 ký tự" in body
    draft.refresh_from_db()
    assert draft.data["applicant"]["name"] == "A" * 250


def test_within_the_limit_is_submitted_as_typed(portal):
    from cchc.dossiers.models import Dossier

    text = "x" * 500
    response = signed_in(portal.citizen).post(
        NEW,
        {
            "action": "submit",
            "desk": portal.desk.pk,
            "kind": "person",
            "name": "Nguyễn Thị Hoà",
            "phone": "0912345678",
            "matter": text,
            "return_channel": "online",
            **_files(portal),
        },
    )
    assert response.status_code == 302
    assert Dossier.objects.get().matter == text


def test_rating_comment_over_its_limit_is_refused_and_kept(portal, clock):
    from tests.portal.test_citizen_results import returned

    dossier = returned(portal)
    comment = "Rất tốt. " * 200  # 1 800 characters
    response = signed_in(portal.citizen).post(
        f"/dich-vu-cong/ho-so/{dossier.code}/thao-tac/",
        {"action": "rate", "rating": "satisfied", "reason": comment, "version": dossier.version},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "«Góp ý» tối đa 1.000 ký tự" in text
    assert comment.strip() in text
    dossier.refresh_from_db()
    assert dossier.rating == ""


def test_pakn_forms_state_limits_and_never_cut_in_the_browser(portal, clock):
    client = Client()
    page = client.get("/dich-vu-cong/phan-anh/gui/").content.decode()
    assert "(tối đa 200 ký tự)" in page and "(tối đa 300 ký tự)" in page
    assert "maxlength" not in page and 'style="' not in page
    refused = client.post(
        "/dich-vu-cong/phan-anh/gui/",
        {"name": "A" * 250, "phone": "0912345678", "subject": "Chủ đề", "content": "Nội dung"},
    )
    text = refused.content.decode()
    assert "Tối đa 200 ký tự (bạn đã nhập 250); hãy rút gọn." in text
    assert "A" * 250 in text  # kept on the page


def test_registration_states_and_checks_its_limits(portal):
    client = Client()
    page = client.get("/dich-vu-cong/dang-ky/").content.decode()
    assert "Tối đa 150 ký tự" in page
    response = client.post(
        "/dich-vu-cong/dang-ky/",
        {
            "full_name": "Nguyễn " * 30,
            "identifier": "a" * 150 + "@example.vn",
            "password": "Mat-khau-dai-2026!",
            "password2": "Mat-khau-dai-2026!",
        },
    )
    assert response.status_code == 400  # a clear message, never a database error
    text = response.content.decode()
    assert "«Họ và tên» tối đa 150 ký tự; bạn đã nhập 209 ký tự" in text
    assert "«Thư điện tử hoặc số điện thoại» tối đa 150 ký tự; bạn đã nhập 161 ký tự" in text
