"""The signing configuration (`CCHC_SIGNING`) as typed data: which key signs for a profile.

`CCHC_SIGNING` is a dict (config.py reads it as JSON from the environment or a file):

    {"tsa_url": "https://tsa.example.vn/", "tsa_timeout": 10, "lta": true, "ltv": true,
     "profiles": {
        "desk": {"backend": "pkcs12", "path": "/etc/cchc/desk.p12", "password_env": "DESK_P12"},
        "agency:000.00.01.H00": {"backend": "pkcs11", "module": "/usr/lib/…/libxyz.so",
            "token_label": "SO-TNMT", "key_label": "ky-so", "pin_env": "TNMT_PIN"},
        "agency:000.00.02.H00": {"backend": "remote", "url": "https://ca.example.vn/api/",
            "user_id": "012345678", "api_key_env": "CA_KEY"}}}

A secret is given inline (`password`, `pin`, `api_key`) or, better, by the name of the
environment variable that holds it (`password_env`, `pin_env`, `api_key_env`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cchc.signing.errors import SigningError

BACKENDS = ("pkcs12", "pkcs11", "remote")
# The visible stamp's font: any OpenType/TrueType file with Vietnamese glyphs (Debian's
# fonts-noto-core, the package the printed forms already need).
DEFAULT_STAMP_FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
PROFILE_NAME = re.compile(r"^[a-z][a-z0-9_-]*(:[A-Za-z0-9._-]+)?$")


@dataclass(frozen=True)
class Profile:
    name: str
    backend: str
    options: Mapping[str, Any]
    chain: tuple[str, ...] = ()  # PEM/DER files of intermediate certificates to embed
    reason: str = ""
    location: str = ""
    stamp: bool = False  # a visible stamp box on the last page (signer, agency, time)
    stamp_font: str = DEFAULT_STAMP_FONT

    def text(self, key: str, default: str = "") -> str:
        value = self.options.get(key, default)
        return str(value) if value is not None else default

    def number(self, key: str, default: float) -> float:
        value = self.options.get(key, default)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SigningError(
                f"Hồ sơ ký {self.name!r}: {key} phải là một số.", code="signing_config"
            ) from None

    def secret(self, key: str) -> str:
        """The inline secret, or the value of the environment variable `<key>_env` names."""
        env_name = self.options.get(f"{key}_env")
        if env_name:
            value = os.environ.get(str(env_name))
            if value is None:
                raise SigningError(
                    f"Hồ sơ ký {self.name!r}: biến môi trường {env_name} chưa được đặt.",
                    code="signing_config",
                )
            return value
        return str(self.options.get(key, "") or "")


@dataclass(frozen=True)
class SigningConfig:
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    tsa_url: str = ""
    tsa_timeout: float = 10.0
    fetch_timeout: float = 10.0  # CRL/OCSP downloads while embedding validation data
    ltv: bool = True  # embed certificates and revocation data (DSS)
    lta: bool = True  # add a document timestamp over the DSS (PAdES B-LTA)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "không có"
            raise SigningError(
                f"Không có hồ sơ ký {name!r} (đã cấu hình: {known}).", code="unknown_profile"
            ) from None


_REQUIRED = {
    "pkcs12": ("path",),
    "pkcs11": ("module", "token_label", "key_label"),
    "remote": ("url", "user_id"),
}


def _fail(message: str) -> SigningError:
    return SigningError(f"CCHC_SIGNING: {message}", code="signing_config")


def _positive(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(f"{key} phải là một số dương.")
    return float(value)


def parse_config(raw: Mapping[str, Any]) -> SigningConfig:
    """Check and type the settings dict; raise SigningError naming the mistake."""
    if not isinstance(raw, Mapping):
        raise _fail("phải là một đối tượng JSON.")
    unknown = set(raw) - {"profiles", "tsa_url", "tsa_timeout", "fetch_timeout", "ltv", "lta"}
    if unknown:
        raise _fail(f"khóa không biết: {', '.join(sorted(unknown))}.")
    profiles_raw = raw.get("profiles", {})
    if not isinstance(profiles_raw, Mapping):
        raise _fail("profiles phải là một đối tượng {tên: cấu hình}.")
    profiles: dict[str, Profile] = {}
    for name, spec in profiles_raw.items():
        if not isinstance(name, str) or not PROFILE_NAME.match(name):
            raise _fail(f"tên hồ sơ ký {name!r} không hợp lệ (ví dụ: desk, agency:000.00.01.H00).")
        if not isinstance(spec, Mapping):
            raise _fail(f"hồ sơ ký {name!r} phải là một đối tượng.")
        backend = spec.get("backend")
        if backend not in BACKENDS:
            raise _fail(f"hồ sơ ký {name!r}: backend phải là một trong {', '.join(BACKENDS)}.")
        missing = [key for key in _REQUIRED[backend] if not str(spec.get(key, "") or "").strip()]
        if missing:
            raise _fail(f"hồ sơ ký {name!r} thiếu {', '.join(missing)}.")
        chain = spec.get("chain", [])
        if not isinstance(chain, list) or not all(isinstance(p, str) for p in chain):
            raise _fail(f"hồ sơ ký {name!r}: chain phải là danh sách đường dẫn tệp chứng thư.")
        stamp = spec.get("stamp", False)
        if not isinstance(stamp, bool):
            raise _fail(f"hồ sơ ký {name!r}: stamp phải là true hoặc false.")
        stamp_font = spec.get("stamp_font", DEFAULT_STAMP_FONT)
        if not isinstance(stamp_font, str) or not stamp_font.strip():
            raise _fail(f"hồ sơ ký {name!r}: stamp_font phải là đường dẫn tệp phông chữ.")
        options = {
            k: v
            for k, v in spec.items()
            if k not in ("backend", "chain", "reason", "location", "stamp", "stamp_font")
        }
        profiles[name] = Profile(
            name=name,
            backend=str(backend),
            options=options,
            chain=tuple(chain),
            reason=str(spec.get("reason", "") or ""),
            location=str(spec.get("location", "") or ""),
            stamp=stamp,
            stamp_font=stamp_font,
        )
    tsa_url = str(raw.get("tsa_url", "") or "").strip()
    if tsa_url and not tsa_url.startswith(("http://", "https://")):
        raise _fail("tsa_url phải là một địa chỉ http(s)://.")
    for flag in ("ltv", "lta"):
        if not isinstance(raw.get(flag, True), bool):
            raise _fail(f"{flag} phải là true hoặc false.")
    return SigningConfig(
        profiles=profiles,
        tsa_url=tsa_url,
        tsa_timeout=_positive(raw, "tsa_timeout", 10.0),
        fetch_timeout=_positive(raw, "fetch_timeout", 10.0),
        ltv=bool(raw.get("ltv", True)),
        lta=bool(raw.get("lta", True)),
    )
