"""pyHanko's signing and validation are asyncio code behind synchronous wrappers
(`asyncio.run`), which refuse to start inside a thread that already runs an event loop — a
worker or a test process that drives a browser through Playwright's synchronous API does.
`off_the_loop` runs such a function in a thread of its own when this thread has a loop, and
directly otherwise: callers see a plain synchronous function either way."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def off_the_loop(function: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop here: the usual case
            return function(*args, **kwargs)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="signing") as pool:
            return pool.submit(function, *args, **kwargs).result()

    return call
