"""PAdES signing and verification of PDF bytes (kit: no domain knowledge).

`sign_pdf(pdf, profile=…)` signs with the key of a configured profile (PKCS#12 file, PKCS#11
token, or a remote signing provider), adds an RFC 3161 timestamp and the long-term validation
data; `verify_pdf(pdf)` reports every signature with a verdict in Vietnamese. See
docs/signing.md.

The names below load on first use: pyHanko takes most of a second to import, and every
process imports this package at start (the app's `ready` checks CCHC_SIGNING).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from cchc.signing.errors import SigningError, SigningUnavailable, UnreadablePdf

if TYPE_CHECKING:
    from cchc.signing.sign import sign_pdf
    from cchc.signing.verify import Report, SignatureReport, verify_pdf

# pyHanko imports cryptography's DSA module, which warns on import; we never sign with DSA,
# and operators running `cchc documents sign` or `cchc pdf verify` should not read it.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")

_LAZY = {
    "sign_pdf": "cchc.signing.sign",
    "verify_pdf": "cchc.signing.verify",
    "Report": "cchc.signing.verify",
    "SignatureReport": "cchc.signing.verify",
}

__all__ = [
    "Report",
    "SignatureReport",
    "SigningError",
    "SigningUnavailable",
    "UnreadablePdf",
    "sign_pdf",
    "verify_pdf",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cchc.signing' has no attribute {name!r}")
