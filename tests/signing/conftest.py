"""Fixtures of the signing tests: the PKI and its server (once per session), a signing
configuration pointing at them, and a small PDF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.signing.pki import Pki, build, minimal_pdf

P12_PASSWORD = "mat-khau-thu"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    built = build(tmp_path_factory.mktemp("pki"))
    yield built
    built.server.stop()


@pytest.fixture(scope="session")
def desk_p12(pki: Pki) -> str:
    return str(pki.p12(pki.desk, "desk", P12_PASSWORD))


def signing_config(pki: Pki, desk_p12: str, **extra_profiles: Any) -> dict[str, Any]:
    return {
        "tsa_url": f"{pki.server.base}/tsa",
        "tsa_timeout": 5,
        "fetch_timeout": 5,
        "profiles": {
            "desk": {
                "backend": "pkcs12",
                "path": desk_p12,
                "password": P12_PASSWORD,
                "reason": "Tiếp nhận hồ sơ",
                "location": "Bộ phận Một cửa",
            },
            **extra_profiles,
        },
    }


@pytest.fixture
def configured(settings: Any, pki: Pki, desk_p12: str) -> dict[str, Any]:
    """CCHC_SIGNING and CCHC_SIGNING_TRUST_ROOTS for the test PKI (PKCS#12 desk profile)."""
    settings.CCHC_SIGNING = signing_config(pki, desk_p12)
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    return dict(settings.CCHC_SIGNING)


@pytest.fixture
def pdf() -> bytes:
    return minimal_pdf()
