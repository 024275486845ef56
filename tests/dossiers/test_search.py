"""Queue search by what people give at the counter (issue 17, item 4): code or its tail,
phone in any format, ID number, name with or without diacritics — from the indexes
(`cchc.dossiers.search`), kept in step with every way dossiers are written, without
revealing personal data outside one's reach. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse

from cchc.dossiers import queries, search
from cchc.dossiers.models import Dossier
from cchc.errors import InvalidInput
from tests.dossiers.conftest import at
from tests.dossiers.factories import applicant

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(world):
    """Three dossiers received on one day (codes …-0001, -0002, -0003) by different people."""
    people = [
        applicant(name="Nguyễn Thị Hoà", id_number="024190001234", phone="0912345678"),
        applicant(name="Trần Văn Đức", id_number="038095004321", phone="+84987654321"),
        applicant(name="Lê Na", id_number="123456789", phone="0243 812 345", kind="person"),
    ]
    return [
        world.intake(applicant=p, at=at("2024-06-03", f"{8 + i:02d}:00"))
        for i, p in enumerate(people)
    ]


def found(user, text, *, state="all"):
    page = queries.work_queue(
        user, queries.QueueFilters(q=text, state=state), now=at("2024-06-03", "12:00")
    )
    return [d.code for d in page.items]


@pytest.mark.parametrize(
    ("text", "which"),
    [
        # the code, whole or by its tail (date-number or the number of the day)
        ("{code}", 1),
        ("{tail}", 1),
        ("0002", 1),
        ("{code_lower}", 1),
        # phone numbers as people say and write them
        ("0987654321", 1),
        ("0987 654 321", 1),
        ("+84 987.654.321", 1),
        ("84987654321", 1),
        ("0912-345-678", 0),
        ("(024) 3812 345", 2),
        # ID numbers (CCCD 12 digits, CMND 9 digits), with spaces
        ("038 095 004 321", 1),
        ("123456789", 2),
        # names, with and without diacritics, in part
        ("Trần Văn Đức", 1),
        ("tran van duc", 1),
        ("TRAN VAN DUC", 1),
        ("Lê Na", 2),
        ("le na", 2),
        ("Hoà", 0),
    ],
)
def test_each_kind_of_query_finds_its_dossier(world, three, text, which):
    code = three[1].code
    text = text.format(code=code, tail=code.split("-", 1)[1], code_lower=code.lower())
    assert found(world.leader, text) == [three[which].code]


def test_procedure_and_nothing(world, three):
    assert found(world.leader, "lý lịch tư pháp") == [d.code for d in three]
    assert found(world.leader, "0999999999") == []
    assert found(world.leader, "không có ai") == []


def test_short_queries_are_refused_not_scanned(world, three, client):
    for text in ("ab", " 1 ", "Đỗ"):
        with pytest.raises(InvalidInput) as refused:
            found(world.leader, text)
        assert refused.value.code == "queue.search_too_short"
    client.force_login(world.leader)
    page = client.get(reverse("dossiers:queue"), {"q": "ab", "trang_thai": "received"})
    assert page.status_code == 200  # the list without the search, the other filters kept
    assert "Nhập ít nhất 3 ký tự" in page.content.decode()
    assert 'name="q" value="ab"' in page.content.decode()  # what was typed, to correct
    api = client.get("/api/dossiers/", {"q": "01"})
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "queue.search_too_short"


def test_api_searches_by_phone_and_tail(world, three, client):
    client.force_login(world.desk_officer)
    body = client.get("/api/dossiers/", {"q": "+84 987 654 321", "state": "all"}).json()
    assert [d["code"] for d in body["items"]] == [three[1].code]
    tail = three[2].code.rsplit("-", 2)[-2] + "-" + three[2].code.rsplit("-", 1)[-1]
    body = client.get("/api/dossiers/", {"q": tail}).json()
    assert [d["code"] for d in body["items"]] == [three[2].code]


def test_personal_data_is_not_learnt_by_searching(world, three):
    """The supervisor sees applicants masked: a phone, ID number or name finds nothing for
    them, while the code (or its tail) and the procedure still do."""
    hidden = three[1]
    for text in ("0987654321", "038095004321", "Trần Văn Đức", "tran van"):
        assert found(world.leader, text) == [hidden.code]
        assert found(world.supervisor, text) == [], text
    assert found(world.supervisor, hidden.code.split("-", 1)[1]) == [hidden.code]
    assert found(world.supervisor, "lý lịch") == [d.code for d in three]
    # An officer of another agency sees none of these dossiers at all.
    assert found(world.outsider, hidden.code) == []


def test_the_index_follows_inserts_updates_bulk_writes_and_deletes(world, three):
    from cchc.dossiers.rows import COLUMNS, Writer

    dossier = three[0]
    # The applicant is corrected: the old name no longer finds it, the new one does.
    Dossier.objects.filter(pk=dossier.pk).update(
        applicant_name="Phạm Minh Khôi",
        search_text=dossier.search_text.replace("nguyen thi hoa", "pham minh khoi"),
    )
    assert found(world.leader, "nguyen thi hoa") == []
    assert found(world.leader, "Phạm Minh Khôi") == [dossier.code]
    # Bulk writes (imports, the demo generator: COPY / executemany) are indexed too.
    writer = Writer()
    new_id = writer.next_id(Dossier)
    columns = COLUMNS[Dossier]
    row = list(
        Dossier.objects.filter(pk=three[2].pk).values_list(*[_field(c) for c in columns]).get()
    )
    values = dict(zip(columns, row, strict=True))
    values.update(
        id=new_id,
        code="000.00.30.H06-240603-0999",
        applicant_name="Vũ Thị Bích",
        applicant_phone="0977 111 222",
        search_text="000.00.30.h06-240603-0999 vu thi bich cap phieu ly lich tu phap",
    )
    row = tuple(
        json.dumps(v) if isinstance(v, (list, dict)) else v for v in (values[c] for c in columns)
    )
    writer.insert(Dossier, columns, [row])
    writer.finish()
    assert found(world.leader, "vu thi bich") == ["000.00.30.H06-240603-0999"]
    assert found(world.leader, "0977111222") == ["000.00.30.H06-240603-0999"]
    assert found(world.leader, "0999") == ["000.00.30.H06-240603-0999"]
    # Deleted (a row without events: events are append-only): gone from the index.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dossiers_dossier WHERE id = %s", [new_id])
    assert found(world.leader, "vu thi bich") == []
    assert _index_ids("vu thi bich") == []
    assert _index_ids("pham minh khoi") == [dossier.pk]
    assert _index_ids("nguyen thi hoa") == []
    # One word goes to the trigram index itself (FTS5 / pg_trgm), in step too.
    assert _index_ids("bich") == [] and _index_ids("khoi") == [dossier.pk]
    if connection.vendor == "sqlite":  # FTS5 compares its index with the table itself
        with connection.cursor() as cursor:
            check = f"INSERT INTO {search.FTS}({search.FTS}, rank) VALUES ('integrity-check', 1)"  # noqa: S608
            cursor.execute(check)


def _field(column: str) -> str:
    return next(f.name for f in Dossier._meta.concrete_fields if f.column == column)


def _index_ids(text: str) -> list[int]:
    """What the text index alone answers (no recheck against the table)."""
    ids: set[int] = set()
    with connection.cursor() as cursor:
        for sql, params in search._text_ids(connection.vendor, text):
            cursor.execute(sql, params)
            ids |= {row[0] for row in cursor.fetchall()}
    return sorted(ids)


def test_query_plans_use_the_indexes(world, three):
    qs = queries.filtered(world.leader, queries.QueueFilters(q="0987 654 321"), now=world.now)
    qs_name = queries.filtered(world.leader, queries.QueueFilters(q="tran van duc"), now=world.now)
    qs_id = queries.filtered(world.leader, queries.QueueFilters(q="038095004321"), now=world.now)
    if connection.vendor == "sqlite":
        plan = "\n".join([qs.explain(), qs_name.explain(), qs_id.explain()])
        assert f"SCAN {search.FTS} VIRTUAL TABLE INDEX" in plan
        assert "USING INDEX dossier_phone_key" in plan
        assert "USING INDEX dossier_id_key" in plan
        # Never a walk over every dossier (at scale the candidates drive, looked up by
        # primary key: benchmarks/search.py; on a handful of rows the planner may start
        # from the agency indexes instead).
        assert "SCAN dossiers_dossier " not in plan and "SCAN dossiers_dossier\n" not in plan
    else:
        with connection.cursor() as cursor:
            # A handful of rows: force the choice (bitmap scans name the index they use).
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        plan = "\n".join([qs.explain(), qs_name.explain(), qs_id.explain()])
        tail = queries.filtered(world.leader, queries.QueueFilters(q="0002"), now=world.now)
        plan += "\n" + tail.explain()
        # One word: trigrams (the candidate subquery's own condition).
        word = Dossier.objects.filter(search_text__contains="duc").values("pk")
        assert "dossier_search_trgm" in word.explain()
        assert "dossier_name_prefix" in plan  # a full name: the start of the name
        assert "dossier_code_suffix" in plan  # a code's tail
        assert "dossier_phone_key" in plan
        assert "dossier_id_key" in plan


def test_queue_page_query_count_does_not_change_with_a_search(
    world, three, client, django_assert_max_num_queries
):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.leader)
    url = reverse("dossiers:queue")
    client.get(url)  # warm: session, grants
    with CaptureQueriesContext(conn) as plain:
        assert client.get(url, {"trang_thai": "all"}).status_code == 200
    with django_assert_max_num_queries(len(plain.captured_queries)):
        page = client.get(url, {"trang_thai": "all", "q": "0987 654 321"})
    assert three[1].code in page.content.decode()
    assert three[0].code not in page.content.decode()


def test_missing_triggers_are_put_back_after_migrate(world, three):
    """SQLite rebuilds a table to alter it, which drops its triggers: `ensure_installed`
    (post_migrate) puts them back and re-indexes."""
    if connection.vendor != "sqlite":
        assert search.ensure_installed(connection) is False
        return
    with connection.cursor() as cursor:
        for name in search.TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
        cursor.execute("DROP INDEX dossier_phone_key")
    world.intake(applicant=applicant(name="Đinh Công Tráng", phone="0901000111"))
    assert _index_ids("trang") == []  # missed while the triggers were gone
    assert search.ensure_installed(connection) is True
    assert search.ensure_installed(connection) is False
    assert len(_index_ids("trang")) == 1
    assert found(world.leader, "0901 000 111", state="open") != []
