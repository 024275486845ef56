"""Task status over time with an injected clock: deadlines, done on time/late, overdue,
recurring tasks per period."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.plans import progress, services
from cchc.plans.status import DeadlineError, TaskStatus, classify, combine, parse_deadline
from tests.plans.helpers import at, pdf, report_on

D = dt.date


@pytest.mark.parametrize(
    ("raw", "kind", "due", "label"),
    [
        (D(2024, 6, 30), "date", D(2024, 6, 30), "30/06/2024"),
        ("15/03/2024", "date", D(2024, 3, 15), "15/03/2024"),
        ("2024-02", "month", D(2024, 2, 29), "Tháng 2/2024"),
        ("2024-Q3", "quarter", D(2024, 9, 30), "Quý III/2024"),
        ("cả năm", "year", D(2024, 12, 31), "Cả năm 2024"),
        ("2024", "year", D(2024, 12, 31), "Cả năm 2024"),
    ],
)
def test_deadline_notation(raw, kind, due, label):
    deadline = parse_deadline(raw, year=2024)
    assert (deadline.kind, deadline.due, deadline.label) == (kind, due, label)


def test_recurring_needs_a_rhythm_and_others_refuse_one():
    assert parse_deadline("thường xuyên", year=2024, rhythm="quarterly").rhythm == "quarterly"
    with pytest.raises(DeadlineError, match="rhythm"):
        parse_deadline("thường xuyên", year=2024)
    with pytest.raises(DeadlineError, match="thường xuyên"):
        parse_deadline("2024-Q2", year=2024, rhythm="monthly")
    with pytest.raises(DeadlineError, match="không hợp lệ"):
        parse_deadline("sớm nhất có thể", year=2024)


def test_classify_and_combine():
    due = D(2024, 6, 30)
    assert (
        classify(due=due, done_on=None, reported=False, today=D(2024, 6, 30)) is TaskStatus.NOT_DUE
    )
    assert (
        classify(due=due, done_on=None, reported=True, today=D(2024, 6, 1))
        is TaskStatus.IN_PROGRESS
    )
    assert classify(due=due, done_on=None, reported=True, today=D(2024, 7, 1)) is TaskStatus.OVERDUE
    assert (
        classify(due=due, done_on=D(2024, 6, 30), reported=True, today=D(2025, 1, 1))
        is TaskStatus.DONE_ON_TIME
    )
    assert (
        classify(due=due, done_on=D(2024, 7, 1), reported=True, today=D(2025, 1, 1))
        is TaskStatus.DONE_LATE
    )
    on_time, late, not_due = TaskStatus.DONE_ON_TIME, TaskStatus.DONE_LATE, TaskStatus.NOT_DUE
    assert combine([on_time, late]) is late
    assert combine([on_time, not_due]) is TaskStatus.IN_PROGRESS
    assert combine([on_time, TaskStatus.OVERDUE, not_due]) is TaskStatus.OVERDUE


def _status(task, day: str) -> TaskStatus:
    return services.task_states([task], now=at(day))[0].status


def test_a_task_done_before_its_deadline_is_done_on_time(plan, people):
    task = plan.tasks.get(code="1.2")  # due 30/06/2024, lead Sở Tư pháp
    assert _status(task, "2024-03-01") is TaskStatus.NOT_DUE
    report_on(task, people["justice_focal"], day="2024-04-10")
    assert _status(task, "2024-04-11") is TaskStatus.IN_PROGRESS
    assert _status(task, "2024-04-09") is TaskStatus.NOT_DUE  # the report is not yet written
    done = report_on(task, people["justice_focal"], day="2024-06-28", completed=True, files=[pdf()])
    # Reported done but not yet accepted: still in progress, then overdue after the deadline.
    assert _status(task, "2024-06-29") is TaskStatus.IN_PROGRESS
    assert _status(task, "2024-07-02") is TaskStatus.OVERDUE
    progress.review_report(people["reviewer"], done, accept=True, now=at("2024-07-03"))
    # Accepted: dated by the report (28/06), so done on time from then on.
    assert _status(task, "2024-07-05") is TaskStatus.DONE_ON_TIME


def test_a_task_done_after_its_deadline_is_done_late(plan, people):
    task = plan.tasks.get(code="1.2")
    assert _status(task, "2024-07-01") is TaskStatus.OVERDUE
    done = report_on(task, people["justice_focal"], day="2024-07-15", completed=True, files=[pdf()])
    progress.review_report(people["reviewer"], done, accept=True, now=at("2024-07-16"))
    assert _status(task, "2024-07-16") is TaskStatus.DONE_LATE


def test_a_returned_completion_does_not_count(plan, people):
    task = plan.tasks.get(code="1.2")
    done = report_on(task, people["justice_focal"], day="2024-06-01", completed=True, files=[pdf()])
    progress.review_report(
        people["reviewer"], done, accept=False, note="Thiếu báo cáo", now=at("2024-06-02")
    )
    assert _status(task, "2024-06-03") is TaskStatus.NOT_DUE
    assert _status(task, "2024-07-01") is TaskStatus.OVERDUE


def test_recurring_task_has_a_status_per_period(plan, people):
    task = plan.tasks.get(code="4.1")  # Sở Nội vụ, thường xuyên, 6-monthly
    focal, reviewer = people["home_focal"], people["reviewer"]
    state = services.task_states([task], now=at("2024-03-01"))[0]
    assert [d.period for d in state.deliverables] == ["2024-H1", "2024-H2"]
    assert state.status is TaskStatus.NOT_DUE
    first = report_on(
        task, focal, day="2024-06-20", completed=True, period="2024-H1", files=[pdf()]
    )
    progress.review_report(reviewer, first, accept=True, now=at("2024-06-21"))
    state = services.task_states([task], now=at("2024-07-01"))[0]
    assert [d.status for d in state.deliverables] == [TaskStatus.DONE_ON_TIME, TaskStatus.NOT_DUE]
    assert state.status is TaskStatus.IN_PROGRESS
    assert services.task_states([task], now=at("2025-01-02"))[0].status is TaskStatus.OVERDUE
    second = report_on(
        task, focal, day="2025-01-05", completed=True, period="2024-H2", files=[pdf()]
    )
    progress.review_report(reviewer, second, accept=True, now=at("2025-01-06"))
    state = services.task_states([task], now=at("2025-01-07"))[0]
    assert [d.status for d in state.deliverables] == [TaskStatus.DONE_ON_TIME, TaskStatus.DONE_LATE]
    assert state.status is TaskStatus.DONE_LATE


def test_status_counts_by_area_follow_acceptance(plan, people):
    tasks = list(services.plan_tasks(plan))
    before = services.status_counts(services.task_states(tasks, now=at("2024-07-10")))
    done = report_on(
        plan.tasks.get(code="1.2"),
        people["justice_focal"],
        day="2024-06-20",
        completed=True,
        files=[pdf()],
    )
    progress.review_report(people["reviewer"], done, accept=True, now=at("2024-06-21"))
    after = services.status_counts(services.task_states(tasks, now=at("2024-07-10")))
    assert after["done_on_time"] == before["done_on_time"] + 1
    assert after["overdue"] == before["overdue"] - 1
