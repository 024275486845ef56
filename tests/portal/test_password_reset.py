"""Quên mật khẩu: a citizen sets a new password through a link sent to what they registered
with; the form never tells whether an account exists, and the link is single-use and short."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cchc.audit.models import AuditEntry
from cchc.notifications.models import Notification
from cchc.portal import passwords
from tests.portal.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "mat-khau-moi-2026"
LINK = re.compile(r"https?://\S+/dich-vu-cong/quen-mat-khau/[^/\s]+/[^/\s]+/")


def ask(client: Client, identifier: str, capture) -> object:
    with capture(execute=True):
        return client.post(reverse("portal:password_reset"), {"identifier": identifier})


def scrub(html: str) -> str:
    """The page without what differs on every request (CSRF token, CSP nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


def test_the_answer_is_the_same_whether_or_not_the_account_exists(
    client, portal, django_capture_on_commit_callbacks
):
    known = ask(client, "binh@example.vn", django_capture_on_commit_callbacks)
    unknown = ask(Client(), "khong-co@example.vn", django_capture_on_commit_callbacks)
    staff = ask(Client(), portal.leader.username, django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == staff.status_code == 302
    assert known["Location"] == unknown["Location"] == staff["Location"]
    pages = [scrub(Client().get(r["Location"]).content.decode()) for r in (known, unknown)]
    assert pages[0] == pages[1]
    # Only the real citizen account got a message; staff accounts are not reset here.
    assert [m.to for m in mail.outbox] == [["binh@example.vn"]]


def test_a_citizen_sets_a_new_password_through_the_emailed_link_once(
    client, portal, django_capture_on_commit_callbacks
):
    ask(client, "  BINH@example.vn ", django_capture_on_commit_callbacks)
    [message] = mail.outbox
    link = LINK.search(message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and "binh@example.vn" in page.content.decode()

    weak = client.post("/" + path, {"password": "123", "password2": "123"})
    assert weak.status_code == 400 and "aria-invalid" in weak.content.decode()
    differ = client.post("/" + path, {"password": NEW, "password2": NEW + "x"})
    assert "không khớp" in differ.content.decode()

    done = client.post("/" + path, {"password": NEW, "password2": NEW})
    assert done.status_code == 302 and done["Location"] == reverse("portal:login")
    user = portal.other_citizen
    user.refresh_from_db()
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    # The link is spent: the token depended on the old password.
    again = client.get("/" + path)
    assert again.status_code == 400 and "không còn hiệu lực" in again.content.decode()
    actions = list(
        AuditEntry.objects.filter(action__startswith="portal.password_reset").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["portal.password_reset.done", "portal.password_reset.requested"]


def test_a_phone_account_gets_the_link_by_sms(client, portal, django_capture_on_commit_callbacks):
    ask(client, "+84 912 345 678", django_capture_on_commit_callbacks)
    [sms] = Notification.objects.filter(kind="portal.password_reset")
    assert sms.channel == "sms" and sms.address == "0912345678"
    assert LINK.search(sms.body)
    assert not mail.outbox


def test_links_expire_and_forged_links_are_refused(client, portal):
    user = portal.other_citizen
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = passwords.tokens.make_token(user)
    assert passwords.user_for_link(uid, token) == user
    later = timezone.now() + dt.timedelta(hours=passwords.LINK_HOURS, minutes=5)
    assert passwords.user_for_link(uid, token, now=later) is None
    for bad_uid, bad_token in [
        (uid, token[:-1] + ("0" if token[-1] != "0" else "1")),
        (urlsafe_base64_encode(force_bytes(2**70)), token),
        ("%%%", token),
        (uid, "not-a-token"),
    ]:
        response = client.get(reverse("portal:password_reset_confirm", args=[bad_uid, bad_token]))
        assert response.status_code == 400
