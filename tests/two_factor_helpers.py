"""Two-factor helpers for tests: real devices through the real services, real TOTP codes.

`force_login` skips the second step; a test that needs a verified session of a user whose
role requires two-factor sign-in uses `sign_in_verified` (the suite otherwise runs with no
role requiring it: see tests/conftest.py).
"""

from __future__ import annotations

from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cchc.accounts import twofactor

TEST_CLIENT = twofactor.Client(ip="127.0.0.1", user_agent="pytest")


def code(device_or_key: TOTPDevice | bytes, *, ahead: int = 0) -> str:
    """The authenticator's code now, or `ahead` steps of 30 s later (a code is accepted
    once, and one step either side of now is accepted: the next sign-in uses ahead=1)."""
    key = device_or_key.bin_key if isinstance(device_or_key, TOTPDevice) else device_or_key
    return f"{totp(key, step=30, t0=0, digits=6, drift=ahead):06d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Turn on two-factor sign-in for `user`; the confirmed device and the recovery codes."""
    device = twofactor.pending_device(user)
    done = twofactor.confirm_enrolment(
        user, code=code(device), now=timezone.now(), client=TEST_CLIENT
    )
    return done.device, done.recovery_codes


def sign_in_verified(client, user) -> TOTPDevice:
    """`client` signed in as `user` with a session verified by a real confirmed device (made
    if `user` has none) — what the sign-in form's second step leaves in the session."""
    device = twofactor.confirmed_device(user) or enrol(user)[0]
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
