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
        # The browser tests' async-safety switch and in-process jobs belong to the test
        # harness, not to a deployment; `check --deploy` and the settings rightly refuse them.
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "CCHC_JOBS_SYNC")
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


# -- issue 14 items 6–7: browser policies, and production refusing development shortcuts ----


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**PROD, "CCHC_PAYMENT_SIMULATOR": "true"}, "CCHC_PAYMENT_SIMULATOR=true is refused"),
        (
            {
                **PROD,
                "CCHC_PAYMENT_GATEWAY": "vnpay",
                "CCHC_VNPAY_HASH_SECRET": "SIMULATORSECRETKEYFORLOCALDEVONLY",
                "CCHC_VNPAY_PAY_URL": "https://pay.example.vn/vpcpay.html",
                "CCHC_VNPAY_API_URL": "https://pay.example.vn/api",
            },
            "published in the cchc source code",
        ),
        ({**PROD, "CCHC_API_DOCS": "everyone"}, "CCHC_API_DOCS must be one of"),
        ({"CCHC_CSP_REPORT_URI": "javascript:alert(1)"}, "CCHC_CSP_REPORT_URI"),
        ({"CCHC_CSP_REPORT_URI": "/csp; script-src *"}, "CCHC_CSP_REPORT_URI"),
    ],
)
def test_production_refuses_development_shortcuts(env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        build(env)


def test_published_secrets_include_the_simulators_keys():
    from cchc.config import PUBLISHED_SECRETS
    from cchc.payments.simulator import FORGED_SECRET

    dev = build({"DEBUG": "true"})
    assert dev["CCHC_PAYMENT_GATEWAYS"]["vnpay"]["hash_secret"] in PUBLISHED_SECRETS
    assert FORGED_SECRET in PUBLISHED_SECRETS


def test_api_docs_default_to_staff_in_production_and_public_in_development():
    assert (build(PROD)["CCHC_API_DOCS"], build(PROD)["CCHC_API_DOCS_EXPLICIT"]) == (
        "staff",
        False,
    )
    assert build({})["CCHC_API_DOCS"] == "public"
    chosen = build({**PROD, "CCHC_API_DOCS": "Public"})
    assert (chosen["CCHC_API_DOCS"], chosen["CCHC_API_DOCS_EXPLICIT"]) == ("public", True)


def test_content_security_policy_is_strict_and_lets_forms_reach_the_payment_gateway():
    from csp.constants import NONCE

    directives = build(PROD)["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["script-src"] == ["'self'", NONCE]
    assert directives["form-action"] == ["'self'"] and "report-uri" not in directives
    with_gateway = build(
        {
            **PROD,
            "CCHC_PAYMENT_GATEWAY": "vnpay",
            "CCHC_VNPAY_HASH_SECRET": "merchant-secret-from-vnpay",
            "CCHC_VNPAY_PAY_URL": "https://pay.vnpay.vn/vpcpay.html",
            "CCHC_VNPAY_API_URL": "https://merchant.vnpay.vn/merchant_webapi/api/transaction",
            "CCHC_CSP_REPORT_URI": "https://csp.bacninh.gov.vn/report",
        }
    )["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    # the payment form's answer is a redirect to the gateway: form-action covers it
    assert with_gateway["form-action"] == ["'self'", "https://pay.vnpay.vn"]
    assert with_gateway["report-uri"] == ["https://csp.bacninh.gov.vn/report"]


def deploy_errors() -> list[str]:
    from django.core.checks import run_checks

    return sorted(
        m.id
        for m in run_checks(include_deployment_checks=True)
        if m.id and m.id.startswith("cchc.security.")
    )


SAFE = {
    "DEBUG": False,
    "SECRET_KEY": STRONG,
    "CCHC_PAYMENT_SIMULATOR": False,
    "CCHC_PAYMENT_GATEWAYS": {},
    "CCHC_API_DOCS": "staff",
    "CCHC_API_DOCS_EXPLICIT": False,
}
VNPAY = {
    "protocol": "vnpay",
    "hash_secret": "merchant-secret-from-vnpay",
    "pay_url": "https://pay.vnpay.vn/vpcpay.html",
    "api_url": "https://merchant.vnpay.vn/api",
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"CCHC_PAYMENT_SIMULATOR": True}, ["cchc.security.E001"]),
        (
            {"CCHC_PAYMENT_GATEWAYS": {"vnpay": {**VNPAY, "pay_url": "/gia-lap-thanh-toan/"}}},
            ["cchc.security.E002"],
        ),
        ({"SECRET_KEY": "insecure-dev-only-" + "k3y" * 20}, ["cchc.security.E003"]),
        ({"SECRET_KEY_FALLBACKS": ["insecure-dev-only-" + "k3y" * 20]}, ["cchc.security.E003"]),
        (
            {
                "CCHC_PAYMENT_GATEWAYS": {
                    "vnpay": {**VNPAY, "hash_secret": "SIMULATORSECRETKEYFORLOCALDEVONLY"}
                }
            },
            ["cchc.security.E003"],
        ),
        ({"CCHC_API_DOCS": "public"}, ["cchc.security.E004"]),
        ({"CCHC_API_DOCS": "public", "CCHC_API_DOCS_EXPLICIT": True}, []),
        ({"CCHC_API_DOCS": "off"}, []),
        ({"CONTENT_SECURITY_POLICY": None}, ["cchc.security.E006"]),
        (
            {
                "CONTENT_SECURITY_POLICY": {
                    "DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'unsafe-inline'"]}
                }
            },
            ["cchc.security.E006"],
        ),
    ],
)
def test_check_deploy_reports_each_unsafe_setting(settings, change, expected):
    for name, value in {**SAFE, **change}.items():
        setattr(settings, name, value)
    assert deploy_errors() == expected


