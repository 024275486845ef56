"""Importers by name, so `cchc import <name> FILE` and the web import page find them."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Protocol

from cchc.errors import NotFound
from cchc.tabular.tables import Skipped


@dataclass
class RowError:
    line: int
    reason: str
    key: str = ""

    def __str__(self) -> str:
        return f"Dòng {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did. `rejected` rows changed nothing; the others landed; `skipped`
    lines were not data (title block, blank lines, footer) and were not read as rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    run_id: int | None = None  # the ImportRun recorded for it, if any
    skipped: Skipped = field(default_factory=Skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [asdict(e) for e in self.rejected],
            "skipped": self.skipped.as_dict(),
            "dry_run": self.dry_run,
            "run": self.run_id,
        }


class Importer(Protocol):
    name: str
    title: str  # Vietnamese, for the web page
    permission: str
    columns: tuple[str, ...]

    def run(
        self,
        source: str | IO[bytes] | bytes,
        *,
        actor: Any,
        now: dt.datetime,
        dry_run: bool = False,
        filename: str | None = None,
    ) -> ImportReport: ...


_IMPORTERS: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    _IMPORTERS[importer.name] = importer


def importer(name: str) -> Importer:
    try:
        return _IMPORTERS[name]
    except KeyError:
        known = ", ".join(sorted(_IMPORTERS))
        raise NotFound(f"Không có bộ nhập dữ liệu '{name}'. Có: {known}") from None


def importers() -> dict[str, Importer]:
    return dict(_IMPORTERS)
