"""CLI (`cchc indicators …`, `cchc index766`), REST API, drill-down with access, ranking,
series, reconciliation and the published-figures importer."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from cchc.accounts import tokens
from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.errors import InvalidInput, PermissionDenied
from cchc.indicators import periods, published, services
from cchc.indicators.published import PublishedData
from cchc.indicators.services import Filters
from tests.conftest import VN
from tests.indicators.conftest import at, make

pytestmark = pytest.mark.django_db
JUNE = periods.parse("2024-06")


@pytest.fixture
def small(world):
    mon = "2024-06-03"
    make(world, at(mon), approve=at(mon, "15:00"))
    make(world, at(mon), approve=at("2024-06-20"))
    return world


def test_show_json(small, capsys):
    call_command(
        "indicators",
        "show",
        "--plan",
        "bac-giang-2024",
        "--period",
        "2024-06",
        "--json",
        "--now",
        "2024-07-10T09:00",
    )
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert (
        rows["T4"]["value"] == 50.0
        and rows["T4"]["numerator"] == 1
        and rows["T4"]["denominator"] == 2
    )
    assert rows["T4"]["target"] == 90.0 and rows["T4"]["met"] is False
    assert rows["T10"]["value"] is None
    call_command("indicators", "show", "--period", "2024-06", "--units", "historic")
    assert "T4" in capsys.readouterr().out


def test_index766_json_and_text(small, capsys):
    call_command("index766", "--period", "2024-06", "--json", "--now", "2024-07-10T09:00")
    data = json.loads(capsys.readouterr().out)
    assert [g["code"] for g in data["groups"]] == ["1", "2", "3", "4", "5"]
    a2 = next(s for g in data["groups"] for s in g["subs"] if s["code"] == "2a")
    assert a2["points"] == 10.0 and a2["evidence"] == "V"
    call_command("index766", "--period", "2024-06")
    assert "Bộ chỉ số 766" in capsys.readouterr().out


def test_bad_period_exits_2(small):
    with pytest.raises(SystemExit) as info:
        from cchc.__main__ import main

        main(["cchc", "index766", "--period", "2024-13"])
    assert info.value.code == 2


def test_verify_and_rebuild_commands(small, capsys):
    from cchc.indicators.models import Cell

    call_command("indicators", "verify", "--json")
    assert json.loads(capsys.readouterr().out)["clean"] is True
    Cell.objects.filter(kind="r").update(received=7)
    with pytest.raises(SystemExit) as info:
        call_command("indicators", "verify")
    assert info.value.code == 1
    assert "received lưu 7, tính lại 2" in capsys.readouterr().out
    call_command("indicators", "rebuild")
    call_command("indicators", "verify")


def test_api_requires_scope_and_returns_numbers(small, client, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    issued = tokens.create_token(admin, admin, name="Báo cáo", now=small.now)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.key}"}
    response = client.get("/api/indicators/plans/bac-giang-2024?period=2024-06", **auth)
    assert response.status_code == 200, response.content
    rows = {r["code"]: r for r in response.json()}
    assert rows["T4"]["denominator"] == 2 and rows["T6"]["value"] == 0.0
    response = client.get("/api/indicators/index766?period=2024-06&units=historic", **auth)
    assert response.status_code == 200 and response.json()["groups"][1]["code"] == "2"
    assert client.get("/api/indicators/index766?period=2024-99", **auth).status_code == 400
    series = client.get("/api/indicators/series/T4?period=2024-05,2024-06", **auth).json()
    assert series == [{"period": "2024-05", "value": None}, {"period": "2024-06", "value": 50.0}]
    # an agency leader sees their agency only
    leader = tokens.create_token(small.leader, small.leader, name="x", now=small.now)
    lauth = {"HTTP_AUTHORIZATION": f"Bearer {leader.key}"}
    assert client.get("/api/indicators/index766?period=2024-06", **lauth).status_code == 403
    own = client.get(
        f"/api/indicators/index766?period=2024-06&agency={small.org.justice.pk}", **lauth
    )
    assert own.status_code == 200
    other = client.get(
        f"/api/indicators/index766?period=2024-06&agency={small.org.construction.pk}", **lauth
    )
    assert other.status_code == 403
    officer = tokens.create_token(small.officer, small.officer, name="x", now=small.now)
    oauth = {"HTTP_AUTHORIZATION": f"Bearer {officer.key}"}
    assert (
        client.get(
            f"/api/indicators/index766?period=2024-06&agency={small.org.justice.pk}", **oauth
        ).status_code
        == 403
    )


def test_drilldown_returns_exactly_the_counted_dossiers(small, make_user):
    now = dt.datetime(2024, 7, 10, tzinfo=VN)
    f = Filters(agency_id=small.org.justice.pk)
    drill = services.drilldown("T4", JUNE, f, "numerator", user=small.leader, now=now)
    assert drill.kind == "dossiers" and drill.queryset.count() == 1
    assert drill.queryset.get().outcome == "early"
    assert (
        services.drilldown(
            "T4", JUNE, f, "denominator", user=small.leader, now=now
        ).queryset.count()
        == 2
    )
    assert (
        services.drilldown(
            "2a", JUNE, f, "denominator", user=small.leader, now=now
        ).queryset.count()
        == 2
    )
    with pytest.raises(PermissionDenied):
        services.drilldown(
            "T4", JUNE, Filters(agency_id=small.org.construction.pk), user=small.leader
        )
    with pytest.raises(PermissionDenied):
        services.drilldown("T4", JUNE, f, user=small.officer)
    supervisor = small.supervisor
    drill = services.drilldown(
        "T4",
        JUNE,
        Filters(unit_id=small.org.province_2024.pk),
        "denominator",
        user=supervisor,
        now=now,
    )
    assert drill.queryset.count() == 2


def test_ranking_and_series(small, online_procedure):
    make(
        small,
        at("2024-06-04"),
        procedure=online_procedure,
        online=True,
        approve=at("2024-06-04", "15:00"),
    )
    now = dt.datetime(2024, 7, 10, tzinfo=VN)
    ranked = services.ranking(JUNE, Filters(units="historic"), now=now)
    assert [r.agency_id for r in ranked] == [small.org.construction.pk, small.org.justice.pk]
    assert ranked[1].t4 == Decimal("50.00") and ranked[0].t4 == Decimal("100.00")
    values = services.series("T4", [periods.parse("2024-05"), JUNE], Filters(), now=now)
    assert [v for _, v in values] == [None, Decimal("66.67")]


def test_reconciliation_entry_import_and_diff(small, tmp_path, make_user):
    now = small.now
    with pytest.raises(PermissionDenied):
        published.save_published(
            small.leader, PublishedData("2024-06", "24", "total", Decimal(80), "x"), now=now
        )
    with pytest.raises(InvalidInput, match="nguồn"):
        published.save_published(
            SYSTEM, PublishedData("2024-06", "24", "total", Decimal(80), " "), now=now
        )
    _, outcome = published.save_published(
        SYSTEM, PublishedData("2024-06", "24", "2a", Decimal("9.5"), "Cổng DVC quốc gia"), now=now
    )
    assert outcome == "created"
    assert (
        published.save_published(
            SYSTEM,
            PublishedData("2024-06", "24", "2a", Decimal("9.5"), "Cổng DVC quốc gia"),
            now=now,
        )[1]
        == "unchanged"
    )
    assert AuditEntry.objects.filter(action="indicators.published.created").count() == 1
    path = tmp_path / "766.csv"
    path.write_text(
        "Kỳ,Mã địa bàn,Chỉ số,Điểm,Nguồn\n"
        "2024-06,24,Tổng điểm,55.5,Cổng DVC\n"
        "2024-06,24,9z,1,Cổng DVC\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit):
        call_command("import", "published-766", str(path))
    diffs = {
        d.code: d
        for d in published.reconcile(
            JUNE, small.org.province_2024.pk, now=dt.datetime(2024, 7, 10, tzinfo=VN)
        )
    }
    assert diffs["2a"].ours == Decimal("10.00") and diffs["2a"].published == Decimal("9.50")
    assert diffs["2a"].difference == Decimal("0.50")
    assert diffs["total"].published == Decimal("55.50")
