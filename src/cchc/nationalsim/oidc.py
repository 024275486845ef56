"""A local OpenID Connect provider standing in for VNeID / the national single sign-on.

Served only when `CCHC_DVCQG_SIMULATOR` is on (404 otherwise), under `/gia-lap-dvcqg/oidc`:
discovery (`/.well-known/openid-configuration`), the signing keys (`jwks/`), `authorize/` (a
Vietnamese page where the tester picks or types a simulated citizen and consents), `token/`
(code → RS256 ID token + access token; client_secret_post or client_secret_basic; PKCE S256
required) and `userinfo/`. It is a real provider: the portal's client (`cchc.portal.identity`)
talks to it over HTTP exactly as it would to VNeID.

The signing key (RSA 2048) is generated once and kept in
`<CCHC_VAR_DIR>/nationalsim/oidc-signing-key.json`. Authorisation codes live in the Django
cache for two minutes and are used once.

UNVERIFIED: the claim names of the real VNeID / national SSO (`citizen_id` for the personal
identification number, `acr` "1"/"2" for the assurance level, `phone_number`) are assumptions;
the client reads them from configurable claim names. The tester may also ask for a faulty ID
token (bad signature, wrong audience, wrong nonce, expired) to see the portal refuse it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

PREFIX = "/gia-lap-dvcqg/oidc"
CODE_SECONDS = 120
TOKEN_SECONDS = 300
ACCESS_AUDIENCE = "userinfo"
# The simulator's own client, used by the portal when nothing is configured (DEBUG).
DEFAULT_CLIENT_ID = "cchc-cong-dich-vu-cong"
DEFAULT_CLIENT_SECRET = "gia-lap-vneid"  # noqa: S105 - a development simulator's secret

# Simulated citizens the tester can pick (fictitious people and numbers).
CITIZENS: list[dict[str, str]] = [
    {
        "name": "Nguyễn Văn An",
        "citizen_id": "001090000001",
        "phone_number": "0912000001",
        "email": "an.nguyen@example.vn",
        "acr": "2",
    },
    {
        "name": "Trần Thị Bình",
        "citizen_id": "024185000002",
        "phone_number": "0987000002",
        "email": "",
        "acr": "1",
    },
    {
        "name": "Lê Hoàng Cường",
        "citizen_id": "079200000003",
        "phone_number": "0903000003",
        "email": "cuong.le@example.vn",
        "acr": "2",
    },
]

FAULTS: dict[str, str] = {
    "": "Không — cấp mã xác thực hợp lệ",
    "signature": "Chữ ký của ID token bị sửa",
    "aud": "ID token cấp cho ứng dụng khác (sai aud)",
    "nonce": "ID token mang nonce khác",
    "expired": "ID token đã hết hạn",
}

_key_lock = threading.Lock()
_keys: dict[Path, RSAKey] = {}


def enabled() -> bool:
    return bool(getattr(settings, "CCHC_DVCQG_SIMULATOR", False))


def _require_enabled() -> None:
    if not enabled():
        raise Http404("Nhà cung cấp định danh giả lập chỉ bật khi CCHC_DVCQG_SIMULATOR=true.")


def key_path() -> Path:
    return Path(settings.CCHC_VAR_DIR) / "nationalsim" / "oidc-signing-key.json"


def signing_key() -> RSAKey:
    """The provider's RSA key: read from the var directory, generated there the first time."""
    path = key_path()
    with _key_lock:
        found = _keys.get(path)
        if found is not None:
            return found
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = RSAKey.generate_key(
                2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True
            )
            data = json.dumps(fresh.as_dict(private=True))
            try:  # created exclusively: another process that won the race keeps its key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(data)
        key = RSAKey.import_key(json.loads(path.read_text(encoding="utf-8")))
        _keys[path] = key
        return key


def issuer(request: HttpRequest) -> str:
    return request.build_absolute_uri(PREFIX)


