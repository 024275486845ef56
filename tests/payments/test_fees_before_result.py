"""Fees before results (issue 17, item 1): approving or returning a dossier is refused while
fees are owed, unless the same step collects cash or exempts the rest with a reason; the
refusal through the service, the dossier page and the API; collection after a legacy return;
what the citizen's tracking says."""

from __future__ import annotations

import pytest

from cchc.audit.models import AuditEntry
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import DossierEvent, State
from cchc.errors import Conflict, InvalidInput, PermissionDenied
from cchc.payments import services
from cchc.payments.models import Exemption, Receipt

pytestmark = pytest.mark.django_db

OWED_MESSAGE = (
    "Hồ sơ {code} còn nợ 200.000 đ phí, lệ phí: thu tiền, ghi nhận thanh toán trực tuyến "
    "hoặc miễn/giảm có lý do trước khi trả kết quả."
)


def to_approval(pay):
    """The desk dossier (200 000 đ owed) brought to the leader for approval."""
    w, d = pay.w, pay.desk_dossier
    dossier_services.act(w.leader, d, "assign", data={"assignee": w.officer.pk})
    dossier_services.act(w.officer, d, "propose")
    return d


def resolved_unpaid(pay, settings):
    """Approved with the rule off (a dossier resolved before the rule existed)."""
    d = to_approval(pay)
    settings.CCHC_FEES_BEFORE_RESULT = False
    dossier_services.act(pay.w.leader, d, "approve")
    settings.CCHC_FEES_BEFORE_RESULT = True
    assert d.state == State.RESOLVED and services.owed(d) == 200_000
    return d


def returned_unpaid(pay, settings):
    d = resolved_unpaid(pay, settings)
    settings.CCHC_FEES_BEFORE_RESULT = False
    dossier_services.act(pay.w.desk_officer, d, "return_result")
    settings.CCHC_FEES_BEFORE_RESULT = True
    assert d.state == State.RETURNED
    return d


def actions(d):
    return list(
        DossierEvent.objects.filter(dossier=d).order_by("seq").values_list("action", flat=True)
    )


# -- the service ----------------------------------------------------------------------------------


def test_approval_is_refused_with_the_amount_owed(pay, fees_rule):
    d = to_approval(pay)
    before = actions(d)
    with pytest.raises(Conflict) as caught:
        dossier_services.act(pay.w.leader, d, "approve")
    assert caught.value.message == OWED_MESSAGE.format(code=d.code)
    assert caught.value.code == "payment.fees_owed"
    assert caught.value.details["owed"] == 200_000
    d.refresh_from_db()
    assert d.state == State.AWAITING_APPROVAL and actions(d) == before
    refusal = AuditEntry.objects.filter(action="dossier.refused").order_by("-pk").first()
    assert refusal is not None and "200.000 đ" in str(refusal.data)


