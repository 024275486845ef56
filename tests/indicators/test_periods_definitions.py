"""Periods (calendar and PAR reporting periods) and the definition files."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from cchc.audit.models import AuditEntry
from cchc.errors import InvalidInput
from cchc.indicators import definitions, periods
from cchc.indicators.models import DefinitionSet

D = dt.date


@pytest.mark.parametrize(
    ("code", "start", "end", "label"),
    [
        ("2024", D(2024, 1, 1), D(2024, 12, 31), "Năm 2024"),
        ("2024-06", D(2024, 6, 1), D(2024, 6, 30), "Tháng 6/2024"),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "Tháng 2/2024"),
        ("2024-q2", D(2024, 4, 1), D(2024, 6, 30), "Quý II/2024"),
        ("2024-H1", D(2024, 1, 1), D(2024, 6, 30), "6 tháng đầu năm 2024"),
        ("2024-H2", D(2024, 7, 1), D(2024, 12, 31), "6 tháng cuối năm 2024"),
        ("2024-BC-Q1", D(2023, 12, 15), D(2024, 3, 14), None),
        ("2024-BC-H1", D(2023, 12, 15), D(2024, 6, 14), None),
        ("2024-BC-Q3", D(2024, 6, 15), D(2024, 9, 14), None),
        ("2024-BC-NAM", D(2023, 12, 15), D(2024, 12, 14), None),
    ],
)
def test_parse(code, start, end, label):
    p = periods.parse(code)
    assert (p.start, p.end) == (start, end)
    if label:
        assert p.label == label


def test_cutoff_day_is_a_setting(settings):
    settings.CCHC_PAR_CUTOFF_DAY = 20
    p = periods.parse("2024-BC-H1")
    assert (p.start, p.end) == (D(2023, 12, 20), D(2024, 6, 19))
    settings.CCHC_PAR_CUTOFF_DAY = 31
    with pytest.raises(InvalidInput, match="CCHC_PAR_CUTOFF_DAY"):
        periods.parse("2024-BC-H1")


@pytest.mark.parametrize("bad", ["", "24", "2024-13", "2024-Q5", "2024-H3", "2024-BC-Q2", "x"])
def test_bad_codes_are_refused_precisely(bad):
    with pytest.raises(InvalidInput, match=r"không hợp lệ|nằm ngoài"):
        periods.parse(bad)


def test_previous_and_choices():
    assert periods.previous(periods.parse("2024-01")).code == "2023-12"
    assert periods.previous(periods.parse("2024-Q1")).code == "2023-Q4"
    assert periods.previous(periods.parse("2024-H2")).code == "2024-H1"
    assert periods.previous(periods.parse("2024")).code == "2023"
    assert periods.previous(periods.parse("2024-BC-Q3")).code == "2023-BC-Q3"
    codes = [p.code for p in periods.choices(2024)]
    assert len(codes) == 1 + 2 + 4 + 12 + 4 and "2024-BC-NAM" in codes


def test_shipped_definitions_are_valid():
    plan = definitions.shipped("plan")
    assert [i.code for i in plan.indicators] == [f"T{n}" for n in range(1, 12)]
    t7 = next(i for i in plan.indicators if i.code == "T7")
    assert {k: int(v) for k, v in t7.target.items()} == {
        "province": 95,
        "district": 85,
        "commune": 65,
    }
    idx = definitions.shipped("index766")
    assert [int(g.max_points) for g in idx.groups] == [18, 20, 22, 22, 18]
    assert {s.evidence for s in idx.subs} == {"V", "S"}


def test_validation_lists_every_error():
    raw = {
        "definition": {
            "kind": "index766",
            "code": "x",
            "name": "x",
            "version": "1",
            "effective_from": D(2024, 1, 1),
        },
        "groups": [{"code": "1", "name": "a", "max_points": 50}],
        "subs": [
            {
                "code": "1a",
                "group": "1",
                "max_points": 40,
                "evidence": "X",
                "source": "dossiers",
                "numerator": "early + bogus",
                "denominator": "finished",
            },
            {"code": "1b", "group": "9", "max_points": 5, "evidence": "V", "source": "none"},
        ],
    }
    with pytest.raises(InvalidInput) as info:
        definitions.validate(raw)
    errors = info.value.details["errors"]
    text = " | ".join(errors)
    assert "đúng 5 nhóm" in text and "phải là 100" in text
    assert "'bogus' không có trong nguồn 'dossiers'" in text
    assert "evidence phải là 'V'" in text and "nhóm '9'" in text and "no_data_reason" in text


@pytest.mark.django_db
def test_load_command_records_a_version_once(db, capsys, tmp_path):
    call_command("indicators", "load")
    out = capsys.readouterr().out
    assert "bac-giang-2024 phiên bản 2024.1" in out and "đã nạp" in out
    assert DefinitionSet.objects.count() == 2
    assert AuditEntry.objects.filter(action="indicators.definition.loaded").count() == 2
    call_command("indicators", "load")
    assert "không đổi" in capsys.readouterr().out and DefinitionSet.objects.count() == 2
    changed = tmp_path / "plan.toml"
    changed.write_text(
        definitions.SHIPPED["plan"]
        .read_text(encoding="utf-8")
        .replace("target = { all = 90 }", "target = { all = 95 }"),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="đổi 'version'"):
        call_command("indicators", "load", str(changed))
    changed.write_text(
        changed.read_text(encoding="utf-8").replace('version = "2024.1"', 'version = "2024.2"'),
        encoding="utf-8",
    )
    call_command("indicators", "load", str(changed))
    t4 = next(
        i
        for i in definitions.current("plan", "213-2024", on=D(2024, 6, 30)).indicators
        if i.code == "T4"
    )
    assert int(t4.target["all"]) == 95


def test_drill_down_titles_speak_vietnamese():
    from cchc.indicators.services import spoken

    expr = definitions.parse_expr("early + on_time", "dossiers", "T4")
    text = spoken(expr)
    assert "early" not in text and "on_time" not in text
    assert text == (
        f"{definitions.MEASURE_LABELS['early']} + {definitions.MEASURE_LABELS['on_time']}"
    )


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (D(2026, 12, 7), "2026-BC-NAM"),  # the case: December is the year's report
        (D(2026, 12, 14), "2026-BC-NAM"),  # its last day
        (D(2026, 12, 20), "2026-BC-NAM"),  # written in the days after it closes
        (D(2026, 12, 29), "2026-BC-NAM"),  # the fifteenth day after
        (D(2026, 12, 30), "2027-BC-Q1"),  # past the writing days: the next one
        (D(2027, 3, 20), "2027-BC-Q1"),
        (D(2027, 4, 1), "2027-BC-H1"),
        (D(2027, 6, 15), "2027-BC-H1"),
        (D(2027, 7, 1), "2027-BC-Q3"),
        (D(2027, 9, 10), "2027-BC-Q3"),
        (D(2027, 10, 1), "2027-BC-NAM"),
    ],
)
def test_the_report_due_is_the_one_being_written(day, due, settings):
    settings.CCHC_PAR_CUTOFF_DAY = 15
    assert periods.report_due(day).code == due
