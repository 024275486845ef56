"""Two-factor sign-in (xác thực hai lớp) for staff: an authenticator app and recovery codes.

Why: NĐ 13/2023/NĐ-CP on personal-data protection and the 2025 Law on Personal Data
Protection ask for strong access control over citizens' personal data; administrators hold
every permission. `CCHC_2FA_REQUIRED_ROLES` says which roles must use a second factor
(default: administrators); anybody else, citizens included, may turn it on.

Devices are django-otp's: one confirmed `TOTPDevice` per user (RFC 6238: 30 s steps, 6
digits, the step before and after accepted, a code never accepted twice) and one
`StaticDevice` holding `RECOVERY_CODES` single-use recovery codes (mã khôi phục).

Failed attempts count on the TOTP device, whichever kind of code was typed: django-otp's
exponential throttle (1, 2, 4 … seconds × `OTP_TOTP_THROTTLE_FACTOR`) and, after
`LOGIN_FAILURE_LIMIT` consecutive failures, the password step's lock-out: the second step is
refused for `LOGIN_COOLOFF_MINUTES`. Every change and every attempt is audited (`auth.2fa.*`)
with the client's address and user agent; codes and secrets never are.
"""

from __future__ import annotations

import datetime as dt
import functools
from base64 import b32encode
from binascii import unhexlify
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import User
from cchc.accounts.roles import PERMISSIONS, STAFF_ROLES, Role
from cchc.audit import log
from cchc.errors import Conflict, DomainError, InvalidInput, PermissionDenied

RECOVERY_CODES = 10
TOTP_NAME = "Ứng dụng xác thực"
RECOVERY_NAME = "Mã khôi phục"

# Shortcut values of CCHC_2FA_REQUIRED_ROLES.
SHORTCUTS: dict[str, frozenset[str]] = {
    # Everyone who can see citizens' personal data (NĐ 13/2023).
    "personal_data": PERMISSIONS["dossier.personal_data"],
    "staff": frozenset(STAFF_ROLES),
}


class SecondFactorRefused(DomainError):
    """A wrong or reused code."""

    code = "auth.2fa.invalid_code"
    http_status = 400
    exit_code = 2


class SecondFactorBlocked(DomainError):
    """Too many wrong codes: throttled for seconds, or locked out for the cool-off."""

    code = "auth.2fa.locked"
    http_status = 429
    exit_code = 3


@dataclass(frozen=True)
class Client:
    """Where an attempt comes from, for the audit log."""

    ip: str = ""
    user_agent: str = ""

    def as_data(self) -> dict[str, str]:
        return {"ip": self.ip, "user_agent": self.user_agent[:300]}


NO_CLIENT = Client()


@dataclass(frozen=True)
class Status:
    """What the security page shows."""

    enrolled: bool
    required: bool
    recovery_left: int
    enrolled_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True)
class Enrolment:
    """A completed enrolment: `device` goes into the session, `recovery_codes` are shown
    once."""

    device: TOTPDevice
    recovery_codes: list[str]


@dataclass(frozen=True)
class Verification:
    """A successful second step: `device` goes into the session (`django_otp.login`)."""

    device: TOTPDevice | StaticDevice
    recovery_used: bool
    recovery_left: int


# -- who must use it ---------------------------------------------------------------------------


def required_roles(codes: Iterable[str] | None = None) -> frozenset[str]:
    """Role codes that must use a second factor: `codes`, or the setting, with shortcuts
    expanded. Raises ImproperlyConfigured for an unknown code or `citizen`."""
    return _expand(tuple(settings.CCHC_2FA_REQUIRED_ROLES if codes is None else codes))


