from __future__ import annotations

import pytest

from cchc.legaltime import (
    BadInstant,
    BadPause,
    Calendar,
    ExtensionPolicy,
    ExtensionRefused,
    Granularity,
    LateApology,
    Outcome,
    classify,
    due,
    due_with_pauses,
    elapsed,
    extend,
)

from .helpers import at


def test_pause_spanning_a_holiday(cal: Calendar) -> None:
    received = at(2024, 2, 5, 9)
    assert due(cal, received, "3wd") == at(2024, 2, 15, 9)
    result = due_with_pauses(cal, received, "3wd", [(at(2024, 2, 7, 16), at(2024, 2, 15, 8))])
    # Paused: Wed 16:00-17:30 (1.5 h) + Thu 15/2 07:30-08:00 (0.5 h); Tết costs nothing.
    assert result.paused_seconds == 2 * 3600
    assert result.original_due == at(2024, 2, 15, 9)
    assert result.due == at(2024, 2, 15, 11)
    assert elapsed(cal, result.original_due, result.due) == result.paused_seconds
    assert result.paused.label == "2 giờ làm việc"
    assert result.explanation is None


def test_several_pauses(cal: Calendar) -> None:
    result = due_with_pauses(
        cal,
        at(2024, 3, 4, 9),
        "3wd",
        [(at(2024, 3, 4, 10), at(2024, 3, 4, 11)), (at(2024, 3, 4, 11), at(2024, 3, 4, 14))],
    )
    # 1 h + (11:00-11:30 and 13:30-14:00) 1 h; touching pauses are allowed.
    assert result.paused_seconds == 2 * 3600
    assert result.due == at(2024, 3, 7, 11, 0)


def test_pause_after_due_still_moves_it(cal: Calendar) -> None:
    result = due_with_pauses(
        cal, at(2024, 3, 4, 9), "1wd", [(at(2024, 3, 6, 9), at(2024, 3, 6, 10))]
    )
    assert result.due == at(2024, 3, 5, 10)


@pytest.mark.parametrize(
    ("pauses", "code"),
    [
        ([(at(2024, 3, 4, 10), at(2024, 3, 4, 10))], "legaltime.pause_inverted"),
        ([(at(2024, 3, 4, 11), at(2024, 3, 4, 10))], "legaltime.pause_inverted"),
        ([(at(2024, 3, 4, 8), at(2024, 3, 4, 10))], "legaltime.pause_outside_dossier"),
        (
            [(at(2024, 3, 4, 10), at(2024, 3, 4, 14)), (at(2024, 3, 4, 13), at(2024, 3, 4, 15))],
            "legaltime.pause_overlap",
        ),
        (
            [(at(2024, 3, 5, 10), at(2024, 3, 5, 14)), (at(2024, 3, 4, 13), at(2024, 3, 4, 15))],
            "legaltime.pause_overlap",
        ),
    ],
)
def test_bad_pauses(cal: Calendar, pauses: list, code: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BadPause) as info:
        due_with_pauses(cal, at(2024, 3, 4, 9), "3wd", pauses)
    assert info.value.code == code
    assert info.value.message


def test_pause_at_clock_start_is_fine_even_if_receipt_was_at_night(cal: Calendar) -> None:
    result = due_with_pauses(
        cal, at(2024, 3, 3, 22), "1wd", [(at(2024, 3, 4, 7, 30), at(2024, 3, 4, 8, 30))]
    )
    assert result.start == at(2024, 3, 4, 7, 30)
    assert result.due == at(2024, 3, 5, 8, 30)
    with pytest.raises(BadPause, match="ngoài vòng đời hồ sơ"):
        due_with_pauses(cal, at(2024, 3, 3, 22), "1wd", [(at(2024, 3, 3, 23), at(2024, 3, 4, 9))])


# -- extension ----------------------------------------------------------------------------------


