"""The real worker and scheduler, as the production stack runs them: separate processes on
the database queue. A slot missed while the scheduler was down runs once, the run is
recorded with its counts, and a stopped worker's heartbeat is cleared at once."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cchc.jobs.schedule import PERIODIC
from tests import processes

# Only the hourly scan (every minute here) and one nightly check; every other job off.
KEPT = ("dossiers-scan", "audit-verify")
ONLY = "dossiers-scan=1m;audit-verify=daily@04:00;" + ";".join(
    f"{job.name}=off" for job in PERIODIC if job.name not in KEPT
)

pytestmark = pytest.mark.django_db(transaction=False)


def _state(env):
    return json.loads(processes.run(env, "jobs", "list", "--json").stdout)


def _runs(env):
    return json.loads(processes.run(env, "jobs", "runs", "--json").stdout)["runs"]


def test_missed_slots_run_once_recorded_and_heartbeats_follow_the_processes(tmp_path):
    with processes.scratch_database(tmp_path) as env:
        env["CCHC_SCHEDULE"] = ONLY
        env["CCHC_HEARTBEAT_STALE_SECONDS"] = "30"
        synced = processes.run(env, "scheduler", "--sync-only")
        assert "2 công việc định kỳ" in synced.stdout
        # The scheduler was down for a day: 1 440 slots of the every-minute job and one of
        # the nightly check were missed.
        processes.run(
            env,
            "shell",
            "-c",
            "from django_q.models import Schedule; from django.db.models import F; "
            "import datetime as dt; "
            "Schedule.objects.filter(name__startswith='cchc:').update("
            "next_run=F('next_run') - dt.timedelta(days=1))",
        )
        assert _runs(env) == []
        worker = processes.start(env, "worker", "--beat", "1", log=tmp_path / "worker.log")
        scheduler = processes.start(env, "scheduler", "--tick", "1", log=tmp_path / "sched.log")
        try:
            runs = processes.wait_until(
                lambda: (
                    (r := _runs(env))
                    and {x["name"] for x in r if x["finished_at"]}
                    == {"dossiers-scan", "audit-verify"}
                    and r
                ),
                timeout=180,
            )
            state = _state(env)
            assert state["processes"]["worker"]["fresh"]
            assert state["processes"]["scheduler"]["fresh"]
        finally:
            assert processes.stop(worker) == 0, (tmp_path / "worker.log").read_text()
            assert processes.stop(scheduler) == 0, (tmp_path / "sched.log").read_text()
        by_name = {r["name"]: r for r in reversed(runs)}  # the earliest of each
        # The missed slots ran once, not 1 440 times: after the catch-up, at most one run per
        # minute that passed while the test looked (a slow machine may see the next slot).
        started = sorted(
            dt.datetime.fromisoformat(r["started_at"]) for r in runs if r["name"] == "dossiers-scan"
        )
        assert len(started) <= 1 + (started[-1] - started[0]).total_seconds() // 60 + 1
        assert [r["name"] for r in runs].count("audit-verify") == 1
        scan = by_name["dossiers-scan"]
        assert scan["outcome"] == "ok" and scan["trigger"] == "schedule"
        assert "checked" in scan["counts"]  # the scan's own JSON report, kept as counts
        assert by_name["audit-verify"]["outcome"] == "ok"
        state = _state(env)
        planned = {j["name"]: j for j in state["jobs"]}
        assert set(planned) == {"dossiers-scan", "audit-verify"}
        assert all(j["next_run"] > scan["started_at"] for j in planned.values())
        # A clean stop clears the heartbeats at once: /readyz does not wait for staleness.
        assert not state["processes"]["worker"]["fresh"]
        assert not state["processes"]["scheduler"]["fresh"]
        assert state["processes"]["worker"]["at"] is None
