"""A calendar-version recompute killed with SIGKILL half-way, then resumed (issue 16, item 4).

Everything runs in real processes on a scratch database of the leg's backend (a SQLite
file under tmp, or a PostgreSQL database created and dropped for the test): the demo data,
then `cchc calendar load` of a file adding a day off — run through a small driver that
makes every batch one dossier, with the job queue synchronous, so the recompute runs in
that process — killed as soon as its first batch has committed (seen by polling the job
row). Then: `cchc dossiers verify` exits 1 naming exactly the dossiers left on the old
version, loading the same file again says the recompute is pending instead of "nothing to
change", `cchc dossiers recompute` (what the worker runs every minute) finishes it, and
every open dossier is on the version in force with both verify commands and the audit
chain clean.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.calendars import services as calendars
from cchc.calendars.models import CalendarVersion
from cchc.dossiers import recompute, services, verify
from cchc.dossiers.models import Dossier, RecomputeJob
from tests.dossiers.conftest import at
from tests.dossiers.test_services import (
    awaiting_supplement,
    in_progress,
    received,
    returned,
    submitted,
)
from tests.processes import run, scratch_database

CALENDAR = "vn-civil-service"
OPEN_RECEIVED = (
    "'received', 'in_progress', 'awaiting_approval', 'awaiting_supplement', 'awaiting_obligation'"
)
# The console script's own entry point, with one dossier per batch (so the kill lands
# between many small transactions) and nothing else changed.
DRIVER = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
from django.conf import settings
settings.CCHC_RECOMPUTE_BATCH = 1
from cchc.__main__ import main
main(["cchc", "calendar", "load", sys.argv[1]])
"""


class Database:
    """Plain reads of the scratch database from the test process (no Django connection:
    each read sees what the other processes have committed)."""

    def __init__(self, url: str) -> None:
        if url.startswith("postgres"):
            import psycopg

            self.conn: Any = psycopg.connect(url, autocommit=True)
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql).fetchall())

    def close(self) -> None:
        self.conn.close()

    def latest_job(self) -> dict[str, Any] | None:
        found = self.rows(
            "SELECT id, version, status, cursor, total, changed, failed "
            "FROM dossiers_recomputejob ORDER BY id DESC LIMIT 1"
        )
        if not found:
            return None
        keys = ("id", "version", "status", "cursor", "total", "changed", "failed")
        return dict(zip(keys, found[0], strict=True))

    def open_on(self, version: int, *, other: bool = False) -> list[tuple[int, str]]:
        """(id, code) of open received dossiers on `version` (or, `other`, not on it)."""
        op = "<>" if other else "="
        where = (
            f"state IN ({OPEN_RECEIVED}) AND source = '' "
            f"AND calendar_version {op} '{CALENDAR}@v{version}'"
        )
        sql = f"SELECT id, code FROM dossiers_dossier WHERE {where} ORDER BY id"  # noqa: S608
        return [(int(pk), str(code)) for pk, code in self.rows(sql)]


def storm_file(folder: Path) -> Path:
    """A schedule file making the day after tomorrow a day off (a new calendar version,
    in force from today, that moves the due of the dossiers it concerns)."""
    day = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() + dt.timedelta(days=2)
    path = folder / "nghi-do-bao.toml"
    path.write_text(
        f'schema = 1\ncalendar = "{CALENDAR}"\nyear = {day.year}\n'
        'title = "Nghỉ do bão (minh họa)"\n\n'
        f'[[day]]\ndate = {day.isoformat()}\nkind = "off"\n'
        'name = "Nghỉ do bão (minh họa)"\nsource = "Công điện minh họa"\n',
        encoding="utf-8",
    )
    return path