def test_extension_once_then_refused(cal: Calendar) -> None:
    first = extend(
        cal,
        current_due=at(2024, 3, 7, 17, 30),
        new_due=at(2024, 3, 12, 17, 30),
        apology_at=at(2024, 3, 5, 9),
    )
    assert first.due == at(2024, 3, 12, 17, 30)
    assert first.extension_number == 1
    assert first.warnings == ()
    assert not first.late_apology
    with pytest.raises(ExtensionRefused) as info:
        extend(
            cal,
            current_due=first.due,
            new_due=at(2024, 3, 15, 17, 30),
            apology_at=at(2024, 3, 8, 9),
            extensions_so_far=1,
        )
    assert info.value.code == "legaltime.extension_limit"
    assert "không được gia hạn thêm" in info.value.message


def test_late_apology_warns_by_default(cal: Calendar) -> None:
    result = extend(
        cal,
        current_due=at(2024, 3, 7, 17, 30),
        new_due=at(2024, 3, 12, 17, 30),
        apology_at=at(2024, 3, 7, 9),
        explain=True,
    )
    assert result.late_apology
    assert len(result.warnings) == 1
    assert "muộn hơn" in result.warnings[0]
    assert result.explanation is not None
    assert any(i.kind.value == "warning" for i in result.explanation)


def test_apology_exactly_one_working_day_before_is_on_time(cal: Calendar) -> None:
    result = extend(
        cal,
        current_due=at(2024, 3, 7, 17, 30),
        new_due=at(2024, 3, 12, 17, 30),
        apology_at=at(2024, 3, 6, 20, 0),  # evening before: still 8 working hours ahead
    )
    assert not result.late_apology


def test_late_apology_refused_by_policy(cal: Calendar) -> None:
    with pytest.raises(ExtensionRefused) as info:
        extend(
            cal,
            current_due=at(2024, 3, 7, 17, 30),
            new_due=at(2024, 3, 12, 17, 30),
            apology_at=at(2024, 3, 7, 9),
            policy=ExtensionPolicy(late_apology=LateApology.REFUSE),
        )
    assert info.value.code == "legaltime.extension_late_apology"


def test_new_due_must_be_later(cal: Calendar) -> None:
    with pytest.raises(ExtensionRefused) as info:
        extend(
            cal,
            current_due=at(2024, 3, 7, 17, 30),
            new_due=at(2024, 3, 7, 17, 30),
            apology_at=at(2024, 3, 5, 9),
        )
    assert info.value.code == "legaltime.extension_not_later"


# -- outcome ------------------------------------------------------------------------------------


def test_classify_finished() -> None:
    limit = at(2024, 3, 7, 17, 30)
    assert classify(limit, finished=at(2024, 3, 7, 17, 31)) is Outcome.OVERDUE
    assert classify(limit, finished=at(2024, 3, 7, 17, 30)) is Outcome.ON_TIME
    assert classify(limit, finished=at(2024, 3, 7, 8, 0)) is Outcome.ON_TIME
    assert classify(limit, finished=at(2024, 3, 6, 17, 0)) is Outcome.EARLY
    assert (
        classify(limit, finished=at(2024, 3, 7, 20, 0), overdue_granularity=Granularity.DATE)
        is Outcome.ON_TIME
    )
    assert (
        classify(limit, finished=at(2024, 3, 7, 8), early_granularity=Granularity.TIMESTAMP)
        is Outcome.EARLY
    )


def test_classify_open() -> None:
    limit = at(2024, 3, 7, 17, 30)
    assert classify(limit, at=at(2024, 3, 7, 17, 30)) is Outcome.IN_PROGRESS
    assert classify(limit, at=at(2024, 3, 7, 17, 31)) is Outcome.OVERDUE_IN_PROGRESS
    with pytest.raises(BadInstant):
        classify(limit)


def test_outcome_labels() -> None:
    assert [o.label for o in Outcome] == [
        "trước hạn",
        "đúng hạn",
        "quá hạn",
        "đang xử lý",
        "quá hạn đang xử lý",
    ]