def clients() -> dict[str, str]:
    """Registered clients: the simulator's own, plus the portal's configured one."""
    known = {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
    conf = getattr(settings, "VNEID", {}) or {}
    if conf.get("client_id") and conf.get("client_secret"):
        known[str(conf["client_id"])] = str(conf["client_secret"])
    return known


def sign(claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
    key = key or signing_key()
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


def _oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="gia-lap-vneid"'
    return response


# -- discovery and keys --------------------------------------------------------------------


def discovery(request: HttpRequest) -> JsonResponse:
    _require_enabled()
    base = issuer(request)
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize/",
            "token_endpoint": f"{base}/token/",
            "userinfo_endpoint": f"{base}/userinfo/",
            "jwks_uri": f"{base}/jwks/",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
            ],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "phone"],
            "claims_supported": [
                "sub",
                "name",
                "citizen_id",
                "phone_number",
                "email",
                "acr",
                "auth_time",
                "nonce",
            ],
            "acr_values_supported": ["1", "2"],
        }
    )


def jwks(request: HttpRequest) -> JsonResponse:
    _require_enabled()
    return JsonResponse(KeySet([signing_key()]).as_dict(private=False))


# -- authorisation -------------------------------------------------------------------------


def _check_authorize(params: Any) -> tuple[dict[str, str], str]:
    """The request's parameters and the first problem found ('' if none)."""
    p = {
        k: str(params.get(k, ""))
        for k in (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        )
    }
    if p["client_id"] not in clients():
        return p, f"Ứng dụng «{p['client_id']}» chưa được đăng ký với nhà cung cấp định danh."
    uri = urllib.parse.urlsplit(p["redirect_uri"])
    if uri.scheme not in ("http", "https") or not uri.netloc or uri.fragment:
        return p, "Địa chỉ quay về (redirect_uri) không hợp lệ."
    if p["response_type"] != "code":
        return p, "Chỉ hỗ trợ response_type=code."
    if "openid" not in p["scope"].split():
        return p, "Thiếu phạm vi «openid»."
    if not p["state"] or not p["nonce"]:
        return p, "Thiếu state hoặc nonce."
    if p["code_challenge_method"] != "S256" or not p["code_challenge"]:
        return p, "Cần PKCE với code_challenge_method=S256."
    return p, ""


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    _require_enabled()
    params, problem = _check_authorize(request.POST if request.method == "POST" else request.GET)
    if problem:
        return render(request, "nationalsim/oidc_error.html", {"problem": problem}, status=400)
    if request.method == "GET":
        return render(
            request,
            "nationalsim/oidc_authorize.html",
            {
                "params": params,
                "citizens": list(enumerate(CITIZENS)),
                "faults": list(FAULTS.items()),
                "values": {},
            },
        )
    back = params["redirect_uri"]
    sep = "&" if "?" in back else "?"
    if request.POST.get("action") == "deny":
        query = urllib.parse.urlencode(
            {
                "error": "access_denied",
                "error_description": "Người dùng từ chối",
                "state": params["state"],
            }
        )
        return redirect(f"{back}{sep}{query}")
    person, errors = _person_from(request.POST)
    if errors:
        return render(
            request,
            "nationalsim/oidc_authorize.html",
            {
                "params": params,
                "citizens": list(enumerate(CITIZENS)),
                "faults": list(FAULTS.items()),
                "values": request.POST,
                "errors": errors,
            },
            status=400,
        )
    fault = request.POST.get("fault", "")
    code = secrets.token_urlsafe(32)
    cache.set(
        f"nationalsim:oidc:code:{code}",
        {
            "client_id": params["client_id"],
            "redirect_uri": back,
            "nonce": params["nonce"],
            "code_challenge": params["code_challenge"],
            "scope": params["scope"],
            "person": person,
            "fault": fault if fault in FAULTS else "",
            "auth_time": int(time.time()),
        },
        CODE_SECONDS,
    )
    query = urllib.parse.urlencode({"code": code, "state": params["state"]})
    return redirect(f"{back}{sep}{query}")


def _person_from(form: Any) -> tuple[dict[str, str], list[str]]:
    choice = form.get("citizen", "")
    if choice.isdigit() and int(choice) < len(CITIZENS):
        person = dict(CITIZENS[int(choice)])
    else:
        person = {
            "name": " ".join(form.get("name", "").split())[:150],
            "citizen_id": form.get("citizen_id", "").strip()[:30],
            "phone_number": form.get("phone_number", "").strip()[:20],
            "email": form.get("email", "").strip()[:150],
            "acr": form.get("acr", "1"),
        }
    errors = []
    if not person["name"]:
        errors.append("Nhập họ và tên công dân giả lập.")
    digits = "".join(c for c in person["citizen_id"] if c.isdigit())
    if len(digits) != 12:
        errors.append("Số định danh cá nhân gồm 12 chữ số.")
    if person["acr"] not in ("1", "2"):
        errors.append("Mức định danh là 1 hoặc 2.")
    sub = form.get("sub", "").strip()[:100]
    # The subject stays the same when the number is typed in another format.
    person["sub"] = sub or "vneid-" + hashlib.sha256(digits.encode()).hexdigest()[:20]
    return person, errors


