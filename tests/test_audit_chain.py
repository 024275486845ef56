"""The audit log is append-only with no switch, and tamper-evident: a hash chain that
`cchc audit verify` walks, naming the first altered or missing entry."""

from __future__ import annotations

import itertools
import json
import threading
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from cchc.audit import chain, guard, log
from cchc.audit.models import AuditEntry
from tests.append_only import guards_lifted

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


def write(n: int, *, prefix: str = "test.entry") -> list[AuditEntry]:
    with transaction.atomic():
        return [
            log.record(f"{prefix}.{i}", actor=None, data={"i": i, "ratio": 1.0, "tên": "Hà Nội"})
            for i in range(n)
        ]


def tamper(sql: str, params: list) -> None:
    """What someone with raw write access to the database does (past the triggers)."""
    with transaction.atomic(), guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def run_verify(*args: str) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_each_entry_is_chained_to_the_one_before(org):
    write(3)
    with transaction.atomic():
        batch = [log.entry_for(f"test.bulk.{i}", actor=None, data={"i": i}) for i in range(5)]
        log.record_many(batch)
    rows = list(AuditEntry.objects.order_by("id"))
    assert rows[0].prev_hash == chain.GENESIS
    for before, entry in itertools.pairwise(rows):
        assert entry.prev_hash == before.hash
        assert entry.hash == chain.entry_hash(chain.values_of(entry), entry.prev_hash)
    code, out = run_verify()
    assert code == 0
    assert f"{len(rows)} bản ghi" in out and f"#{rows[-1].pk}" in out and rows[-1].hash in out


def test_a_preset_hash_is_ignored(org):
    with transaction.atomic():
        entry = log.entry_for("test.forged", actor=None)
        entry.prev_hash = entry.hash = "f" * 64
        entry.save()
    assert entry.hash != "f" * 64
    assert chain.verify().clean


def test_verify_names_an_altered_entry(org):
    entries = write(4)
    victim = entries[1]
    tamper("UPDATE audit_auditentry SET object_repr = %s WHERE id = %s", ["sửa lén", victim.pk])
    code, out = run_verify()
    assert code == 1
    assert f"Bản ghi nhật ký #{victim.pk} đã bị sửa" in out
    code, out = run_verify("--json")
    report = json.loads(out)
    assert code == 1 and report["clean"] is False
    assert report["problem"]["kind"] == "altered" and report["problem"]["entry_id"] == victim.pk


def test_verify_names_the_gap_left_by_a_deleted_entry(org):
    entries = write(4)
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
    code, out = run_verify()
    assert code == 1
    assert f"Chuỗi nhật ký bị đứt giữa #{entries[0].pk} và #{entries[2].pk}" in out


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(org):
    entries = write(3)
    victim = entries[0]
    forged = {**chain.values_of(victim), "object_repr": "sửa lén"}
    new_hash = chain.entry_hash(forged, victim.prev_hash)
    tamper(
        "UPDATE audit_auditentry SET object_repr = %s, hash = %s WHERE id = %s",
        ["sửa lén", new_hash, victim.pk],
    )
    report = chain.verify()
    assert report.problem.kind == "broken" and report.problem.entry_id == entries[1].pk
    assert f"bản ghi #{victim.pk} bị sửa rồi tính lại mã băm" in report.problem.message


def test_entries_deleted_from_the_end_are_caught_by_an_anchor(org):
    entries = write(3)
    last = entries[-1]
    anchor = f"{last.pk}:{last.hash}"
    assert run_verify("--anchor", anchor)[0] == 0
    tamper("DELETE FROM audit_auditentry WHERE id >= %s", [entries[1].pk])
    # Without the anchor the shorter chain is consistent: the documented limitation.
    assert run_verify()[0] == 0
    code, out = run_verify("--anchor", anchor)
    assert code == 1
    assert f"Không còn bản ghi mốc #{last.pk}" in out


def test_a_malformed_anchor_is_refused_precisely(org):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--anchor 'abc' không hợp lệ") as error:
        call_command("audit", "verify", "--anchor", "abc")
    assert error.value.returncode == 2


def test_existing_entries_are_chained_by_the_migration(org):
    migration = __import__("cchc.audit.migrations.0004_hash_chain", fromlist=["chain_existing"])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (action, actor_label, at, object_type, object_id, "
            "object_repr, data, prev_hash, hash) VALUES "
            "('old.entry', 'hệ thống', %s, '', '', '', '{\"a\": 1}', '', '')",
            [AuditEntry.objects.latest("id").at],
        )
    assert not chain.verify().clean  # an entry without a hash
    with transaction.atomic(), guards_lifted(connection):
        migration.chain_existing(apps, SimpleNamespace(connection=connection))
    assert chain.verify().clean


# -- append-only without a switch ------------------------------------------------------------


def test_the_database_carries_no_switch_that_disables_the_guards(org):
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute(
                "SELECT proname FROM pg_proc WHERE proname = 'cchc_purge_allowed' "
                "OR (proname LIKE '%%append_only' AND prosrc ILIKE '%%purge%%')"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name = 'cchc_purge_guard' "
                "OR (type = 'trigger' AND sql LIKE '%purge%')"
            )
        assert cursor.fetchall() == []
        for table, _name, _what in guard.GUARDED:
            if POSTGRES:
                cursor.execute(
                    "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass "
                    "AND NOT tgisinternal",
                    [table],
                )
                assert cursor.fetchone()[0] == 2, table  # rows and TRUNCATE
            else:
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                assert cursor.fetchone()[0] == 2, table  # UPDATE and DELETE


def test_the_old_purge_switch_no_longer_opens_the_log(org):
    entry = AuditEntry.objects.first()
    statements = (
        ["SET cchc.allow_purge = 'on'"]
        if POSTGRES
        else [
            # The switch's table is gone; recreating it as an attacker would changes nothing.
            "CREATE TABLE cchc_purge_guard (allowed integer NOT NULL)",
            "INSERT INTO cchc_purge_guard (allowed) VALUES (1)",
        ]
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for sql in statements:
            cursor.execute(sql)
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    if POSTGRES:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            # (Check this test's deferred foreign keys first: TRUNCATE refuses to run with
            # pending trigger events.)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET cchc.allow_purge = 'on'")
            cursor.execute("TRUNCATE audit_auditentry CASCADE")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_superuser_connection_is_detected():
    # The test role `postgres` is a superuser (it may lift the triggers); SQLite has no roles.
    assert guard.connected_as_superuser(connection) is POSTGRES


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (parallel connections)")
def test_parallel_writers_do_not_fork_the_chain(transactional_db):
    per_thread = 200
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(per_thread):
                with transaction.atomic():
                    log.record(f"test.parallel.{n}", actor=None, data={"i": i})
                if i % 50 == 0:  # and a batch now and then, as an import writes
                    with transaction.atomic():
                        log.record_many(
                            [log.entry_for(f"test.batch.{n}", actor=None) for _ in range(3)]
                        )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    report = chain.verify()
    assert report.clean, report.problem
    assert AuditEntry.objects.filter(action__startswith="test.parallel").count() == 2 * per_thread
    assert report.checked == AuditEntry.objects.count()
