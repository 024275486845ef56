"""Payment fixtures: the dossier world plus an online dossier owned by a citizen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone

from tests.dossiers.conftest import World, world  # noqa: F401 - fixture re-exported


@dataclass
class Pay:
    w: World
    dossier: Any  # online submission by w.citizen, 200 000 đ owed
    desk_dossier: Any  # received at the desk, no applicant account

    def start(self, *, actor: Any = None, now: dt.datetime | None = None):
        from cchc.payments import services

        return services.start_online(
            actor or self.w.citizen,
            self.dossier,
            gateway="vnpay",
            return_url="http://testserver/thanh-toan/ket-qua/?cong=vnpay",
            ip="127.0.0.1",
            now=now,
        )

    def gateway_finishes(self, url: str, choice: str = "success", hook: str = ""):
        """What the simulator does when the citizen clicks a button on its page."""
        from cchc.payments import simulator

        checked = simulator.check_request(dict(parse_qsl(urlsplit(url).query)))
        assert checked.errors == []
        return simulator.complete(checked, choice, hook)


@pytest.fixture
def pay(world) -> Pay:  # noqa: F811
    from cchc.dossiers import intake
    from tests.dossiers.factories import applicant, components_for

    online = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=world.now,
    )
    return Pay(w=world, dossier=online, desk_dossier=world.intake())


@pytest.fixture
def later():
    def shift(minutes: int) -> dt.datetime:
        return timezone.now() + dt.timedelta(minutes=minutes)

    return shift


@pytest.fixture
def fees_rule(settings):
    """The fees-before-results rule as production runs it (the suite turns it off by
    default: tests/conftest.py)."""
    settings.CCHC_FEES_BEFORE_RESULT = True
    return settings
