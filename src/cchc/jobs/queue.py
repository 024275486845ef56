"""Queueing work for the worker. One function, so that every caller gets the same
guarantees: the job is queued only if the transaction that asked for it commits, and
queueing is a database insert (it cannot hang on a mail server or a gateway)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_q.tasks import async_task


def enqueue(func: str, *args: Any, name: str = "", on_commit: bool = True) -> None:
    """Queue `func` (dotted path to a module-level function) with JSON-able `args`.

    With `on_commit` (the default) the job is queued after the current transaction commits,
    so a rolled-back change queues nothing. In the test suite (`CCHC_JOBS_SYNC`) django-q2
    runs the job at once, in-process."""

    def push() -> None:
        async_task(func, *args, task_name=(name or func.rsplit(".", 1)[-1])[:100])

    if on_commit:
        transaction.on_commit(push)
    else:
        push()
