"""A read memo for one page: within `reading()`, the lookups that every report context
repeats (definitions in force, agency placement, unit and agency subtrees) are computed
once and shared, so a page that builds many contexts (previous period, year to date,
months of a chart, one per ranked agency) issues a bounded number of queries. Outside
`reading()` nothing is remembered (commands, services that write, tests that change the
organisation between calls see fresh data). Values handed out must be treated as read-only."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("cchc_indicators_memo", default=None)


@contextmanager
def reading() -> Iterator[None]:
    """Remember lookups until the block ends (a GET page: the data does not change
    meanwhile). Inside another `reading()` block, that block's memo is kept."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remember(key: Hashable, make: Callable[[], T]) -> T:
    """`make()`, computed once per `reading()` block for `key`; always fresh outside one."""
    memo = _memo.get()
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    value: T = memo[key]
    return value


def active() -> bool:
    """Whether a `reading()` block is open."""
    return _memo.get() is not None
