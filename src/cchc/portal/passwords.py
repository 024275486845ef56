"""A citizen who forgot their password sets a new one through a link sent to the e-mail
address or phone number they registered with (quên mật khẩu).

The request answers the same whether or not an account exists (no account enumeration);
the link carries Django's password-reset token, which is single-use (it depends on the
password hash, so it dies once the password changes) and expires after
`LINK_HOURS` (checked here; Django's own PASSWORD_RESET_TIMEOUT is days). Changing
the password also ends the account's other sessions (Django's session auth hash). Staff
accounts are not reset here: their administrator resets them (a staff account may carry
two-factor sign-in and wider rights; the page says whom to ask).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from cchc.accounts import policy
from cchc.accounts.models import User
from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.errors import InvalidInput
from cchc.notifications.models import Channel
from cchc.notifications.services import absolute, notify
from cchc.portal.services import normalise_phone

LINK_HOURS = 2  # a reset link is short-lived: it is as good as the password


class _Tokens(PasswordResetTokenGenerator):
    """Django's reset token with this module's own lifetime and salt."""

    key_salt = "cchc.portal.passwords"

    def _now(self) -> dt.datetime:
        # The application's clock (injectable), as the naive local time Django's token
        # arithmetic expects, so that `_issued_at` reads it back in the same terms.
        return timezone.localtime(timezone.now()).replace(tzinfo=None)


tokens = _Tokens()


def account_for(identifier: str) -> User | None:
    """The active citizen account registered with `identifier` (e-mail or phone), or None."""
    raw = (identifier or "").strip()
    if not raw:
        return None
    username = raw.lower() if "@" in raw else normalise_phone(raw)
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None or not policy.has_role(user, Role.CITIZEN):
        return None
    return user


def request_reset(identifier: str, *, now: dt.datetime | None = None) -> None:
    """Send a reset link to the account registered with `identifier`, by e-mail or SMS as it
    was registered. Nothing is sent, and nothing different is said, when there is none."""
    at = now or timezone.now()
    user = account_for(identifier)
    if user is None:
        return
    link = absolute(
        reverse(
            "portal:password_reset_confirm",
            args=[urlsafe_base64_encode(force_bytes(user.pk)), tokens.make_token(user)],
        )
    )
    channel = Channel.EMAIL if user.email else Channel.SMS
    address = user.email or user.phone or user.username
    with transaction.atomic():
        notify(
            kind="portal.password_reset",
            subject="Đặt lại mật khẩu tài khoản Cổng dịch vụ công",
            body=(
                f"Có yêu cầu đặt lại mật khẩu cho tài khoản {user.username}. Mở liên kết sau "
                f"trong {LINK_HOURS} giờ để đặt mật khẩu mới: {link} . Nếu bạn không yêu cầu, "
                "hãy bỏ qua tin nhắn này: mật khẩu hiện tại vẫn giữ nguyên."
            ),
            channel=channel,
            address=address,
            user=user,
            now=at,
        )
        log.record(
            "portal.password_reset.requested",
            actor=None,
            obj=user,
            at=at,
            data={"channel": str(channel)},
        )


def user_for_link(uidb64: str, token: str, *, now: dt.datetime | None = None) -> User | None:
    """The account a reset link is for, if the link is still good (else None)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None
    if not 0 < pk < 2**63:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not policy.has_role(user, Role.CITIZEN):
        return None
    if not tokens.check_token(user, token):
        return None
    issued = _issued_at(token)
    at = now or timezone.now()
    if issued is None or at - issued > dt.timedelta(hours=LINK_HOURS):
        return None
    return user


def _issued_at(token: str) -> dt.datetime | None:
    """When the token was made (Django encodes seconds since 2001-01-01, local time, in
    base 36)."""
    try:
        stamp, _ = token.split("-", 1)
        seconds = base36_to_int(stamp)
    except ValueError:
        return None
    naive = dt.datetime(2001, 1, 1) + dt.timedelta(seconds=seconds)
    return timezone.make_aware(naive, timezone.get_default_timezone())


def set_new_password(
    user: User, *, password: str, repeated: str, now: dt.datetime | None = None
) -> None:
    """Set `password` on `user` (reached through a good link). Raises InvalidInput with
    `fields` when the two entries differ or the password is too weak."""
    errors: dict[str, Any] = {}
    if password != repeated:
        errors["password2"] = "Hai lần nhập mật khẩu không khớp."
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        raise InvalidInput(
            "Chưa đặt được mật khẩu mới: " + " ".join(errors.values()),
            code="portal.password_reset",
            fields=errors,
        )
    at = now or timezone.now()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        log.record("portal.password_reset.done", actor=user, obj=user, at=at)
