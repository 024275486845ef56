"""The event-log shape shared by dossiers and PAKN (`cchc.eventlog`): both logs have the same
columns, store a reason the same way and leave the same audit entry for a refused action.

Before the shared kit the two copies had drifted: a PAKN reason was folded onto one line
(`nfc(reason).strip()`, losing the paragraphs of an answer) while a dossier reason kept its
lines (`nfc_text`); only the PAKN's refusal audit normalised the actor itself."""

from __future__ import annotations

import unicodedata

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.dossiers.conftest import world  # noqa: F401 - fixture
from tests.feedback.conftest import (
    at,
    file_pakn,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.django_db

# Decomposed Vietnamese (NFD: base letters followed by combining marks), spaces around and
# inside the lines, three blank lines between two paragraphs, blank lines around.
RAW_REASON = unicodedata.normalize(
    "NFD",
    "\n   Cần bổ sung   bản sao chứng thực  \n\n\n\n  Giấy khai sinh của người   yêu cầu.  \n ",
)
STORED_REASON = "Cần bổ sung bản sao chứng thực\n\nGiấy khai sinh của người yêu cầu."


def test_both_event_tables_have_the_one_shape():
    from cchc.dossiers.models import DossierEvent
    from cchc.feedback.models import FeedbackEvent

    def shape(model):
        fields = model._meta.concrete_fields
        return [(f.name, type(f).__name__, f.null, f.blank) for f in fields[2:]]

    assert shape(DossierEvent) == shape(FeedbackEvent)
    assert [f.column for f in DossierEvent._meta.concrete_fields][:2] == ["id", "dossier_id"]
    assert [f.column for f in FeedbackEvent._meta.concrete_fields][:2] == ["id", "feedback_id"]
    assert [c.name for c in DossierEvent._meta.constraints] == ["dossier_event_seq_unique"]
    assert [c.name for c in FeedbackEvent._meta.constraints] == ["feedback_event_seq_unique"]


def test_a_reason_is_stored_identically_in_both_logs(world, file_pakn):  # noqa: F811
    from cchc.dossiers import services as dossiers
    from cchc.feedback import services as pakn

    assert unicodedata.normalize("NFC", RAW_REASON) != RAW_REASON  # really decomposed
    dossier = world.intake()
    noted = dossiers.act(world.desk_officer, dossier, "note", now=world.now, reason=RAW_REASON)
    feedback = file_pakn(at("2024-06-07"))
    rejected = pakn.reject(world.leader, feedback, reason=RAW_REASON, now=at("2024-06-10"))

    assert noted.reason == rejected.reason == STORED_REASON
    noted.refresh_from_db()
    rejected.refresh_from_db()
    assert noted.reason == rejected.reason == STORED_REASON
    assert feedback.reject_reason == STORED_REASON


def test_a_pakn_answer_keeps_its_paragraphs_like_a_dossier_reason(world, file_pakn):  # noqa: F811
    from cchc.feedback import services as pakn

    feedback = file_pakn(at("2024-06-07"))
    pakn.accept(world.leader, feedback, now=at("2024-06-10"))
    pakn.answer(world.leader, feedback, text=RAW_REASON, now=at("2024-06-11"))
    assert feedback.answer == STORED_REASON  # shown with its line breaks (white-space: pre-wrap)


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_a_refused_action_writes_the_same_audit_entry_in_both_logs(world, file_pakn, who):  # noqa: F811
    from cchc.audit.models import AuditEntry
    from cchc.dossiers import services as dossiers
    from cchc.errors import PermissionDenied
    from cchc.feedback import services as pakn

    actor = world.outsider if who == "outsider" else AnonymousUser()
    dossier = world.intake()
    feedback = file_pakn(at("2024-06-07"))
    with pytest.raises(PermissionDenied):
        dossiers.act(actor, dossier, "note", now=world.now, reason=RAW_REASON)
    with pytest.raises(PermissionDenied):
        pakn.accept(actor, feedback, note=RAW_REASON, now=at("2024-06-10"))

    def refusal(namespace, record):
        entry = AuditEntry.objects.get(action=f"{namespace}.refused", object_id=str(record.pk))
        return {
            "actor_id": entry.actor_id,
            "actor_label": entry.actor_label,
            "keys": sorted(entry.data),
            "action": entry.data["action"],
            "code": entry.data["code"].split(".", 1)[1],
        }

    on_dossier, on_feedback = refusal("dossier", dossier), refusal("feedback", feedback)
    expected_actor = (
        (world.outsider.pk, world.outsider.username) if who == "outsider" else (None, "hệ thống")
    )
    assert (on_dossier["actor_id"], on_dossier["actor_label"]) == expected_actor
    assert {**on_dossier, "action": "-"} == {**on_feedback, "action": "-"}
    assert on_dossier["keys"] == ["action", "code", "message"]
    assert on_dossier["code"] == "forbidden"
    assert (on_dossier["action"], on_feedback["action"]) == ("note", "accept")


def test_events_are_append_only_in_both_logs(world, file_pakn):  # noqa: F811
    dossier = world.intake()
    feedback = file_pakn(at("2024-06-07"))
    for event in (dossier.events.first(), feedback.events.first()):
        with pytest.raises(RuntimeError, match="append-only"):
            event.save()
        with pytest.raises(RuntimeError, match="append-only"):
            event.delete()


def test_a_stale_version_is_refused_alike(world, file_pakn):  # noqa: F811
    from cchc.dossiers import services as dossiers
    from cchc.errors import Conflict
    from cchc.feedback import services as pakn

    dossier = world.intake()
    feedback = file_pakn(at("2024-06-07"))
    seen = (dossier.version, feedback.version)
    with pytest.raises(Conflict) as on_dossier:
        dossiers.act(
            world.desk_officer, dossier, "note", now=world.now, reason="x", expected_version=0
        )
    with pytest.raises(Conflict) as on_feedback:
        pakn.accept(world.leader, feedback, now=at("2024-06-10"), expected_version=0)
    assert (on_dossier.value.code, on_feedback.value.code) == (
        "dossier.conflict",
        "feedback.conflict",
    )
    assert (dossier.events.count(), feedback.events.count()) == seen


def test_the_next_number_of_a_counter_is_one_atomic_upsert(db):
    import datetime as dt

    from cchc.eventlog.counters import next_number
    from cchc.feedback.models import CodeCounter

    day = dt.date(2024, 6, 7)
    assert [next_number(CodeCounter, day=day) for _ in range(3)] == [1, 2, 3]
    assert next_number(CodeCounter, day=day + dt.timedelta(days=1)) == 1
    assert CodeCounter.objects.get(day=day).last == 3
