"""Which finished dossiers count as resolved ("đã giải quyết"): versioned definition data
(`data/resolved.toml`), each state with its basis, source and whether it was verified.

The dossier engine gives every dossier that stops its legal clock a finishing instant —
approval, refusal, stop or withdrawal after receipt. The indicators count only the states
this definition marks `counted` (a withdrawal is not a resolution): the "finished" family of
the cells (`cchc.indicators.aggregates`), its rebuild and verification, and the drill-down
use `counts` (one dossier snapshot) and `q` (the same condition in SQL). Anything else that
counts finished dossiers (the dashboard's officer workload) should filter with `q()` too.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models import Q

from cchc import legaltime
from cchc.dossiers.models import TERMINAL_STATES, State
from cchc.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "resolved.toml"
VN = legaltime.VN_TZ
# Every state that can carry a finishing instant: the definition must decide each one.
FINISHING_STATES = frozenset({State.RESOLVED, *TERMINAL_STATES})


@dataclass(frozen=True)
class StateRule:
    state: str
    counted: bool
    basis: str
    source: str
    verified: bool
    note: str = ""

    @property
    def label(self) -> str:
        return str(State(self.state).label)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "label": self.label}


@dataclass(frozen=True)
class Version:
    effective_from: dt.date
    states: tuple[StateRule, ...]
    note: str = ""

    @property
    def counted(self) -> frozenset[str]:
        return frozenset(r.state for r in self.states if r.counted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "effective_from": self.effective_from.isoformat(),
            "note": self.note,
            "states": [r.as_dict() for r in self.states],
        }


@dataclass(frozen=True)
class ResolvedDefinition:
    code: str
    name: str
    version: str
    versions: tuple[Version, ...]  # by effective_from, oldest first

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"

    def in_force(self, day: dt.date) -> Version:
        """The version for dossiers finished on `day` (the first one before it starts)."""
        found = self.versions[0]
        for v in self.versions:
            if v.effective_from <= day:
                found = v
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "version": self.version,
            "versions": [v.as_dict() for v in self.versions],
        }


def parse(raw: dict[str, Any]) -> ResolvedDefinition:
    """Check a parsed definition; InvalidInput lists every problem at once."""
    errors: list[str] = []
    head = raw.get("definition") or {}
    for key in ("code", "name", "version"):
        if not head.get(key):
            errors.append(f"[definition]: thiếu '{key}'")
    versions: list[Version] = []
    items = raw.get("versions") or []
    if not items:
        errors.append("cần ít nhất một [[versions]]")
    for n, item in enumerate(items, start=1):
        where = f"[[versions]] thứ {n}"
        since = item.get("effective_from")
        if not isinstance(since, dt.date) or isinstance(since, dt.datetime):
            errors.append(f"{where}: effective_from phải là ngày (2025-07-01)")
            continue
        rules: list[StateRule] = []
        for m, state in enumerate(item.get("states") or [], start=1):
            name = str(state.get("state", ""))
            here = f"{where}, trạng thái thứ {m} ({name or 'không tên'})"
            if name not in FINISHING_STATES:
                known = ", ".join(sorted(FINISHING_STATES))
                errors.append(f"{here}: trạng thái không hợp lệ (có: {known})")
                continue
            if any(r.state == name for r in rules):
                errors.append(f"{here}: trạng thái bị trùng")
            for key in ("counted", "verified"):
                if not isinstance(state.get(key), bool):
                    errors.append(f"{here}: '{key}' phải là true hoặc false")
            for key in ("basis", "source"):
                if not str(state.get(key, "")).strip():
                    errors.append(f"{here}: thiếu '{key}'")
            rules.append(
                StateRule(
                    state=name,
                    counted=state.get("counted") is True,
                    basis=str(state.get("basis", "")),
                    source=str(state.get("source", "")),
                    verified=state.get("verified") is True,
                    note=str(state.get("note", "")),
                )
            )
        missing = sorted(FINISHING_STATES - {r.state for r in rules})
        if missing:
            errors.append(f"{where}: chưa quyết định trạng thái {', '.join(missing)}")
        versions.append(Version(since, tuple(rules), str(item.get("note", ""))))
    days = [v.effective_from for v in versions]
    if len(set(days)) != len(days):
        errors.append("hai [[versions]] cùng effective_from")
    if errors:
        raise InvalidInput(
            "Định nghĩa hồ sơ đã giải quyết có lỗi: " + "; ".join(errors) + ".",
            code="indicators.resolved",
            errors=errors,
        )
    return ResolvedDefinition(
        code=str(head["code"]),
        name=str(head["name"]),
        version=str(head["version"]),
        versions=tuple(sorted(versions, key=lambda v: v.effective_from)),
    )


def read(path: str | Path = DATA) -> ResolvedDefinition:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"Không đọc được định nghĩa hồ sơ đã giải quyết {path.name}: {exc}.",
            code="indicators.resolved",
        ) from None
    return parse(raw)


@cache
def definition() -> ResolvedDefinition:
    """The shipped definition (the cells are built with it)."""
    return read(DATA)


def counted_states(day: dt.date) -> frozenset[str]:
    """The states counted as resolved for a dossier finished on `day` (local day)."""
    return definition().in_force(day).counted


def counts(d: Any) -> bool:
    """Does this dossier snapshot (a mapping with `state` and `finished_at`) count as
    resolved? False while it has no finishing instant."""
    finished = d["finished_at"]
    if finished is None:
        return False
    return str(d["state"]) in counted_states(finished.astimezone(VN).date())


def q() -> Q:
    """`counts` as an ORM condition on dossiers (finished in a version's days, in one of
    its counted states)."""
    versions = definition().versions
    out: Q | None = None
    for n, v in enumerate(versions):
        cond = Q(state__in=sorted(v.counted), finished_at__isnull=False)
        if n > 0:
            cond &= Q(finished_at__gte=_midnight(v.effective_from))
        if n + 1 < len(versions):
            cond &= Q(finished_at__lt=_midnight(versions[n + 1].effective_from))
        out = cond if out is None else out | cond
    return out if out is not None else Q(pk__isnull=True)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=VN)
