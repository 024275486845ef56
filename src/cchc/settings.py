"""Django settings. Environment-dependent values come from `cchc.config.build`."""

import os
from datetime import timedelta

from cchc.config import PACKAGE_DIR, build
from cchc.ops.reporting import init_error_reporting
from cchc.webkit.logs import logging_config

globals().update(build(os.environ))
if CCHC_SIGNING_DEMO:  # type: ignore[name-defined]  # noqa: F821
    # make run: DEBUG and no CCHC_SIGNING → the DEMO PKI (made once under var/signing-demo/).
    from cchc.demo.signing_pki import ensure as demo_signing  # only when asked: keys are made

    globals().update(demo_signing(CCHC_VAR_DIR))  # type: ignore[name-defined]  # noqa: F821

TIME_ZONE = "Asia/Ho_Chi_Minh"  # fixed: legal time is Vietnamese time (UTC+7, no DST)
USE_TZ = True
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt")]
USE_I18N = True
LOCALE_PATHS = [PACKAGE_DIR / "locale"]

INSTALLED_APPS = [
    "cchc.web.adminconfig.CchcAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",  # django-csp: its system checks and {% script %} tag
    "ninja",  # serves Swagger UI from our static files instead of a CDN (CSP: 'self' only)
    # Two-factor sign-in (cchc.accounts.twofactor): TOTP devices and recovery codes. The
    # two device apps are django-otp's, minus their admin pages (changes go through the
    # audited services).
    "django_otp",
    "cchc.accounts.otp_apps.TOTPConfig",
    "cchc.accounts.otp_apps.StaticConfig",
    "django_q",  # the job queue on the database (cchc.jobs)
    "cchc.audit",
    "cchc.jobs",
    "cchc.signing",
    "cchc.accounts",
    "cchc.org",
    "cchc.calendars",
    "cchc.catalog",
    "cchc.notifications",
    "cchc.ratelimit",
    "cchc.dossiers",
    "cchc.payments",
    "cchc.national",
    "cchc.portal",
    "cchc.plans",
    "cchc.indicators",
    "cchc.feedback",
    "cchc.interop",
    "cchc.demo",
    "cchc.dashboard",
    "cchc.reports",
    "cchc.ops",
    "cchc.backups",
    "cchc.nationalsim",
    "cchc.web",
]

MIDDLEWARE = [
    # One request id, one JSON access line and one latency sample per request, including
    # what the middleware below answers by itself (HTTPS redirect, 2FA redirect, 400/413).
    "cchc.webkit.observe.ObserveMiddleware",
    # /healthz, /readyz, /metrics answered here: ahead of the HTTPS redirect, the host check,
    # sessions and 2FA (probes come over plain HTTP from localhost, with no cookie).
    "cchc.ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (policy: cchc.config._content_security_policy) and
    # Permissions-Policy on every response the application renders.
    "csp.middleware.CSPMiddleware",
    "cchc.webkit.permissions_policy.PermissionsPolicyMiddleware",
    # Production serves collected static files itself (runserver does it under DEBUG).
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),  # type: ignore[name-defined]  # noqa: F821
    # Database locked/full/read-only/unreachable → 503 + Retry-After; before the session
    # and user lookups so that their failures reach it too (cchc.webkit.dbfailures).
    "cchc.webkit.dbfailures.DatabaseFailureMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff whose role requires two-factor sign-in reach nothing before the second step.
    "cchc.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL bytes, over-long query values and bodies refused; domain errors as pages.
    "cchc.webkit.request_guard.RequestGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): lock a user name from one address after N failures.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_TIME_MINUTES)  # type: ignore[name-defined]  # noqa: F821
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "cchc.urls"
WSGI_APPLICATION = "cchc.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cchc.web.context.navigation",
                "csp.context_processors.nonce",  # {{ CSP_NONCE }} for <script>/<style>
            ],
        },
    }
]

STATIC_URL = "/static/"
# Front-end packages installed with npm (htmx); absent when npm is not available.
STATICFILES_DIRS = [
    d for d in [PACKAGE_DIR.parent.parent / "node_modules" / "htmx.org" / "dist"] if d.is_dir()
]
MEDIA_ROOT = CCHC_VAR_DIR / "files"  # type: ignore[name-defined]  # noqa: F821  # private; never served as static
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG  # type: ignore[name-defined]  # noqa: F821
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Structured logs on stdout: JSON lines in production, text in development (cchc.webkit.logs).
LOGGING = logging_config(DEBUG, CCHC_LOG_LEVEL, CCHC_LOG_FORMAT)  # type: ignore[name-defined]  # noqa: F821
CSRF_FAILURE_VIEW = "cchc.web.views.csrf_failure"

# Optional: errors reported to a Sentry-compatible server (e.g. a self-hosted GlitchTip) when
# SENTRY_DSN is set and sentry-sdk is installed; no personal data (cchc.ops.reporting).
init_error_reporting(
    os.environ.get("SENTRY_DSN", ""),
    environment=os.environ.get("SENTRY_ENVIRONMENT", ""),
    release=os.environ.get("SENTRY_RELEASE", ""),
)
