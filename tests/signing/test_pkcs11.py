"""The PKCS#11 path through SoftHSM2: a token made in a temporary directory holds the key
and certificate of "Sở Thử Nghiệm" from the test PKI."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature as _validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from cchc.signing import SigningError, SigningUnavailable, sign_pdf, verify_pdf
from cchc.signing.aio import off_the_loop
from tests.signing.conftest import signing_config
from tests.signing.pki import Pki

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN, PIN, KEY = "cchc-thu", "123456", "ky-so-so"

pytestmark = pytest.mark.skipif(
    not (shutil.which("softhsm2-util") and Path(MODULE).exists()),
    reason="SoftHSM2 is not installed (Debian package softhsm2: softhsm2-util and "
    f"{MODULE}); the PKCS#11 path is not tested",
)

# pyHanko's synchronous validator refuses a thread with a running event loop (a browser
# test earlier in the same process leaves one): the same wrapper as the signing code.
validate_pdf_signature = off_the_loop(_validate_pdf_signature)


@pytest.fixture(scope="module")
def token(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read when the module is first initialised
    util = ["softhsm2-util"]
    subprocess.run(
        [*util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "87654321"],
        check=True,
        capture_output=True,
    )
    key_file = home / "key.pem"
    key_file.write_bytes(pki.token.key_pem())
    subprocess.run(
        [
            *util,
            "--import",
            str(key_file),
            "--token",
            TOKEN,
            "--label",
            KEY,
            "--id",
            "01",
            "--pin",
            PIN,
        ],
        check=True,
        capture_output=True,
    )
    key_file.unlink()
    lib = pkcs11.lib(MODULE)
    with lib.get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: KEY,
                Attribute.ID: b"\x01",
                Attribute.SUBJECT: pki.token.asn1.subject.dump(),
                Attribute.VALUE: pki.token.asn1.dump(),
            }
        )
    yield TOKEN
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


def token_profile(pki: Pki, **changes: Any) -> dict[str, Any]:
    return {
        "backend": "pkcs11",
        "module": MODULE,
        "token_label": TOKEN,
        "key_label": KEY,
        "pin": PIN,
        "chain": [str(pki.files["intermediate.pem"])],
        **changes,
    }


@pytest.fixture
def agency(settings: Any, pki: Pki, desk_p12: str, token: str) -> str:
    settings.CCHC_SIGNING = signing_config(
        pki, desk_p12, **{"agency:000.00.01.H00": token_profile(pki)}
    )
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    return "agency:000.00.01.H00"


def test_sign_with_the_token(agency: str, pdf: bytes, pki: Pki) -> None:
    signed = sign_pdf(pdf, profile=agency, purpose="ket-qua")
    (sig,) = PdfFileReader(BytesIO(signed)).embedded_regular_signatures
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[pki.root.asn1]))
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.dump() == pki.token.asn1.dump()
    report = verify_pdf(signed)
    assert report.verdict == "valid"
    assert report.signatures[0].signer_name == "Sở Thử Nghiệm"
    assert report.signatures[0].field == "ChuKySo_ket-qua"
    assert report.signatures[0].time_source == "timestamp"


def test_wrong_pin_is_permanent(settings: Any, agency: str, pdf: bytes, pki: Pki) -> None:
    settings.CCHC_SIGNING["profiles"][agency] = token_profile(pki, pin="000000")
    with pytest.raises(SigningError, match="sai mã PIN"):
        sign_pdf(pdf, profile=agency)


def test_token_not_plugged_in_is_transient(
    settings: Any, agency: str, pdf: bytes, pki: Pki
) -> None:
    settings.CCHC_SIGNING["profiles"][agency] = token_profile(pki, token_label="khong-cam")
    with pytest.raises(SigningUnavailable, match="khong-cam"):
        sign_pdf(pdf, profile=agency)


def test_missing_module_is_a_configuration_error(
    settings: Any, agency: str, pdf: bytes, pki: Pki
) -> None:
    settings.CCHC_SIGNING["profiles"][agency] = token_profile(pki, module="/khong/co.so")
    with pytest.raises(SigningError, match="thư viện PKCS#11"):
        sign_pdf(pdf, profile=agency)


def test_unknown_key_label(settings: Any, agency: str, pdf: bytes, pki: Pki) -> None:
    settings.CCHC_SIGNING["profiles"][agency] = token_profile(pki, key_label="khong-co")
    with pytest.raises(SigningError, match="khong-co") as caught:
        sign_pdf(pdf, profile=agency)
    assert caught.value.code == "signing_config"