def test_return_is_refused_and_nothing_is_written(pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    with pytest.raises(Conflict, match=r"còn nợ 200\.000 đ"):
        dossier_services.act(pay.w.desk_officer, d, "return_result")
    d.refresh_from_db()
    assert d.state == State.RESOLVED


def test_cash_collected_in_the_same_step_returns_the_result(pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    event = dossier_services.act(
        pay.w.desk_officer, d, "return_result", data={"fee_cash": "200000"}
    )
    d.refresh_from_db()
    assert d.state == State.RETURNED and d.paid_amount == 200_000 and services.owed(d) == 0
    assert actions(d)[-2:] == ["pay", "return_result"]
    receipt = Receipt.objects.get(dossier=d)
    assert receipt.amount == 200_000 and receipt.channel == "cash"
    pay_event = DossierEvent.objects.get(dossier=d, action="pay")
    assert pay_event.data["receipt"] == receipt.number and pay_event.at == event.at
    assert "fee_cash" not in event.data  # the collection is its own event, not the return's


def test_part_in_cash_and_the_rest_exempted_with_a_reason(pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    dossier_services.act(
        pay.w.desk_officer,
        d,
        "return_result",
        data={"fee_cash": 50_000, "fee_exemption_reason": "Người có công với cách mạng"},
    )
    d.refresh_from_db()
    assert d.state == State.RETURNED and d.paid_amount == 50_000
    exemption = Exemption.objects.get(dossier=d)
    assert (exemption.amount, exemption.reason) == (150_000, "Người có công với cách mạng")
    assert services.owed(d) == 0


def test_exemption_alone_settles_the_step(pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    dossier_services.act(
        pay.w.desk_officer, d, "return_result", data={"fee_exemption_reason": "Hộ nghèo"}
    )
    d.refresh_from_db()
    assert d.state == State.RETURNED and Exemption.objects.get(dossier=d).amount == 200_000


def test_partial_cash_without_exemption_is_refused_and_rolled_back(pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    with pytest.raises(Conflict, match=r"còn nợ 150\.000 đ"):
        dossier_services.act(pay.w.desk_officer, d, "return_result", data={"fee_cash": 50_000})
    d.refresh_from_db()
    assert d.state == State.RESOLVED and d.paid_amount == 0
    assert not Receipt.objects.filter(dossier=d).exists()  # the receipt rolled back too


def test_too_much_cash_is_refused(pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    with pytest.raises(InvalidInput, match="lớn hơn số còn phải nộp"):
        dossier_services.act(pay.w.desk_officer, d, "return_result", data={"fee_cash": 250_000})
    d.refresh_from_db()
    assert d.state == State.RESOLVED and not Receipt.objects.filter(dossier=d).exists()


def test_a_leader_cannot_take_cash(pay, fees_rule):
    d = to_approval(pay)
    with pytest.raises(PermissionDenied, match="Chỉ công chức một cửa"):
        dossier_services.act(pay.w.leader, d, "approve", data={"fee_cash": 200_000})


def test_paid_dossiers_and_free_procedures_pass(pay, fees_rule):
    d = to_approval(pay)
    services.record_cash(pay.w.desk_officer, d, 200_000)
    dossier_services.act(pay.w.leader, d, "approve")
    dossier_services.act(pay.w.desk_officer, d, "return_result")
    assert d.state == State.RETURNED
    free = pay.w.intake(procedure=pay.w.quick)
    dossier_services.act(pay.w.leader, free, "assign", data={"assignee": pay.w.officer.pk})
    dossier_services.act(pay.w.officer, free, "propose")
    dossier_services.act(pay.w.leader, free, "approve")
    assert free.state == State.RESOLVED


def test_fee_fields_belong_to_approve_and_return_only(pay, fees_rule):
    d = pay.desk_dossier
    with pytest.raises(InvalidInput, match="Chỉ thu phí"):
        dossier_services.act(
            pay.w.leader, d, "assign", data={"assignee": pay.w.officer.pk, "fee_cash": 1000}
        )


def test_the_rule_can_be_turned_off(pay, settings):
    settings.CCHC_FEES_BEFORE_RESULT = False
    d = to_approval(pay)
    dossier_services.act(pay.w.leader, d, "approve")
    assert d.state == State.RESOLVED


# -- collection after a legacy return -------------------------------------------------------------


def test_a_dossier_returned_unpaid_can_still_be_settled(client, pay, fees_rule, settings):
    d = returned_unpaid(pay, settings)
    client.force_login(pay.w.desk_officer)
    page = client.get(f"/ho-so/{d.code}/").content.decode()
    assert "Thu tiền mặt" in page and "Miễn, giảm phí, lệ phí" in page
    assert "Thanh toán trực tuyến (gửi đường dẫn cho người nộp)" in page
    response = client.post(f"/thanh-toan/ho-so/{d.code}/tien-mat/", {"amount": "200000"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == State.RETURNED and d.paid_amount == 200_000 and services.owed(d) == 0
    page = client.get(f"/ho-so/{d.code}/").content.decode()
    assert "Thu tiền mặt</summary>" not in page  # settled: the collection forms are gone


def test_a_citizen_pays_online_after_a_legacy_return(pay, fees_rule, settings):
    d = pay.dossier
    dossier_services.act(pay.w.desk_officer, d, "receive")
    pay.desk_dossier = d
    returned_unpaid(pay, settings)
    _order, url = pay.start()
    pay.gateway_finishes(url)
    d.refresh_from_db()
    assert d.state == State.RETURNED and d.paid_amount == 200_000 and services.owed(d) == 0


# -- the dossier page and the API --------------------------------------------------------------


def test_the_dossier_page_refuses_then_returns_with_cash(client, pay, fees_rule, settings):
    d = resolved_unpaid(pay, settings)
    client.force_login(pay.w.desk_officer)
    page = client.get(f"/ho-so/{d.code}/").content.decode()
    assert 'data-owed="200000"' in page and 'name="fee_cash"' in page
    assert "Hồ sơ còn nợ <strong>200.000 đ</strong> phí, lệ phí" in page
    form = {"action": "return_result", "version": str(d.version)}
    refused = client.post(f"/ho-so/{d.code}/thao-tac/", form, follow=True)
    assert OWED_MESSAGE.format(code=d.code) in refused.content.decode()
    d.refresh_from_db()
    assert d.state == State.RESOLVED
    done = client.post(
        f"/ho-so/{d.code}/thao-tac/",
        {**form, "version": str(d.version), "fee_cash": "200000"},
        follow=True,
    )
    assert "Trả kết quả: đã ghi nhận." in done.content.decode()
    d.refresh_from_db()
    assert d.state == State.RETURNED and Receipt.objects.filter(dossier=d).count() == 1


def test_the_leader_sees_what_is_owed_without_cash_fields(client, pay, fees_rule):
    d = to_approval(pay)
    client.force_login(pay.w.leader)
    page = client.get(f"/ho-so/{d.code}/").content.decode()
    assert "Hồ sơ còn nợ <strong>200.000 đ</strong>" in page
    assert 'name="fee_cash"' not in page


def test_the_dossier_page_query_count_is_bounded(
    client, pay, fees_rule, settings, django_assert_max_num_queries
):
    d = resolved_unpaid(pay, settings)
    client.force_login(pay.w.desk_officer)
    client.get(f"/ho-so/{d.code}/")  # warm caches (calendars, permissions)
    with django_assert_max_num_queries(60):
        assert client.get(f"/ho-so/{d.code}/").status_code == 200


def test_the_api_refuses_with_409_and_the_amount(client, pay, fees_rule, settings):
    from tests.test_api_errors import assert_envelope

    d = to_approval(pay)
    client.force_login(pay.w.leader)
    url = f"/api/dossiers/{d.code}/transitions"
    body = {"action": "approve", "expected_version": d.version}
    error = assert_envelope(
        client.post(url, body, content_type="application/json"), 409, "payment.fees_owed"
    )
    assert error["message"] == OWED_MESSAGE.format(code=d.code)
    assert error["details"]["owed"] == 200_000
    resolved = resolved_unpaid_from(pay, d, settings)
    client.force_login(pay.w.desk_officer)
    ok = client.post(
        url,
        {
            "action": "return_result",
            "expected_version": resolved.version,
            "data": {
                "fee_cash": 100_000,
                "fee_exemption_reason": "Giảm 50% theo Thông tư 106/2021",
            },
        },
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["state"] == State.RETURNED
    bad = client.post(
        url,
        {"action": "note", "expected_version": ok.json()["version"], "data": {"fee_cash": 0}},
        content_type="application/json",
    )
    assert bad.status_code == 422


def resolved_unpaid_from(pay, d, settings):
    settings.CCHC_FEES_BEFORE_RESULT = False
    dossier_services.act(pay.w.leader, d, "approve")
    settings.CCHC_FEES_BEFORE_RESULT = True
    return d


# -- what the citizen is told ---------------------------------------------------------------------


def test_tracking_never_shows_a_returned_dossier_as_paid_zero(pay, fees_rule, settings):
    from cchc.portal import presenters

    d = returned_unpaid(pay, settings)
    status = presenters.status(d, now=pay.w.now, owner=False)
    assert status["payment"] == "Tổng phí, lệ phí 200.000 đ · còn nợ 200.000 đ (chưa thu)."
    assert status["payment_url"]  # still payable online
    services.record_exemption(pay.w.desk_officer, d, reason="Trẻ em dưới 16 tuổi", amount=150_000)
    services.record_cash(pay.w.desk_officer, d, 50_000)
    d.refresh_from_db()
    status = presenters.status(d, now=pay.w.now, owner=False)
    assert status["payment"] == (
        "Tổng phí, lệ phí 200.000 đ · đã thanh toán 50.000 đ (Tiền mặt tại bộ phận một cửa) · "
        "miễn/giảm 150.000 đ: Trẻ em dưới 16 tuổi."
    )
    assert status["payment_url"] is None


def test_the_citizen_page_shows_the_debt(client, pay, fees_rule, settings):
    d = pay.dossier
    dossier_services.act(pay.w.desk_officer, d, "receive")
    pay.desk_dossier = d
    returned_unpaid(pay, settings)
    client.force_login(pay.w.citizen)
    page = client.get(f"/dich-vu-cong/ho-so/{d.code}/").content.decode()
    assert "còn nợ 200.000 đ (chưa thu)" in page
    assert "Đã thanh toán 0 đ" not in page


def test_payments_hands_the_rule_to_the_engine_through_its_guard_registry():
    from cchc.dossiers import guards

    assert services.fees_before_result in guards.PRE_ACTION_GUARDS
    guards.register_pre_action_guard(services.fees_before_result)  # idempotent
    assert guards.PRE_ACTION_GUARDS.count(services.fees_before_result) == 1
