"""API tokens (mã truy cập API) for integrations: create, list, revoke, authenticate.

A token reads ``cchc_<prefix>_<secret>``. The prefix (12 hex digits) finds the row; the
SHA-256 of the whole token is compared in constant time with the stored hash. The token
itself is returned once by `create_token` and never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import ApiToken, User
from cchc.accounts.roles import Role
from cchc.audit import log, signin
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from cchc.vietnamese import nfc

SCHEME = "cchc_"
PREFIX_LENGTH = 12
# Recording every use would write on every API call; a minute's precision is enough.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class TokenRefused(DomainError):
    """A bearer token that does not authenticate (HTTP 401)."""

    code = "token.invalid"
    http_status = 401
    exit_code = 3


@dataclass(frozen=True)
class IssuedToken:
    """A new token row and its secret: show `key` to the user once."""

    token: ApiToken
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _when(instant: dt.datetime) -> str:
    return instant.astimezone(legaltime.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _require_owner_or_admin(actor: Any, user: User) -> None:
    if getattr(actor, "pk", None) is not None and actor.pk == user.pk:
        return
    if not policy.has_role(actor, Role.ADMINISTRATOR):
        raise PermissionDenied(
            "Chỉ chính người dùng hoặc quản trị hệ thống được quản lý mã truy cập API.",
            code="token.forbidden",
        )


def create_token(
    actor: Any,
    user: User,
    *,
    name: str,
    now: dt.datetime,
    expires_in: dt.timedelta | None = None,
    client: dict[str, str] | None = None,
) -> IssuedToken:
    """Issue a token for `user` (by the user themself or an administrator), audited as a
    sign-in event with `client` (IP address and user agent: `audit.signin.client(request)`)
    when made through a request.
    `expires_in` None means no expiry. Raises InvalidInput, PermissionDenied."""
    _require_owner_or_admin(actor, user)
    name = nfc(name).strip()
    if not name:
        raise InvalidInput("Đặt tên cho mã truy cập (dùng cho hệ thống nào).", code="token.name")
    if len(name) > 100:
        raise InvalidInput("Tên mã truy cập dài quá 100 ký tự.", code="token.name")
    if not user.is_active:
        raise InvalidInput(
            f"Tài khoản {user.username} đã bị khóa; không thể cấp mã truy cập.",
            code="token.inactive_user",
        )
    if expires_in is not None and expires_in <= dt.timedelta(0):
        raise InvalidInput("Thời hạn của mã truy cập phải lớn hơn 0.", code="token.expiry")
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    while ApiToken.objects.filter(prefix=prefix).exists():  # pragma: no cover - 2^-48
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    key = f"{SCHEME}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=_digest(key),
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
        )
        log.record(
            signin.TOKEN_CREATED,
            actor=actor,
            obj=token,
            data={
                "user": user.username,
                "name": name,
                "prefix": prefix,
                "expires_at": token.expires_at,
                **(client or {}),
            },
            at=now,
        )
    return IssuedToken(token=token, key=key)


def revoke_token(
    actor: Any, token: ApiToken, *, now: dt.datetime, client: dict[str, str] | None = None
) -> ApiToken:
    """Revoke `token` (kept for the record), audited as a sign-in event with `client` (as
    for `create_token`). Raises Conflict if already revoked."""
    _require_owner_or_admin(actor, token.user)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise Conflict(
                f"Mã truy cập «{locked.name}» đã bị thu hồi lúc {_when(locked.revoked_at)}.",
                code="token.already_revoked",
            )
        ApiToken.objects.filter(pk=locked.pk).update(revoked_at=now)
        locked.revoked_at = now
        log.record(
            signin.TOKEN_REVOKED,
            actor=actor,
            obj=locked,
            data={
                "user": locked.user.username,
                "name": locked.name,
                "prefix": locked.prefix,
                **(client or {}),
            },
            at=now,
        )
    return locked


def tokens_visible_to(actor: Any, *, user: User | None = None) -> QuerySet[ApiToken]:
    """Tokens `actor` may list: all for an administrator, otherwise their own."""
    qs = ApiToken.objects.select_related("user")
    if not policy.has_role(actor, Role.ADMINISTRATOR):
        qs = qs.filter(user_id=getattr(actor, "pk", None))
    if user is not None:
        qs = qs.filter(user=user)
    return qs


def get_token(actor: Any, token_id: int) -> ApiToken:
    """Token `token_id` if `actor` may see it; NotFound otherwise."""
    token = tokens_visible_to(actor).filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"Không có mã truy cập số {token_id}.", code="token.not_found")
    return token


def authenticate(key: str, *, now: dt.datetime) -> User:
    """The active user a bearer `key` stands for. Raises TokenRefused with the reason."""
    key = key.strip()
    body = key[len(SCHEME) :] if key.startswith(SCHEME) else ""
    prefix, separator, secret = body[:PREFIX_LENGTH], body[PREFIX_LENGTH : PREFIX_LENGTH + 1], ""
    if separator == "_":
        secret = body[PREFIX_LENGTH + 1 :]
    if not secret:
        raise TokenRefused(
            "Mã truy cập không đúng định dạng (cần «Authorization: Bearer cchc_…»).",
            code="token.malformed",
        )
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    # Same refusal for an unknown prefix and a wrong secret: nothing to probe.
    if token is None or not hmac.compare_digest(token.key_hash, _digest(key)):
        raise TokenRefused("Mã truy cập không hợp lệ.", code="token.invalid")
    if token.revoked_at is not None:
        raise TokenRefused(
            f"Mã truy cập «{token.name}» đã bị thu hồi lúc {_when(token.revoked_at)}.",
            code="token.revoked",
        )
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused(
            f"Mã truy cập «{token.name}» đã hết hạn lúc {_when(token.expires_at)}.",
            code="token.expired",
        )
    if not token.user.is_active:
        raise TokenRefused(
            "Tài khoản gắn với mã truy cập này đã bị khóa.", code="token.inactive_user"
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
