from __future__ import annotations

from datetime import time

import pytest

from cchc.legaltime import Calendar, default_calendar


@pytest.fixture(scope="session")
def cal() -> Calendar:
    return default_calendar()


@pytest.fixture(scope="session")
def cal_cutoff() -> Calendar:
    return default_calendar(cutoff=time(15, 0))


@pytest.fixture(scope="session")
def cal_provisional() -> Calendar:
    return default_calendar(provisional_years_ok=True)
