"""Where a calendar day comes from when no schedule file names it.

Layer 2 of a calendar (`cchc.legaltime.calendar`) is the ``holidays`` package: it computes
the statutory holidays itself, so a day it yields is never a checked legal fact. This
module gives such a day its real source (the act the holiday rests on, the package and its
version) and the unverified flag, from ``data/statutory-sources.toml``; and the sentence
that says a year is provisional ("tạm tính"). Pure Python; `calendar.py` and `explain.py`
use it, and so do the listings (`cchc calendar show`, the admin).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources


@dataclass(frozen=True, slots=True)
class Provenance:
    """A day's source text, whether it was checked against the act, and a remark."""

    source: str
    verified: bool
    note: str


@cache
def holidays_version() -> str:
    try:
        return metadata.version("holidays")
    except metadata.PackageNotFoundError:  # pragma: no cover - the package is a dependency
        return "?"


@cache
def _table() -> tuple[dict[str, str], tuple[tuple[str, str, str], ...]]:
    text = resources.files("cchc.legaltime").joinpath("data/statutory-sources.toml")
    raw = tomllib.loads(text.read_text(encoding="utf-8"))
    default = raw["default"]
    rules = tuple((h["match"].casefold(), h["basis"], h["note"]) for h in raw.get("holiday", ()))
    return default, rules


def package_source(basis: str) -> str:
    """`<basis>; ngày do thư viện holidays <version> tính` — the source of a layer-2 day."""
    return f"{basis}; ngày do thư viện holidays {holidays_version()} tính"


def statutory(day: dt.date, name: str) -> Provenance:
    """The provenance of a holiday the ``holidays`` package yields for `day` as `name`:
    always unverified (the package is not a legal text)."""
    del day  # the rule is chosen by the holiday's name; the date is the package's own
    default, rules = _table()
    folded = name.casefold()
    for match, basis, note in rules:
        if match in folded:
            return Provenance(package_source(basis), False, note)
    return Provenance(package_source(default["basis"]), False, default["note"])


def provisional_year_text(year: int) -> str:
    """The sentence every listing and explanation shows for a year without an official
    schedule."""
    return (
        f"Năm {year} chưa có lịch nghỉ lễ, hoán đổi ngày làm việc chính thức: kết quả tạm "
        f"tính; ngày lễ do thư viện holidays {holidays_version()} tính theo Bộ luật Lao động "
        "2019, Điều 112, chưa đối chiếu văn bản."
    )


__all__ = ["Provenance", "holidays_version", "package_source", "provisional_year_text", "statutory"]
