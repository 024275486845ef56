"""The maintained synonyms of the procedure search (issue 17, item 7): abbreviations and
everyday phrases people type ("GPLX", "LLTP", "sổ đỏ") and the words the official names use
("giấy phép lái xe", "lý lịch tư pháp", "giấy chứng nhận quyền sử dụng đất").

The data is `synonyms.toml` beside this module (how to maintain it is written at its top),
read once per process. `groups` turns a query into word groups for `search_procedures`:
each group is a list of alternatives, each alternative a tuple of folded words that must
all appear in the procedure's folded code and name.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

from cchc.vietnamese import fold

SOURCE = Path(__file__).with_name("synonyms.toml")
_WORD = re.compile(r"[0-9a-z.\-/]+")


def words(text: str) -> tuple[str, ...]:
    """The folded words of `text`, punctuation other than . - / dropped (codes keep them)."""
    return tuple(w.strip(".-/") or w for w in _WORD.findall(fold(text)))


@functools.cache
def stop_words() -> frozenset[tuple[str, ...]]:
    """Folded stop phrases (`[stop] words`), read once."""
    data = tomllib.loads(SOURCE.read_text(encoding="utf-8")).get("stop", {})
    return frozenset(words(w) for w in data.get("words", []) if words(w))


@functools.cache
def table() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Key words -> alternatives (each a tuple of words), read once from `SOURCE`.
    Raises ValueError naming the bad entry when the file is malformed."""
    data = tomllib.loads(SOURCE.read_text(encoding="utf-8")).get("synonyms", {})
    out: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for key, expansions in data.items():
        if not isinstance(expansions, list) or not all(isinstance(e, str) for e in expansions):
            raise ValueError(f"{SOURCE.name}: «{key}» must map to a list of phrases")
        key_words = words(key)
        if not key_words or key_words in out:
            raise ValueError(f"{SOURCE.name}: «{key}» is empty or repeated")
        out[key_words] = tuple(words(e) for e in expansions if words(e))
    return out


def groups(query: str) -> list[list[tuple[str, ...]]]:
    """Word groups of `query` with synonyms expanded: "GPLX hạng A1" ->
    [[("gplx",), ("giay", "phep", "lai", "xe")], [("hang",)], [("a1",)]]."""
    synonyms, stop = table(), stop_words()
    longest = max((len(k) for k in (*synonyms, *stop)), default=1)
    tokens = fold(query).split()
    out: list[list[tuple[str, ...]]] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            key = words(" ".join(tokens[i : i + size]))
            if key in synonyms:
                out.append([key, *synonyms[key]])
                i += size
                break
            if key in stop and len(tokens) > size:
                i += size
                break
        else:
            out.append([(tokens[i],)])
            i += 1
    return out or [[(token,)] for token in tokens]  # a query of stop words only
