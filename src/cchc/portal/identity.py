"""National identity login (VNeID / the national single sign-on) over OpenID Connect.

`VNeIDProvider` is an OpenID Connect relying party built on Authlib: the provider's
endpoints come from discovery (`<issuer>/.well-known/openid-configuration`, cached), the
citizen is sent to the authorisation endpoint with `state`, `nonce` and a PKCE challenge
(S256) kept in the session, the code is exchanged for tokens at the token endpoint (client
authentication `client_secret_post` or `client_secret_basic`), and the ID token is verified
before anything is believed: RS256 signature against the provider's JWKS, `iss`, `aud`,
`exp`, `iat` and `nonce`. A refused token or an unreachable provider is a `DomainError` with
a Vietnamese message, never a 500. Every HTTP call has a short time-out (the token exchange
runs inside the citizen's login request, as OIDC requires).

Settings (`settings.VNEID`, from `VNEID_*` variables): `client_id`, `client_secret`,
`issuer` (an absolute URL, or a path such as "/gia-lap-dvcqg/oidc" resolved against the
site's own address), optional endpoint overrides `authorize_url`, `token_url`,
`userinfo_url`, `jwks_url`, and `id_claim` (default "citizen_id"), `level_claim` (default
"acr"), `scope`, `auth_method`, `timeout`. With `CCHC_DVCQG_SIMULATOR` on and nothing
configured, the portal uses the simulator's provider (`cchc.nationalsim.oidc`).

UNVERIFIED: the claim carrying the personal identification number (số định danh cá nhân)
and the one carrying the assurance level (VNeID levels 1/2) at the real VNeID / national SSO;
both are configurable.
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from cchc.errors import DomainError

REQUIRED = ("client_id", "client_secret", "issuer")
SIMULATOR_ISSUER = "/gia-lap-dvcqg/oidc"
# The simulator's own client (cchc.nationalsim.oidc); the portal may not import it.
SIMULATOR_CLIENT = {"client_id": "cchc-cong-dich-vu-cong", "client_secret": "gia-lap-vneid"}
DISCOVERY_SECONDS = 3600
LEEWAY_SECONDS = 60
DEFAULTS: dict[str, Any] = {
    "scope": "openid profile",
    "id_claim": "citizen_id",  # UNVERIFIED claim name at VNeID
    "level_claim": "acr",  # UNVERIFIED: VNeID assurance level 1/2
    "auth_method": "client_secret_post",
    "timeout": 5,
}

_cache_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_keysets: dict[str, tuple[float, KeySet]] = {}


class IdentityNotConfigured(DomainError):
    code = "identity.not_configured"
    http_status = 503


class IdentityUnavailable(DomainError):
    code = "identity.unavailable"
    http_status = 502


class IdentityRefused(DomainError):
    """The provider's answer cannot be trusted (bad signature, audience, nonce, expired…)."""

    code = "identity.refused"
    http_status = 400


@dataclass(frozen=True)
class Identity:
    """A person as the identity provider vouches for them."""

    provider: str
    subject: str  # the provider's stable identifier of the person
    full_name: str = ""
    id_number: str = ""  # số định danh cá nhân
    phone: str = ""
    email: str = ""
    level: str = ""  # assurance level (VNeID: "1" or "2"; UNVERIFIED values)


@dataclass(frozen=True)
class LoginStart:
    """Where to send the citizen, and what to keep in the session until they come back."""

    url: str
    pending: dict[str, str]  # state, nonce, code_verifier, redirect_uri


class IdentityProvider(Protocol):
    name: str
    label: str

    def is_configured(self) -> bool: ...

    def missing_settings(self) -> list[str]: ...

    def begin(self, *, redirect_uri: str) -> LoginStart: ...

    def complete(self, *, code: str, pending: Mapping[str, str]) -> Identity: ...


def clear_caches() -> None:
    """Forget the discovered metadata and keys (tests, a key rotation)."""
    with _cache_lock:
        _metadata.clear()
        _keysets.clear()