@functools.lru_cache(maxsize=16)
def _expand(codes: tuple[str, ...]) -> frozenset[str]:
    roles: set[str] = set()
    for code in codes:
        if code in SHORTCUTS:
            roles |= SHORTCUTS[code]
        elif code == Role.CITIZEN:
            raise ImproperlyConfigured(
                "CCHC_2FA_REQUIRED_ROLES: citizens are never required to use two-factor sign-in."
            )
        elif code in STAFF_ROLES:
            roles.add(str(code))
        else:
            known = sorted([*SHORTCUTS, "none", *(str(r) for r in STAFF_ROLES)])
            raise ImproperlyConfigured(
                f"CCHC_2FA_REQUIRED_ROLES: unknown role {code!r}; use one of {', '.join(known)}."
            )
    return frozenset(roles)


def is_required(user: Any) -> bool:
    """True if one of `user`'s roles (superusers count as administrators) requires it."""
    return bool(policy.role_codes(user) & required_roles())


def confirmed_device(user: Any) -> TOTPDevice | None:
    if getattr(user, "pk", None) is None:
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()


def is_enrolled(user: Any) -> bool:
    if getattr(user, "pk", None) is None:
        return False
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def needs_second_step(user: Any) -> bool:
    """True if a session of `user` must be verified with a code before anything else:
    their role requires it, or they turned it on themselves."""
    return is_required(user) or is_enrolled(user)


def status(user: User) -> Status:
    device = confirmed_device(user)
    return Status(
        enrolled=device is not None,
        required=is_required(user),
        recovery_left=_recovery_left(user),
        enrolled_at=device.created_at if device else None,
        last_used_at=device.last_used_at if device else None,
    )


