"""`cchc demo --dossiers N --year 2024`: a province-year of demo dossiers, calibrated on
spec 04, written by the bulk generator and provably what the services would have written."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from tests.conftest import VN, built_once

pytestmark = pytest.mark.django_db

N = 3000
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)  # the year 2024 is over


@pytest.fixture(scope="module")
def built_year(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The base demo set and 3 000 dossiers of 2024, through the command (tests run with
    DEBUG off, where the documented demo password is refused); built once for the module,
    each test in its own savepoint. (The seed test, which needs an empty database, is in
    test_scale_seed.py.)"""
    with built_once(django_db_blocker):
        out = io.StringIO()
        call_command(
            "demo",
            dossiers=N,
            year=2024,
            seed=11,
            verify_sample=N,  # every generated dossier against its events
            password="mat-khau-thu-nghiem-2024",
            stdout=out,
        )
        yield out.getvalue()


@pytest.fixture
def year(built_year, db) -> str:
    return built_year


def _level_of():
    from cchc.org.models import Agency

    return {
        a.pk: a.agency_type.level.code for a in Agency.objects.select_related("agency_type__level")
    }


def test_the_year_follows_the_calibration(year):
    from cchc.demo import scale
    from cchc.dossiers.models import Dossier

    calibration = scale.load_calibration(scale.calibration_path(2024))
    generated = Dossier.objects.filter(received_at__year=2024) | Dossier.objects.filter(
        submitted_at__year=2024
    )
    rows = list(
        generated.values_list(
            "competent_agency_id",
            "channel",
            "procedure__online_level",
            "outcome",
            "is_demo",
            "fee_total",
            "paid_amount",
            "payment_channel",
            "rating",
        )
    )
    assert len(rows) == N
    assert all(r[4] for r in rows)  # every generated dossier is demo data
    level_of = _level_of()
    levels = Counter(level_of[r[0]] for r in rows)
    for level, expected in calibration.level_shares.items():
        assert levels[level] / N == pytest.approx(expected, abs=0.002)

    for level, profile in calibration.profiles.items():
        mine = [r for r in rows if level_of[r[0]] == level]
        offered = [r for r in mine if r[2] != "none"]
        online = sum(r[1] == 2 for r in offered) / len(offered)
        assert online == pytest.approx(profile.channels[1], abs=0.06), level
        postal = sum(r[1] == 3 for r in mine) / len(mine)
        assert postal == pytest.approx(profile.channels[2], abs=0.02), level
        outcomes = Counter(r[3] for r in mine if r[3])
        finished = sum(outcomes.values())
        good = (outcomes["early"] + outcomes["on_time"]) / finished
        assert good == pytest.approx(1 - profile.outcomes[2], abs=0.025), level
        if level == "province":  # Bắc Giang's centre: 99.8 % early or on time (spec 04)
            assert good >= 0.99
            assert outcomes["early"] / finished == pytest.approx(profile.outcomes[0], abs=0.05)
    outcomes = Counter(r[3] for r in rows if r[3])
    finished = sum(outcomes.values())
    assert outcomes["early"] / finished > 0.60  # Plan 213 T5
    assert (outcomes["early"] + outcomes["on_time"]) / finished > 0.90  # T4

    fee_bearing = [r for r in rows if r[5] > 0]
    paid_online = [r for r in fee_bearing if r[6] > 0 and r[7] in ("1", "2")]
    assert len(paid_online) / len(fee_bearing) > 0.60  # T10
    ratings = Counter(r[8] for r in rows if r[8])
    assert ratings["satisfied"] > 0.85 * sum(ratings.values())

    # The Tết dip: February (Tết Giáp Thìn, 10/2/2024) receives far less than March.
    months = Counter(
        d.astimezone(VN).month
        for d in generated.exclude(received_at=None).values_list("received_at", flat=True)
    )
    assert months[2] < 0.75 * months[3]
    assert months[12] > months[3]  # year-end rise

    # The command printed its summary, and found every dossier equal to what its events
    # give (`cchc dossiers verify`) and the indicator cells equal to a recomputation.
    assert "Theo cấp: cấp tỉnh" in year
    assert "hồ sơ/giây" in year
    assert (
        "Kiểm tra 3.000 hồ sơ ngẫu nhiên với nhật ký sự kiện (cchc dossiers verify): khớp." in year
    )
    assert "(cchc indicators verify): khớp." in year


def test_payments_have_their_receipts_and_a_second_run_is_refused(year):
    from django.core.management.base import CommandError

    from cchc.dossiers.models import Dossier, DossierEvent
    from cchc.payments.models import PaymentOrder, Receipt

    # Every payment has its receipt (and an online one its paid gateway order), as the
    # payment services write them.
    pays = DossierEvent.objects.filter(action="pay")
    assert pays.count() == Receipt.objects.count() > 0
    online = pays.exclude(data__channel="cash")
    assert online.count() == PaymentOrder.objects.filter(status="paid").count() > 0
    assert {e.data["receipt"] for e in pays} == set(
        Receipt.objects.values_list("number", flat=True)
    )
    assert Dossier.objects.filter(has_complaint=True).count() <= 3  # a handful at N = 3 000

    count = Dossier.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("demo", dossiers=10, year=2024, stdout=io.StringIO())
    assert refused.value.returncode == 5
    assert "không sinh thêm để tránh trùng lặp" in str(refused.value)
    assert Dossier.objects.count() == count
