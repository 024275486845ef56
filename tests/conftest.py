"""Shared fixtures: a small organisation built through the real services."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2024, 6, 3, 9, 0, tzinfo=VN)


@pytest.fixture
def org(db, now):
    """Two provinces' worth of structure: 2024 three levels, 2025 two levels."""
    from tests.factories import small_structure

    return small_structure(now)


@pytest.fixture
def make_user(db, now):
    from tests.factories import make_user as factory

    def make(role, **scope):
        return factory(role, now=now, **scope)

    return make