def effective_config() -> dict[str, Any]:
    conf = dict(getattr(settings, "VNEID", {}) or {})
    unset = not conf.get("client_id") and not conf.get("issuer")
    if unset and getattr(settings, "CCHC_DVCQG_SIMULATOR", False):
        conf.update(SIMULATOR_CLIENT, issuer=SIMULATOR_ISSUER)
    return conf


class VNeIDProvider:
    """OpenID Connect client of the national identity platform (VNeID)."""

    name = "vneid"
    label = "Đăng nhập bằng tài khoản định danh điện tử VNeID"

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        origin: str = "",
        timeout: float | None = None,
    ) -> None:
        given = dict(config if config is not None else effective_config())
        self.config: dict[str, Any] = {
            **DEFAULTS,
            **{k: v for k, v in given.items() if v not in ("", None)},
        }
        self.origin = origin.rstrip("/")
        self.timeout = float(timeout if timeout is not None else self.config["timeout"])

    # -- configuration ---------------------------------------------------------------------

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

    def _absolute(self, url: str) -> str:
        if url.startswith("/") and self.origin:
            return self.origin + url
        return url

    @property
    def issuer(self) -> str:
        return self._absolute(str(self.config.get("issuer", ""))).rstrip("/")

    # -- HTTP ------------------------------------------------------------------------------

    def _unavailable(self, exc: Exception | None = None) -> IdentityUnavailable:
        reason = f" ({exc.__class__.__name__})" if exc is not None else ""
        return IdentityUnavailable(
            "Không kết nối được hệ thống định danh VNeID, vui lòng thử lại sau hoặc "
            f"đăng nhập bằng tài khoản của Cổng{reason}."
        )

    def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=self.timeout, **kwargs)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise self._unavailable(exc) from None
        if not isinstance(data, dict):
            raise IdentityUnavailable("VNeID trả về dữ liệu không hợp lệ.")
        return data

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached), with the configured overrides."""
        self._require()
        issuer = self.issuer
        with _cache_lock:
            cached = _metadata.get(issuer)
        if cached is not None and cached[0] > time.monotonic():
            found = cached[1]
        else:
            found = self._get_json(issuer + "/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != issuer:
                raise IdentityUnavailable(
                    "Cấu hình VNeID không khớp: nhà cung cấp định danh công bố một issuer khác "
                    "với VNEID_ISSUER."
                )
            with _cache_lock:
                _metadata[issuer] = (time.monotonic() + DISCOVERY_SECONDS, found)
        merged = dict(found)
        for key, field in (
            ("authorize_url", "authorization_endpoint"),
            ("token_url", "token_endpoint"),
            ("userinfo_url", "userinfo_endpoint"),
            ("jwks_url", "jwks_uri"),
        ):
            if self.config.get(key):
                merged[field] = self._absolute(str(self.config[key]))
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not merged.get(field):
                raise IdentityUnavailable(f"Nhà cung cấp định danh không công bố {field}.")
        return merged

    def _keyset(self, uri: str, *, fresh: bool = False) -> KeySet:
        with _cache_lock:
            cached = _keysets.get(uri)
        if cached is not None and not fresh and cached[0] > time.monotonic():
            return cached[1]
        try:
            keys = KeySet.import_key_set(self._get_json(uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise IdentityUnavailable("Khóa công khai (JWKS) của VNeID không hợp lệ.") from None
        with _cache_lock:
            _keysets[uri] = (time.monotonic() + DISCOVERY_SECONDS, keys)
        return keys

    def _session(self, *, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            scope=self.config["scope"],
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=self.config["auth_method"],
        )

    # -- the flow --------------------------------------------------------------------------

    def begin(self, *, redirect_uri: str) -> LoginStart:
        """The authorisation URL with state, nonce and a PKCE challenge."""
        meta = self.metadata()
        pending = {
            "state": secrets.token_urlsafe(24),
            "nonce": secrets.token_urlsafe(24),
            "code_verifier": secrets.token_urlsafe(64)[:96],
            "redirect_uri": redirect_uri,
            "issuer": self.issuer,
        }
        with self._session(redirect_uri=redirect_uri) as session:
            url, _ = session.create_authorization_url(
                meta["authorization_endpoint"],
                state=pending["state"],
                nonce=pending["nonce"],
                code_verifier=pending["code_verifier"],
            )
        return LoginStart(url=url, pending=pending)

    def complete(self, *, code: str, pending: Mapping[str, str]) -> Identity:
        """Exchange the code, verify the ID token, read the person's claims."""
        meta = self.metadata()
        if pending.get("issuer") and pending["issuer"] != self.issuer:
            raise IdentityRefused("Phiên đăng nhập VNeID không hợp lệ; vui lòng đăng nhập lại.")
        with self._session(redirect_uri=pending["redirect_uri"]) as session:
            try:
                token = session.fetch_token(
                    meta["token_endpoint"],
                    code=code,
                    code_verifier=pending["code_verifier"],
                    timeout=self.timeout,
                )
            except OAuthError as exc:
                raise IdentityRefused(
                    "VNeID không chấp nhận phiên đăng nhập này (" + str(exc.error or "lỗi") + "); "
                    "vui lòng đăng nhập lại.",
                ) from None
            except (requests.RequestException, ValueError) as exc:
                raise self._unavailable(exc) from None
        id_token = token.get("id_token")
        if not id_token:
            raise IdentityRefused("VNeID không trả về mã xác thực (ID token).")
        claims = self.verify_id_token(str(id_token), nonce=pending["nonce"], meta=meta)
        info = dict(claims)
        access = token.get("access_token")
        if access and meta.get("userinfo_endpoint"):
            extra = self._get_json(
                meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"}
            )
            if str(extra.get("sub", "")) != str(claims["sub"]):
                raise IdentityRefused("Thông tin người dùng VNeID không khớp với mã xác thực.")
            info = {**extra, **claims}
        return self.identity_from(info)

    def verify_id_token(
        self, id_token: str, *, nonce: str, meta: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The ID token's claims once its signature and claims are checked, or
        IdentityRefused."""
        meta = meta or self.metadata()
        refused = IdentityRefused(
            "Mã xác thực do VNeID trả về không hợp lệ hoặc đã hết hạn, nên chưa thể đăng nhập. "
            "Vui lòng đăng nhập lại."
        )
        uri = str(meta["jwks_uri"])
        try:
            try:
                got = jwt.decode(id_token, self._keyset(uri), algorithms=["RS256"])
            except JoseError:  # maybe a rotated key: fetch the keys once more
                got = jwt.decode(id_token, self._keyset(uri, fresh=True), algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": str(self.config["client_id"])},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(got.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise refused from exc
        claims = dict(got.claims)
        several = isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1
        if several and claims.get("azp") != self.config["client_id"]:
            raise refused
        if float(claims["iat"]) > time.time() + LEEWAY_SECONDS:
            raise refused
        return claims

    def identity_from(self, info: Mapping[str, Any]) -> Identity:
        subject = str(info.get("sub") or "")
        if not subject:
            raise IdentityRefused("VNeID không trả về mã định danh của người dùng.")
        return Identity(
            provider=self.name,
            subject=subject[:100],
            full_name=str(info.get("name") or ""),
            id_number=str(info.get(self.config["id_claim"]) or ""),
            phone=str(info.get("phone_number") or ""),
            email=str(info.get("email") or ""),
            level=str(info.get(self.config["level_claim"]) or "")[:50],
        )


def provider(origin: str = "") -> VNeIDProvider:
    """The configured provider; `origin` ("http://host:port") resolves a relative issuer."""
    return VNeIDProvider(origin=origin)


def origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
