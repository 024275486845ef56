"""Sign-in events are audited — logins, failures, lock-outs, logouts, API tokens — with the
client's IP address and user agent, and the auditor reads them on the audit page."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from cchc.accounts import tokens
from cchc.accounts.roles import Role
from cchc.audit import chain, signin
from cchc.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "mat-khau-dai-123"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chromium/120 " + "x" * 400
FROM = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": BROWSER}


@pytest.fixture
def citizen(make_user):
    # A role without a required second factor: the password step completes the login.
    return make_user(Role.CITIZEN, password=PASSWORD)


def sign_in(client, username: str, password: str):
    return client.post(reverse("web:login"), {"username": username, "password": password}, **FROM)


def auth_entries(action: str):
    return AuditEntry.objects.filter(action=action).order_by("id")


def test_login_and_logout_are_audited_with_ip_and_user_agent(client, org, citizen):
    assert sign_in(client, citizen.username, PASSWORD).status_code == 302
    login = auth_entries("auth.login").get()
    assert login.actor == citizen and login.object_id == str(citizen.pk)
    assert login.data["ip"] == "203.0.113.7"
    assert login.data["user_agent"] == BROWSER[:300]
    assert client.post(reverse("web:logout"), **FROM).status_code == 302
    logout = auth_entries("auth.logout").get()
    assert logout.actor == citizen and logout.data["ip"] == "203.0.113.7"
    assert chain.verify().clean


def test_a_failed_login_records_the_user_name_but_never_the_password(client, org, citizen):
    sign_in(client, citizen.username, "doan-sai-mat-khau")
    sign_in(client, "khong-co-ai", "mat-khau-bi-mat")
    failed = list(auth_entries("auth.login_failed"))
    assert [e.actor_label for e in failed] == [citizen.username, "khong-co-ai"]
    assert all(e.actor is None and e.data["ip"] == "203.0.113.7" for e in failed)
    for entry in AuditEntry.objects.all():
        text = f"{entry.data} {entry.object_repr} {entry.actor_label}"
        assert "doan-sai-mat-khau" not in text and "mat-khau-bi-mat" not in text
    assert not auth_entries("auth.login").exists()


def test_a_lockout_is_audited(client, org, citizen, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        last = sign_in(client, citizen.username, "sai")
    assert last.status_code == 429
    lockout = auth_entries("auth.lockout").first()
    assert lockout is not None
    assert lockout.actor_label == citizen.username and lockout.data["ip"] == "203.0.113.7"
    assert auth_entries("auth.login_failed").count() == settings.AXES_FAILURE_LIMIT


def test_token_creation_and_revocation_are_sign_in_events_with_the_client(org, citizen, now):
    client = signin.client(RequestFactory().post("/", **FROM))
    issued = tokens.create_token(citizen, citizen, name="Tích hợp", now=now, client=client)
    tokens.revoke_token(citizen, issued.token, now=now, client=client)
    created = auth_entries("auth.token.created").get()
    revoked = auth_entries("auth.token.revoked").get()
    for entry in (created, revoked):
        assert entry.actor == citizen and entry.data["ip"] == "203.0.113.7"
        assert issued.key not in str(entry.data)


def test_the_auditor_reads_sign_in_events_and_a_leader_does_not(client, org, citizen, make_user):
    sign_in(client, citizen.username, PASSWORD)
    client.post(reverse("web:logout"))
    sign_in(client, "ke-la", "sai")
    auditor = make_user(Role.AUDITOR)
    client.force_login(auditor)
    page = client.get(reverse("web:audit"), {"nhom": "dang-nhap"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "auth.login" in body and "auth.login_failed" in body and "ke-la" in body
    assert "203.0.113.7" in body
    # The «Đăng nhập» filter lists only sign-in events (the form suggests every code).
    assert "org.agency.created" not in body.split("<tbody>", 1)[1]
    assert 'option value="dang-nhap" selected' in body
    leader = make_user(Role.AGENCY_LEADER, agency=org.justice)
    client.force_login(leader)
    assert client.get(reverse("web:audit"), {"nhom": "dang-nhap"}).status_code == 403
