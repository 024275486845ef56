"""Concurrency of PAKN with dossier work on PostgreSQL: one lock order, no deadlock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cchc.audit import chain

POSTGRES = connection.vendor == "postgresql"


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (parallel connections)")
def test_a_citizens_pakn_and_an_officers_action_on_the_same_dossier_do_not_deadlock(
    transactional_db, world
):
    """A PAKN filed by a dossier's signed-in applicant appends its audited event, then the
    dossier's `complaint` event (dossier row, indicator cells); an officer's note on the same
    dossier locks the row and the cells, then appends its audit entry. With the chain's
    append lock taken at the audit write these deadlocked (2 in 186 operations measured);
    `cchc.audit.lockorder` takes it before any row lock."""
    from cchc.dossiers import intake, services
    from cchc.dossiers.models import Dossier
    from cchc.feedback import services as feedback
    from tests.dossiers.conftest import at
    from tests.dossiers.factories import applicant, components_for

    online = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at("2024-06-03", "08:15"),
    )
    services.act(world.desk_officer, online, "receive", now=at("2024-06-03", "09:00"))
    rounds = 25
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def citizen() -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(rounds):
                feedback.submit(
                    world.citizen,
                    feedback.Submission(
                        name="Nguyễn Thị Hoà",
                        phone="0912345678",
                        subject=f"Phản ánh {i}",
                        content="Hồ sơ chậm, đề nghị kiểm tra.",
                        dossier_code=online.code,
                    ),
                    now=at("2024-06-04", "10:00"),
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def officer(user) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(rounds):
                services.act(
                    user,
                    Dossier.objects.get(pk=online.pk),
                    "note",
                    now=at("2024-06-04", "10:00"),
                    reason=f"Ghi chú {i}",
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=citizen),
        threading.Thread(target=officer, args=(world.leader,)),
        threading.Thread(target=officer, args=(world.desk_officer,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert errors == [], errors[:2]
    assert Dossier.objects.get(pk=online.pk).events.filter(action="complaint").count() == rounds
    report = chain.verify()
    assert report.clean, report.problem
