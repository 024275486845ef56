"""Deployment checks (`cchc check --deploy`): settings that are fine on a developer's machine
and unsafe in production.

`cchc.config.build` already refuses most of these when DEBUG is false; these checks look at
the settings Django actually runs with, so they also catch a settings module that imports
ours and changes it afterwards (e.g. sets DEBUG = False on a development build, keeping the
development key, the payment simulator and public API docs). A deploy check describes
production, so it fires whatever DEBUG says (Django's own security.W018 covers DEBUG).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from csp.constants import UNSAFE_EVAL, UNSAFE_INLINE
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from cchc.config import DEV_SECRET_PREFIX, PUBLISHED_SECRETS

SIMULATOR_PATH = "/gia-lap-thanh-toan/"
REQUIRED_MIDDLEWARE = (
    "csp.middleware.CSPMiddleware",
    "cchc.webkit.permissions_policy.PermissionsPolicyMiddleware",
)


@register(Tags.security, deploy=True)
def payment_simulator_off(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The simulator approves any payment it is asked to: never in production."""
    errors: list[CheckMessage] = []
    if getattr(settings, "CCHC_PAYMENT_SIMULATOR", False):
        errors.append(
            Error(
                "The payment-gateway simulator is on (CCHC_PAYMENT_SIMULATOR): anyone can mark "
                "a fee as paid at /gia-lap-thanh-toan/.",
                hint="Set CCHC_PAYMENT_SIMULATOR=false and configure the real gateway "
                "(CCHC_VNPAY_*).",
                id="cchc.security.E001",
            )
        )
    for name, gateway in getattr(settings, "CCHC_PAYMENT_GATEWAYS", {}).items():
        urls = (gateway.get("pay_url", ""), gateway.get("api_url", ""))
        if any(url.startswith(SIMULATOR_PATH) for url in urls):
            errors.append(
                Error(
                    f"Payment gateway {name!r} points at the local simulator ({SIMULATOR_PATH}).",
                    hint="Set CCHC_VNPAY_PAY_URL and CCHC_VNPAY_API_URL to the gateway's URLs.",
                    id="cchc.security.E002",
                )
            )
    return errors


def _secrets() -> Iterable[tuple[str, str]]:
    yield "SECRET_KEY", str(getattr(settings, "SECRET_KEY", ""))
    for i, key in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", [])):
        yield f"SECRET_KEY_FALLBACKS[{i}]", str(key)
    for name, gateway in getattr(settings, "CCHC_PAYMENT_GATEWAYS", {}).items():
        yield f"The {name} hash secret (CCHC_VNPAY_HASH_SECRET)", gateway.get("hash_secret", "")


@register(Tags.security, deploy=True)
def no_published_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Keys printed in this repository sign nothing in production."""
    return [
        Error(
            f"{what} is a key published in the cchc source code.",
            hint="Generate a private value (SECRET_KEY) or use the one issued by the gateway.",
            id="cchc.security.E003",
        )
        for what, value in _secrets()
        if value.startswith(DEV_SECRET_PREFIX) or value in PUBLISHED_SECRETS
    ]


@register(Tags.security, deploy=True)
def api_docs_not_public(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The API documentation lists every endpoint and schema: staff only unless the
    operator explicitly publishes it (CCHC_API_DOCS=public)."""
    mode = getattr(settings, "CCHC_API_DOCS", "public")
    if mode == "public" and not getattr(settings, "CCHC_API_DOCS_EXPLICIT", False):
        return [
            Error(
                "The API documentation (/api/docs, /api/openapi.json) is open to anonymous "
                "users without CCHC_API_DOCS=public having been set.",
                hint="Set CCHC_API_DOCS=staff (or off); set CCHC_API_DOCS=public only to "
                "publish it on purpose.",
                id="cchc.security.E004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def browser_policies(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Content-Security-Policy and Permissions-Policy are sent, and scripts stay nonce-only."""
    errors: list[CheckMessage] = []
    missing = [m for m in REQUIRED_MIDDLEWARE if m not in settings.MIDDLEWARE]
    if missing:
        errors.append(
            Error(
                f"Security-header middleware missing from MIDDLEWARE: {', '.join(missing)}.",
                id="cchc.security.E005",
            )
        )
    directives = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("DIRECTIVES", {})
    script_src = directives.get("script-src") or directives.get("default-src") or []
    if not directives or UNSAFE_INLINE in script_src or UNSAFE_EVAL in script_src:
        errors.append(
            Error(
                "The Content-Security-Policy is missing or lets inline scripts or eval run.",
                hint="Keep script-src to 'self' and the nonce (cchc.config).",
                id="cchc.security.E006",
            )
        )
    return errors