# -- token and userinfo --------------------------------------------------------------------


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return "", ""
        ident, _, secret = raw.partition(":")
        return urllib.parse.unquote_plus(ident), urllib.parse.unquote_plus(secret)
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def _pkce_ok(verifier: str, challenge: str) -> bool:
    if not (43 <= len(verifier) <= 128):
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


@csrf_exempt
@require_http_methods(["POST"])
def token(request: HttpRequest) -> JsonResponse:
    _require_enabled()
    client_id, secret = _client_credentials(request)
    expected = clients().get(client_id)
    if expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
        return _oauth_error("invalid_client", "Sai mã ứng dụng hoặc khóa bí mật.", 401)
    if request.POST.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "Chỉ hỗ trợ authorization_code.")
    code = request.POST.get("code", "")
    grant = cache.get(f"nationalsim:oidc:code:{code}") if code else None
    if grant is None:
        return _oauth_error("invalid_grant", "Mã cấp quyền không tồn tại, đã dùng hoặc hết hạn.")
    cache.delete(f"nationalsim:oidc:code:{code}")  # used once
    if grant["client_id"] != client_id or grant["redirect_uri"] != request.POST.get(
        "redirect_uri", ""
    ):
        return _oauth_error(
            "invalid_grant", "Mã cấp quyền không dành cho ứng dụng hoặc địa chỉ này."
        )
    if not _pkce_ok(request.POST.get("code_verifier", ""), grant["code_challenge"]):
        return _oauth_error("invalid_grant", "PKCE: code_verifier không khớp.")
    now = int(time.time())
    person = grant["person"]
    base = issuer(request)
    claims: dict[str, Any] = {
        "iss": base,
        "sub": person["sub"],
        "aud": client_id,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "auth_time": grant["auth_time"],
        "nonce": grant["nonce"],
        "acr": person["acr"],
        "name": person["name"],
        "citizen_id": person["citizen_id"],
        "phone_number": person["phone_number"],
    }
    if person.get("email"):
        claims["email"] = person["email"]
    fault = grant["fault"]
    if fault == "aud":
        claims["aud"] = "ung-dung-khac"
    elif fault == "nonce":
        claims["nonce"] = secrets.token_urlsafe(16)
    elif fault == "expired":
        claims["iat"] = now - 3 * TOKEN_SECONDS
        claims["exp"] = now - 2 * TOKEN_SECONDS
    id_token = sign(claims)
    if fault == "signature":
        id_token = tamper_signature(id_token)
    access = sign(
        {
            "iss": base,
            "sub": person["sub"],
            "aud": ACCESS_AUDIENCE,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "client_id": client_id,
            "person": {k: v for k, v in claims.items() if k in USERINFO_CLAIMS},
        }
    )
    response = JsonResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "id_token": id_token,
            "scope": grant["scope"],
        }
    )
    response["Cache-Control"] = "no-store"
    return response


USERINFO_CLAIMS = ("sub", "name", "citizen_id", "phone_number", "email", "acr")


def tamper_signature(token_text: str) -> str:
    """The token with one byte of its signature flipped (for the simulated fault)."""
    head, payload, signature = token_text.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> JsonResponse:
    _require_enabled()
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return _oauth_error("invalid_token", "Thiếu mã truy cập.", 401)
    try:
        got = jwt.decode(header[7:].strip(), KeySet([signing_key()]), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer(request)},
            aud={"essential": True, "value": ACCESS_AUDIENCE},
            exp={"essential": True},
        ).validate(got.claims)
    except (JoseError, ValueError):
        return _oauth_error("invalid_token", "Mã truy cập không hợp lệ hoặc đã hết hạn.", 401)
    return JsonResponse(dict(got.claims.get("person", {})))
