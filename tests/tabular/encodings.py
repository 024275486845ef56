"""Test helper: text in the encodings Vietnamese exports use."""

from __future__ import annotations

import unicodedata

TONES = "\u0300\u0301\u0303\u0309\u0323"  # the combining tone marks Windows-1258 has


def cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese exports write it: base letters (â, ê, ô, ơ, ư, ă, đ) from
    the code page, tone marks as the code page's combining characters."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in decomposed if c in TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
            out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)
