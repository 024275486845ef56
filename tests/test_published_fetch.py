"""The published 766 figures fetched from the simulated national portal (`LayChiSo766`, the
real protocol in-process), recorded through the published-figures import and shown by the
reconciliation; the command's exit code when the portal cannot be reached."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from cchc.accounts.policy import SYSTEM
from cchc.indicators import periods, published, published_fetch
from cchc.indicators.models import PublishedFigure
from cchc.national import client

SIM = {
    "CCHC_DVCQG_SIMULATOR": True,
    "CCHC_DVCQG": {
        "url": "/gia-lap-dvcqg/api/",
        "madonvi": "000.00.00.H06",
        "username": "cchc",
        "password": "simulator",
        "timeout": 5,
        "max_attempts": 3,
        "backoff_max_minutes": 1,
        "lease_minutes": 5,
        "on_time_hours": 24,
    },
    "ROOT_URLCONF": "cchc.nationalsim.test_urls",
}


@pytest.fixture
def sim(org):
    client.forget_sessions()
    with override_settings(**SIM):
        yield org
    client.forget_sessions()


def portal_figures(period: str) -> dict[str, Decimal]:
    """What the simulator publishes, read from its own table."""
    from cchc.nationalsim.models import SimPublished

    row = SimPublished.objects.get(ky=period)
    out = {c["Ma"]: Decimal(str(c["Diem"])) for c in row.figures["ChiSo"]}
    out["total"] = Decimal(str(row.figures["TongDiem"]))
    out[published.DEDUCTION] = Decimal(str(row.figures["TruDiem"]))
    return out


def test_fetch_records_the_six_columns_and_the_deduction(sim, now):
    report = published_fetch.fetch("2024-Q2", actor=SYSTEM, now=now)

    expected = portal_figures("2024-Q2")
    stored = {
        f.code: f.value
        for f in PublishedFigure.objects.filter(period="2024-Q2", unit=sim.province_2024)
    }
    assert report.unit == "24" and report.rejected == []
    for code in ("1", "2", "3", "4-dvc", "4-tt", "5", "total", published.DEDUCTION):
        assert stored[code] == expected[code].quantize(Decimal("0.01")), code
    # Group 4 is the sum of the two portal columns, as the file import stores it.
    assert stored["4"] == expected["4-dvc"] + expected["4-tt"]
    sources = set(PublishedFigure.objects.filter(period="2024-Q2").values_list("source", flat=True))
    assert any("LayChiSo766" in s for s in sources)
    # The reconciliation shows them, the deduction as its own line.
    diffs = {d.code: d for d in published.reconcile(periods.parse("2024-Q2"),
                                                     sim.province_2024.pk, now=now)}  # fmt: skip
    assert diffs["total"].published == expected["total"].quantize(Decimal("0.01"))
    assert diffs[published.DEDUCTION].kind == "deduction"
    assert diffs[published.DEDUCTION].published == expected[published.DEDUCTION].quantize(
        Decimal("0.01")
    )
    assert diffs["4-dvc"].published == expected["4-dvc"].quantize(Decimal("0.01"))
    # Fetching again changes nothing.
    again = published_fetch.fetch("2024-Q2", actor=SYSTEM, now=now)
    assert again.created == 0 and again.updated == 0 and again.unchanged == 1


def test_figures_by_title_or_code_and_a_wrong_number(sim):
    import datetime as dt

    end = dt.date(2024, 6, 30)
    figures = published_fetch.figures_of(
        {"Số hóa hồ sơ (22)": "18,5", "4-dvc": 9, "TruDiem": 0.5, "Ky": "2024-Q2"}, end
    )
    assert figures == {"3": Decimal("18.5"), "4-dvc": Decimal("9"), "tru-diem": Decimal("0.5")}
    with pytest.raises(Exception, match="không phải là số"):
        published_fetch.figures_of({"Mức độ hài lòng": "cao"}, end)


def test_command_json_and_exit_code_6_when_the_portal_fails(sim):
    from cchc.nationalsim import faults

    out = io.StringIO()
    call_command("published766", "fetch", "--period", "2024-Q2", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["period"] == "2024-Q2" and report["created"] == 1
    assert set(report["figures"]) >= {"1", "2", "3", "4-dvc", "4-tt", "5", "tru-diem"}

    faults.set(fail_rate=1.0)
    client.forget_sessions()
    with pytest.raises(CommandError) as caught:
        call_command("published766", "fetch", "--period", "2024-Q2", stdout=io.StringIO())
    assert caught.value.returncode == 6
