"""Issue 17 (citizen): «Không hài lòng» asks why — a list of common reasons and the
citizen's own words — stores the reasons and shows them to the officers and the supervisor;
the same for the rating of a PAKN answer."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.portal.test_citizen_results import returned

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dissatisfied_without_a_reason_is_asked_again(portal, clock):
    dossier = returned(portal)
    client = signed_in(portal.citizen)
    page = client.get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    assert "Lý do không hài lòng" in page and "Giải quyết chậm, trễ hẹn" in page
    response = client.post(
        f"/dich-vu-cong/ho-so/{dossier.code}/thao-tac/",
        {"action": "rate", "rating": "dissatisfied", "version": dossier.version},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "hãy cho biết lý do" in text
    assert 'value="dissatisfied" required checked' in text  # the choice is kept
    dossier.refresh_from_db()
    assert dossier.rating == ""
    other = client.post(
        f"/dich-vu-cong/ho-so/{dossier.code}/thao-tac/",
        {"action": "rate", "rating": "dissatisfied", "reasons": ["other"], "reason": ""},
    )
    assert other.status_code == 400 and "hãy ghi rõ lý do" in other.content.decode()


def test_reasons_are_stored_and_shown_to_the_supervisor(portal, clock, make_user):
    from cchc.accounts.roles import Role

    dossier = returned(portal)
    response = signed_in(portal.citizen).post(
        f"/dich-vu-cong/ho-so/{dossier.code}/thao-tac/",
        {
            "action": "rate",
            "rating": "dissatisfied",
            "reasons": ["late", "supplements"],
            "reason": "Phải đi lại ba lần.",
            "version": dossier.version,
        },
        follow=True,
    )
    assert "Cảm ơn bạn đã đánh giá" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.rating == "dissatisfied"
    event = dossier.events.get(action="rate")
    assert event.data == {
        "rating": "dissatisfied",
        "comment": "Phải đi lại ba lần.",
        "reasons": ["late", "supplements"],
    }
    expected = (
        "Không hài lòng: Giải quyết chậm, trễ hẹn; Yêu cầu bổ sung nhiều lần hoặc không rõ "
        "ràng. Góp ý: Phải đi lại ba lần."
    )
    assert event.reason == expected
    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=portal.org.province_2024)
    staff_page = signed_in(supervisor).get(f"/ho-so/{dossier.code}/")
    assert staff_page.status_code == 200
    assert expected in staff_page.content.decode()


def test_other_ratings_need_no_reason(portal, clock):
    from cchc.portal import services

    dossier = returned(portal)
    services.citizen_act(
        portal.citizen, dossier, "rate", rating="neutral", reasons=["late"], reason=""
    )
    dossier.refresh_from_db()
    assert dossier.rating == "neutral"
    assert dossier.events.get(action="rate").data == {"rating": "neutral", "comment": ""}


def test_pakn_rating_asks_a_reason(portal, clock):
    from cchc.feedback import services as pakn
    from cchc.feedback.models import Feedback
    from cchc.org.models import Agency

    agency = Agency.objects.filter(pk=portal.org.justice.pk).get()
    f = pakn.submit(
        portal.citizen,
        pakn.Submission(
            name="Nguyễn Thị Hoà",
            phone="0912345678",
            email="",
            subject="Hướng dẫn chưa rõ",
            content="Tôi phải đi lại nhiều lần.",
            agency_id=agency.pk,
            dossier_code="",
        ),
    )
    leader = portal.leader
    pakn.accept(leader, f)
    pakn.answer(leader, f, text="Đã chấn chỉnh.")
    client = signed_in(portal.citizen)
    url = f"/dich-vu-cong/phan-anh/{f.code}/danh-gia/"
    page = client.get(url).content.decode()
    assert "Lý do không hài lòng" in page and "Trả lời chậm, quá hạn" in page
    refused = client.post(url, {"satisfaction": "dissatisfied", "comment": ""})
    assert refused.status_code == 200 and "hãy cho biết lý do" in refused.content.decode()
    f.refresh_from_db()
    assert f.satisfaction == ""
    too_long = client.post(url, {"satisfaction": "satisfied", "comment": "x" * 2001})
    assert "Ý kiến tối đa 2000 ký tự" in too_long.content.decode()
    client.post(url, {"satisfaction": "dissatisfied", "reasons": ["unresolved"], "comment": "Ok"})
    f = Feedback.objects.get(pk=f.pk)
    assert f.satisfaction == "dissatisfied"
    assert f.satisfaction_comment == "Lý do: Vấn đề chưa được giải quyết. Ok"