# -- enrolment ---------------------------------------------------------------------------------


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator of `user` being enrolled (made on first call; the
    secret stays until enrolment completes). Raises Conflict if already enrolled."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if is_enrolled(user):
            raise Conflict(_already_enrolled(), code="auth.2fa.already_enrolled")
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an authenticator app."""
    text = b32encode(unhexlify(device.key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def confirm_enrolment(user: User, *, code: str, now: dt.datetime, client: Client) -> Enrolment:
    """Turn on two-factor sign-in with a first code from the pending authenticator; returns
    the device and the new recovery codes (show them once). Raises InvalidInput,
    SecondFactorRefused, SecondFactorBlocked, Conflict (already enrolled or nothing
    pending)."""
    digits = _digits(code)
    codes: list[str] = []
    with transaction.atomic():
        if is_enrolled(user):
            raise Conflict(_already_enrolled(), code="auth.2fa.already_enrolled")
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-id")
            .first()
        )
        if device is None:
            raise Conflict(
                "Chưa có mã bí mật để đăng ký: mở lại trang đăng ký xác thực hai lớp.",
                code="auth.2fa.not_started",
            )
        refusal = _blocked(device, now) or _check_totp(device, digits, now)
        if refusal is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _fresh_recovery_codes(user)
            log.record(
                "auth.2fa.enrolled",
                actor=user,
                obj=user,
                data={"device": TOTP_NAME, "recovery_codes": len(codes), **client.as_data()},
                at=now,
            )
        else:
            _record_failure(
                user, device, refusal, stage="enrol", method="totp", now=now, client=client
            )
    if refusal is not None:
        raise refusal
    return Enrolment(device=device, recovery_codes=codes)


# -- the second step ---------------------------------------------------------------------------


def verify(user: User, *, code: str, now: dt.datetime, client: Client) -> Verification:
    """Check a code typed at sign-in: 6 digits from the authenticator, or a recovery code
    (used up). Raises InvalidInput, SecondFactorRefused, SecondFactorBlocked, Conflict (not
    enrolled)."""
    left = 0
    with transaction.atomic():
        device, refusal, static = _attempt(user, code, stage="sign_in", now=now, client=client)
        if refusal is None:
            method = "recovery" if static is not None else "totp"
            log.record(
                "auth.2fa.verified",
                actor=user,
                obj=user,
                data={"method": method, **client.as_data()},
                at=now,
            )
            left = _recovery_left(user)
            if static is not None:
                log.record(
                    "auth.2fa.recovery_used",
                    actor=user,
                    obj=user,
                    data={"recovery_left": left, **client.as_data()},
                    at=now,
                )
    if refusal is not None:
        raise refusal
    return Verification(
        device=static or device, recovery_used=static is not None, recovery_left=left
    )


def regenerate_recovery_codes(user: User, *, now: dt.datetime, client: Client) -> list[str]:
    """Replace `user`'s recovery codes with new ones (the old ones stop working); returns
    them to show once. Raises Conflict if two-factor sign-in is off."""
    with transaction.atomic():
        if not is_enrolled(user):
            raise Conflict(_not_enrolled(), code="auth.2fa.not_enrolled")
        codes = _fresh_recovery_codes(user)
        log.record(
            "auth.2fa.recovery_regenerated",
            actor=user,
            obj=user,
            data={"recovery_codes": len(codes), **client.as_data()},
            at=now,
        )
    return codes


def remove(user: User, *, code: str, now: dt.datetime, client: Client) -> None:
    """Turn off two-factor sign-in, confirmed with a current code (authenticator or
    recovery). If a role requires it, the next page asks to enrol again. Raises as
    `verify`."""
    with transaction.atomic():
        _device, refusal, _static = _attempt(user, code, stage="remove", now=now, client=client)
        if refusal is None:
            _delete_devices(user)
            log.record("auth.2fa.removed", actor=user, obj=user, data=client.as_data(), at=now)
    if refusal is not None:
        raise refusal


def reset(
    actor: Any, user: User, *, now: dt.datetime, reason: str = "", client: Client = NO_CLIENT
) -> None:
    """An administrator turns off `user`'s two-factor sign-in (lost phone and recovery
    codes): devices and recovery codes are deleted, every session of `user` loses its
    verification. Raises PermissionDenied, Conflict (nothing to reset)."""
    if not policy.has_role(actor, Role.ADMINISTRATOR):
        raise PermissionDenied(
            "Chỉ quản trị hệ thống được đặt lại xác thực hai lớp.", code="auth.2fa.forbidden"
        )
    with transaction.atomic():
        if not TOTPDevice.objects.filter(user=user).exists():
            raise Conflict(
                f"Tài khoản {user.username} chưa bật xác thực hai lớp.",
                code="auth.2fa.not_enrolled",
            )
        _delete_devices(user)
        log.record(
            "auth.2fa.reset",
            actor=actor,
            obj=user,
            data={"user": user.username, "reason": reason.strip()[:300], **client.as_data()},
            at=now,
        )


# -- internals ---------------------------------------------------------------------------------


def _attempt(
    user: User, code: str, *, stage: str, now: dt.datetime, client: Client
) -> tuple[TOTPDevice, DomainError | None, StaticDevice | None]:
    """One audited attempt inside the caller's transaction: (authenticator, refusal or None,
    the recovery device if a recovery code was used). Failures are committed with the
    caller's transaction, which must therefore not raise the refusal inside it."""
    text = _normalise(code)
    if not text:
        raise InvalidInput(
            "Nhập mã 6 chữ số từ ứng dụng xác thực hoặc một mã khôi phục.",
            code="auth.2fa.code_missing",
        )
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None:
        raise Conflict(_not_enrolled(), code="auth.2fa.not_enrolled")
    static = None
    is_totp = text.isdigit() and len(text) == device.digits
    refusal = _blocked(device, now)
    if refusal is None:
        if is_totp:
            refusal = _check_totp(device, text, now)
        else:
            token = (
                StaticToken.objects.select_for_update()
                .filter(device__user=user, device__confirmed=True, token=text)
                .select_related("device")
                .first()
            )
            if token is None:
                device.throttle_increment(commit=True)
                refusal = _wrong(device, now)
            else:
                static = token.device
                token.delete()
                static.set_last_used_timestamp(commit=True)
                device.throttle_reset(commit=True)
    if refusal is not None:
        method = "totp" if is_totp else "recovery"
        _record_failure(user, device, refusal, stage=stage, method=method, now=now, client=client)
    return device, refusal, static


