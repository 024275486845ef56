"""Two-factor sign-in (issue 14 item 12): required for the configured roles, optional for
everyone else; enrolment with a QR code, codes from the authenticator, single-use recovery
codes, throttling and lock-out, administrator reset; every step audited."""

from __future__ import annotations

import base64
import datetime as dt
from io import StringIO

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cchc.accounts import tokens, twofactor
from cchc.accounts.middleware import TwoFactorMiddleware
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.config import build
from cchc.errors import Conflict, PermissionDenied
from tests.browser.fixtures import login, logout
from tests.test_api_errors import assert_envelope
from tests.two_factor_helpers import TEST_CLIENT, code, enrol, sign_in_verified

pytestmark = pytest.mark.django_db

PASSWORD = "Mk-haiLop-2026!"
HOME = "/"
ENROL = "/bao-mat/dang-ky/"
VERIFY = "/bao-mat/xac-thuc/"
SECURITY = "/bao-mat/"
API = "/api/dossiers/"


@pytest.fixture(autouse=True)
def administrators_required(settings):
    """The production default (the suite's default is off: tests/conftest.py)."""
    settings.CCHC_2FA_REQUIRED_ROLES = ("administrator",)
    return settings


@pytest.fixture
def no_throttle(settings):
    """django-otp's back-off waits 1, 2, 4 … s of wall-clock time after each wrong code; the
    tests that are not about it turn it off (counting and lock-out stay)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMINISTRATOR, password=PASSWORD)


def sign_in(client, user, password=PASSWORD, next_url=""):
    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/dang-nhap/", data)


def wrong_code(device_or_key) -> str:
    """Six digits the authenticator is not showing (nor one step either side)."""
    valid = {code(device_or_key, ahead=a) for a in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


def actions(user) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="accounts.user", object_id=str(user.pk))
        .filter(action__startswith="auth.2fa.")
        .order_by("id")
        .values_list("action", flat=True)
    )


# -- configuration -----------------------------------------------------------------------------


def test_administrators_are_required_by_default_and_shortcuts_expand():
    assert build({})["CCHC_2FA_REQUIRED_ROLES"] == ("administrator",)
    assert build({"CCHC_2FA_REQUIRED_ROLES": ""})["CCHC_2FA_REQUIRED_ROLES"] == ()
    assert build({"CCHC_2FA_REQUIRED_ROLES": "None"})["CCHC_2FA_REQUIRED_ROLES"] == ()
    assert twofactor.required_roles(["personal_data"]) == {
        Role.DESK_OFFICER,
        Role.PROCESSING_OFFICER,
        Role.AGENCY_LEADER,
    }
    codes = build({"CCHC_2FA_REQUIRED_ROLES": " Administrator , personal_data"})[
        "CCHC_2FA_REQUIRED_ROLES"
    ]
    assert twofactor.required_roles(codes) == {
        Role.ADMINISTRATOR,
        Role.DESK_OFFICER,
        Role.PROCESSING_OFFICER,
        Role.AGENCY_LEADER,
    }
    assert Role.CITIZEN not in twofactor.required_roles(["staff"])


def test_a_wrong_role_code_stops_the_start_up(settings):
    settings.CCHC_2FA_REQUIRED_ROLES = ("administrtor",)
    with pytest.raises(ImproperlyConfigured, match="unknown role 'administrtor'"):
        TwoFactorMiddleware(lambda request: None)
    settings.CCHC_2FA_REQUIRED_ROLES = ("citizen",)
    with pytest.raises(ImproperlyConfigured, match="citizens are never required"):
        TwoFactorMiddleware(lambda request: None)


def test_the_admin_site_does_not_show_or_change_devices():
    # django-otp's admin pages show the secrets and delete devices without an audit entry.
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)


# -- enrolment ---------------------------------------------------------------------------------


def test_an_administrator_without_a_device_is_forced_to_enrol(client, admin_user):
    response = sign_in(client, admin_user, next_url="/nhat-ky/")
    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2Fnhat-ky%2F"
    # Nothing else opens before enrolment: pages redirect, the API refuses the session.
    assert client.get(HOME)["Location"] == f"{ENROL}?next=%2F"
    assert client.get("/admin/")["Location"].startswith(ENROL)
    assert_envelope(client.get(API), 401, "auth.2fa.required")

    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "Bật xác thực hai lớp" in html
    # No menu, inbox or account links that would only bounce back to this step.
    assert 'class="menu"' not in html and "Bảo mật tài khoản" not in html
    assert "Thông báo" not in html and "Đăng xuất" in html
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert twofactor.secret_text(device) in html
    # The secret shown for manual entry is the device's key.
    typed = twofactor.secret_text(device).replace(" ", "")
    assert base64.b32decode(typed + "=" * (-len(typed) % 8)) == device.bin_key

    done = client.post(
        ENROL, {"code": code(device), "next": "/nhat-ky/"}, HTTP_USER_AGENT="Trinh duyet thu"
    )
    assert done.status_code == 200
    shown = done.context["codes"]
    assert len(shown) == 10 and len(set(shown)) == 10
    assert all(c in done.content.decode() for c in shown)
    assert StaticToken.objects.filter(device__user=admin_user).count() == 10
    assert client.get(HOME).status_code == 200
    assert client.get(API).status_code == 200
    entry = AuditEntry.objects.get(action="auth.2fa.enrolled")
    assert entry.actor == admin_user
    assert entry.data["ip"] == "127.0.0.1" and entry.data["user_agent"] == "Trinh duyet thu"
    # Neither the secret nor a recovery code is written to the audit log.
    assert device.key not in str(entry.data) and shown[0] not in str(entry.data)


def test_enrolment_refuses_a_wrong_code_and_counts_it(client, admin_user, no_throttle):
    sign_in(client, admin_user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=admin_user)
    response = client.post(ENROL, {"code": wrong_code(device)})
    assert response.status_code == 400
    assert "Mã xác thực không đúng" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    # The same secret is offered again, not a new one.
    assert twofactor.secret_text(device) in response.content.decode()
    assert client.post(ENROL, {"code": "12ab"}).status_code == 400  # not 6 digits
    assert actions(admin_user) == ["auth.2fa.failed"]
    assert client.get(HOME)["Location"].startswith(ENROL)


# -- signing in --------------------------------------------------------------------------------


def test_signing_in_requires_the_code_once_enrolled(client, admin_user, no_throttle):
    device, _codes = enrol(admin_user)
    response = sign_in(client, admin_user, next_url="/nhat-ky/")
    assert response["Location"] == f"{VERIFY}?next=%2Fnhat-ky%2F"
    assert client.get(HOME)["Location"] == f"{VERIFY}?next=%2F"
    assert_envelope(client.get(API), 401, "auth.2fa.required")

    wrong = client.post(VERIFY, {"code": wrong_code(device), "next": "/nhat-ky/"})
    assert wrong.status_code == 400
    assert "Mã xác thực không đúng" in wrong.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert client.get(HOME).status_code == 302

    right = client.post(VERIFY, {"code": code(device, ahead=1), "next": "/nhat-ky/"})
    assert right.status_code == 302 and right["Location"] == "/nhat-ky/"
    assert client.get(HOME).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert actions(admin_user) == ["auth.2fa.enrolled", "auth.2fa.failed", "auth.2fa.verified"]
    failed = AuditEntry.objects.get(action="auth.2fa.failed")
    assert failed.data["stage"] == "sign_in" and failed.data["failures"] == 1
    assert failed.data["ip"] == "127.0.0.1"


def test_a_code_is_accepted_only_once(admin_user, no_throttle):
    device, _codes = enrol(admin_user)
    now = timezone.now()
    twofactor.verify(admin_user, code=code(device, ahead=1), now=now, client=TEST_CLIENT)
    with pytest.raises(twofactor.SecondFactorRefused):
        twofactor.verify(admin_user, code=code(device, ahead=1), now=now, client=TEST_CLIENT)


def test_wrong_codes_are_throttled(admin_user):
    device, _codes = enrol(admin_user)
    now = timezone.now()
    with pytest.raises(twofactor.SecondFactorRefused):
        twofactor.verify(admin_user, code="abcd-efgh", now=now, client=TEST_CLIENT)
    # Right after a failure even the right code waits (django-otp's back-off).
    with pytest.raises(twofactor.SecondFactorBlocked, match="đợi") as refused:
        twofactor.verify(admin_user, code=code(device, ahead=1), now=now, client=TEST_CLIENT)
    assert refused.value.code == "auth.2fa.throttled"


def test_repeated_wrong_codes_lock_the_second_step_like_the_password(
    client, admin_user, settings, no_throttle
):
    settings.AXES_FAILURE_LIMIT = 3
    device, _codes = enrol(admin_user)
    sign_in(client, admin_user)
    assert client.post(VERIFY, {"code": wrong_code(device)}).status_code == 400
    assert client.post(VERIFY, {"code": "zzzz-zzzz"}).status_code == 400
    locked = client.post(VERIFY, {"code": wrong_code(device)})
    assert locked.status_code == 429
    assert "tạm khóa" in locked.content.decode()
    # The session ended, as after too many wrong passwords.
    assert client.get(HOME)["Location"].startswith("/dang-nhap/")
    now = timezone.now()
    with pytest.raises(twofactor.SecondFactorBlocked) as refused:
        twofactor.verify(admin_user, code=code(device, ahead=1), now=now, client=TEST_CLIENT)
    assert refused.value.code == "auth.2fa.locked"
    after_cooloff = now + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)
    twofactor.verify(admin_user, code=code(device, ahead=1), now=after_cooloff, client=TEST_CLIENT)
    assert actions(admin_user).count("auth.2fa.failed") == 4


def test_a_recovery_code_works_once(client, admin_user, no_throttle):
    _device, codes = enrol(admin_user)
    sign_in(client, admin_user)
    used = client.post(VERIFY, {"code": codes[0].upper().replace("-", " ")})
    assert used.status_code == 302
    assert client.get(HOME).status_code == 200
    assert StaticToken.objects.filter(device__user=admin_user).count() == 9
    entry = AuditEntry.objects.get(action="auth.2fa.recovery_used")
    assert entry.data["recovery_left"] == 9
    assert AuditEntry.objects.get(action="auth.2fa.verified").data["method"] == "recovery"

    client.logout()
    sign_in(client, admin_user)
    again = client.post(VERIFY, {"code": codes[0]})
    assert again.status_code == 400
    assert client.get(HOME).status_code == 302
    assert client.post(VERIFY, {"code": codes[1]}).status_code == 302


# -- who is required ---------------------------------------------------------------------------


def test_a_configured_role_is_required_and_an_unconfigured_one_is_optional(
    client, org, make_user, settings
):
    desk = make_user(Role.DESK_OFFICER, agency=org.justice)
    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024)
    settings.CCHC_2FA_REQUIRED_ROLES = ("personal_data",)
    client.force_login(desk)
    assert client.get(HOME)["Location"].startswith(ENROL)
    client.force_login(supervisor)
    assert client.get(HOME).status_code == 200
    settings.CCHC_2FA_REQUIRED_ROLES = ("administrator",)
    client.force_login(desk)
    assert client.get(HOME).status_code == 200
    assert client.get(SECURITY).status_code == 200


def test_superusers_count_as_administrators(client, make_user):
    root = make_user("")
    root.is_superuser = True
    root.save()
    client.force_login(root)
    assert client.get(HOME)["Location"].startswith(ENROL)


def test_citizens_are_not_forced(client, make_user, settings):
    settings.CCHC_2FA_REQUIRED_ROLES = ("staff",)
    citizen = make_user(Role.CITIZEN)
    client.force_login(citizen)
    assert client.get("/dich-vu-cong/ho-so/").status_code == 200
    assert client.get(SECURITY).status_code == 200


def test_a_user_who_turned_it_on_needs_the_code_too(client, make_user, no_throttle):
    officer = make_user(Role.AUDITOR, password=PASSWORD)
    assert not twofactor.is_required(officer)
    device, _codes = enrol(officer)
    assert sign_in(client, officer)["Location"].startswith(VERIFY)
    assert client.get("/nhat-ky/")["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": code(device, ahead=1)}).status_code == 302
    assert client.get("/nhat-ky/").status_code == 200


# -- the security page, tokens, reset ----------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(client, admin_user):
    _device, old = enrol(admin_user)
    sign_in_verified(client, admin_user)
    page = client.get(SECURITY)
    assert "Đang bật" in page.content.decode()
    response = client.post("/bao-mat/ma-khoi-phuc/")
    assert response.status_code == 200
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert response["Cache-Control"].startswith("max-age=0")
    # The session stays verified.
    assert client.get(HOME).status_code == 200
    with pytest.raises(twofactor.SecondFactorRefused):
        twofactor.verify(admin_user, code=old[0], now=timezone.now(), client=TEST_CLIENT)
    assert "auth.2fa.recovery_regenerated" in actions(admin_user)


def test_removing_the_device_needs_a_code_and_a_required_role_enrols_again(
    client, admin_user, no_throttle
):
    device = sign_in_verified(client, admin_user)
    client.post("/bao-mat/tat/", {"code": wrong_code(device)})
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    client.post("/bao-mat/tat/", {"code": code(device, ahead=1)})
    assert not TOTPDevice.objects.filter(user=admin_user).exists()
    assert not StaticDevice.objects.filter(user=admin_user).exists()
    assert client.get(HOME)["Location"].startswith(ENROL)
    assert actions(admin_user)[-1] == "auth.2fa.removed"


def test_the_api_refuses_an_unverified_session_but_takes_a_bearer_token(client, admin_user):
    issued = tokens.create_token(SYSTEM, admin_user, name="Tích hợp", now=timezone.now())
    client.force_login(admin_user)
    assert_envelope(client.get(API), 401, "auth.2fa.required")
    response = client.get(API, HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    assert response.status_code == 200, response.content
    sign_in_verified(client, admin_user)
    assert client.get(API).status_code == 200


def test_an_administrator_resets_a_lost_device(client, make_user, admin_user, now):
    officer = make_user(Role.ADMINISTRATOR)
    enrol(officer)
    sign_in_verified(client, officer)
    assert client.get(HOME).status_code == 200
    with pytest.raises(PermissionDenied):
        twofactor.reset(make_user(Role.AUDITOR), officer, now=now)
    twofactor.reset(admin_user, officer, now=now, reason="Mất điện thoại")
    assert not TOTPDevice.objects.filter(user=officer).exists()
    # Sessions verified with the old device lose their verification.
    assert client.get(HOME)["Location"].startswith(ENROL)
    entry = AuditEntry.objects.get(action="auth.2fa.reset")
    assert entry.actor == admin_user and entry.data["reason"] == "Mất điện thoại"
    with pytest.raises(Conflict):
        twofactor.reset(admin_user, officer, now=now)


def test_the_reset_command(make_user, admin_user):
    officer = make_user(Role.AUDITOR)
    enrol(officer)
    out = StringIO()
    call_command("twofactor", "status", officer.username, stdout=out)
    assert "bật từ" in out.getvalue() and "mã khôi phục còn 10" in out.getvalue()
    out = StringIO()
    call_command("twofactor", "reset", officer.username, "--by", admin_user.username, stdout=out)
    assert "Đã đặt lại" in out.getvalue()
    assert AuditEntry.objects.get(action="auth.2fa.reset").actor == admin_user
    with pytest.raises(CommandError) as failed:
        call_command("twofactor", "reset", officer.username)
    assert failed.value.returncode == 5  # nothing left to reset
    with pytest.raises(CommandError) as failed:
        call_command("twofactor", "reset", "khong-co-ai")
    assert failed.value.returncode == 4


# -- in a browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_enrols_then_signs_in_with_a_code_in_a_browser(
    page, live_server, make_user
):
    admin_user = make_user(Role.ADMINISTRATOR, password=PASSWORD)
    login(page, admin_user.username, PASSWORD)
    assert page.url.split("?")[0].endswith(ENROL)
    assert page.locator("[data-qr] svg").count() == 1
    page.shot("enrol")
    typed = page.locator("[data-secret]").inner_text().replace(" ", "")
    key = base64.b32decode(typed + "=" * (-len(typed) % 8))
    page.fill("#id_code", code(key))
    page.click("button:has-text('Xác nhận và bật')")
    codes = page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10
    page.shot("recovery-codes")
    page.click("text=Tôi đã lưu các mã, tiếp tục")
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/"
    assert page.locator("text=Quản trị người dùng").count() >= 1

    logout(page)
    login(page, admin_user.username, PASSWORD)
    assert page.url.split("?")[0].endswith(VERIFY)
    page.fill("#id_code", wrong_code(key))
    page.click("button:has-text('Xác nhận')")
    assert page.locator("[role=alert]").inner_text().startswith("Mã xác thực không đúng")
    page.wait_for_timeout(1100)  # django-otp's back-off after one wrong code: 1 s
    page.fill("#id_code", code(key, ahead=1))
    page.click("button:has-text('Xác nhận')")
    page.wait_for_load_state()
    assert page.locator("text=Quản trị người dùng").count() >= 1
    page.shot("signed-in")
    page.goto(SECURITY)
    assert page.locator("[data-2fa-state=on]").count() == 1
