"""`cchc demo` creates a handful of PAKN in different states, once."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import VN

pytestmark = pytest.mark.django_db


def test_demo_pakn_in_several_states():
    from cchc.demo.loader import load_demo
    from cchc.feedback.models import Feedback

    now = dt.datetime(2025, 10, 15, 16, 0, tzinfo=VN)
    summary = load_demo(now=now)
    assert summary.feedback >= 6
    demo = Feedback.objects.filter(is_demo=True)
    assert demo.count() == summary.feedback
    states = set(demo.values_list("state", flat=True))
    assert {"published", "awaiting_supplement", "in_progress", "rejected", "received"} <= states
    assert demo.filter(handled_on_time=True, satisfaction="satisfied").exists()
    assert demo.filter(handled_on_time=False, state="published").exists()
    assert demo.filter(state="in_progress", resolve_on_time=False).exists()  # overdue, open
    assert all("minh họa" in f.content for f in demo)
    linked = demo.filter(dossier__isnull=False).first()
    if linked is not None:
        assert linked.dossier.has_complaint
    assert load_demo(now=now).feedback == 0
