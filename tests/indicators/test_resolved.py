"""What counts as "đã giải quyết" (`cchc.indicators.resolved`, data/resolved.toml): returned,
resolved, refused and stopped dossiers count; a withdrawal does not — in the cells, their
rebuild and verification, T4/T5/T6, 766 2a/2b/5c, the drill-down and the ranking."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import F

from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import State
from cchc.errors import InvalidInput
from cchc.indicators import aggregates, periods, resolved, services
from cchc.indicators.models import Cell
from cchc.indicators.services import Filters
from tests.conftest import VN
from tests.indicators.conftest import at, make

pytestmark = pytest.mark.django_db
JUNE = periods.parse("2024-06")
NOW = dt.datetime(2024, 7, 10, tzinfo=VN)
D = Decimal


def end(world, dossier, action, when):
    """Finish `dossier` with `action` (withdraw, stop, refuse) at `when`."""
    actor = world.desk_officer if action == "withdraw" else world.leader
    dossier_services.act(actor, dossier, action, now=when, reason="Lý do ghi rõ")
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def ends(world):
    """Received 3/6/2024 (3 working days): A approved the same day (early); R refused the
    next day (early); S stopped on 20/6 (after its due: overdue); W withdrawn the next day
    and V withdrawn on 20/6 — as finishing instants they would be early and overdue."""
    mon = "2024-06-03"
    out = {"A": make(world, at(mon), approve=at(mon, "15:00"))}
    for name, action, when in (
        ("R", "refuse", at("2024-06-04")),
        ("S", "stop", at("2024-06-20")),
        ("W", "withdraw", at("2024-06-04")),
        ("V", "withdraw", at("2024-06-20")),
    ):
        out[name] = end(world, make(world, at(mon)), action, when)
    return out


def test_the_shipped_definition_decides_every_finishing_state_with_a_source():
    d = resolved.definition()
    rules = {r.state: r for r in d.versions[-1].states}
    assert set(rules) == set(resolved.FINISHING_STATES)
    assert all(r.source.strip() and r.basis.strip() for r in rules.values())
    assert {s for s, r in rules.items() if r.counted} == {
        State.RESOLVED,
        State.RETURNED,
        State.REFUSED,
        State.STOPPED,
    }
    assert not rules[State.WITHDRAWN].counted
    # "stopped" was decided without a text saying so: it must say it is unverified.
    assert rules[State.STOPPED].verified is False and "CHƯA KIỂM CHỨNG" in rules["stopped"].note
    assert d.label == "resolved-states@2026.1"


def test_a_definition_that_forgets_a_state_is_refused_with_every_reason():
    raw = {
        "definition": {"code": "x", "name": "x", "version": "1"},
        "versions": [
            {
                "effective_from": dt.date(2025, 7, 1),
                "states": [
                    {"state": "returned", "counted": True, "basis": "b", "source": "s",
                     "verified": False},
                    {"state": "cancelled", "counted": True, "basis": "b", "source": "s",
                     "verified": False},
                    {"state": "refused", "counted": "yes", "basis": "", "source": "s",
                     "verified": False},
                ],
            }
        ],
    }  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        resolved.parse(raw)
    text = refused.value.message
    assert "cancelled" in text and "trạng thái không hợp lệ" in text
    assert "'counted' phải là true hoặc false" in text and "thiếu 'basis'" in text
    assert "chưa quyết định trạng thái" in text and "withdrawn" in text and "stopped" in text


def test_versions_apply_by_finishing_day():
    rule = {"basis": "b", "source": "s", "verified": False}
    states = [
        {"state": s, "counted": s in ("returned", "resolved", "refused"), **rule}
        for s in sorted(resolved.FINISHING_STATES)
    ]
    later = [{**s, "counted": s["counted"] or s["state"] == "stopped"} for s in states]
    d = resolved.parse(
        {
            "definition": {"code": "x", "name": "x", "version": "2"},
            "versions": [
                {"effective_from": dt.date(2025, 7, 1), "states": later},
                {"effective_from": dt.date(2000, 1, 1), "states": states},
            ],
        }
    )
    assert "stopped" not in d.in_force(dt.date(2025, 6, 30)).counted
    assert "stopped" in d.in_force(dt.date(2025, 7, 1)).counted


def test_a_withdrawn_dossier_is_not_counted_as_resolved(world, ends):
    assert ends["W"].finished_at is not None and ends["W"].outcome == "early"
    assert ends["V"].outcome == "overdue" and ends["S"].outcome == "overdue"
    # Cells: three resolutions in June (A, R, S), the withdrawals left out.
    f = Cell.objects.filter(kind="f")
    assert sum(f.values_list("finished", flat=True)) == 3
    assert sum(f.values_list("overdue", flat=True)) == 1
    report = aggregates.verify()
    assert report.clean, [str(x) for x in report.differences]
    # Plan 213: T4 = early + on time over finished; T5 early; T6 overdue with an apology.
    r = {x.code: x for x in services.plan_results("bac-giang-2024", JUNE, now=NOW)}
    assert (r["T4"].numerator, r["T4"].denominator, r["T4"].value) == (2, 3, D("66.67"))
    assert (r["T5"].numerator, r["T5"].denominator) == (2, 3)
    assert (r["T6"].numerator, r["T6"].denominator) == (0, 1)
    # 766: 2a (finished + in progress, none in progress at the end of June), 2b, 5c.
    s = {x.code: x for g in services.index766(JUNE, now=NOW).groups for x in g.subs}
    assert (s["2a"].numerator, s["2a"].denominator) == (2, 3)
    assert s["2b"].denominator == 3
    assert (s["5c"].numerator, s["5c"].denominator) == (2, 3)
    # The drill-down lists exactly the counted dossiers.
    scope = Filters(unit_id=world.org.province_2024.pk)
    drill = services.drilldown("T4", JUNE, scope, "denominator", user=world.supervisor, now=NOW)
    assert {d.code for d in drill.queryset} == {ends[n].code for n in "ARS"}
    # The ranking's "finished" is the same count.
    ranked = services.ranking(JUNE, now=NOW)
    assert sum(x.finished for x in ranked) == 3 and sum(x.received for x in ranked) == 5
    # A rebuild gives the same cells.
    before = sorted(Cell.objects.values_list("kind", "day", "finished", "early", "overdue"))
    aggregates.rebuild()
    assert sorted(Cell.objects.values_list("kind", "day", "finished", "early", "overdue")) == (
        before
    )


def test_the_data_migration_rebuilds_cells_counted_under_the_old_rule(world, ends):
    # Cells as the old rule kept them: the two withdrawals counted as finished.
    cell = Cell.objects.filter(kind="f", day=dt.date(2024, 6, 4)).get()
    Cell.objects.filter(pk=cell.pk).update(finished=F("finished") + 1, early=F("early") + 1)
    assert not aggregates.verify().clean
    migration = importlib.import_module(
        "cchc.indicators.migrations.0006_rebuild_cells_counting_resolved_states"
    )
    migration.rebuild(apps, None)
    assert aggregates.verify().clean
    r = {x.code: x for x in services.plan_results("bac-giang-2024", JUNE, now=NOW)}
    assert (r["T4"].numerator, r["T4"].denominator) == (2, 3)


def test_index766_and_the_cli_name_the_resolved_definition(world, capsys):
    from django.core.management import call_command

    data = services.index766(JUNE, now=NOW).as_dict()
    assert data["resolved_definition"] == "resolved-states@2026.1"
    call_command("indicators", "resolved")
    text = capsys.readouterr().out
    assert "Đã rút hồ sơ (withdrawn): không tính" in text
    assert "Dừng xử lý (stopped): được tính" in text and "CHƯA KIỂM CHỨNG" in text
    call_command("indicators", "resolved", "--json")
    states = json.loads(capsys.readouterr().out)["versions"][0]["states"]
    assert {s["state"]: s["counted"] for s in states}["withdrawn"] is False
