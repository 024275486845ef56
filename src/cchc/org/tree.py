"""Closures over the organisation graph (sub-agencies, sub-units, merged predecessors).

Each step is one query per level of the tree, whatever its width.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cchc.org.models import AdministrativeUnit, Agency, UnitSuccession


def _closure(roots: Iterable[int], step: Callable[[set[int]], set[int]]) -> set[int]:
    found = set(roots)
    frontier = set(found)
    while frontier:
        frontier = step(frontier) - found
        found |= frontier
    return found


def agency_subtree(roots: Iterable[int]) -> set[int]:
    """Ids of the `roots` agencies and all their sub-agencies."""

    def children(ids: set[int]) -> set[int]:
        return set(Agency.objects.filter(parent_id__in=ids).values_list("id", flat=True))

    return _closure(roots, children)


def unit_subtree(roots: Iterable[int], *, with_predecessors: bool = False) -> set[int]:
    """Ids of the `roots` units and every unit below them; with `with_predecessors`, also
    the units merged into any of them (any share), so today's province carries the history
    of the units it was formed from."""

    def step(ids: set[int]) -> set[int]:
        below = set(
            AdministrativeUnit.objects.filter(parent_id__in=ids).values_list("id", flat=True)
        )
        if with_predecessors:
            below |= set(
                UnitSuccession.objects.filter(successor_id__in=ids).values_list(
                    "predecessor_id", flat=True
                )
            )
        return below

    return _closure(roots, step)
