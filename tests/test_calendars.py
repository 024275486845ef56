"""Calendars in the database: shipped schedules as version 1, decrees as new versions,
the CLI on good and bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.calendars import services
from cchc.calendars.models import CalendarDay, CalendarVersion, WorkingCalendar
from cchc.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.django_db
VN = legaltime.VN_TZ


def strict() -> None:
    """Turn off provisional years (on for the shipped calendar): a year without a decreed
    schedule is then refused with a message naming it."""
    WorkingCalendar.objects.filter(code="vn-civil-service").update(provisional_years_ok=False)
    services.forget_built_calendars()


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # Each test rolls its versions back; built calendars must not leak between tests.
    services.forget_built_calendars()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=VN)


def test_shipped_schedules_are_version_one_and_match_the_engine_default():
    stored = services.calendar_for()
    assert stored.version == "vn-civil-service@v1"
    default = legaltime.default_calendar()
    for year in (2024, 2025, 2026):
        assert legaltime.calendar_year_report(stored, year) == legaltime.calendar_year_report(
            default, year
        )
    assert legaltime.due(stored, at("2024-02-07T10:00"), legaltime.parse_duration("2wd")) == at(
        "2024-02-16T10:00"
    )


def test_a_decree_adds_a_day_off_as_a_new_version(now):
    calendar = services.get_calendar("vn-civil-service")
    storm = legaltime.DayOverride(
        date=dt.date(2024, 9, 9),
        kind=legaltime.DayKind.OFF,
        name="Nghỉ phòng chống bão Yagi",
        source="Công điện 01/CĐ-UBND ngày 08/09/2024 (minh họa)",
        layer=legaltime.Layer.LOCAL,
    )
    version = services.add_version(
        SYSTEM,
        calendar,
        title="Nghỉ do bão",
        source=storm.source,
        effective_from=dt.date(2024, 9, 8),
        days=[storm],
        now=now,
    )
    assert version.number == 2 and version.days.count() == 1
    received = at("2024-09-06T10:00")  # Friday
    old = services.calendar_for(number=1)
    new = services.calendar_for()
    one_day = legaltime.parse_duration("1wd")
    assert legaltime.due(old, received, one_day) == at("2024-09-09T10:00")
    assert legaltime.due(new, received, one_day) == at("2024-09-10T10:00")
    # Before its effective date the earlier version is the one in force.
    assert services.calendar_for(at=dt.date(2024, 9, 1)).version.endswith("@v1")
    assert services.calendar_for(at=dt.date(2024, 9, 8)).version.endswith("@v2")
    assert AuditEntry.objects.filter(action="calendars.version.created").count() == 1
    # The same decree again changes nothing.
    assert (
        services.add_version(
            SYSTEM,
            calendar,
            title="Nghỉ do bão",
            source="x",
            effective_from=dt.date(2024, 9, 8),
            days=[storm],
            now=now,
        )
        is None
    )


def test_only_administrators_add_versions(org, make_user, now):
    leader = make_user(Role.AGENCY_LEADER, agency=org.justice)
    with pytest.raises(PermissionDenied):
        services.add_version(
            leader,
            services.get_calendar("vn-civil-service"),
            title="x",
            source="",
            effective_from=now.date(),
            days=[],
            now=now,
        )


def test_reloading_shipped_schedules_creates_no_version(capsys):
    call_command("calendar", "load")
    assert "không tạo phiên bản mới" in capsys.readouterr().out
    assert CalendarVersion.objects.count() == 1


def test_admin_adds_a_decree_as_a_new_version(client, org, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    calendar = services.get_calendar("vn-civil-service")
    form = {
        "calendar": calendar.pk,
        "effective_from": "2025-01-01",
        "title": "Nghỉ thêm một ngày",
        "source": "Thông báo thử nghiệm",
        "days-TOTAL_FORMS": "1",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2025-03-03",
        "days-0-kind": "off",
        "days-0-name": "Nghỉ thử nghiệm",
        "days-0-source": "Thông báo thử nghiệm",
        "days-0-layer": "local",
        "days-0-verified": "on",
        "years-TOTAL_FORMS": "0",
        "years-INITIAL_FORMS": "0",
        "years-MIN_NUM_FORMS": "0",
        "years-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:calendars_calendarversion_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    version = CalendarVersion.objects.get(number=2)
    assert version.created_by == admin
    due = legaltime.due(
        services.calendar_for(), at("2025-02-28T10:00"), legaltime.parse_duration("1wd")
    )
    assert due == at("2025-03-04T10:00")  # Monday 3/3 is now a day off
    assert AuditEntry.objects.filter(action="admin.calendars.calendarversion.created").exists()


def test_due_command_json(capsys):
    call_command("due", "--received", "2024-02-07T10:00", "--duration", "2wd", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["start"] == "2024-02-07T10:00:00+07:00"
    assert report["due"] == "2024-02-16T10:00:00+07:00"
    assert any("Tết Nguyên đán" in line for line in report["explanation"])


def test_due_command_with_pause(capsys):
    call_command(
        "due",
        "--received",
        "2024-03-04T09:00",
        "--duration",
        "3wd",
        "--pause",
        "2024-03-05T09:00/2024-03-06T09:00",
        "--json",
    )
    report = json.loads(capsys.readouterr().out)
    assert report["original_due"] == "2024-03-07T09:00:00+07:00"
    assert report["due"] == "2024-03-08T09:00:00+07:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--received", "hôm qua", "--duration", "1wd"], "hôm qua"),
        (["--received", "2024-02-07T10:00", "--duration", "2 tuần"], "2 tuần"),
        (["--received", "2024-02-07T10:00", "--duration=-1wd"], "âm"),
        (
            [
                "--received",
                "2024-02-07T10:00",
                "--duration",
                "1wd",
                "--pause",
                "2024-01-01T08:00/2024-01-02T08:00",
            ],
            "tạm dừng",
        ),
        (["--received", "2031-02-07T10:00", "--duration", "1wd"], "2031"),
        (
            ["--received", "2024-02-07T10:00", "--duration", "1wd", "--calendar", "khong-co"],
            "khong-co",
        ),
    ],
)
def test_due_command_bad_input(args, message):
    strict()
    with pytest.raises(CommandError) as error:
        call_command("due", *args)
    assert message.lower() in str(error.value).lower()
    assert error.value.returncode in (2, 4)


def test_calendar_show(capsys):
    call_command("calendar", "show", "2024", "--json")
    rows = json.loads(capsys.readouterr().out)
    by_date = {r["date"]: r for r in rows}
    assert by_date["2024-05-04"]["kind"] == "work"  # swapped Saturday
    assert by_date["2024-04-29"]["kind"] == "off"
    assert by_date["2024-02-08"]["kind"] == "off"
    strict()
    with pytest.raises(CommandError, match="2031"):
        call_command("calendar", "show", "2031")


def test_unknown_calendar_is_a_clear_error():
    with pytest.raises(NotFound, match="Không có lịch làm việc mã 'x'"):
        services.calendar_for("x")


def test_calendar_settings_edits_take_effect_at_once():
    received = at("2024-03-04T15:30")  # Monday
    assert services.calendar_for().cutoff is None
    calendar = services.get_calendar("vn-civil-service")
    calendar.cutoff = dt.time(15, 0)
    calendar.save()  # as the admin does
    built = services.calendar_for()
    assert built.cutoff == dt.time(15, 0)
    assert legaltime.start_of_clock(built, received) == at("2024-03-05T07:30")


def test_a_due_in_a_year_without_a_decreed_schedule_is_provisional_not_refused():
    # Received at the end of 2026 (the last shipped year): the due falls in January 2027,
    # computed with the Labour Code holidays alone and marked "tạm tính".
    cal = services.calendar_for("vn-civil-service")
    received = dt.datetime(2026, 12, 28, 9, 0, tzinfo=VN)
    due = legaltime.due(cal, received, "10wd")
    assert due.year == 2027 and due.date() > dt.date(2027, 1, 1)  # 1/1 is a holiday
    result = legaltime.explain_due(cal, received, "10wd")
    assert result.due == due and result.provisional
    assert any("tạm tính" in item.text for item in result.explanation)


# -- provenance: real sources, verified flags, provisional years --------------------------------


def test_calendar_show_2027_json_marks_each_day_provisional_and_unverified(capsys):
    call_command("calendar", "show", "2027", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert rows
    for row in rows:
        assert row["provisional"] is True, row
        assert row["verified"] is False, row
        assert "(tạm tính)" in row["reason"]
        assert "thư viện holidays" in row["source"], row
        # The package's days are no longer passed off as the Labour Code's verified text.
        assert row["source"] != legaltime.calendar.LABOUR_CODE_SOURCE
    culture = next(r for r in rows if r["date"] == "2027-11-24")
    assert culture["source"].startswith("Nghị quyết 80-NQ/TW")
    assert "chưa xác minh" in culture["note"]


def test_calendar_show_2027_text_says_the_year_is_provisional(capsys):
    call_command("calendar", "show", "2027")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].startswith("TẠM TÍNH — Năm 2027 chưa có lịch nghỉ lễ")
    days = lines[2:]
    assert days and all("(tạm tính)" in line for line in days)
    assert all("chưa đối chiếu văn bản pháp lý" in line for line in days)


def test_calendar_show_2026_keeps_its_recorded_sources(capsys):
    call_command("calendar", "show", "2026", "--json")
    rows = {r["date"]: r for r in json.loads(capsys.readouterr().out)}
    assert not any(r["provisional"] for r in rows.values())
    assert "TẠM TÍNH" not in json.dumps(list(rows.values()), ensure_ascii=False)
    assert rows["2026-01-01"]["verified"] is True
    culture = rows["2026-11-24"]
    assert culture["verified"] is False and culture["layer"] == "decree"
    assert culture["source"].startswith("Nghị quyết 80-NQ/TW")
    assert "chưa xác minh" in culture["note"]
    assert rows["2026-02-17"]["verified"] is False
    assert "Thông báo số 9441" in rows["2026-02-17"]["source"]


def test_stored_2026_days_carry_the_corrected_sources():
    day = CalendarDay.objects.get(version__number=1, date=dt.date(2026, 11, 24))
    assert not day.verified and day.source.startswith("Nghị quyết 80-NQ/TW")
    assert not CalendarDay.objects.filter(source__contains="cần xác minh").exists()
    holiday_package = CalendarDay.objects.filter(source__icontains="holidays")
    assert holiday_package.exists() and not holiday_package.filter(verified=True).exists()


def test_an_explanation_in_a_provisional_year_says_so():
    cal = services.calendar_for()
    result = legaltime.explain_due(cal, at("2027-02-03T09:00"), "2wd")
    assert result.provisional
    provisional = result.explanation.of_kind(legaltime.ItemKind.PROVISIONAL)
    assert [item.date for item in provisional] == [dt.date(2027, 1, 1)]
    assert not provisional[0].verified and "tạm tính" in provisional[0].text


def test_the_admin_shows_covered_and_provisional_years(client, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    listing = client.get(reverse("admin:calendars_workingcalendar_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Năm có lịch nghỉ lễ chính thức: 2024, 2025, 2026." in page
    assert "Các năm khác: TẠM TÍNH" in page
    calendar = services.get_calendar("vn-civil-service")
    form = client.get(reverse("admin:calendars_workingcalendar_change", args=[calendar.pk]))
    assert "Các năm khác: TẠM TÍNH" in form.content.decode()
    strict()
    assert "không tính hạn" in services.coverage_text(services.get_calendar("vn-civil-service"))
    versions = client.get(reverse("admin:calendars_calendarversion_changelist")).content.decode()
    assert "24/11/2026" in versions  # listed among the version's unverified days


def test_a_day_added_in_the_admin_is_unverified_unless_ticked(client, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    calendar = services.get_calendar("vn-civil-service")
    form = {
        "calendar": calendar.pk,
        "effective_from": "2025-01-01",
        "title": "Nghỉ thêm một ngày",
        "source": "Thông báo thử nghiệm",
        "days-TOTAL_FORMS": "1",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2025-03-03",
        "days-0-kind": "off",
        "days-0-name": "Nghỉ thử nghiệm",
        "days-0-source": "Thông báo thử nghiệm",
        "days-0-layer": "local",
        "years-TOTAL_FORMS": "0",
        "years-INITIAL_FORMS": "0",
        "years-MIN_NUM_FORMS": "0",
        "years-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:calendars_calendarversion_add"), form)
    assert response.status_code == 302
    day = CalendarVersion.objects.get(number=2).days.get()
    assert day.verified is False


def test_each_package_day_in_an_explanation_is_unverified_and_provisional():
    cal = services.calendar_for()
    result = legaltime.explain_due(cal, at("2027-02-03T09:00"), "2wd")
    skipped = [
        item
        for item in result.explanation.of_kind(legaltime.ItemKind.SKIPPED_DAY)
        if item.date.weekday() < 5
    ]
    assert [item.date for item in skipped] == [dt.date(2027, 2, d) for d in (4, 5, 8, 9, 10)]
    for item in skipped:
        assert not item.verified
        assert "thư viện holidays" in item.source
        assert "(tạm tính)" in item.text and "chưa đối chiếu văn bản pháp lý" in item.text
    provisional = result.explanation.of_kind(legaltime.ItemKind.PROVISIONAL)[0]
    assert "thư viện holidays" in provisional.text


def test_a_database_with_the_old_sources_gets_them_corrected_by_calendar_load(capsys):
    # A database created before the sources were corrected: its version 1 holds the old
    # text. `cchc calendar load` records the correction as version 2, dates unchanged.
    old = "Thư viện holidays 0.109 (chưa đối chiếu văn bản pháp lý)"
    CalendarDay.objects.filter(version__number=1, date=dt.date(2026, 11, 24)).update(source=old)
    before = legaltime.due(services.calendar_for(), at("2026-11-23T09:00"), "1wd")
    call_command("calendar", "load")
    assert "Đã tạo" in capsys.readouterr().out
    version = CalendarVersion.objects.get(number=2)
    assert [d.date for d in version.days.all()] == [dt.date(2026, 11, 24)]
    services.forget_built_calendars()
    assert (
        services.calendar_for()
        .day_info(dt.date(2026, 11, 24))
        .source.startswith("Nghị quyết 80-NQ/TW")
    )
    assert legaltime.due(services.calendar_for(), at("2026-11-23T09:00"), "1wd") == before
