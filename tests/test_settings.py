"""Settings: safe local defaults, insecure production configurations refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cchc.config import build

STRONG = "x7Vq-93kLmN0pQrStUvWxYz_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
PROD = {"DEBUG": "false", "SECRET_KEY": STRONG, "ALLOWED_HOSTS": "cchc.bacninh.gov.vn"}


def test_local_defaults_are_development_on_sqlite():
    settings = build({})
    assert settings["DEBUG"] is True
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASES"]["default"]["NAME"].endswith("var/cchc.sqlite3")
    assert settings["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY must be set"),
        ({**PROD, "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({**PROD, "SECRET_KEY": "insecure-dev-only-" + "a" * 60}, "development default"),
        ({**PROD, "SECRET_KEY": "short"}, "too weak"),
        ({**PROD, "SECRET_KEY": "a" * 64}, "too weak"),
        ({**PROD, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({**PROD, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({**PROD, "DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({**PROD, "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
    ],
)
def test_insecure_production_settings_are_refused(env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        build(env)


def test_production_settings_are_secure():
    settings = build({**PROD, "DATABASE_URL": "postgres://u@db:5432/cchc"})
    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]
    assert settings["SECURE_SSL_REDIRECT"] and settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_time_zone_and_language_are_fixed():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    assert settings.LANGUAGE_CODE == "vi"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    cchc = Path(sys.executable).with_name("cchc")
    env = {
        # The browser tests' async-safety switch belongs to the test harness, not to a
        # deployment; `check --deploy` rightly refuses it.
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        **PROD,
        "CCHC_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [str(cchc), "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_console_script_refuses_to_start_insecurely(tmp_path):
    cchc = Path(sys.executable).with_name("cchc")
    env = {"PATH": os.environ["PATH"], "DEBUG": "false", "CCHC_VAR_DIR": str(tmp_path)}
    result = subprocess.run([str(cchc), "check"], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr
