"""A procedure's own reception cut-off (issue 19 item 6): `Calendar.with_cutoff`, the bulk
path's per-row cut-offs and the explanation naming where the cut-off comes from."""

from __future__ import annotations

from datetime import time

import numpy as np
import pytest

from cchc.legaltime import (
    CALENDAR_CUTOFF,
    BadCalendar,
    BadInstant,
    ItemKind,
    bulk_due,
    bulk_start,
    cutoff_array,
    default_calendar,
    due,
    explain_due,
    start_of_clock,
    to_epoch_array,
)

from .helpers import at

RULE = "Nghị định 23/2015/NĐ-CP"


def test_procedure_cutoff_moves_the_clock_to_the_next_working_day(cal) -> None:
    own = cal.with_cutoff(time(15, 0), source=RULE)
    # Monday 4/3/2024 15:30: after the procedure's 15:00, counted from Tuesday 07:30.
    assert start_of_clock(own, at(2024, 3, 4, 15, 30)) == at(2024, 3, 5, 7, 30)
    assert start_of_clock(own, at(2024, 3, 4, 15, 0)) == at(2024, 3, 4, 15, 0)
    # The calendar itself has no cut-off: the same receipt counts at once.
    assert start_of_clock(cal, at(2024, 3, 4, 15, 30)) == at(2024, 3, 4, 15, 30)
    # "Same day" (0 days): due at the end of the next working day after 15:00.
    assert due(own, at(2024, 3, 4, 15, 30), "0wd") == at(2024, 3, 5, 17, 30)
    assert due(own, at(2024, 3, 4, 14, 30), "0wd") == at(2024, 3, 4, 17, 30)
    # Friday after the cut-off: Monday.
    assert start_of_clock(own, at(2024, 3, 8, 16, 0)) == at(2024, 3, 11, 7, 30)


def test_procedure_cutoff_overrides_the_calendars_own(cal_cutoff) -> None:
    later = cal_cutoff.with_cutoff(time(16, 0), source=RULE)
    assert start_of_clock(cal_cutoff, at(2024, 3, 4, 15, 30)) == at(2024, 3, 5, 7, 30)
    assert start_of_clock(later, at(2024, 3, 4, 15, 30)) == at(2024, 3, 4, 15, 30)
    # None keeps the calendar's own (the global setting).
    assert cal_cutoff.with_cutoff(None, source=RULE) is cal_cutoff


def test_twin_keeps_version_and_is_cached(cal) -> None:
    own = cal.with_cutoff(time(15, 0), source=RULE)
    assert (own.code, own.version) == (cal.code, cal.version)
    assert cal.with_cutoff(time(15, 0), source=RULE) is own
    assert own.with_cutoff(time(15, 0), source=RULE) is own  # a twin's twin is the base's
    assert cal.with_cutoff(time(14, 0), source=RULE) is not own
    assert own.table().base is cal.table()
    assert own.table().arrays is cal.table().arrays  # shared, not rebuilt


def test_twin_follows_provisional_years(cal_provisional) -> None:
    own = cal_provisional.with_cutoff(time(15, 0), source=RULE)
    # 2031 has no official schedule: the base extends its table, the twin follows it.
    assert start_of_clock(own, at(2031, 3, 4, 15, 30)) == at(2031, 3, 5, 7, 30)
    assert own.table().base is cal_provisional.table()


def test_cutoff_with_time_zone_is_refused(cal) -> None:
    from datetime import UTC

    with pytest.raises(BadCalendar, match="giờ địa phương"):
        cal.with_cutoff(time(15, 0, tzinfo=UTC), source=RULE)


def test_explanation_names_the_procedure_rule_and_its_source(cal) -> None:
    own = cal.with_cutoff(time(15, 0), source=RULE, verified=False)
    result = explain_due(own, at(2024, 3, 4, 15, 30), "0wd")
    item = result.explanation.of_kind(ItemKind.START_RULE)[0]
    assert "sau giờ chốt nhận hồ sơ 15:00 (giờ chốt riêng của thủ tục, theo " in item.text
    assert RULE in item.text and "chưa đối chiếu văn bản pháp lý" in item.text
    assert item.source == RULE
    assert item.verified is False


def test_explanation_names_the_global_setting(cal_cutoff) -> None:
    result = explain_due(cal_cutoff, at(2024, 3, 4, 15, 30), "1wd")
    item = result.explanation.of_kind(ItemKind.START_RULE)[0]
    assert "sau giờ chốt nhận hồ sơ 15:00 (giờ chốt chung của lịch làm việc)" in item.text
    assert item.source is None and item.verified is True


def test_bulk_per_row_cutoffs_match_the_single_path(cal_cutoff) -> None:
    received = [
        at(2024, 3, 4, 15, 30),
        at(2024, 3, 4, 15, 30),
        at(2024, 3, 4, 16, 30),
        at(2024, 3, 8, 14, 30),
        at(2024, 2, 7, 15, 1),
    ]
    rules = [time(16, 0), None, time(16, 0), time(14, 0), time(15, 30)]
    cutoffs = cutoff_array(rules)
    assert cutoffs[1] == CALENDAR_CUTOFF
    epochs = to_epoch_array(received)
    starts = bulk_start(cal_cutoff, epochs, cutoffs=cutoffs)
    dues = bulk_due(cal_cutoff, epochs, np.ones(len(received)), "wd", cutoffs=cutoffs)
    zero = bulk_due(cal_cutoff, epochs, np.zeros(len(received)), "wd", cutoffs=cutoffs)
    for i, (moment, rule) in enumerate(zip(received, rules, strict=True)):
        single = cal_cutoff.with_cutoff(rule, source=RULE)
        assert starts[i] == int(start_of_clock(single, moment).timestamp()), i
        assert dues[i] == int(due(single, moment, "1wd").timestamp()), i
        assert zero[i] == int(due(single, moment, "0wd").timestamp()), i
    # Without a calendar cut-off, CALENDAR_CUTOFF rows count at once.
    plain = default_calendar()
    start = bulk_start(plain, epochs[:2], cutoffs=cutoffs[:2])
    assert start[1] == epochs[1]
    assert start[0] == epochs[0]  # 15:30 is before that row's own 16:00


def test_bulk_cutoffs_are_checked(cal) -> None:
    epochs = to_epoch_array([at(2024, 3, 4, 15, 30)])
    with pytest.raises(BadInstant, match="cùng độ dài"):
        bulk_start(cal, epochs, cutoffs=[1, 2])
    with pytest.raises(BadInstant, match="0–86399"):
        bulk_start(cal, epochs, cutoffs=[86400])
    with pytest.raises(BadInstant, match="0–86399"):
        bulk_due(cal, epochs, [1], "wd", cutoffs=[-5])
