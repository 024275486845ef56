"""`cchc demo` gives the demo citizen a populated portal."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import VN

pytestmark = pytest.mark.django_db


def test_demo_citizen_has_online_dossiers_in_various_states(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    from cchc.demo.loader import load_demo
    from cchc.dossiers.models import Dossier
    from cchc.portal import services
    from cchc.portal.models import Draft

    now = dt.datetime(2026, 11, 20, 15, 0, tzinfo=VN)
    load_demo(now=now)
    citizen = services.User.objects.get(username="congdan")
    assert citizen.check_password("cchc-demo-2024")
    assert citizen.phone == "0987654321"
    mine = Dossier.objects.filter(applicant_user=citizen)
    states = set(mine.values_list("state", flat=True))
    assert {"returned", "awaiting_supplement", "awaiting_completion", "submitted"} <= states
    assert all(d.is_demo and d.channel == 2 for d in mine)
    assert {d.online_level for d in mine} == {"full", "partial"}
    returned = mine.get(state="returned")
    assert returned.paid_amount == returned.fee_total > 0  # paid at the desk
    assert Draft.objects.filter(citizen=citizen, submitted_at__isnull=True).count() == 1
    # Loading again adds nothing.
    load_demo(now=now)
    assert Dossier.objects.filter(applicant_user=citizen).count() == mine.count()
