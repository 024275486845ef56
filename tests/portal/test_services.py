"""Portal workflows: search, registration, drafts, submission and the desk's completion
loop, the applicant's actions, tracking with its rate limit, notifications on the dossier."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.errors import InvalidInput, NotFound, PermissionDenied
from tests.portal.conftest import (
    PASSWORD,
    PDF,
    applicant_data,
    submitted,
    uploads_for,
)

pytestmark = pytest.mark.django_db


def test_search_without_diacritics_finds_the_procedure(portal):
    from cchc.catalog.services import search_procedures

    names = [p.name for p in search_procedures("cap giay phep")]
    assert "Cấp giấy phép hành nghề thử nghiệm" in names
    assert [p.code for p in search_procedures("CẤP GIẤY phép hanh nghe")] == ["1.009999"]


def test_registration_creates_a_citizen_with_audit(portal):
    from cchc.accounts import policy
    from cchc.audit.models import AuditEntry
    from cchc.portal import services

    user = portal.citizen
    assert user.username == "0912345678"
    assert user.check_password(PASSWORD)
    assert policy.has_role(user, "citizen")
    assert services.is_citizen(user)
    assert AuditEntry.objects.filter(action="portal.citizen.registered").count() == 2
    assert services.prefill(user)["id_number"] == "024190001234"


def test_registration_reports_every_problem_in_vietnamese(portal):
    from cchc.portal import services

    with pytest.raises(InvalidInput) as err:
        services.register_citizen(
            services.Registration(full_name="", identifier="0912345678", password="123")
        )
    fields = err.value.details["fields"]
    assert set(fields) == {"full_name", "identifier", "password"}
    assert "đã được dùng" in fields["identifier"]
    with pytest.raises(InvalidInput):
        services.register_citizen(
            services.Registration(full_name="A", identifier="not-an-email@", password=PASSWORD)
        )


def test_draft_saves_and_resumes_with_files(portal):
    from cchc.portal import services

    draft = services.save_draft(
        portal.citizen,
        procedure=portal.procedure,
        data=applicant_data(phone=""),
        uploads=uploads_for(portal.procedure)[:1],
        now=portal.now,
    )
    assert services.drafts_of(portal.citizen) == [draft]
    assert [f.name for f in services.draft_files(draft)] == ["giay-to-0.pdf"]
    # Submitting an incomplete draft fails with every problem; the draft keeps everything.
    with pytest.raises(InvalidInput) as err:
        services.submit_draft(portal.citizen, draft, now=portal.now)
    assert "Chọn nơi nộp" in err.value.message
    assert "Thiếu tệp «Bản chụp giấy tờ tùy thân»" in err.value.message
    draft.refresh_from_db()
    assert draft.data["applicant"]["name"] == "Nguyễn Thị Hoà"
    assert draft.is_open
    # Resume: add the missing file and the desk, then submit.
    draft = services.save_draft(
        portal.citizen,
        draft=draft,
        procedure=portal.procedure,
        desk=portal.desk,
        data=draft.data,
        uploads=uploads_for(portal.procedure)[1:],
        now=portal.now,
    )
    dossier = services.submit_draft(portal.citizen, draft, now=portal.now)
    assert dossier.state == "submitted"
    assert dossier.channel == 2
    assert dossier.online_level == "full"
    assert dossier.applicant_user_id == portal.citizen.pk
    assert dossier.files.count() == 2
    assert services.drafts_of(portal.citizen) == []
    # Someone else's draft does not exist for them.
    with pytest.raises(NotFound):
        services.own_draft(portal.other_citizen, draft.pk)


def test_officers_cannot_submit_online(portal):
    from cchc.portal import services

    with pytest.raises(PermissionDenied):
        services.save_draft(portal.desk_officer, procedure=portal.procedure, data=applicant_data())


def test_a_procedure_without_online_service_cannot_be_drafted(portal):
    from cchc.portal import services

    with pytest.raises(InvalidInput, match="chưa cung cấp dịch vụ công trực tuyến"):
        services.save_draft(portal.citizen, procedure=portal.offline, data=applicant_data())


def test_completion_request_resubmit_then_receive(portal, clock):
    from cchc.dossiers import files, presenters, services
    from cchc.portal import services as portal_services

    dossier = submitted(portal)
    offered = [a["code"] for a in presenters.actions(portal.desk_officer, dossier)]
    assert offered[:2] == ["receive", "request_completion"]
    clock.advance(hours=1)
    services.act(
        portal.desk_officer,
        dossier,
        "request_completion",
        reason="Bản chụp giấy tờ tùy thân bị mờ, chụp lại rõ nét.",
    )
    assert dossier.state == "awaiting_completion"
    assert dossier.received_at is None
    # The citizen cannot resubmit without files, another citizen not at all.
    with pytest.raises(InvalidInput):
        portal_services.citizen_act(portal.citizen, dossier, "resubmit")
    with pytest.raises(PermissionDenied):
        portal_services.citizen_act(
            portal.other_citizen, dossier, "resubmit", uploads=[files.check("a.pdf", PDF)]
        )
    clock.advance(hours=1)
    portal_services.citizen_act(
        portal.citizen,
        dossier,
        "resubmit",
        reason="Đã chụp lại",
        uploads=[files.check("cccd-moi.pdf", PDF + b"2")],
    )
    assert dossier.state == "submitted"
    clock.advance(hours=1)
    services.act(portal.desk_officer, dossier, "receive")
    assert dossier.state == "received"
    assert dossier.due is not None


def test_rate_after_return_and_withdraw(portal, clock):
    from cchc.dossiers import services
    from cchc.portal import services as portal_services

    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    services.act(portal.leader, dossier, "assign", data={"assignee": portal.officer.pk})
    services.act(portal.officer, dossier, "propose")
    with pytest.raises(InvalidInput):
        portal_services.citizen_act(portal.citizen, dossier, "rate", rating="satisfied")
    services.act(portal.leader, dossier, "approve")
    services.act(portal.desk_officer, dossier, "return_result")
    with pytest.raises(InvalidInput, match="Chọn mức đánh giá"):
        portal_services.citizen_act(portal.citizen, dossier, "rate", rating="great")
    portal_services.citizen_act(
        portal.citizen, dossier, "rate", rating="satisfied", reason="Nhanh, gọn."
    )
    dossier.refresh_from_db()
    assert dossier.rating == "satisfied"
    assert dossier.events.get(action="rate").data == {
        "rating": "satisfied",
        "comment": "Nhanh, gọn.",
    }

    other = submitted(portal)
    portal_services.citizen_act(portal.citizen, other, "withdraw", reason="Không cần nữa")
    assert other.state == "withdrawn"


def test_tracking_right_wrong_unknown_look_identical(portal, settings):
    from cchc.portal import services

    dossier = submitted(portal)
    found = services.lookup(dossier.code, "0912 345 678", address="1.1.1.1")
    assert found.pk == dossier.pk
    assert services.lookup(dossier.code.lower(), "+84912345678", address="1.1.1.1").pk == dossier.pk
    assert services.lookup(dossier.code, "024190001234", address="1.1.1.1").pk == dossier.pk
    messages = []
    for code, factor in (
        (dossier.code, "0999999999"),
        ("KHONG-CO-0001", "0912345678"),
        (dossier.code, "024199999999"),
    ):
        with pytest.raises(NotFound) as err:
            services.lookup(code, factor, address="1.1.1.2")
        messages.append((err.value.code, err.value.message))
    assert len(set(messages)) == 1
    # An empty second factor is asked for (issue 17), whatever the code: it tells nothing.
    with pytest.raises(InvalidInput, match="Nhập số điện thoại hoặc số định danh"):
        services.lookup(dossier.code, "", address="1.1.1.2")


def test_tracking_is_rate_limited_per_address_and_per_code(portal, settings, clock):
    from cchc.portal import services

    settings.PORTAL_LOOKUP_LIMIT = 3
    dossier = submitted(portal)
    for _ in range(3):
        with pytest.raises(NotFound):
            services.lookup(dossier.code, "000", address="9.9.9.9")
    with pytest.raises(services.LookupLimited):
        services.lookup(dossier.code, "0912345678", address="9.9.9.9")
    # Another address, same code: the code is limited too.
    with pytest.raises(services.LookupLimited):
        services.lookup(dossier.code, "0912345678", address="8.8.8.8")
    # Same address, another code: the address is limited.
    with pytest.raises(services.LookupLimited):
        services.lookup("KHAC-0001", "0912345678", address="9.9.9.9")
    clock.advance(minutes=16)
    assert services.lookup(dossier.code, "0912345678", address="9.9.9.9").pk == dossier.pk


def test_citizens_see_only_their_own_dossiers_and_files(portal):
    from cchc.dossiers import access
    from cchc.portal import services

    dossier = submitted(portal)
    assert list(services.my_dossiers(portal.citizen)) == [dossier]
    assert list(services.my_dossiers(portal.other_citizen)) == []
    assert not access.can_view(portal.other_citizen, dossier)
    with pytest.raises(NotFound):
        services.own_dossier(portal.other_citizen, dossier.code)
    scan = dossier.files.first()
    assert services.citizen_file(portal.citizen, dossier, scan.pk) == scan
    with pytest.raises(PermissionDenied):
        services.citizen_file(portal.other_citizen, dossier, scan.pk)


def test_notifications_are_recorded_on_the_dossier(portal, clock, settings):
    from cchc.dossiers import services
    from cchc.notifications.models import Notification

    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    notes = Notification.objects.filter(dossier=dossier)
    kinds = {(n.kind, n.channel) for n in notes}
    for channel in ("in_app", "email", "sms"):
        assert ("dossier.submit", channel) in kinds
        assert ("dossier.receive", channel) in kinds
    mail = notes.get(kind="dossier.receive", channel="email")
    assert mail.attachment == "dossier-form:receipt"
    assert mail.address == "hoa@example.vn"
    assert notes.get(kind="dossier.receive", channel="sms").address == "0912345678"
    assert "Hẹn trả kết quả" in mail.body
    services.act(portal.leader, dossier, "assign", data={"assignee": portal.officer.pk})
    services.act(portal.officer, dossier, "request_supplement", reason="Bổ sung bản sao.")
    assert notes.filter(kind="dossier.request_supplement").count() == 3


def test_sms_goes_to_the_development_outbox(portal, settings):
    from cchc.notifications import services as notes

    dossier = submitted(portal)
    sms = dossier.notifications.get(channel="sms")
    notes.deliver(sms.pk)
    sms.refresh_from_db()
    assert sms.sent_at is not None and sms.error == ""
    [line] = notes.read_sms_outbox()
    assert line["to"] == "0912345678"
    assert dossier.code in line["text"]


def test_receipt_email_carries_form_01(portal, settings, mailoutbox):
    from cchc.dossiers import services
    from cchc.notifications import services as notes

    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    mail = dossier.notifications.get(kind="dossier.receive", channel="email")
    notes.deliver(mail.pk)
    [message] = [m for m in mailoutbox if dossier.code in m.subject]
    assert message.to == ["hoa@example.vn"]
    [(name, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf" and content.startswith(b"%PDF-")
    assert name.endswith(".pdf")
    # The link in the mail is a full address the citizen can open (CCHC_SITE_URL).
    assert f"{settings.CCHC_SITE_URL}/dich-vu-cong/ho-so/{dossier.code}/" in message.body


def test_vneid_reports_that_it_is_not_configured(settings):
    from cchc.portal.identity import IdentityNotConfigured, IdentityUnavailable, VNeIDProvider

    provider = VNeIDProvider({})
    assert not provider.is_configured()
    assert {"VNEID_CLIENT_ID", "VNEID_ISSUER"} <= set(provider.missing_settings())
    with pytest.raises(IdentityNotConfigured, match="chưa được cấu hình"):
        provider.begin(redirect_uri="http://t/")
    configured = VNeIDProvider(
        {"client_id": "cchc", "client_secret": "s", "issuer": "http://127.0.0.1:9/oidc"}, timeout=1
    )
    assert configured.is_configured()
    with pytest.raises(IdentityUnavailable, match="Không kết nối được"):
        configured.begin(redirect_uri="http://t/")


def test_identity_login_links_one_account(portal):
    from cchc.portal import services
    from cchc.portal.identity import Identity

    person = Identity("vneid", "sub-1", "Lê Văn C", "024190009999", "0987654321", "")
    user = services.citizen_from_identity(person, now=portal.now)
    assert services.is_citizen(user)
    assert services.citizen_from_identity(person, now=portal.now + dt.timedelta(days=1)) == user


def test_sms_backend_settings():
    from django.core.exceptions import ImproperlyConfigured

    from cchc.config import build

    production = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "abcdefghij" * 4,
        "ALLOWED_HOSTS": "cchc.example.gov.vn",
    }
    assert build({})["CCHC_SMS_BACKEND"] == "outbox"
    assert build(production)["CCHC_SMS_BACKEND"] == "none"
    with pytest.raises(ImproperlyConfigured):
        build({"CCHC_SMS_BACKEND": "http"})
    assert build({"PORTAL_LOOKUP_LIMIT": "3"})["PORTAL_LOOKUP_LIMIT"] == 3
    assert build(production)["CCHC_SITE_URL"] == "https://cchc.example.gov.vn"
    assert build({"CCHC_SITE_URL": "https://dvc.bacninh.gov.vn/"})["CCHC_SITE_URL"] == (
        "https://dvc.bacninh.gov.vn"
    )
    assert build({"VNEID_CLIENT_ID": "a"})["VNEID"]["client_id"] == "a"
