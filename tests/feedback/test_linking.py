"""Linking a PAKN to the dossier it names, only on proof: the signed-in applicant at once,
the one-time code sent to the dossier's registered contact, or an officer's confirmation.
Until then the dossier gets no `complaint` event (which would count against index 766)."""

from __future__ import annotations

import re

import pytest

from tests.feedback.conftest import at

pytestmark = pytest.mark.django_db


def sent_codes(address: str) -> list[str]:
    from cchc.notifications.models import Notification

    rows = Notification.objects.filter(kind="feedback.link_code", address=address)
    return [re.search(r"\b(\d{6})\b", n.body).group(1) for n in rows.order_by("id")]


def complaints(dossier) -> int:
    return dossier.events.filter(action="complaint").count()


def test_the_code_sent_to_the_dossier_contact_links_it(world, file_pakn):
    from cchc.audit.models import AuditEntry
    from cchc.errors import InvalidInput
    from cchc.feedback import linking

    d = world.intake(at=at("2024-06-03"))
    f = file_pakn(at("2024-06-07", "09:00"), dossier_code=d.code.lower(), email="")
    assert f.dossier_link == "pending" and f.dossier_id is None
    [code] = sent_codes(d.applicant_phone)  # SMS to the phone registered on the dossier
    assert f.link_codes.get().channel == "sms"
    assert code not in f.link_codes.get().code_hash  # only a keyed hash is stored
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidInput, match="không đúng hoặc đã hết hạn"):
        linking.confirm_code(f, wrong, now=at("2024-06-07", "09:05"))
    d.refresh_from_db()
    assert complaints(d) == 0 and not d.has_complaint
    linking.confirm_code(f, code, now=at("2024-06-07", "09:06"))
    d.refresh_from_db()
    assert (f.dossier_id, f.dossier_link) == (d.pk, "linked")
    assert d.has_complaint and complaints(d) == 1
    event = f.events.get(action="link_dossier")
    assert event.data == {"dossier": d.code, "proof": "code"}
    assert AuditEntry.objects.filter(action="feedback.link_dossier").count() == 1
    assert AuditEntry.objects.filter(action="feedback.link_code_sent").count() == 1
    # used once only
    with pytest.raises(InvalidInput):
        linking.confirm_code(f, code, now=at("2024-06-07", "09:07"))
    assert complaints(d) == 1


def test_a_code_dies_after_five_tries_and_after_thirty_minutes(world, file_pakn):
    from cchc.errors import InvalidInput
    from cchc.feedback import linking

    d = world.intake(at=at("2024-06-03"))
    f = file_pakn(at("2024-06-07", "09:00"), dossier_code=d.code, email="")
    [code] = sent_codes(d.applicant_phone)
    wrong = "000000" if code != "000000" else "111111"
    for minute in range(5):
        with pytest.raises(InvalidInput):
            linking.confirm_code(f, wrong, now=at("2024-06-07", f"09:0{minute + 1}"))
    with pytest.raises(InvalidInput):  # the right code, too late: five tries were used
        linking.confirm_code(f, code, now=at("2024-06-07", "09:10"))
    g = file_pakn(at("2024-06-07", "10:00"), dossier_code=d.code, email="")
    code = sent_codes(d.applicant_phone)[-1]
    with pytest.raises(InvalidInput):
        linking.confirm_code(g, code, now=at("2024-06-07", "10:31"))
    d.refresh_from_db()
    assert complaints(d) == 0 and not d.has_complaint


def test_no_code_is_sent_for_someone_elses_dossier_and_the_answer_is_the_same(world, file_pakn):
    from cchc.errors import InvalidInput
    from cchc.feedback import linking
    from cchc.feedback.models import DossierLinkCode
    from cchc.notifications.models import Notification

    d = world.intake(at=at("2024-06-03"))
    mismatch = file_pakn(
        at("2024-06-07"), dossier_code=d.code, phone="0900000000", email="ke-gian@example.vn"
    )
    unknown = file_pakn(at("2024-06-07"), dossier_code="KHONG-CO-0001", email="")
    for f in (mismatch, unknown):
        assert (f.dossier_id, f.dossier_link) == (None, "pending")
    assert DossierLinkCode.objects.count() == 0
    assert not Notification.objects.filter(kind="feedback.link_code").exists()
    messages = set()
    for f in (mismatch, unknown):
        with pytest.raises(InvalidInput) as err:
            linking.confirm_code(f, "123456", now=at("2024-06-07", "09:30"))
        messages.add(err.value.message)
    assert len(messages) == 1
    d.refresh_from_db()
    assert complaints(d) == 0 and not d.has_complaint


def test_the_signed_in_applicant_links_at_once(world, file_pakn):
    from cchc.dossiers import intake
    from tests.dossiers.factories import applicant, components_for

    d = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at("2024-06-03"),
    )
    f = file_pakn(
        at("2024-06-07"), sender=world.citizen, agency=None, agency_id=None, dossier_code=d.code
    )
    d.refresh_from_db()
    assert (f.dossier_id, f.dossier_link) == (d.pk, "linked")
    assert f.agency_id == d.competent_agency_id  # routed by the dossier
    assert d.has_complaint and complaints(d) == 1
    event = d.events.get(action="complaint")
    assert event.data["feedback"] == f.code and event.actor_label == "hệ thống"


def test_only_the_applicant_is_routed_by_the_code(world, file_pakn):
    """Without an agency the form refuses the same way for a real code and a made-up one."""
    from cchc.errors import InvalidInput

    d = world.intake(at=at("2024-06-03"))
    messages = set()
    for code in (d.code, "KHONG-CO-0001"):
        with pytest.raises(InvalidInput) as err:
            file_pakn(at("2024-06-07"), agency=None, agency_id=None, dossier_code=code)
        messages.add(err.value.message)
    assert len(messages) == 1


def test_an_officer_handling_the_pakn_confirms_the_link(world, file_pakn):
    from cchc.audit.models import AuditEntry
    from cchc.errors import InvalidInput, PermissionDenied
    from cchc.feedback import linking

    d = world.intake(at=at("2024-06-03"))
    f = file_pakn(at("2024-06-07"), dossier_code=d.code, phone="0900000000", email="")
    assert linking.may_confirm(world.leader, f) and not linking.may_confirm(world.outsider, f)
    with pytest.raises(PermissionDenied):
        linking.confirm_by_officer(world.outsider, f, now=at("2024-06-07", "10:00"))
    assert AuditEntry.objects.filter(action="feedback.refused").count() == 1
    d.refresh_from_db()
    assert complaints(d) == 0
    linking.confirm_by_officer(world.leader, f, now=at("2024-06-07", "10:00"))
    d.refresh_from_db()
    assert (f.dossier_id, f.dossier_link) == (d.pk, "linked")
    assert d.has_complaint and complaints(d) == 1
    event = f.events.get(action="link_dossier")
    assert event.actor_id == world.leader.pk and event.data["proof"] == "officer"
    assert AuditEntry.objects.filter(action="feedback.link_dossier").count() == 1
    with pytest.raises(InvalidInput, match="không có hồ sơ liên quan chờ xác nhận"):
        linking.confirm_by_officer(world.leader, f, now=at("2024-06-07", "10:05"))
    # a made-up code cannot be confirmed
    g = file_pakn(at("2024-06-07"), dossier_code="KHONG-CO-0001")
    with pytest.raises(InvalidInput, match="Không tìm thấy hồ sơ"):
        linking.confirm_by_officer(world.leader, g, now=at("2024-06-07", "10:10"))
