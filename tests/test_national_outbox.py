"""The outbox toward the national portal (issue 20, items 1 and 4a): records written in the
event's transaction, delivered in order per dossier on the worker's side, idempotent
retries, dead letters that block their dossier, a killed worker, the command, the 766 1d.

Against a small stand-in of the national portal served in-process by this module's own
urlconf (the client resolves a relative URL through Django, as for the real simulator):
it speaks the protocol of docs/national-platform.md, keeps what it received in memory, and
fails on demand — HTTP 503 without doing anything, or after doing the work (a lost answer),
with a seeded generator. The end-to-end test against `cchc.nationalsim` is
tests/test_national_e2e.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import override_settings
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.dossiers import intake, services
from cchc.errors import PermissionDenied
from cchc.indicators import periods
from cchc.indicators import services as indicators
from cchc.indicators.measures import Context
from cchc.indicators.services import Filters
from cchc.national import client, delivery, protocol, reconcile
from cchc.national.models import NationalDossier, SyncRecord, SyncState
from cchc.urls import urlpatterns as site_urlpatterns
from tests.dossiers.conftest import at, build_world
from tests.dossiers.factories import applicant, components_for

pytestmark = pytest.mark.django_db

MON = "2024-06-03"


# -- the stand-in portal -------------------------------------------------------------------


class Killed(BaseException):
    """The worker process dies in the middle of a call (not an Exception: nothing catches it)."""


@dataclass
class Portal:
    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)  # idempotency key -> result
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (service, key, outcome)
    rng: random.Random = field(default_factory=lambda: random.Random(20))
    fail_rate: float = 0.0
    lost_rate: float = 0.0
    refuse: set[str] = field(default_factory=set)  # MaHoSo refused with error_code "400"
    kill_after: set[str] = field(default_factory=set)  # keys whose worker dies after the work

    def handle(self, body: dict[str, Any]) -> HttpResponse:
        service, key = body.get("service", ""), body.get("idempotency_key", "")
        if service == client.LOGIN:
            return JsonResponse({"error_code": 0, "message": "OK", "session": "s-1"})
        if body.get("session") != "s-1":
            return JsonResponse({"error_code": "401", "message": "Phiên hết hạn"})
        if self.fail_rate and self.rng.random() < self.fail_rate:
            self.calls.append((service, key, "failed"))
            return HttpResponse(status=503)
        try:
            result = self.answers[key] if key in self.answers else self.work(service, body)
        except LookupError as exc:
            self.calls.append((service, key, "refused"))
            return JsonResponse({"error_code": str(exc.args[0]), "message": str(exc.args[1])})
        if key:
            self.answers[key] = result
        if key in self.kill_after:
            self.kill_after.discard(key)
            self.calls.append((service, key, "killed"))
            raise Killed()
        if self.lost_rate and self.rng.random() < self.lost_rate:
            self.calls.append((service, key, "lost"))
            return HttpResponse(status=503)
        self.calls.append((service, key, "ok"))
        return JsonResponse({"error_code": 0, "message": "OK", "result": result})

    def work(self, service: str, body: dict[str, Any]) -> Any:
        items = body.get("data") or []
        if service == protocol.SYNC_OBJECT:
            out = []
            for item in items:
                code = item["MaHoSo"]
                if code in self.refuse:
                    raise LookupError("400", f"Dữ liệu không hợp lệ: hồ sơ {code}")
                known = self.dossiers.get(code)
                if known is None and body.get("isUpdating") == "True":
                    raise LookupError("404", f"Hồ sơ {code} chưa có trên Cổng")
                if known is None:
                    known = self.dossiers[code] = {"qg": f"QG-{code}", "steps": [], "objects": 0}
                known["objects"] += 1
                known["status"] = item["TrangThaiHoSo"]
                known["object"] = item
                out.append({"MaHoSo": code, "MaHoSoQG": known["qg"]})
            return out
        if service == protocol.SYNC_STEP:
            for item in items:
                known = self.dossiers.get(item["MaHoSo"])
                if known is None:
                    raise LookupError("404", "Hồ sơ chưa được đồng bộ")
                known["steps"].append(body["idempotency_key"])
                known["status"] = item["TrangThai"]
            return [{"MaHoSo": i["MaHoSo"]} for i in items]
        if service == protocol.LOOKUP:
            known = self.dossiers.get(body.get("MaHoSo", ""))
            if known is None:
                raise LookupError("404", "Không tìm thấy hồ sơ")
            return {
                "MaHoSo": body["MaHoSo"],
                "MaHoSoQG": known["qg"],
                "TrangThaiHoSo": known["status"],
                "SoBuoc": len(known["steps"]),
            }
        raise LookupError("400", f"Dịch vụ không có: {service}")


PORTAL = Portal()


@csrf_exempt
def portal_api(request: HttpRequest) -> HttpResponse:
    return PORTAL.handle(json.loads(request.body))


urlpatterns = [path("cong-gia/api/", portal_api), *site_urlpatterns]


@pytest.fixture
def portal(settings) -> Portal:
    global PORTAL
    PORTAL = Portal()
    settings.ROOT_URLCONF = __name__
    settings.CCHC_DVCQG = {
        "url": "/cong-gia/api/",
        "madonvi": "000.00.00.H06",
        "username": "cchc",
        "password": "secret",
        "timeout": 5,
        "max_attempts": 6,
        "backoff_max_minutes": 60,
        "lease_minutes": 10,
        "on_time_hours": 24,
    }
    client.forget_sessions()
    yield PORTAL
    client.forget_sessions()


@pytest.fixture
def world(org, now):
    return build_world(now, org)


def act(actor: Any, dossier: Any, action: str, when: dt.datetime, reason: str = "", **data: Any):
    return services.act(actor, dossier, action, now=when, reason=reason, data=data)


def journey(w: Any, hour: int = 9) -> Any:
    """Received → assigned → proposed → approved → returned, on Monday."""
    d = w.intake(at=at(MON, f"{hour:02d}:00"))
    act(w.leader, d, "assign", at(MON, f"{hour:02d}:10"), assignee=w.officer.pk)
    act(w.officer, d, "propose", at(MON, f"{hour:02d}:20"))
    act(w.leader, d, "approve", at(MON, f"{hour:02d}:30"))
    act(w.desk_officer, d, "return_result", at(MON, f"{hour:02d}:40"))
    return d


def keys_of(dossier: Any) -> list[str]:
    return list(
        SyncRecord.objects.filter(dossier=dossier).order_by("id").values_list("key", flat=True)
    )


def drain(
    start: dt.datetime, *, rounds: int = 60, step_minutes: float = 90, jobs: list[Any] = ()
) -> dt.datetime:
    """Run the worker's sweep until nothing is due, the clock moving on between runs; with
    `jobs` (dossiers), also the per-dossier job an event queues, between the sweeps (it
    finds heads waiting for their retry time: it must not send past them)."""
    moment = start
    for _ in range(rounds):
        for d in jobs:
            delivery.deliver_dossier(d.pk, now=moment)
        delivery.send_due(now=moment)
        if not SyncRecord.objects.filter(delivery.unsent()).exists():
            return moment
        moment += dt.timedelta(minutes=step_minutes)
    return moment


def sent_steps(portal: Portal, code: str) -> list[str]:
    return portal.dossiers[code]["steps"]


# -- the records -----------------------------------------------------------------------------


def test_records_follow_the_events_from_receipt_on(world, portal):
    d = journey(world)
    code = d.code
    seqs = dict(d.events.values_list("action", "seq"))
    obj, step = protocol.SYNC_OBJECT, protocol.SYNC_STEP
    assert keys_of(d) == [
        f"{code}:{seqs['receive']}:{obj}",
        f"{code}:{seqs['receive']}:{step}",
        f"{code}:{seqs['assign']}:{step}",
        f"{code}:{seqs['propose']}:{step}",
        f"{code}:{seqs['approve']}:{obj}",
        f"{code}:{seqs['approve']}:{step}",
        f"{code}:{seqs['return_result']}:{obj}",
        f"{code}:{seqs['return_result']}:{step}",
    ]
    records = list(SyncRecord.objects.filter(dossier=d).order_by("id"))
    first = records[0].payload
    assert first["isUpdating"] == "False"
    assert all(r.payload["isUpdating"] == "True" for r in records[1:] if r.service == obj)
    item = first["data"][0]
    assert item["MaHoSo"] == code and item["TrangThaiHoSo"] == "2"
    assert item["NgayTiepNhan"] == "20240603090000"  # Vietnam time, yyyyMMddHHmmss
    assert item["NgayHenTra"] and item["ChuHoSo"] == d.applicant_name
    # Frozen at event time: the receipt's record still says "received", the last "returned".
    assert records[-2].payload["data"][0]["TrangThaiHoSo"] == "10"
    assert records[-2].payload["data"][0]["DanhSachGiayToKetQua"][0]["GiayToId"] == f"{code}-KQ1"
    assert records[2].payload["data"][0]["TrangThai"] == "4"
    assert all(r.state == SyncState.PENDING and r.created_at == r.event.at for r in records)


def test_nothing_is_written_without_a_portal_or_before_receipt(world, settings):
    settings.CCHC_DVCQG = {"url": ""}
    journey(world)
    assert not SyncRecord.objects.exists()


def test_an_online_submission_is_synced_from_its_receipt(world, portal):
    d = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at(MON, "08:00"),
    )
    assert not SyncRecord.objects.filter(dossier=d).exists()  # no appointment yet
    event = act(world.desk_officer, d, "receive", at(MON, "09:00"))
    first = SyncRecord.objects.filter(dossier=d).order_by("id").first()
    assert first.key == f"{d.code}:{event.seq}:{protocol.SYNC_OBJECT}"
    assert first.payload["isUpdating"] == "False"


def test_removing_the_address_leaves_records_waiting(world, portal, settings):
    world.intake(at=at(MON, "09:00"))
    settings.CCHC_DVCQG = {**settings.CCHC_DVCQG, "url": ""}
    assert delivery.send_due(now=timezone.now())["dead"] == 0
    assert set(SyncRecord.objects.values_list("state", flat=True)) == {SyncState.PENDING}
    assert portal.calls == []


def test_records_commit_and_roll_back_with_their_event(world, portal):
    d = world.intake(at=at(MON, "09:00"))
    before = SyncRecord.objects.count()
    assert before == 2
    with pytest.raises(RuntimeError), transaction.atomic():
        act(world.leader, d, "assign", at(MON, "09:10"), assignee=world.officer.pk)
        assert SyncRecord.objects.count() == before + 1  # written inside the event's transaction
        raise RuntimeError("the request fails after the event")
    assert SyncRecord.objects.count() == before
    d.refresh_from_db()
    assert d.state == "received"


# -- delivery ---------------------------------------------------------------------------------


def test_in_order_per_dossier_with_a_third_of_calls_failing(world, portal, settings):
    settings.CCHC_DVCQG = {**settings.CCHC_DVCQG, "max_attempts": 40}  # never dead here
    portal.fail_rate, portal.lost_rate = 1 / 3, 1 / 6
    dossiers = [journey(world, hour) for hour in (8, 10, 13)]
    act(world.officer, dossiers[0], "note", at(MON, "17:00"), note="không đồng bộ")
    drain(timezone.now(), rounds=1000, step_minutes=0.5, jobs=dossiers)
    assert not SyncRecord.objects.exclude(state=SyncState.SENT).exists()
    failures = [c for c in portal.calls if c[2] in ("failed", "lost")]
    assert len(failures) >= 5  # the faults did happen
    for d in dossiers:
        ours = [k for k in keys_of(d) if k.endswith(protocol.SYNC_STEP)]
        # Every step reached the portal exactly once, in our order.
        assert sent_steps(portal, d.code) == ours
        link = NationalDossier.objects.get(dossier=d)
        assert link.national_code == f"QG-{d.code}" and link.status == "10"
        # The object was created before any step: the first object call was not an update.
        first = next(c for c in portal.calls if c[1].startswith(d.code) and c[2] != "failed")
        assert first[0] == protocol.SYNC_OBJECT and first[1] == keys_of(d)[0]


def test_lost_answer_is_retried_with_the_same_key_and_done_once(world, portal):
    d = world.intake(at=at(MON, "09:00"))
    portal.lost_rate = 1.0
    t0 = timezone.now()
    assert delivery.send_due(now=t0)["retried"] == 1
    record = SyncRecord.objects.filter(dossier=d).order_by("id").first()
    assert record.state == SyncState.RETRY and record.attempts == 1
    assert "503" in record.error and record.error_code == "503"
    assert record.next_attempt_at > t0 + dt.timedelta(seconds=40)  # 1 min ± jitter
    assert delivery.send_due(now=t0 + dt.timedelta(seconds=30))["sent"] == 0  # not due yet
    portal.lost_rate = 0.0
    assert delivery.send_due(now=t0 + dt.timedelta(minutes=2))["sent"] == 2
    object_calls = [c for c in portal.calls if c[1] == record.key]
    assert [c[2] for c in object_calls] == ["lost", "ok"]
    assert portal.dossiers[d.code]["objects"] == 1  # the repeat did no new work


def test_backoff_doubles_with_jitter_and_is_capped(portal):
    assert delivery.backoff(1, jitter=lambda: 0.5) == dt.timedelta(minutes=1)
    assert delivery.backoff(3, jitter=lambda: 0.5) == dt.timedelta(minutes=4)
    assert delivery.backoff(30, jitter=lambda: 0.5) == dt.timedelta(minutes=60)
    assert delivery.backoff(1, jitter=lambda: 0.0) == dt.timedelta(seconds=45)


def test_refusal_is_a_dead_letter_that_blocks_its_dossier_only(world, portal):
    blocked = world.intake(at=at(MON, "09:00"))
    act(world.leader, blocked, "assign", at(MON, "09:10"), assignee=world.officer.pk)
    other = world.intake(at=at(MON, "10:00"))
    portal.refuse.add(blocked.code)
    counts = delivery.send_due(now=timezone.now())
    assert counts["dead"] == 1 and counts["sent"] == 2
    head = SyncRecord.objects.filter(dossier=blocked).order_by("id").first()
    assert head.state == SyncState.DEAD and head.attempts == 1 and head.error_code == "400"
    assert "không hợp lệ" in head.error
    assert AuditEntry.objects.filter(action="national.sync.dead", object_id=str(head.pk)).exists()
    waiting = SyncRecord.objects.filter(dossier=blocked).exclude(pk=head.pk)
    assert {r.state for r in waiting} == {SyncState.PENDING}
    assert not SyncRecord.objects.filter(dossier=other).exclude(state=SyncState.SENT).exists()
    # Later sweeps, and the job queued by the next event, leave the blocked dossier alone.
    delivery.send_due(now=timezone.now() + dt.timedelta(hours=3))
    later = timezone.now() + dt.timedelta(hours=4)
    assert delivery.deliver_dossier(blocked.pk, now=later) == {"sent": 0, "retried": 0, "dead": 0}
    assert {r.state for r in waiting.all()} == {SyncState.PENDING}
    report = reconcile.status()
    assert report["dead"] == 1 and report["pending"] == 2
    assert report["blocked"] == [
        {"dossier": blocked.code, "record": head.pk, "key": head.key, "error": head.error,
         "waiting": 2}
    ]  # fmt: skip
    assert report["oldest_pending_seconds"] > 0
    # The administrator fixes the cause and sends it again: same key, everything follows.
    portal.refuse.clear()
    assert delivery.resend(SYSTEM, [head.pk]) == 1
    assert AuditEntry.objects.filter(action="national.sync.resend").count() == 1
    delivery.send_due(now=timezone.now())
    assert not SyncRecord.objects.filter(dossier=blocked).exclude(state=SyncState.SENT).exists()
    assert sent_steps(portal, blocked.code) == [k for k in keys_of(blocked) if "TienDo" in k]


def test_discarding_a_dead_letter_unblocks_the_rest_and_stays_visible(world, portal):
    d = world.intake(at=at(MON, "09:00"))
    portal.refuse.add(d.code)
    delivery.send_due(now=timezone.now())
    head = SyncRecord.objects.filter(dossier=d).order_by("id").first()
    portal.refuse.clear()
    # The first object call never made it: the portal refuses the step for an unknown dossier.
    assert delivery.discard(SYSTEM, [head.pk]) == 1
    delivery.send_due(now=timezone.now())
    head.refresh_from_db()
    assert head.state == SyncState.DEAD and head.discarded_at is not None
    step = SyncRecord.objects.filter(dossier=d).order_by("id").last()
    assert step.state == SyncState.DEAD and step.error_code == "404"
    assert AuditEntry.objects.filter(action="national.sync.discard").count() == 1
    assert [r["id"] for r in reconcile.dead_letters()] == [head.pk, step.pk]
    [blocked] = reconcile.status()["blocked"]  # now the step blocks nothing behind it
    assert (blocked["record"], blocked["waiting"]) == (step.pk, 0)


def test_transient_failures_become_dead_after_max_attempts(world, portal, settings):
    settings.CCHC_DVCQG = {**settings.CCHC_DVCQG, "max_attempts": 3}
    d = world.intake(at=at(MON, "09:00"))
    portal.fail_rate = 1.0
    drain(timezone.now(), rounds=5)
    head = SyncRecord.objects.filter(dossier=d).order_by("id").first()
    assert head.state == SyncState.DEAD and head.attempts == 3
    assert [c[2] for c in portal.calls] == ["failed"] * 3


def test_a_killed_worker_is_replaced_after_the_lease_without_a_duplicate(world, portal):
    d = world.intake(at=at(MON, "09:00"))
    act(world.leader, d, "assign", at(MON, "09:10"), assignee=world.officer.pk)
    step_key = keys_of(d)[1]
    portal.kill_after.add(step_key)
    t0 = timezone.now()
    with pytest.raises(Killed):
        delivery.send_due(now=t0)
    record = SyncRecord.objects.get(key=step_key)
    assert record.state == SyncState.SENDING  # the dead worker's claim
    # Within the lease nobody touches it, and the dossier's later record waits behind it.
    assert delivery.send_due(now=t0 + dt.timedelta(minutes=5)) == {
        "sent": 0, "retried": 0, "dead": 0, "reclaimed": 0
    }  # fmt: skip
    counts = delivery.send_due(now=t0 + dt.timedelta(minutes=11))
    assert counts["reclaimed"] == 1 and counts["sent"] == 2
    record.refresh_from_db()
    assert record.state == SyncState.SENT and record.attempts == 2
    assert sent_steps(portal, d.code) == [k for k in keys_of(d) if "TienDo" in k]
    assert [c[2] for c in portal.calls if c[1] == step_key] == ["killed", "ok"]
    assert AuditEntry.objects.filter(action="national.sync.reclaimed").count() == 1


def test_two_workers_never_send_the_same_dossier(world, portal):
    d = world.intake(at=at(MON, "09:00"))
    t0 = timezone.now()
    first = delivery._claim(d.pk, t0)
    assert first is not None and first.state == SyncState.SENDING
    # A second worker finds the head taken and does not move on to the next record.
    assert delivery._claim(d.pk, t0) is None
    assert delivery.deliver_dossier(d.pk, now=t0) == {"sent": 0, "retried": 0, "dead": 0}
    assert portal.calls == []


# -- the command ---------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("dvcqg", *args, stdout=out)
    return out.getvalue()


def test_status_send_dead_and_resend_commands(world, portal):
    d = world.intake(at=at(MON, "09:00"))
    status = json.loads(run("status", "--json"))
    assert status["pending"] == 2 and status["sent"] == 0 and status["connected"] is True
    portal.refuse.add(d.code)
    assert json.loads(run("send", "--json")) == {"sent": 0, "retried": 0, "dead": 1, "reclaimed": 0}
    dead = json.loads(run("dead", "--json"))
    assert [r["dossier"] for r in dead] == [d.code] and "ChuHoSo" not in json.dumps(dead)
    assert "bị chặn" in run("status")
    portal.refuse.clear()
    assert "Đã đưa 1 bản ghi" in run("resend", str(dead[0]["id"]))
    assert json.loads(run("send", "--json"))["sent"] == 2
    with pytest.raises(CommandError) as error:
        run("resend", str(dead[0]["id"]))
    assert error.value.returncode == 2


def test_reconcile_requeues_what_the_portal_holds_differently(world, portal):
    d = journey(world)
    same = journey(world, 13)
    drain(timezone.now())
    portal.dossiers[d.code]["status"] = "4"  # the portal missed our last status
    report = json.loads(run("reconcile", "--since", "2024-06-01", "--json"))
    assert report["checked"] == 2
    [diff] = report["differences"]
    assert diff["dossier"] == d.code and diff["ours_status"] == "10"
    assert diff["portal_status"] == "4" and diff["ours_steps"] == diff["portal_steps"] == 5
    assert ":reconcile:" in diff["queued"]
    record = SyncRecord.objects.get(key=diff["queued"])
    assert record.event is None and record.payload["isUpdating"] == "True"
    assert not SyncRecord.objects.filter(dossier=same, reason="reconcile").exists()
    drain(timezone.now())
    assert portal.dossiers[d.code]["status"] == "10"
    assert json.loads(run("reconcile", "--since", "2024-06-01", "--json"))["differences"] == []


def test_reconcile_exit_codes(world, portal, settings):
    with pytest.raises(CommandError) as bad:
        run("reconcile", "--since", "hôm qua")
    assert bad.value.returncode == 2
    with override_settings(CCHC_DVCQG={"url": ""}):  # standalone: the daily job succeeds
        assert json.loads(run("reconcile", "--json")) == {
            "connected": False, "checked": 0, "differences": []
        }  # fmt: skip
        assert json.loads(run("send", "--json"))["sent"] == 0
    journey(world)
    drain(timezone.now())
    settings.CCHC_DVCQG = {**settings.CCHC_DVCQG, "url": "http://127.0.0.1:9/api/", "timeout": 2}
    client.forget_sessions()
    with pytest.raises(CommandError) as unreachable:
        run("reconcile", "--since", "2024-06-01")
    assert unreachable.value.returncode == 6


# -- 766 1d ------------------------------------------------------------------------------------


def subs_766(now: dt.datetime, **filters: Any) -> dict[str, Any]:
    idx = indicators.index766(periods.parse("2024-06"), Filters(**filters), now=now)
    return {s.code: s for g in idx.groups for s in g.subs}


def test_766_1d_counts_dossiers_synced_within_the_hours(world, portal):
    on_time = [world.intake(at=at(MON, "09:00")), world.intake(at=at(MON, "10:00"))]
    delivery.send_due(now=at(MON, "12:00"))  # within 24 hours of every event
    late = world.intake(at=at(MON, "13:00"))
    act(world.leader, late, "assign", at(MON, "13:10"), assignee=world.officer.pk)
    delivery.send_due(now=at("2024-06-05", "09:00"))  # two days later
    refused = world.intake(at=at(MON, "14:00"))
    portal.refuse.add(refused.code)
    delivery.send_due(now=at(MON, "14:30"))  # a dead letter: never synced
    july = world.intake(at=at("2024-07-01", "09:00"))  # outside the period
    delivery.send_due(now=at("2024-07-01", "09:30"))
    assert {d.pk for d in on_time} | {late.pk, refused.pk, july.pk} == set(
        SyncRecord.objects.values_list("dossier_id", flat=True)
    )
    s = subs_766(at("2024-07-02", "09:00"))["1d"]
    assert (s.numerator, s.denominator, s.points) == (2, 4, Decimal("3.00"))
    assert s.source == "national" and "÷" in s.formula
    # Another agency's dossiers only: none.
    other = subs_766(at("2024-07-02", "09:00"), agency_id=world.org.construction.pk)["1d"]
    assert other.denominator == 0 and other.points is None
    # The ranking's grouped read (one query, by competent agency) adds up to each
    # agency's own figure.
    period, moment = periods.parse("2024-06"), at("2024-07-02", "09:00")
    base = Context(period, Filters(), now=moment)
    groups = base.national_by_agency()
    assert sum(g["to_sync"] for g in groups.values()) == 4
    for agency in (world.org.justice, world.org.construction, world.desk.host_agency):
        ctx = Context(period, Filters(agency_id=agency.pk), now=moment, places=base.places)
        ids = list(ctx.ids or [])
        sums = {k: sum(groups[a][k] for a in ids if a in groups) for k in ("to_sync", "late")}
        assert Context.national_values(sums) == ctx.values("national")
    # A longer allowance makes the late one count.
    portal_settings = {**client.config(), "on_time_hours": 72}
    with override_settings(CCHC_DVCQG=portal_settings):
        assert subs_766(at("2024-07-02", "09:00"))["1d"].numerator == 3


def test_766_1d_without_a_portal_has_no_data(world, settings):
    settings.CCHC_DVCQG = {"url": ""}
    world.intake(at=at(MON, "09:00"))
    s = subs_766(at("2024-07-02", "09:00"))["1d"]
    assert s.points is None and s.denominator is None
    assert (
        s.no_data_reason == "Hệ thống chưa kết nối đồng bộ trạng thái hồ sơ với Cổng DVC quốc gia."
    )


# -- the admin ---------------------------------------------------------------------------------


def test_administrators_see_dead_letters_without_personal_data_and_act_on_them(
    client, world, portal, make_user
):
    d = world.intake(at=at(MON, "09:00"))
    portal.refuse.add(d.code)
    delivery.send_due(now=timezone.now())
    head = SyncRecord.objects.filter(dossier=d).order_by("id").first()
    client.force_login(make_user(Role.ADMINISTRATOR))
    page = client.get("/admin/national/syncrecord/?state__exact=dead")
    html = page.content.decode()
    assert page.status_code == 200 and d.code in html and "không hợp lệ" in html
    assert d.applicant_name not in html
    detail = client.get(f"/admin/national/syncrecord/{head.pk}/change/").content.decode()
    assert head.key in detail and d.applicant_name not in detail
    response = client.post(
        "/admin/national/syncrecord/", {"action": "discard", "_selected_action": [head.pk]}
    )
    assert response.status_code == 302
    head.refresh_from_db()
    assert head.state == SyncState.DEAD and head.discarded_at is not None
    [entry] = AuditEntry.objects.filter(action="national.sync.discard")
    assert entry.object_id == str(head.pk)
    portal.refuse.clear()
    client.post("/admin/national/syncrecord/", {"action": "resend", "_selected_action": [head.pk]})
    head.refresh_from_db()
    assert head.state == SyncState.PENDING and head.discarded_at is None
    with pytest.raises(PermissionDenied):
        delivery.resend(world.leader, [head.pk])


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (parallel connections and row locks); run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_a_dossier_on_separate_connections(world, portal):
    """Two workers on their own connections claim the same dossier at the same moment: one
    holds the head (FOR UPDATE) while the other asks; exactly one gets it. (On PostgreSQL
    every write transaction first takes the audit chain's append lock, `audit.lockorder`,
    so the second claim waits for the first to commit — claims are short: no network call
    runs inside them — and then finds the head taken.)"""
    portal.fail_rate = 1.0  # the job queued at commit runs at once here: let it fail
    d = world.intake(at=at(MON, "09:00"))
    head = delivery.head(d.pk)
    assert head.state == SyncState.RETRY and [c[2] for c in portal.calls] == ["failed"]
    later = timezone.now() + dt.timedelta(hours=2)
    locked, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first_worker() -> None:
        try:
            with transaction.atomic():
                row = SyncRecord.objects.select_for_update().get(pk=head.pk)
                locked.set()
                release.wait(20)
                results["first"] = (
                    SyncRecord.objects.filter(pk=row.pk)
                    .filter(delivery.due(later))
                    .update(state=SyncState.SENDING, claimed_at=later, attempts=row.attempts + 1)
                )
        finally:
            connection.close()  # this thread's own connection

    def second_worker() -> None:
        try:
            results["second"] = delivery._claim(d.pk, later)
        finally:
            connection.close()

    first = threading.Thread(target=first_worker)
    first.start()
    assert locked.wait(20)
    second = threading.Thread(target=second_worker)
    second.start()
    time.sleep(0.5)  # the second worker is asking while the first holds the head
    release.set()
    first.join(20)
    second.join(20)
    assert results == {"first": 1, "second": None}
    head.refresh_from_db()
    assert head.state == SyncState.SENDING and head.attempts == 2
