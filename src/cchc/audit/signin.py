"""Sign-in events in the audit log (nhật ký đăng nhập): successful and failed logins,
lock-outs by django-axes, logouts — each with the client's IP address and user agent.

Receivers of Django's auth signals and axes' `user_locked_out`, connected in
`AuditConfig.ready`. The user name tried on a failed login is recorded (as the entry's
account label, so the auditor can filter by it) but never the password or any other
credential. Sign-in signals may fire outside a transaction, so each entry is written in its
own `transaction.atomic()` (joining the request's transaction when there is one).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.utils import timezone

from cchc.audit import log

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOCKOUT = "auth.lockout"
LOGOUT = "auth.logout"
TOKEN_CREATED = "auth.token.created"  # noqa: S105 - an action name, not a secret
TOKEN_REVOKED = "auth.token.revoked"  # noqa: S105 - an action name, not a secret
# The action prefix of every sign-in event (the audit page's «Đăng nhập» filter).
PREFIX = "auth."
USER_AGENT_LENGTH = 300
LABEL_LENGTH = 150


def client(request: Any) -> dict[str, str]:
    """The IP address (REMOTE_ADDR, as the server saw it) and user agent (truncated) of
    `request`; empty strings without a request."""
    meta = getattr(request, "META", None) or {}
    return {
        "ip": str(meta.get("REMOTE_ADDR") or ""),
        "user_agent": str(meta.get("HTTP_USER_AGENT") or "")[:USER_AGENT_LENGTH],
    }


def _record(action: str, *, request: Any, user: Any = None, label: str = "", **data: Any) -> None:
    entry = log.entry_for(
        action,
        actor=user,
        obj=user if getattr(user, "pk", None) is not None else None,
        data={**data, **client(request)},
        at=timezone.now(),
    )
    if label:
        entry.actor_label = label[:LABEL_LENGTH]
    with transaction.atomic():
        entry.save()


def on_login(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    _record(LOGIN, request=request, user=user)


def on_logout(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is not None:  # logging out without a session is no event
        _record(LOGOUT, request=request, user=user)


def _tried_username(credentials: dict[str, Any] | None) -> str:
    field = get_user_model().USERNAME_FIELD
    value = (credentials or {}).get(field) or (credentials or {}).get("username") or ""
    return str(value)[:LABEL_LENGTH]


def on_login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **kwargs: Any
) -> None:
    # Only the user name: `credentials` also holds the (masked) password.
    username = _tried_username(credentials)
    _record(LOGIN_FAILED, request=request, label=username or "(không nhập)", username=username)


def on_locked_out(
    sender: Any, request: Any = None, username: Any = None, ip_address: Any = None, **kwargs: Any
) -> None:
    name = str(username or "")[:LABEL_LENGTH]
    _record(LOCKOUT, request=request, label=name, username=name, axes_ip=str(ip_address or ""))


def connect() -> None:
    """Connect the receivers (once; `dispatch_uid` makes it idempotent)."""
    # axes.signals imports axes' models: only importable once the app registry is ready.
    from axes.signals import user_locked_out

    user_logged_in.connect(on_login, dispatch_uid="cchc.audit.signin.login")
    user_logged_out.connect(on_logout, dispatch_uid="cchc.audit.signin.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="cchc.audit.signin.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="cchc.audit.signin.locked_out")
