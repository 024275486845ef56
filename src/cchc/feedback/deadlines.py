"""Versioned deadlines of feedback handling (PAKN), read from `data/deadlines.toml`.

Each version has an effective date; a PAKN keeps the version in force on its receipt day.
The shipped figures are operational rules, not a legal text (see the file's header).
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cchc import legaltime
from cchc.errors import InvalidInput

DEADLINES_FILE = Path(__file__).resolve().parent / "data" / "deadlines.toml"
KINDS = ("reject", "supplement", "resolve", "publish")


@dataclass(frozen=True)
class DeadlineRules:
    number: int
    effective_from: dt.date
    status: str
    source: str
    reject: str
    supplement: str
    resolve: str
    publish: str

    @property
    def operational(self) -> bool:
        return self.status != "legal"

    def duration(self, kind: str) -> str:
        value: str = getattr(self, kind)
        return value

    def label(self, kind: str) -> str:
        return legaltime.parse_duration(self.duration(kind)).label


@functools.cache
def versions(path: Path = DEADLINES_FILE) -> tuple[DeadlineRules, ...]:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    out = []
    for item in raw.get("version", []):
        try:
            rules = DeadlineRules(
                number=int(item["number"]),
                effective_from=item["effective_from"],
                status=str(item.get("status", "operational")),
                source=str(item.get("source", "")),
                **{k: str(item[k]) for k in KINDS},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"Tệp thời hạn PAKN {path.name} không hợp lệ: {exc}") from None
        for kind in KINDS:
            legaltime.parse_duration(rules.duration(kind))  # fail early on a typo
        out.append(rules)
    if not out:
        raise InvalidInput(f"Tệp thời hạn PAKN {path.name} không có phiên bản nào.")
    return tuple(sorted(out, key=lambda r: (r.effective_from, r.number)))


def rules_on(day: dt.date) -> DeadlineRules:
    """The version in force on `day` (the earliest one for days before every version)."""
    found = [r for r in versions() if r.effective_from <= day]
    return found[-1] if found else versions()[0]


def rules_number(number: int) -> DeadlineRules:
    for r in versions():
        if r.number == number:
            return r
    raise InvalidInput(f"Không có phiên bản thời hạn PAKN số {number}.")
