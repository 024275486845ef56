"""A double click at the counter on PostgreSQL (issue 17, part "counter"): the same intake
form sent by several requests at once makes one dossier, and every request gets it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (parallel connections); run with DATABASE_URL=postgres://…",
    ),
]

PARALLEL = 6


def test_one_dossier_however_many_clicks(transactional_db, world):
    from cchc.accounts.models import User
    from cchc.dossiers.intake import once, receive_at_desk
    from cchc.dossiers.models import Dossier, IntakeKey
    from tests.dossiers.factories import applicant, components_for

    barrier = threading.Barrier(PARALLEL)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def click() -> None:
        try:
            officer = User.objects.get(pk=world.desk_officer.pk)
            components = components_for(world.procedure)
            barrier.wait(timeout=60)
            dossier = once(
                officer,
                "double-click-key",
                now=world.now,
                make=lambda: receive_at_desk(
                    officer,
                    desk=world.desk,
                    procedure=world.procedure,
                    applicant=applicant(),
                    components=components,
                    now=world.now,
                ),
            )
            with lock:
                codes.append(dossier.code)
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Dossier.objects.count() == 1
    assert codes == [Dossier.objects.get().code] * PARALLEL
    assert IntakeKey.objects.get().dossier_id == Dossier.objects.get().pk
