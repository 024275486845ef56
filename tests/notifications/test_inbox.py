"""The inbox page: each user sees only their own in-app messages, opens them (marked read,
sent only to a path on this site) and sees the unread count in the header."""

from __future__ import annotations

import pytest

from cchc.accounts.roles import Role
from cchc.notifications.models import Notification
from cchc.notifications.services import notify

pytestmark = pytest.mark.django_db


def message(user, now, n, link="/ho-so/"):
    return notify(
        kind="test",
        subject=f"Nhắc việc số {n}",
        body="Hồ sơ sắp đến hạn:\n- một\n- hai",
        user=user,
        link=link,
        key=f"test:{user.pk}:{n}",
        now=now,
    )


def test_inbox_lists_only_my_messages_and_counts_unread(client, make_user, now, org):
    me = make_user(Role.PROCESSING_OFFICER, agency=org.justice)
    other = make_user(Role.PROCESSING_OFFICER, agency=org.justice)
    for n in range(3):
        message(me, now, n)
    message(other, now, 9)
    client.force_login(me)
    page = client.get("/thong-bao/").content.decode()
    assert "Nhắc việc số 0" in page and "Nhắc việc số 2" in page
    assert "Nhắc việc số 9" not in page
    assert 'aria-label="3 chưa đọc"' in page  # header badge
    assert "Đánh dấu tất cả là đã đọc (3)" in page


def test_opening_marks_read_and_follows_only_local_links(client, make_user, now):
    me, other = make_user(Role.CITIZEN), make_user(Role.CITIZEN)
    local = message(me, now, 1, link="/dich-vu-cong/ho-so/ABC/")
    outside = message(me, now, 2, link="https://ke-gian.example/phishing")
    theirs = message(other, now, 3)
    client.force_login(me)
    response = client.post(f"/thong-bao/{local.pk}/mo/")
    assert response.status_code == 302 and response["Location"] == "/dich-vu-cong/ho-so/ABC/"
    assert Notification.objects.get(pk=local.pk).read_at is not None
    response = client.post(f"/thong-bao/{outside.pk}/mo/")
    assert response["Location"] == "/thong-bao/"  # never an outside address
    # Someone else's message: not found, not marked.
    client.post(f"/thong-bao/{theirs.pk}/mo/")
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get(f"/thong-bao/{theirs.pk}/mo/").status_code == 405  # POST only


def test_mark_all_read_and_unread_filter(client, make_user, now, org):
    me = make_user(Role.DESK_OFFICER, agency=org.justice)
    for n in range(2):
        message(me, now, n)
    client.force_login(me)
    client.post("/thong-bao/da-doc-het/")
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()
    page = client.get("/thong-bao/?chua_doc=1").content.decode()
    assert "Không có thông báo chưa đọc." in page
    assert "chưa đọc</span>" not in page


def test_inbox_needs_sign_in_and_csrf(client, make_user):
    assert client.get("/thong-bao/").status_code == 302
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user(Role.CITIZEN))
    assert strict.post("/thong-bao/da-doc-het/").status_code == 403