def _check_totp(device: TOTPDevice, digits: str, now: dt.datetime) -> DomainError | None:
    """Verify with django-otp (which counts a failure on the device); the refusal or None."""
    if device.verify_token(digits):
        return None
    return _wrong(device, now)


def _blocked(device: TOTPDevice, now: dt.datetime) -> DomainError | None:
    """Refusal if the device is locked out or throttled, before looking at the code."""
    until = _locked_until(device, now)
    if until is not None:
        return _lockout(device, until)
    allowed, info = device.verify_is_allowed()
    if not allowed:
        wait = max(1, int(((info or {}).get("locked_until", now) - now).total_seconds()) + 1)
        return SecondFactorBlocked(
            f"Bạn vừa nhập sai mã; vui lòng đợi {wait} giây rồi nhập lại.",
            code="auth.2fa.throttled",
            retry_after=wait,
        )
    return None


def _wrong(device: TOTPDevice, now: dt.datetime) -> DomainError:
    until = _locked_until(device, now)
    if until is not None:
        return _lockout(device, until)
    return SecondFactorRefused(
        "Mã xác thực không đúng hoặc đã được dùng. Lưu ý: nhập sai nhiều lần bước xác thực "
        "sẽ bị tạm khóa.",
        failures=device.throttling_failure_count,
    )


def _locked_until(device: TOTPDevice, now: dt.datetime) -> dt.datetime | None:
    failed_at = device.throttling_failure_timestamp
    if failed_at is None or device.throttling_failure_count < settings.AXES_FAILURE_LIMIT:
        return None
    until: dt.datetime = failed_at + settings.AXES_COOLOFF_TIME
    return until if now < until else None


def _lockout(device: TOTPDevice, until: dt.datetime) -> SecondFactorBlocked:
    when = until.astimezone(legaltime.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")
    return SecondFactorBlocked(
        f"Bạn đã nhập sai mã xác thực {device.throttling_failure_count} lần. Bước xác thực "
        f"hai lớp bị tạm khóa đến {when}; thử lại sau hoặc liên hệ quản trị hệ thống.",
        code="auth.2fa.locked",
        locked_until=until.isoformat(),
    )


def _record_failure(
    user: User,
    device: TOTPDevice,
    refusal: DomainError,
    *,
    stage: str,
    method: str,
    now: dt.datetime,
    client: Client,
) -> None:
    log.record(
        "auth.2fa.failed",
        actor=user,
        obj=user,
        data={
            "stage": stage,
            "method": method,
            "reason": refusal.code,
            "failures": device.throttling_failure_count,
            **client.as_data(),
        },
        at=now,
    )


def _fresh_recovery_codes(user: User) -> list[str]:
    """Replace the recovery codes (the same device keeps sessions verified by it valid)."""
    device = StaticDevice.objects.filter(user=user).order_by("id").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    device.token_set.all().delete()
    codes: list[str] = []
    while len(codes) < RECOVERY_CODES:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in codes)
    return [f"{t[:4]}-{t[4:]}" for t in codes]


def _recovery_left(user: Any) -> int:
    if getattr(user, "pk", None) is None:
        return 0
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()


def _delete_devices(user: User) -> None:
    StaticDevice.objects.filter(user=user).delete()  # its tokens cascade
    TOTPDevice.objects.filter(user=user).delete()


def _normalise(code: str) -> str:
    """Spaces and hyphens dropped, lower case (recovery codes are shown as abcd-efgh)."""
    return "".join(ch for ch in (code or "") if ch not in " -\t").lower()


def _digits(code: str) -> str:
    text = _normalise(code)
    if not (text.isdigit() and len(text) == 6):
        raise InvalidInput(
            "Nhập mã gồm 6 chữ số đang hiển thị trên ứng dụng xác thực.",
            code="auth.2fa.code_format",
        )
    return text


def _already_enrolled() -> str:
    return "Tài khoản đã bật xác thực hai lớp."


def _not_enrolled() -> str:
    return "Tài khoản chưa bật xác thực hai lớp."
