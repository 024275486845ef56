"""National identity login (VNeID) behind a small adapter.

`IdentityProvider` is what the portal needs from any identity provider: whether it is
configured, where to send the citizen, and how to turn the provider's answer into an
`Identity`. `VNeIDProvider` implements it as an OAuth 2.0 authorisation-code client whose
client id, secret and endpoints come from settings (`VNEID_*` environment variables, see
`cchc.config.SETTINGS_DOC`). Unconfigured, the login page hides the VNeID button and every
call reports clearly that it is not configured; unreachable, it says so in Vietnamese.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from cchc.errors import DomainError

REQUIRED = ("client_id", "client_secret", "authorize_url", "token_url", "userinfo_url")


class IdentityNotConfigured(DomainError):
    code = "identity.not_configured"
    http_status = 503


class IdentityUnavailable(DomainError):
    code = "identity.unavailable"
    http_status = 502


@dataclass(frozen=True)
class Identity:
    """A person as the identity provider vouches for them."""

    provider: str
    subject: str  # the provider's stable identifier of the person
    full_name: str = ""
    id_number: str = ""  # số định danh cá nhân
    phone: str = ""
    email: str = ""


class IdentityProvider(Protocol):
    name: str
    label: str

    def is_configured(self) -> bool: ...

    def missing_settings(self) -> list[str]: ...

    def authorization_url(self, *, state: str, redirect_uri: str) -> str: ...

    def complete(self, *, code: str, redirect_uri: str) -> Identity: ...


class VNeIDProvider:
    """OAuth 2.0 client of the national identity platform (VNeID)."""

    name = "vneid"
    label = "Đăng nhập bằng tài khoản định danh điện tử VNeID"

    def __init__(self, config: Mapping[str, str] | None = None, *, timeout: float = 10) -> None:
        self.config = dict(config if config is not None else getattr(settings, "VNEID", {}))
        self.timeout = timeout

    def missing_settings(self) -> list[str]:
        return [f"VNEID_{key.upper()}" for key in REQUIRED if not self.config.get(key)]

    def is_configured(self) -> bool:
        return not self.missing_settings()

    def _require(self) -> None:
        missing = self.missing_settings()
        if missing:
            raise IdentityNotConfigured(
                "Đăng nhập bằng VNeID chưa được cấu hình trên hệ thống này (thiếu "
                + ", ".join(missing)
                + "). Vui lòng đăng nhập bằng tài khoản của Cổng.",
                missing=missing,
            )

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        self._require()
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.config["client_id"],
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": state,
            }
        )
        base = self.config["authorize_url"]
        return f"{base}{'&' if '?' in base else '?'}{query}"

    def _call(self, request: urllib.request.Request) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise IdentityUnavailable(
                "Không kết nối được hệ thống định danh VNeID, vui lòng thử lại sau hoặc "
                f"đăng nhập bằng tài khoản của Cổng ({exc.__class__.__name__})."
            ) from None
        if not isinstance(data, dict):
            raise IdentityUnavailable("VNeID trả về dữ liệu không hợp lệ.")
        return data

    def complete(self, *, code: str, redirect_uri: str) -> Identity:
        self._require()
        body = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.config["client_id"],
                "client_secret": self.config["client_secret"],
            }
        ).encode()
        token = self._call(
            urllib.request.Request(self.config["token_url"], data=body, method="POST")  # noqa: S310
        )
        access = token.get("access_token")
        if not access:
            raise IdentityUnavailable("VNeID không cấp mã truy cập cho phiên đăng nhập này.")
        info = self._call(
            urllib.request.Request(  # noqa: S310
                self.config["userinfo_url"], headers={"Authorization": f"Bearer {access}"}
            )
        )
        subject = str(info.get("sub") or "")
        if not subject:
            raise IdentityUnavailable("VNeID không trả về mã định danh của người dùng.")
        return Identity(
            provider=self.name,
            subject=subject,
            full_name=str(info.get("name") or ""),
            id_number=str(info.get("citizen_id") or info.get("id_number") or ""),
            phone=str(info.get("phone_number") or ""),
            email=str(info.get("email") or ""),
        )


def provider() -> VNeIDProvider:
    return VNeIDProvider()
