"""Concurrent intake on PostgreSQL: 50 parallel intakes at one desk, each in its own
thread with its own database connection, get 50 distinct consecutive codes.

Needs committed data visible to other connections, hence a transactional test (its
closing flush passes the append-only triggers through the purge switch, tests/conftest.py).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (parallel connections and row locks); "
        "run with DATABASE_URL=postgres://…",
    ),
]

PARALLEL = 50


def test_parallel_intakes_get_distinct_consecutive_codes(
    transactional_db,
    world,
):
    from cchc.accounts.models import User
    from cchc.dossiers.intake import receive_at_desk
    from cchc.dossiers.models import CodeCounter, Dossier
    from tests.dossiers.factories import applicant, components_for

    barrier = threading.Barrier(PARALLEL)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def intake(n: int) -> None:
        try:
            officer = User.objects.get(pk=world.desk_officer.pk)  # own policy cache
            components = components_for(world.procedure)
            barrier.wait(timeout=60)
            dossier = receive_at_desk(
                officer,
                desk=world.desk,
                procedure=world.procedure,
                applicant=applicant(name=f"Người nộp số {n}"),
                components=components,
                now=world.now,
            )
            with lock:
                codes.append(dossier.code)
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=intake, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    prefix = f"{world.desk.host_agency.code}-{world.now:%y%m%d}"
    assert sorted(codes) == [f"{prefix}-{n:04d}" for n in range(1, PARALLEL + 1)]
    assert Dossier.objects.filter(code__startswith=prefix).count() == PARALLEL
    assert CodeCounter.objects.get(prefix=world.desk.host_agency.code).last == PARALLEL
