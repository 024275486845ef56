"""The anonymous PAKN form is not an oracle: naming a dossier with its applicant's phone
number and with someone else's gives byte-identical answers (apart from the CSRF token, the
CSP nonce and the new PAKN's own code), and neither puts a complaint on the dossier."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.feedback.test_pages import form_data, people  # noqa: F401 - fixture re-exported

pytestmark = pytest.mark.django_db

VOLATILE = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb'nonce="[^"]+"'), b'nonce=""'),
    (re.compile(rb"PAKN-\d{6}-\d{4}"), b"PAKN-CODE"),
]


def normalised(content: bytes) -> bytes:
    for pattern, replacement in VOLATILE:
        content = pattern.sub(replacement, content)
    return content


@pytest.fixture
def frozen(monkeypatch, world):
    """Both submissions at the same instant, so that their deadlines read the same."""
    from django.utils import timezone

    instant = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


def test_matching_and_non_matching_pairs_get_identical_answers(world, people, frozen):  # noqa: F811
    from cchc.feedback.models import Feedback

    dossier = world.intake(at=world.now)
    answers = []
    for phone in (dossier.applicant_phone, "0900000000"):  # the applicant's, someone else's
        client = Client()
        data = form_data(people["agency"], dossier_code=dossier.code, phone=phone)
        posted = client.post("/dich-vu-cong/phan-anh/gui/", data)
        receipt = client.get(posted["Location"])
        answers.append(
            (
                posted.status_code,
                posted["Location"],
                posted.content,
                receipt.status_code,
                normalised(receipt.content),
            )
        )
    assert answers[0][:2] == (302, "/dich-vu-cong/phan-anh/da-gui/")
    assert answers[0] == answers[1]
    assert b"PAKN-CODE" in answers[0][4]  # the receipt did show a code
    # the pair was right once: a code went to the dossier's phone, nothing else changed
    assert [f.dossier_link for f in Feedback.objects.order_by("id")] == ["pending", "pending"]
    dossier.refresh_from_db()
    assert not dossier.has_complaint
    assert not dossier.events.filter(action="complaint").exists()


def test_a_made_up_code_is_answered_like_a_real_one(world, people, frozen):  # noqa: F811
    dossier = world.intake(at=world.now)
    answers = []
    for code in (dossier.code, "H99.99-240101-0001"):
        client = Client()
        data = form_data(people["agency"], dossier_code=code, phone="0900000000")
        posted = client.post("/dich-vu-cong/phan-anh/gui/", data)
        page = normalised(client.get(posted["Location"]).content).replace(code.encode(), b"X")
        answers.append((posted.status_code, posted["Location"], posted.content, page))
    assert answers[0] == answers[1]
