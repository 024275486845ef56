"""Shared fixtures: a small organisation built through the real services."""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

# Queued jobs run at once, in-process (django-q2's sync mode), so a test sees the e-mail a
# request queued. Tests of the real worker start `cchc worker` with this turned off. The
# Makefile sets it for both legs; pytest-django may have loaded the settings before this
# file when pytest is run by hand, so the `jobs_run_at_once` fixture below applies it too.
os.environ.setdefault("CCHC_JOBS_SYNC", "true")


@pytest.fixture(autouse=True, scope="session")
def jobs_run_at_once() -> Iterator[None]:
    from django_q.conf import Conf

    before, Conf.SYNC = Conf.SYNC, True
    yield
    Conf.SYNC = before


VN = ZoneInfo("Asia/Ho_Chi_Minh")
# The suite's "now" (the `now` fixture); data sets built once per module use it too.
NOW = dt.datetime(2024, 6, 3, 9, 0, tzinfo=VN)
T = TypeVar("T")

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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """PostgreSQL test databases are thrown away after the run, so their commits need not
    wait for the disk (`synchronous_commit=off`: what other sessions see, and when, and
    every lock, are unchanged; only durability across a server crash is given up). Keeps
    pytest-django's per-worker database names (`_gw0`, …) by depending on its fixture."""
    from django.conf import settings

    for db in settings.DATABASES.values():
        if db["ENGINE"] == "django.db.backends.postgresql":
            options = db.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()


@pytest.fixture(autouse=True, scope="session")
def _two_factor_not_required_by_default():
    """Tests sign staff in with `force_login`, which skips the second step; so the suite runs
    with no role requiring two-factor sign-in. tests/test_two_factor.py turns it on (the
    `settings` fixture) and exercises the enforcement itself."""
    from django.test import override_settings

    with override_settings(CCHC_2FA_REQUIRED_ROLES=()):
        yield


@pytest.fixture(autouse=True, scope="session")
def _fees_before_result_off_by_default():
    """Most suites build approved and returned dossiers to test other things (clocks,
    indicators, forms) without collecting their fees; so the suite runs with the
    fees-before-results rule off. tests/payments/ turns it on (`fees_rule`) and exercises the
    rule itself; `cchc demo` and production run with it on (the default)."""
    from django.test import override_settings

    with override_settings(CCHC_FEES_BEFORE_RESULT=False):
        yield


@pytest.fixture(autouse=True, scope="session")
def _national_sync_off_by_default():
    """DEBUG turns the national-portal simulator on (CCHC_DVCQG_SIMULATOR), so every dossier
    event would write outbox records; off by default, tests/test_national_*.py turn it on."""
    from django.conf import settings
    from django.test import override_settings

    with override_settings(CCHC_DVCQG={**settings.CCHC_DVCQG, "url": ""}):
        yield


@pytest.fixture(autouse=True, scope="session")
def _results_issued_on_download_by_default():
    """Approval would render and issue every e-result on the (synchronous) worker, a PDF per
    approval across the suite; off by default, tests/portal/test_results_on_approval.py turns
    it on."""
    from django.test import override_settings

    with override_settings(CCHC_RESULTS_ISSUED_ON_APPROVAL=False):
        yield


@pytest.fixture(autouse=True, scope="session")
def _stored_files_in_a_temporary_folder(tmp_path_factory: Any):
    """Uploads and issued documents (printing a form issues it) go to a folder of the run,
    not to the developer's var/files."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("files")):
        yield


@contextmanager
def built_once(django_db_blocker: Any) -> Iterator[None]:
    """For a module-scoped fixture: what is written in the block stays while the module's
    tests run, inside a transaction rolled back after the last of them. Each test still runs
    in its own savepoint (the `db` fixture), so what one test writes never reaches the next:
    every test starts from exactly the data set, as if it had been built for it alone. Not
    for transactional tests (live server, parallel connections): they commit."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def fresh(built: T) -> T:
    """A test's own copy of objects built once (model instances included), so a test that
    changes one in memory (`refresh_from_db`, an action's side effects) leaves the next
    test's copy as built; as Django does for `setUpTestData`."""
    return copy.deepcopy(built)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


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
