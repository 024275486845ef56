"""The three key backends: a PKCS#12 file, a PKCS#11 token, a remote signing provider.

`open_signer(profile)` is a context manager that yields a pyHanko `Signer` and releases what
it holds (the PKCS#11 session) afterwards. Failures are sorted into SigningUnavailable
(try again later) and SigningError (fix the configuration).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyhanko.sign.signers.pdf_cms import Signer, SimpleSigner

from cchc.signing.certs import load_certificate_files
from cchc.signing.errors import SigningError, SigningUnavailable
from cchc.signing.profiles import Profile
from cchc.signing.remote import ADAPTERS, RemoteSigner


@contextmanager
def open_signer(profile: Profile, *, description: str = "") -> Iterator[Signer]:
    if profile.backend == "pkcs12":
        yield _pkcs12(profile)
    elif profile.backend == "pkcs11":
        with _pkcs11(profile) as signer:
            yield signer
    elif profile.backend == "remote":
        yield _remote(profile, description)
    else:  # parse_config refuses other names
        raise SigningError(f"Backend ký số không biết: {profile.backend!r}.")


def _pkcs12(profile: Profile) -> Signer:
    path = Path(profile.text("path"))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningError(
            f"Hồ sơ ký {profile.name!r}: không có tệp khóa {path}.", code="signing_config"
        ) from None
    except OSError as exc:
        # A removable or network volume that is not there now may be there later.
        raise SigningUnavailable(
            f"Hồ sơ ký {profile.name!r}: không đọc được tệp khóa {path}: {exc.strerror}."
        ) from None
    password = profile.secret("password")
    try:
        return SimpleSigner.load_pkcs12_data(
            data,
            other_certs=load_certificate_files(profile.chain),
            passphrase=password.encode() if password else None,
        )
    except ValueError:
        raise SigningError(
            f"Hồ sơ ký {profile.name!r}: không mở được tệp PKCS#12 (sai mật khẩu hoặc tệp hỏng).",
            code="signing_config",
        ) from None


@contextmanager
def _pkcs11(profile: Profile) -> Iterator[Signer]:
    # Function-local import: python-pkcs11 loads a C extension that only token users need.
    import pkcs11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.general import SigningError as PyHankoSigningError
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    module = profile.text("module")
    if not Path(module).is_file():
        raise SigningError(
            f"Hồ sơ ký {profile.name!r}: không có thư viện PKCS#11 {module}.",
            code="signing_config",
        )
    label = profile.text("token_label")
    try:
        session = open_pkcs11_session(
            module, token_criteria=TokenCriteria(label=label), user_pin=profile.secret("pin")
        )
    except pkcs11.PinIncorrect:
        raise SigningError(
            f"Hồ sơ ký {profile.name!r}: sai mã PIN của thiết bị ký số {label!r}.",
            code="signing_config",
        ) from None
    except pkcs11.PinLocked:
        raise SigningError(
            f"Hồ sơ ký {profile.name!r}: thiết bị ký số {label!r} đã bị khóa mã PIN.",
            code="signing_config",
        ) from None
    except (pkcs11.PKCS11Error, PyHankoSigningError, OSError) as exc:
        # pyHanko raises its own SigningError when no token carries the label: the token is
        # not plugged in (now), which is the transient case.
        raise SigningUnavailable(
            f"Hồ sơ ký {profile.name!r}: không mở được thiết bị ký số {label!r} ({exc})."
        ) from None
    try:
        key_label = profile.text("key_label")
        signer = PKCS11Signer(
            session,
            cert_label=profile.text("cert_label") or key_label,
            key_label=key_label,
            other_certs_to_pull=None,
            ca_chain=load_certificate_files(profile.chain),
        )
        try:
            signer._load_objects()  # the certificate and key now, not in the middle of signing
        except pkcs11.PKCS11Error as exc:
            # The token is there but has no such object: the profile names the wrong label.
            raise SigningError(
                f"Hồ sơ ký {profile.name!r}: thiết bị {label!r} không có khóa hoặc chứng thư "
                f"cần dùng ({exc}).",
                code="signing_config",
            ) from None
        yield signer
    finally:
        session.close()


def _remote(profile: Profile, description: str) -> Signer:
    adapter = profile.text("adapter", "generic")
    if adapter not in ADAPTERS:
        raise SigningError(
            f"Hồ sơ ký {profile.name!r}: không có bộ kết nối ký từ xa {adapter!r}.",
            code="signing_config",
        )
    provider = ADAPTERS[adapter](
        profile.text("url"),
        user_id=profile.text("user_id"),
        api_key=profile.secret("api_key"),
        timeout=profile.number("timeout", 10.0),
    )
    return RemoteSigner(
        provider,
        description=description,
        wait_seconds=profile.number("wait_seconds", 180.0),
        poll_seconds=profile.number("poll_seconds", 2.0),
    )