def kill_mid_recompute(env: dict[str, str], db: Database, schedule: Path) -> dict[str, Any]:
    """Start the calendar load, SIGKILL it once the recompute's first batch has committed;
    return the job row as the killed process left it."""
    log = schedule.with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(schedule)],
            env={**env, "CCHC_JOBS_SYNC": "true"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300
    try:
        while True:
            job = db.latest_job()
            if job is not None and job["changed"] >= 1:
                os.kill(process.pid, signal.SIGKILL)
                break
            if process.poll() is not None:
                raise AssertionError(
                    f"the load ended (exit {process.returncode}) before the recompute "
                    f"started:\n{log.read_text(errors='replace')}"
                )
            if time.monotonic() > deadline:
                raise AssertionError("the recompute did not start within 300 s")
            time.sleep(0.002)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    job = db.latest_job()
    assert job is not None
    return job


def test_a_recompute_killed_half_way_is_reported_and_resumed(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as env:
        run(env, "demo", timeout=900)
        db = Database(env["DATABASE_URL"])
        try:
            before = db.open_on(1)
            assert len(before) >= 10, "the demo data should have open received dossiers"
            assert not db.open_on(1, other=True)
            schedule = storm_file(tmp_path)

            job = kill_mid_recompute(env, db, schedule)

            # Killed half-way: the job row says how far the committed batches went, and
            # the dossiers agree with it exactly (a batch and its cursor commit together).
            assert job["version"] == 2 and job["status"] == "running"
            assert job["total"] == len(before)
            assert 1 <= job["changed"] < job["total"], job
            moved, stale = db.open_on(2), db.open_on(2, other=True)
            assert len(moved) == job["changed"]
            assert len(moved) + len(stale) == len(before)
            assert all(pk <= job["cursor"] for pk, _ in moved)
            assert all(pk > job["cursor"] for pk, _ in stale)

            # verify names every open dossier left on the old version, and fails.
            verify = run(env, "dossiers", "verify", check=False)
            assert verify.returncode == 1, verify.stdout + verify.stderr
            named = {
                line.split(":", 1)[0]
                for line in verify.stdout.splitlines()
                if "chưa tính lại theo phiên bản đang có hiệu lực" in line
            }
            assert named == {code for _, code in stale}
            assert f"'{CALENDAR}@v2'" in verify.stdout
            assert "Traceback" not in verify.stderr

            # Loading the same file again creates nothing, and says what is pending.
            reload = run(env, "calendar", "load", str(schedule))
            assert "không tạo phiên bản mới" in reload.stdout
            assert f"còn {len(stale)}/{len(before)} hồ sơ" in reload.stdout, reload.stdout
            assert "cchc dossiers recompute" in reload.stdout

            # The worker's periodic command resumes from the cursor and finishes.
            resumed = run(env, "dossiers", "recompute", "--json")
            counts = json.loads(resumed.stdout.strip().splitlines()[-1])
            assert counts["changed"] == len(stale)
            assert counts["failed"] == 0 and counts["pending"] == 0
            finished = db.latest_job()
            assert finished is not None and finished["id"] == job["id"]
            assert finished["status"] == "done"
            assert finished["changed"] == len(before)
            assert sorted(db.open_on(2)) == sorted(before)
            assert not db.open_on(2, other=True)
            # Each dossier got exactly one recompute event, batches redone or not.
            events = db.rows(
                "SELECT dossier_id, COUNT(*) FROM dossiers_dossierevent "
                "WHERE action = 'recompute' GROUP BY dossier_id"
            )
            assert sorted(pk for pk, _ in events) == sorted(pk for pk, _ in before)
            assert {n for _, n in events} == {1}

            clean = run(env, "dossiers", "verify")
            assert "0 hồ sơ sai lệch" in clean.stdout
            run(env, "indicators", "verify")
            run(env, "audit", "verify")
            again = run(env, "dossiers", "recompute")
            assert "Không có việc tính lại hạn nào đang chờ." in again.stdout
        finally:
            db.close()


# -- the job, in process ------------------------------------------------------------------------

MON, TUE, FRI = "2024-06-03", "2024-06-04", "2024-06-07"


@pytest.fixture
def three_open(world):
    """Three open received dossiers on version 1, plus one submitted (no clock yet) and one
    returned: only the three are the recompute's business."""

    opened = [received(world), in_progress(world), awaiting_supplement(world)]
    submitted(world)
    returned(world)
    yield opened
    calendars.forget_built_calendars()


def add_storm(*, effective: str = TUE, now: dt.datetime | None = None, day: str = "2024-06-05"):
    return calendars.add_version(
        SYSTEM,
        calendars.get_calendar(CALENDAR),
        title=f"Nghỉ do bão {day}",
        source="Công điện minh họa",
        effective_from=dt.date.fromisoformat(effective),
        days=[
            legaltime.DayOverride(
                date=dt.date.fromisoformat(day),
                kind=legaltime.DayKind.OFF,
                name="Nghỉ do bão (minh họa)",
                source="Công điện minh họa",
                layer=legaltime.Layer.LOCAL,
            )
        ],
        now=now or at(TUE, "12:00"),
    )


def recompute_events(dossier) -> int:
    return dossier.events.filter(action="recompute").count()


@pytest.mark.django_db
def test_the_job_is_recorded_in_the_calendar_transaction(three_open):
    add_storm()
    job = RecomputeJob.objects.get()
    assert (job.calendar_code, job.version, job.status) == (CALENDAR, 2, "pending")
    assert job.total == 3 and job.cursor == 0 and job.reason == "version_added"
    entry = AuditEntry.objects.get(action="dossiers.recompute_job.recorded")
    assert entry.data["dossiers"] == 3 and entry.data["version"] == 2
    # Not recomputed inline: the worker does it once the calendar change has committed.
    assert all(recompute_events(d) == 0 for d in three_open)

    with pytest.raises(RuntimeError), transaction.atomic():
        add_storm(day="2024-06-06")
        raise RuntimeError("the calendar change rolls back")
    assert RecomputeJob.objects.count() == 1
    assert CalendarVersion.objects.filter(calendar__code=CALENDAR).count() == 2


@pytest.mark.django_db
def test_batches_advance_the_cursor_and_a_batch_done_again_changes_nothing(three_open):
    add_storm()
    job = RecomputeJob.objects.get()
    first = recompute.step(job.pk, batch=1)
    ids = sorted(d.pk for d in three_open)
    assert (first.status, first.cursor, first.changed, first.batches) == ("running", ids[0], 1, 1)
    # A batch done again (its transaction lost in a crash, or two runners) writes nothing.
    assert not services.replan(Dossier.objects.get(pk=ids[0]), 2, actor=SYSTEM, now=at(TUE))
    done = recompute.resume(job.pk, batch=2)
    assert (done.status, done.changed, done.failed, done.cursor) == ("done", 3, 0, ids[-1])
    assert AuditEntry.objects.filter(action="dossiers.recompute_job.done").count() == 1
    for d in three_open:
        d.refresh_from_db()
        assert d.calendar_version == f"{CALENDAR}@v2" and recompute_events(d) == 1
    report = verify.verify()
    verify.check_calendar_versions(report)
    assert report.clean, [str(m) for m in report.mismatches]
    assert recompute.resume_all().as_dict()["jobs"] == 0


@pytest.mark.django_db
def test_verify_reports_open_dossiers_not_on_the_version_in_force_and_fix_replans(
    three_open, capsys
):
    add_storm()
    report = verify.VerifyReport()
    verify.check_calendar_versions(report)
    assert sorted(m.code for m in report.mismatches) == sorted(d.code for d in three_open)
    assert {(m.stored, m.derived) for m in report.mismatches} == {
        (f"{CALENDAR}@v1", f"{CALENDAR}@v2")
    }
    with pytest.raises(SystemExit) as exit_info:
        call_command("dossiers", "verify")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    for d in three_open:
        assert (
            f"{d.code}: hạn đang tính theo lịch '{CALENDAR}@v1', chưa tính lại theo phiên bản "
            f"đang có hiệu lực '{CALENDAR}@v2'" in out
        )
    with pytest.raises(SystemExit):
        call_command("dossiers", "verify", "--json")
    found = json.loads(capsys.readouterr().out)["mismatches"]
    assert {m["reason"] for m in found} == {"calendar_version_not_in_force"}

    with pytest.raises(SystemExit):
        call_command("dossiers", "verify", "--fix")
    assert "cho 3 hồ sơ" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="dossier.recompute").count() == 3
    call_command("dossiers", "verify")  # clean now
    # The job then finds nothing left to do.
    job = recompute.resume(RecomputeJob.objects.get().pk)
    assert (job.status, job.changed) == ("done", 0)
    assert all(recompute_events(d) == 1 for d in three_open)


@pytest.mark.django_db
def test_catch_up_records_a_version_whose_effective_date_has_come(three_open):
    add_storm(effective=FRI, now=at(MON, "12:00"))  # loaded Monday, in force on Friday
    assert not RecomputeJob.objects.exists()
    assert recompute.catch_up(now=at(TUE, "12:00")) == []
    (job,) = recompute.catch_up(now=at(FRI, "08:00"))
    assert (job.version, job.total, job.reason) == (2, 3, "catch_up")
    assert recompute.catch_up(now=at(FRI, "08:05")) == [job]  # found, not recorded twice
    assert RecomputeJob.objects.count() == 1


@pytest.mark.django_db
def test_a_newer_version_supersedes_an_unfinished_job(three_open):
    add_storm()
    first = RecomputeJob.objects.get()
    recompute.step(first.pk, batch=1)
    add_storm(day="2024-06-06", now=at(TUE, "13:00"))
    first.refresh_from_db()
    assert first.status == "superseded" and first.finished_at is not None
    second = RecomputeJob.objects.exclude(pk=first.pk).get()
    assert (second.version, second.total, second.status) == (3, 3, "pending")
    assert recompute.resume(first.pk).changed == 1  # a superseded job does nothing more
    assert recompute.resume(second.pk).changed == 3
    for d in three_open:
        d.refresh_from_db()
        assert d.calendar_version == f"{CALENDAR}@v3"


@pytest.mark.django_db
def test_a_dossier_that_cannot_be_recomputed_is_named_and_the_others_go_on(three_open, capsys):
    broken = three_open[1]
    Dossier.objects.filter(pk=broken.pk).update(duration_spec="không rõ")
    add_storm()
    with pytest.raises(SystemExit) as exit_info:
        call_command("dossiers", "recompute")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "Đã tính lại 2 hồ sơ" in out and "1 hồ sơ không tính lại được" in out
    assert f"  {broken.code}: " in out
    job = RecomputeJob.objects.get()
    assert (job.status, job.changed, job.failed) == ("done", 2, 1)
    assert job.failures[0][:2] == [broken.pk, broken.code]
    # Not recorded again every minute: it waits for a corrected calendar (verify --fix).
    call_command("dossiers", "recompute")
    assert "Không có việc tính lại hạn nào đang chờ." in capsys.readouterr().out
    assert RecomputeJob.objects.count() == 1


@pytest.mark.django_db
def test_administrators_see_the_jobs_progress_read_only(three_open, client, make_user):
    add_storm()
    job = recompute.step(RecomputeJob.objects.get().pk, batch=1)
    client.force_login(make_user(Role.ADMINISTRATOR))
    listing = client.get(reverse("admin:dossiers_recomputejob_changelist"))
    assert listing.status_code == 200
    assert f"{CALENDAR}" in listing.content.decode()
    page = client.get(reverse("admin:dossiers_recomputejob_change", args=[job.pk]))
    assert page.status_code == 200
    assert client.get(reverse("admin:dossiers_recomputejob_add")).status_code == 403
    client.force_login(make_user(Role.AGENCY_LEADER, agency=three_open[0].competent_agency))
    assert client.get(reverse("admin:dossiers_recomputejob_changelist")).status_code in (302, 403)
