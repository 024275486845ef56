"""Shared fixtures: a small organisation built through the real services."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# Browser fixtures (`browser`, `page`) for every test package, one Playwright per session.
pytest_plugins = ["tests.browser.fixtures"]


def restore_reference_data() -> None:
    """Put back, idempotently, the reference data that migrations load (the shipped working
    calendar): a flush empties it along with everything else."""
    import importlib

    from django.apps import apps

    for name in ("0003_official_schedules", "0004_provisional_next_year"):
        module = importlib.import_module(f"cchc.calendars.migrations.{name}")
        module.forwards(apps, None)


def _flush_past_append_only_guards() -> None:
    """Transactional tests (live server, parallel connections) end with a database flush;
    the append-only triggers refuse it, and the database has no switch to turn them off.
    The flush runs with the harness's own means (tests/append_only.py: a superuser-only
    session setting on PostgreSQL, dropping and recreating the triggers on SQLite). The
    flush also empties the migrations' reference data, restored right after it."""
    from django.core.management.commands import flush

    original = flush.Command.handle
    if getattr(original, "_cchc_guarded", False):
        return

    def handle(self, **options):
        from django.db import connections

        from tests.append_only import guards_lifted

        with guards_lifted(connections[options.get("database") or "default"]):
            result = original(self, **options)
        restore_reference_data()
        return result

    handle._cchc_guarded = True
    flush.Command.handle = handle


_flush_past_append_only_guards()


@pytest.fixture(autouse=True, scope="session")
def _two_factor_not_required_by_default():
    """Tests sign staff in with `force_login`, which skips the second step; so the suite runs
    with no role requiring two-factor sign-in. tests/test_two_factor.py turns it on (the
    `settings` fixture) and exercises the enforcement itself."""
    from django.test import override_settings

    with override_settings(CCHC_2FA_REQUIRED_ROLES=()):
        yield


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
