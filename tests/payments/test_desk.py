"""The desk: cash with a receipt, exemptions, refunds (full and partial) through the gateway,
permissions, the staff panel, the reconcile command, the signed pay link."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from cchc.audit.models import AuditEntry
from cchc.dossiers.models import DossierEvent
from cchc.errors import InvalidInput, PermissionDenied
from cchc.payments import services
from cchc.payments.models import OrderStatus, Receipt, Refund, RefundState, SimulatedTransaction

pytestmark = pytest.mark.django_db


def events(dossier, action):
    return list(DossierEvent.objects.filter(dossier=dossier, action=action).order_by("seq"))


def test_cash_at_the_desk_issues_numbered_receipts(client, pay):
    d = pay.desk_dossier
    first = services.record_cash(pay.w.desk_officer, d, 150_000)
    second = services.record_cash(pay.w.desk_officer, d, "50000")
    year = first.issued_at.year
    assert (first.number, second.number) == (f"{year}-000001", f"{year}-000002")
    d.refresh_from_db()
    assert d.paid_amount == 200_000 and d.payment_channel == "cash"
    assert [e.data for e in events(d, "pay")] == [
        {"amount": 150_000, "channel": "cash", "receipt": first.number},
        {"amount": 50_000, "channel": "cash", "receipt": second.number},
    ]
    assert services.owed(d) == 0
    with pytest.raises(InvalidInput, match="lớn hơn số còn phải nộp"):
        services.record_cash(pay.w.desk_officer, d, 1)
    assert AuditEntry.objects.filter(action="payment.cash").count() == 2
    client.force_login(pay.w.desk_officer)
    pdf = client.get(f"/thanh-toan/bien-lai/{first.number}/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_receipt_html_is_the_vietnamese_form(pay):
    from cchc.payments.documents import receipt_html

    receipt = services.record_cash(pay.w.desk_officer, pay.desk_dossier, 200_000)
    html = receipt_html(receipt, viewer=pay.w.desk_officer)
    assert "Biên lai thu phí, lệ phí" in html
    assert "200.000 đ" in html and receipt.number in html
    assert "Tiền mặt tại bộ phận một cửa" in html


def test_only_desk_officers_take_cash(pay):
    for who in (pay.w.officer, pay.w.leader, pay.w.outsider, pay.w.citizen, pay.w.supervisor):
        with pytest.raises(PermissionDenied):
            services.record_cash(who, pay.desk_dossier, 1000)
    assert events(pay.desk_dossier, "pay") == []


def test_cash_form_on_the_staff_page(client, pay):
    code = pay.desk_dossier.code
    client.force_login(pay.w.desk_officer)
    page = client.get(f"/ho-so/{code}/").content.decode()
    assert "Phí, lệ phí và thanh toán" in page and "Thu tiền mặt" in page
    response = client.post(f"/thanh-toan/ho-so/{code}/tien-mat/", {"amount": "200000"})
    assert response.status_code == 302 and response["Location"].startswith(f"/ho-so/{code}/")
    assert Receipt.objects.filter(dossier=pay.desk_dossier).count() == 1
    # a processing officer sees the panel but not the desk's forms, and cannot post them
    client.force_login(pay.w.officer)
    page = client.get(f"/ho-so/{code}/").content.decode()
    assert "Phí, lệ phí và thanh toán" in page and "Thu tiền mặt" not in page
    assert client.post(f"/thanh-toan/ho-so/{code}/tien-mat/", {"amount": "1"}).status_code == 403


def test_exemption_settles_the_dossier(pay):
    d = pay.dossier
    with pytest.raises(InvalidInput, match="lý do"):
        services.record_exemption(pay.w.desk_officer, d, reason=" ")
    with pytest.raises(PermissionDenied):
        services.record_exemption(pay.w.officer, d, reason="NĐ 11/2020")
    services.record_exemption(pay.w.desk_officer, d, reason="Người có công, miễn lệ phí")
    assert services.owed(d) == 0 and services.settled(d)
    [note] = events(d, "note")
    assert note.data == {"exemption": 200_000}
    with pytest.raises(InvalidInput, match="không còn khoản phí"):
        pay.start()


def test_a_citizen_cannot_pay_someone_elses_dossier(client, pay, make_user):
    from cchc.accounts.roles import Role

    other = make_user(Role.CITIZEN)
    with pytest.raises(PermissionDenied):
        pay.start(actor=other)
    with pytest.raises(PermissionDenied):
        pay.start(actor=pay.w.desk_officer)
    client.force_login(other)
    assert client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/").status_code == 404
    assert (
        client.post(f"/thanh-toan/ho-so/{pay.dossier.code}/", {"gateway": "vnpay"}).status_code
        == 404
    )
    # not logged in, no link: sent to the login page
    client.logout()
    assert client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/").status_code == 302


def test_signed_pay_link_lets_the_holder_pay(client, pay):
    link = services.pay_link(pay.desk_dossier)
    token = link.split("?t=")[1]
    page = client.get(link)
    assert page.status_code == 200 and "Chọn cổng thanh toán" in page.content.decode()
    response = client.post(
        f"/thanh-toan/ho-so/{pay.desk_dossier.code}/", {"gateway": "vnpay", "t": token}
    )
    assert response.status_code == 302 and "/gia-lap-thanh-toan/" in response["Location"]
    # a link for one dossier does not open another
    assert client.get(f"/thanh-toan/ho-so/{pay.dossier.code}/?t={token}").status_code == 302


def test_full_and_partial_refunds(pay):
    order, url = pay.start()
    pay.gateway_finishes(url, "success")
    order.refresh_from_db()
    officer = pay.w.desk_officer
    with pytest.raises(PermissionDenied):
        services.refund(pay.w.officer, order, 1000, "nhầm")
    with pytest.raises(InvalidInput, match="lý do"):
        services.refund(officer, order, 1000, "")
    services.refund(officer, order, 50_000, "Thu thừa phí")
    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.refunded_amount == 50_000
    assert pay.dossier.paid_amount == 150_000
    with pytest.raises(InvalidInput, match="lớn hơn số có thể hoàn"):
        services.refund(officer, order, 150_001, "quá")
    services.refund(officer, order, 150_000, "Hồ sơ rút")
    order.refresh_from_db()
    pay.dossier.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.refundable == 0
    assert pay.dossier.paid_amount == 0 and pay.dossier.payment_channel == ""
    assert [e.data["amount"] for e in events(pay.dossier, "refund")] == [50_000, 150_000]
    assert list(Refund.objects.values_list("state", flat=True)) == [RefundState.DONE] * 2
    assert SimulatedTransaction.objects.get(txn_ref=order.txn_ref).refunded == 20_000_000
    with pytest.raises(InvalidInput, match="không có khoản nào"):
        services.refund(officer, order, 1, "lần nữa")


def test_full_refund_in_one_go(pay):
    order, url = pay.start()
    pay.gateway_finishes(url, "success")
    order.refresh_from_db()
    services.refund(pay.w.desk_officer, order, 200_000, "Dừng giải quyết")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


def test_refund_refused_by_the_gateway_is_recorded(pay):
    order, url = pay.start()
    pay.gateway_finishes(url, "success")
    order.refresh_from_db()
    SimulatedTransaction.objects.filter(txn_ref=order.txn_ref).update(refunded=19_000_000)
    with pytest.raises(InvalidInput, match="không hoàn trả được"):
        services.refund(pay.w.desk_officer, order, 20_000, "thử")
    refund = Refund.objects.get()
    assert refund.state == RefundState.FAILED and refund.response_code == "03"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.refunded_amount == 0
    assert events(pay.dossier, "refund") == []


def test_reconcile_command(pay, later):
    order, _ = pay.start()
    out = io.StringIO()
    call_command(
        "payments",
        "reconcile",
        "--json",
        "--now",
        timezone.localtime(later(30)).strftime("%Y-%m-%dT%H:%M:%S+07:00"),
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert report["expired"] == [order.txn_ref] and report["checked"] == 1
    out = io.StringIO()
    call_command("payments", "reconcile", stdout=out)
    assert "Đã đối soát 0 giao dịch" in out.getvalue()
