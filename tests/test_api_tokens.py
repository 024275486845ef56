"""API tokens: issued once, stored as a hash, refused precisely when wrong, expired, revoked
or held by a locked account; managed by the owner, an administrator or `cchc tokens`."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cchc.accounts import tokens
from cchc.accounts.models import ApiToken
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.errors import Conflict, PermissionDenied
from tests.test_api_errors import assert_envelope

pytestmark = pytest.mark.django_db

QUEUE = "/api/dossiers/"


@pytest.fixture
def clerk(make_user):
    return make_user(Role.CITIZEN)


@pytest.fixture
def issued(clerk, now):
    return tokens.create_token(clerk, clerk, name="Cổng dịch vụ công", now=now)


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(issued, clerk):
    token = ApiToken.objects.get()
    assert issued.key.startswith(f"cchc_{token.prefix}_")
    assert token.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    secret = issued.key.rsplit("_", 1)[1]
    stored = [str(v) for v in ApiToken.objects.values().get().values()]
    assert not any(secret in value for value in stored)
    entry = AuditEntry.objects.get(action="auth.token.created")
    assert entry.actor == clerk and entry.data["prefix"] == token.prefix
    assert issued.key not in str(entry.data)


def test_a_valid_token_authenticates_as_its_user(client, issued, clerk, now):
    response = client.get(QUEUE, **bearer(issued.key))
    assert response.status_code == 200, response.content
    assert response.json() == {"items": [], "next": None}
    assert ApiToken.objects.get().last_used_at is not None


def test_session_still_works_and_no_credentials_is_unauthenticated(client, clerk):
    assert_envelope(client.get(QUEUE), 401, "unauthenticated")
    client.force_login(clerk)
    assert client.get(QUEUE).status_code == 200


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), "token.invalid"),
        (lambda key: "cchc_000000000000_" + key.rsplit("_", 1)[1], "token.invalid"),
        (lambda key: "not-a-token", "token.malformed"),
        (lambda key: "", "token.malformed"),
    ],
)
def test_a_wrong_token_is_refused_even_with_a_session(client, issued, clerk, mangle, code):
    client.force_login(clerk)  # a bad bearer header is not silently ignored
    response = client.get(QUEUE, **bearer(mangle(issued.key)))
    error = assert_envelope(response, 401, code)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Mã truy cập" in error["message"]


def test_an_expired_token_is_refused(client, clerk):
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    issued = tokens.create_token(
        clerk, clerk, name="Hết hạn", now=past, expires_in=dt.timedelta(days=1)
    )
    error = assert_envelope(client.get(QUEUE, **bearer(issued.key)), 401, "token.expired")
    assert "«Hết hạn» đã hết hạn lúc" in error["message"]


def test_a_revoked_token_is_refused(client, issued, clerk, now):
    tokens.revoke_token(clerk, issued.token, now=now)
    error = assert_envelope(client.get(QUEUE, **bearer(issued.key)), 401, "token.revoked")
    assert "đã bị thu hồi" in error["message"]
    assert AuditEntry.objects.filter(action="auth.token.revoked").count() == 1
    with pytest.raises(Conflict):
        tokens.revoke_token(clerk, issued.token, now=now)


def test_a_locked_account_cannot_use_its_token(client, issued, clerk):
    type(clerk).objects.filter(pk=clerk.pk).update(is_active=False)
    assert_envelope(client.get(QUEUE, **bearer(issued.key)), 401, "token.inactive_user")


def test_only_the_user_or_an_administrator_manages_tokens(make_user, clerk, issued, now):
    stranger = make_user(Role.CITIZEN)
    with pytest.raises(PermissionDenied):
        tokens.create_token(stranger, clerk, name="x", now=now)
    with pytest.raises(PermissionDenied):
        tokens.revoke_token(stranger, issued.token, now=now)
    assert list(tokens.tokens_visible_to(stranger)) == []
    admin = make_user(Role.ADMINISTRATOR)
    tokens.create_token(admin, clerk, name="Do quản trị cấp", now=now)
    assert tokens.tokens_visible_to(admin, user=clerk).count() == 2


def test_command_creates_lists_and_revokes(client, clerk):
    out, err = StringIO(), StringIO()
    call_command(
        "tokens",
        "create",
        clerk.username,
        "--name",
        "Tích hợp",
        "--expires",
        "30",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip()
    assert key.startswith("cchc_") and "\n" not in key
    assert "chỉ hiển thị một lần" in err.getvalue()
    assert client.get(QUEUE, **bearer(key)).status_code == 200

    listing = StringIO()
    call_command("tokens", "list", stdout=listing)
    token = ApiToken.objects.get()
    assert f"cchc_{token.prefix}_…" in listing.getvalue()
    assert key.split("_", 2)[2] not in listing.getvalue()  # the secret may contain "_"

    call_command("tokens", "revoke", str(token.pk), stdout=StringIO())
    assert_envelope(client.get(QUEUE, **bearer(key)), 401, "token.revoked")
    with pytest.raises(CommandError, match="đã bị thu hồi"):
        call_command("tokens", "revoke", str(token.pk), stdout=StringIO())
    with pytest.raises(CommandError, match="Không có người dùng"):
        call_command("tokens", "create", "ai-do", "--name", "x", stdout=StringIO())


def test_administrators_list_and_revoke_tokens_in_the_admin(client, issued, clerk, make_user):
    token = ApiToken.objects.get()
    client.force_login(make_user(Role.ADMINISTRATOR))
    page = client.get("/admin/accounts/apitoken/").content.decode()
    assert "Cổng dịch vụ công" in page and token.prefix in page
    assert token.key_hash not in page  # never the hash, never the secret
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "Đã thu hồi 1 mã truy cập." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action__contains="token", object_id=str(token.pk)).exists()
    # Nobody adds or deletes tokens there: the secret must come from `cchc tokens create`.
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    client.force_login(clerk)
    assert client.get("/admin/accounts/apitoken/").status_code in (302, 403)
