"""The schedule written into django-q2's table: each job with its kind (minutes, daily,
weekly) and its next slot in Vietnamese time; a job whose slot changes is moved."""

from __future__ import annotations

import datetime as dt

import pytest
from django_q.models import Schedule

from cchc.jobs import clock, schedule
from tests.conftest import VN

pytestmark = pytest.mark.django_db

WEEKLY = schedule.PREFIX + "indicators-weekly-ranking"


def test_each_job_is_written_with_its_own_kind_and_next_slot():
    # Wednesday 9 December 2026, 10:00 in Hà Nội
    now = dt.datetime(2026, 12, 9, 10, 0, tzinfo=VN)
    clock.sync_schedules(now)
    rows = {row.name: row for row in Schedule.objects.filter(name__startswith=schedule.PREFIX)}
    assert rows[schedule.PREFIX + "payments-reconcile"].schedule_type == Schedule.MINUTES
    assert rows[schedule.PREFIX + "feedback-remind"].schedule_type == Schedule.DAILY
    weekly = rows[WEEKLY]
    assert weekly.schedule_type == Schedule.WEEKLY
    # the next Monday at 06:00, not tomorrow
    assert weekly.next_run == dt.datetime(2026, 12, 14, 6, 0, tzinfo=VN)


def test_a_weekly_job_moved_to_another_day_is_rescheduled(settings):
    now = dt.datetime(2026, 12, 9, 10, 0, tzinfo=VN)
    clock.sync_schedules(now)
    assert clock.sync_schedules(now)["changed"] == 0
    settings.CCHC_SCHEDULE = "indicators-weekly-ranking=weekly@fri@06:00"
    assert clock.sync_schedules(now)["changed"] == 1
    assert Schedule.objects.get(name=WEEKLY).next_run == dt.datetime(2026, 12, 11, 6, 0, tzinfo=VN)
