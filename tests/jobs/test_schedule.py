"""The schedule as data: slots aligned to the clock in Vietnamese time, overrides from the
environment checked, and every run recorded with its outcome and counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from cchc.jobs import runner, schedule
from cchc.jobs.models import JobRun
from tests.conftest import VN


def test_slots_are_aligned_to_the_clock_in_vietnamese_time():
    job = schedule.find("payments-reconcile", schedule.effective({}))
    assert job.next_run(dt.datetime(2026, 3, 2, 9, 7, 30, tzinfo=VN)) == dt.datetime(
        2026, 3, 2, 9, 15, tzinfo=VN
    )
    assert job.next_run(dt.datetime(2026, 3, 2, 9, 15, tzinfo=VN)) == dt.datetime(
        2026, 3, 2, 9, 30, tzinfo=VN
    )
    daily = schedule.find("feedback-remind", schedule.effective({}))
    assert daily.next_run(dt.datetime(2026, 3, 2, 6, 59, tzinfo=VN)) == dt.datetime(
        2026, 3, 2, 7, 0, tzinfo=VN
    )
    # 07:00 in Hà Nội is 00:00 UTC: the day is Vietnam's, not the server's.
    assert daily.next_run(dt.datetime(2026, 3, 2, 7, 0, tzinfo=VN)) == dt.datetime(
        2026, 3, 3, 0, 0, tzinfo=dt.UTC
    )


def test_every_documented_periodic_command_is_scheduled_by_default():
    names = {job.name for job in schedule.effective({})}
    assert {
        "payments-reconcile",
        "dossiers-scan",
        "feedback-remind",
        "plans-remind",
        "dossiers-digest",
        "indicators-snapshot",
        "catalog-apply-versions",
        "dossiers-verify",
        "indicators-verify",
        "audit-verify",
        "notifications-send",
        "backup",
    } <= names


def test_overrides_change_switch_off_and_are_checked():
    over = schedule.parse_overrides("dossiers-scan=30m; plans-remind=daily@06:45;backup=off")
    jobs = {job.name: job for job in schedule.effective(over)}
    assert jobs["dossiers-scan"].every == "30m"
    assert jobs["plans-remind"].every == "daily@06:45"
    assert "backup" not in jobs
    for bad in ("nothing=5m", "dossiers-scan=5", "dossiers-scan=0m", "backup=daily@25:00"):
        with pytest.raises(ImproperlyConfigured):
            schedule.parse_overrides(bad)


@pytest.mark.django_db
def test_a_run_is_recorded_with_counts_or_with_its_failure():
    ok = runner.run(schedule.PeriodicJob("check", ("audit", "verify", "--json"), "x", minutes=5))
    assert ok.outcome == "ok" and ok.finished_at >= ok.started_at
    assert "entries" in ok.counts or ok.counts  # the command's JSON report, kept as numbers
    alerted: list[JobRun] = []
    runner.ALERT_HANDLERS.append(alerted.append)
    try:
        bad = runner.run(
            schedule.PeriodicJob("bad", ("audit", "verify", "--anchor", "x"), "x", minutes=5)
        )
    finally:
        runner.ALERT_HANDLERS.remove(alerted.append)
    assert bad.outcome == "failed" and bad.message
    assert alerted == [bad]
    assert list(JobRun.objects.order_by("id").values_list("name", "outcome")) == [
        ("check", "ok"),
        ("bad", "failed"),
    ]


def test_counts_are_read_from_json_output():
    assert runner.counts_of('{"a": 1, "b": [1, 2], "c": "x", "d": true}') == {
        "a": 1,
        "b": 2,
        "d": True,
    }
    assert runner.counts_of('progress…\n{"sent": 3}') == {"sent": 3}
    assert runner.counts_of("plain text") == {}
