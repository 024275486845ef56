"""Pages and the API when the database fails under a request: 503 with Retry-After, a
Vietnamese page (or the API's JSON envelope), one ERROR line in the log, no traceback.

The failures are real. SQLite: the suite's shared-cache test database, a table
write-locked by another connection ("database table is locked"). PostgreSQL: the request's
own connection terminated with pg_terminate_backend from another connection.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.test import Client

from cchc.accounts.models import User
from cchc.catalog.models import Procedure
from cchc.webkit.dbfailures import current_outage_response
from tests.failures.conftest import POSTGRES, SQLITE, postgres_url

pytestmark = pytest.mark.django_db(transaction=True)

CATALOGUE = "/dich-vu-cong/thu-tuc/"  # public: reads the procedures in the view
API = "/api/catalog/procedures"  # signed in: reads the procedures in the API view
HOME = "/"  # signed in: the session is read by the middleware, before any view
LOGGER = "cchc.webkit.dbfailures"


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Another connection to the same (shared-cache) SQLite database holds a write lock on
    `table`: readers of that table get SQLITE_LOCKED at once."""
    holder = sqlite3.connect(connection.settings_dict["NAME"], uri=True, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute(f"DELETE FROM {table} WHERE 0")  # noqa: S608 - a fixed table name
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def terminate_own_connection() -> None:
    """pg_terminate_backend on the connection this process (the test client) uses."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(postgres_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def signed_in_client() -> Client:
    user = User.objects.create_superuser("quantri-kiemthu", "qt@example.vn", "mat-khau-dai-1234")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def _assert_page(response, caplog, kind: str) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert "Hệ thống tạm thời gián đoạn" in body and "Traceback" not in body
    assert "{#" not in body and "{%" not in body  # no template source shown to the visitor
    errors = _errors(caplog)
    assert [r.name for r in errors] == [LOGGER], [r.getMessage() for r in errors]
    assert f"database {kind}" in errors[0].getMessage()
    assert errors[0].exc_info is None  # one line, no traceback


def _assert_api(response, caplog, code: str) -> None:
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == code
    assert "cơ sở dữ liệu" in error["message"].lower()
    assert error["details"]["retry_after"] == int(response["Retry-After"])
    assert [r.name for r in _errors(caplog)] == [LOGGER]


sqlite_only = pytest.mark.skipif(not SQLITE, reason="SQLite shared-cache lock")
postgres_only = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL")


@sqlite_only
def test_a_locked_table_read_by_a_page_answers_503(caplog):
    caplog.set_level(logging.INFO)
    with table_locked("catalog_procedure"):
        response = Client(raise_request_exception=False).get(CATALOGUE)
    _assert_page(response, caplog, "locked")
    assert "Cơ sở dữ liệu đang bận" in response.content.decode()
    assert Client().get(CATALOGUE).status_code == 200  # lock released: served again


@sqlite_only
def test_a_locked_session_table_read_by_the_middleware_answers_503(caplog):
    """The session is read by a middleware, before any view: Django has already made the
    error a 500 when it comes back up; it is answered 503 all the same, logged once."""
    client = signed_in_client()
    caplog.set_level(logging.INFO)
    with table_locked("django_session"):
        response = client.get(HOME)
    _assert_page(response, caplog, "locked")


@sqlite_only
def test_a_locked_table_read_by_the_api_answers_503_json(caplog):
    client = signed_in_client()
    caplog.set_level(logging.INFO)
    with table_locked("catalog_procedure"):
        response = client.get(API)
    _assert_api(response, caplog, "database_locked")
    assert client.get(API).status_code == 200


@pytest.mark.postgres_only
@postgres_only
def test_a_terminated_connection_answers_503_on_pages_and_the_api(caplog):
    client = signed_in_client()
    caplog.set_level(logging.INFO)

    terminate_own_connection()
    response = Client(raise_request_exception=False).get(CATALOGUE)
    _assert_page(response, caplog, "unreachable")
    assert "Không kết nối được tới cơ sở dữ liệu" in response.content.decode()
    connection.close()  # what the end of a real request does with an unusable connection

    caplog.clear()
    terminate_own_connection()
    response = client.get(API)
    _assert_api(response, caplog, "database_unreachable")
    connection.close()

    assert client.get(API).status_code == 200  # a new connection: served again


@sqlite_only
def test_the_500_handler_can_hand_an_outage_to_the_503_answer(rf, caplog):
    """`current_outage_response` is what `handler500` calls first: inside the handling of a
    real outage it gives the 503; for any other exception, None (the 500 page)."""
    caplog.set_level(logging.INFO)
    request = rf.get(CATALOGUE)
    with table_locked("catalog_procedure"):
        try:
            list(Procedure.objects.all())
        except Exception:
            answer = current_outage_response(request)
    assert answer is not None and answer.status_code == 503
    try:
        raise ValueError("không phải lỗi cơ sở dữ liệu")
    except ValueError:
        assert current_outage_response(request) is None
