"""`cchc demo --dossiers N --year 2024`: the same seed gives the same year, and a second run
is refused rather than silently duplicating (apart from tests/demo/test_scale.py, whose
3 000-dossier year is built once for its module: this test needs an empty database)."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.demo.test_scale import NOW

pytestmark = pytest.mark.django_db


def _fingerprint():
    from cchc.dossiers.models import Dossier, DossierEvent

    dossiers = list(
        Dossier.objects.order_by("code").values_list(
            "code", "state", "channel", "due", "finished_at", "outcome", "paid_amount", "rating"
        )
    )
    events = list(
        DossierEvent.objects.order_by("dossier__code", "seq").values_list(
            "dossier__code", "action", "actor_label", "at"
        )
    )
    return dossiers, events


def test_same_seed_same_year_and_no_silent_duplicates(now):
    from cchc.demo import scale
    from cchc.demo.loader import load_demo
    from cchc.dossiers.models import Dossier
    from cchc.errors import Conflict

    load_demo(now=now)
    # Staff first (kept across the rolled-back runs below; found again by user name).
    calibration = scale.load_calibration(scale.calibration_path(2024))
    scale.staff_for(scale.groups_for(2024, calibration, now=scale.year_end(2024, NOW)), now=now)
    before = Dossier.objects.count()
    prints = []
    for seed in (5, 5, 6):
        point = transaction.savepoint()
        result = scale.generate_year(400, year=2024, seed=seed, now=NOW)
        assert result.dossiers == 400 == Dossier.objects.count() - before
        prints.append(_fingerprint())
        transaction.savepoint_rollback(point)
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]

    scale.generate_year(300, year=2024, seed=5, now=NOW)
    with pytest.raises(Conflict) as refused:
        scale.generate_year(300, year=2024, seed=5, now=NOW)
    assert "Năm 2024 đã có 300 hồ sơ mẫu" in refused.value.message
    assert Dossier.objects.count() == before + 300
