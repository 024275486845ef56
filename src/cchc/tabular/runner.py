"""Row-by-row import: every row in its own savepoint, so bad rows never cost good ones."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from django.db import transaction

from cchc.errors import DomainError
from cchc.tabular.registry import ImportReport, RowError
from cchc.tabular.tables import Row, Skipped, read_rows
from cchc.tabular.values import CellError


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


T = TypeVar("T", bound=Keyed)


def run_rows(
    rows: Iterable[Row],
    *,
    parse: Callable[[Row], T],
    save: Callable[[T], str],
    dry_run: bool = False,
    skipped: Skipped | None = None,
) -> ImportReport:
    """Parse and save each row; `save` returns 'created', 'updated' or 'unchanged'.

    A row that fails to parse or is refused by the service is reported with its line and
    reason and changes nothing. A key repeated within the file is refused on its second
    line. With `dry_run` everything is validated and then rolled back. `skipped`: the
    reader's tally of non-data lines, reported as the report's `skipped`.
    """
    report = ImportReport(dry_run=dry_run, skipped=skipped if skipped is not None else Skipped())
    seen: dict[str, int] = {}
    with transaction.atomic():
        for row in rows:
            key = ""
            try:
                data = parse(row)
                key = data.key
                if key in seen:
                    raise CellError(f"mã {key} trùng với dòng {seen[key]}")
                seen[key] = row.line
                with transaction.atomic():
                    outcome = save(data)
            except (CellError, DomainError) as exc:
                reason = exc.message if isinstance(exc, DomainError) else str(exc)
                report.rejected.append(RowError(row.line, reason, key))
                continue
            count_outcome(report, outcome)
        if dry_run:
            transaction.set_rollback(True)
    return report


def count_outcome(report: ImportReport, outcome: Any) -> None:
    """Add one saved row's outcome ('created', 'updated', else unchanged) to `report`."""
    if outcome == "created":
        report.created += 1
    elif outcome == "updated":
        report.updated += 1
    else:
        report.unchanged += 1


class TableImporter(ABC):
    """Base of CSV/XLSX importers: check permission, read rows, parse and save each row.

    Subclasses set `name`, `title`, `permission`, `columns`, `required` and implement
    `parse(row)` and `save(data, actor=…, now=…)` (returning the outcome word), and
    `authorize(actor)`: the kit sits below the accounts policy, so the check comes from the
    importer's own layer (`cchc.accounts.policy.RequiresPermission`). It is abstract, so an
    importer without a check cannot even be created.
    """

    name: str
    title: str
    permission: str
    columns: tuple[str, ...]
    required: tuple[str, ...]

    @abstractmethod
    def authorize(self, actor: Any) -> None:
        """Raise PermissionDenied unless `actor` may run this import."""

    @abstractmethod
    def parse(self, row: Row) -> Any:
        """Turn a row into the service's input, raising CellError with a Vietnamese reason."""

    @abstractmethod
    def save(self, data: Any, *, actor: Any, now: Any) -> str:
        """Save through the service; return 'created', 'updated' or 'unchanged'."""

    def run(
        self,
        source: Any,
        *,
        actor: Any,
        now: Any,
        dry_run: bool = False,
        filename: str | None = None,
    ) -> ImportReport:
        self.authorize(actor)
        skipped = Skipped()
        rows = read_rows(source, required=self.required, filename=filename, skipped=skipped)
        return run_rows(
            rows,
            parse=self.parse,
            save=lambda data: self.save(data, actor=actor, now=now),
            dry_run=dry_run,
            skipped=skipped,
        )
