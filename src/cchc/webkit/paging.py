"""Pagination whose cost does not grow with the data: the count stops at a cap.

Django's `Paginator` counts every matching row to number the pages. On a list that can hold
a province-year (a drill-down of T4 lists every dossier finished in 2024: a million rows)
that count is the slowest part of the page — a full scan of the matches for a number the
reader does not need exactly: nobody pages through 20 000 pages. `CappedPaginator` counts
at most `cap + 1` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``): below the cap the count
is exact, above it the pager says "more than cap" and offers pages up to the cap; the
downloads of such lists stream every row. A requested page past the cap shows the last one.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000


class CappedPaginator(Paginator):
    def __init__(
        self, object_list: Any, per_page: int, *, cap: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = CAP if cap is None else cap

    @cached_property
    def exact_count(self) -> int | None:
        """The number of rows when it is at most the cap, else None."""
        items = self.object_list
        if hasattr(items, "count") and hasattr(items, "query"):
            # The order does not change a count: without it the database counts from
            # whichever index answers the filter instead of walking the list's order.
            found = int(items.order_by()[: self.cap + 1].count())
        else:
            found = len(items)
        return found if found <= self.cap else None

    @property
    def capped(self) -> bool:
        return self.exact_count is None

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        """At most `cap`: what the pages can show."""
        exact = self.exact_count
        return self.cap if exact is None else exact

    def page(self, number: Any) -> Any:
        """Past the cap there are more rows: the last page is a full one."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.capped and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.object_list[bottom:top], number, self)


def page_of(object_list: Any, per_page: int, number: Any, *, cap: int | None = None) -> Any:
    """The page `number` (as the request gave it) of a capped pagination."""
    return CappedPaginator(object_list, per_page, cap=cap).get_page(number)