def test_check_deploy_reports_missing_policy_middleware(settings):
    for name, value in SAFE.items():
        setattr(settings, name, value)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("csp.")]
    assert deploy_errors() == ["cchc.security.E005"]


def cchc_cli(tmp_path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    cchc = Path(sys.executable).with_name("cchc")
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG", "CCHC_JOBS_SYNC")
    }
    return subprocess.run(
        [str(cchc), *args],
        capture_output=True,
        text=True,
        env={**base, "CCHC_VAR_DIR": str(tmp_path), **env},
        cwd=Path(__file__).resolve().parents[1],
    )


def test_check_deploy_catches_a_settings_module_that_turns_debug_off(tmp_path):
    """A local settings file importing ours with DEBUG = False keeps every development
    shortcut; `cchc check --deploy` names each one and fails."""
    result = cchc_cli(
        tmp_path,
        ["check", "--deploy"],
        DJANGO_SETTINGS_MODULE="tests.deploy_settings_debug_off",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    for check_id in ("E001", "E002", "E003", "E004"):
        assert f"cchc.security.{check_id}" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_deploy_accepts_explicitly_public_api_docs(tmp_path):
    result = cchc_cli(
        tmp_path, ["check", "--deploy", "--fail-level", "WARNING"], **PROD, CCHC_API_DOCS="public"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_refuses_the_payment_simulator_in_production(tmp_path):
    result = cchc_cli(tmp_path, ["check", "--deploy"], **PROD, CCHC_PAYMENT_SIMULATOR="true")
    assert result.returncode == 2
    assert "CCHC_PAYMENT_SIMULATOR=true is refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_smtp_delivery_has_a_time_out():
    """A mail server that accepts the connection and never answers must not hold a request
    (mail is sent after commit, still inside the request) for minutes."""
    smtp = build({"EMAIL_HOST": "smtp.example.gov.vn"})
    assert smtp["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert smtp["EMAIL_TIMEOUT"] == 10


def test_database_connections_persist_and_are_checked_before_reuse():
    db = build({})["DATABASES"]["default"]
    assert (db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"]) == (60, True)
    assert build({"CCHC_DB_CONN_MAX_AGE": "0"})["DATABASES"]["default"]["CONN_MAX_AGE"] == 0
    with pytest.raises(ImproperlyConfigured, match="CCHC_DB_CONN_MAX_AGE"):
        build({"CCHC_DB_CONN_MAX_AGE": "une minute"})


def test_cache_is_this_process_by_default_and_shared_when_configured(tmp_path):
    cache = build({})["CACHES"]["default"]
    assert cache["BACKEND"].endswith("LocMemCache")
    shared = build({"CCHC_VAR_DIR": str(tmp_path), "CCHC_CACHE_URL": "file://"})["CACHES"]
    assert shared["default"]["BACKEND"].endswith("FileBasedCache")
    assert shared["default"]["LOCATION"] == str(tmp_path.resolve() / "cache")
    redis = build({"CCHC_CACHE_URL": "redis://127.0.0.1:6379/3"})["CACHES"]["default"]
    assert (redis["BACKEND"], redis["LOCATION"]) == (
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/3",
    )
    for bad in ("memcached://x", "file://relative/dir", "redis://", "locmem://x"):
        with pytest.raises(ImproperlyConfigured, match="CCHC_CACHE_URL"):
            build({"CCHC_CACHE_URL": bad})


@pytest.mark.parametrize("url", ["file://", "redis://127.0.0.1:6379/3"])
def test_a_shared_cache_serves_one_processs_cell_sums_to_another(tmp_path, url):
    """Two processes (two gunicorn workers) with the same CCHC_CACHE_URL: what one stores,
    the other reads — through the real backend (files under var/cache, or the Redis server
    of this machine; skipped loudly when none answers)."""
    if url.startswith("redis"):
        import socket

        try:
            socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        except OSError:
            pytest.skip("no Redis server at 127.0.0.1:6379")
    env = {**os.environ, "CCHC_VAR_DIR": str(tmp_path), "CCHC_CACHE_URL": url, "DEBUG": "true"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    key = f"shared-test-{tmp_path.name}"
    script = (
        "import django, sys; django.setup(); from django.core.cache import cache; "
        "op = sys.argv[1]; "
        f"cache.set({key!r}, {{'s_received': 42}}, 60) if op == 'set' else "
        f"print(cache.get({key!r}))"
    )
    run = [sys.executable, "-c", script]
    env["DJANGO_SETTINGS_MODULE"] = "cchc.settings"
    subprocess.run([*run, "set"], env=env, check=True, capture_output=True, timeout=60)
    got = subprocess.run([*run, "get"], env=env, check=True, capture_output=True, timeout=60)
    assert got.stdout.decode().strip() == "{'s_received': 42}"
