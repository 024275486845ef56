"""Structured logs: one JSON access line per request, the request id on every record of the
request, and no personal data (query strings, bodies, names, row values) in any line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from cchc.webkit.logs import JsonFormatter, RequestContextFilter, logging_config

pytestmark = pytest.mark.django_db

PERSONAL = ("001099012345", "Nguyen", "nguyen.van.a@example.vn", "0912345678")


class Lines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def of(self, logger: str) -> list[dict]:
        return [line for line in self.all() if line["logger"] == logger]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The JSON lines the production handler would write, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root, access = logging.getLogger(), logging.getLogger("cchc.access")
    # Django's loggers do not propagate to the root (they have the stdout handler of their
    # own): the handler is added to both, as the production configuration has it.
    django = logging.getLogger("django")
    old_level = access.level
    access.setLevel(logging.DEBUG)
    root.addHandler(handler)
    if not django.propagate:
        django.addHandler(handler)
    try:
        yield Lines(stream)
    finally:
        root.removeHandler(handler)
        django.removeHandler(handler)
        access.setLevel(old_level)


def test_one_json_access_line_per_request(client, lines):
    response = client.get("/thu-chao/0912345678/?cccd=001099012345&ho_ten=Nguyen")
    assert response.status_code == 200
    [line] = lines.of("cchc.access")
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "INFO"
    assert line["view"] == "hello"
    assert line["path"] == "/thu-chao/<str:code>/"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["time"].endswith("Z")
    assert "user_id" not in line  # anonymous
    raw = json.dumps(lines.all(), ensure_ascii=False)
    for value in PERSONAL:
        assert value not in raw


def test_request_id_from_the_proxy_if_safe_else_new(client, lines):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="req-7f3a.42:1")
    assert given["X-Request-ID"] == "req-7f3a.42:1"
    for unsafe in ('x"} {"level": "ERROR', "a b", "<script>", "x" * 200):
        response = client.get("/healthz", HTTP_X_REQUEST_ID=unsafe)
        assert response["X-Request-ID"] != unsafe
        assert len(response["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in lines.of("cchc.access")]
    assert len(ids) == 5 and len(set(ids)) == 5
    # Probes that succeed are logged at DEBUG (not in production's INFO log).
    assert {line["level"] for line in lines.of("cchc.access")} == {"DEBUG"}


def test_user_is_their_numeric_id_only(client, lines, make_user):
    user = make_user("citizen")
    user.email = "nguyen.van.a@example.vn"
    user.save()
    client.force_login(user)
    client.get("/thu-chao/abc/")
    [line] = lines.of("cchc.access")
    assert line["user_id"] == user.pk
    raw = json.dumps(lines.all(), ensure_ascii=False)
    for value in (user.username, user.full_name, user.email):
        assert value not in raw


def test_error_logged_with_request_id_and_exception_without_row_values(lines):
    client = Client(raise_request_exception=False)
    response = client.get("/thu-loi/0912345678/?cccd=001099012345")
    assert response.status_code == 500
    [access] = lines.of("cchc.access")
    assert access["level"] == "ERROR" and access["status"] == 500
    [error] = lines.of("django.request")
    assert error["request_id"] == access["request_id"] == response["X-Request-ID"]
    assert error["exc_type"] == "IntegrityError"
    assert "accounts_user_email_key" in error["exception"]  # the error is still explained
    assert error["message"] == "Internal Server Error: /thu-loi/<str:code>/"
    raw = json.dumps(lines.all(), ensure_ascii=False)
    for value in PERSONAL:
        assert value not in raw


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_logging_config_writes_json_lines_to_stdout():
    result = _run(
        """
        import logging, logging.config
        from cchc.webkit.logs import logging_config
        logging.config.dictConfig(logging_config(False, "", ""))
        log = logging.getLogger("cchc.jobs")
        log.debug("hidden at the default INFO level")
        log.info("job done", extra={"fields": {"rows": 12}})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("job failed")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["level"] == "INFO" and first["logger"] == "cchc.jobs"
    assert first["message"] == "job done" and first["rows"] == 12
    assert second["level"] == "ERROR" and second["exc_type"] == "ValueError"
    assert "Traceback" in second["exception"]


def test_logging_config_text_for_development_and_checked_values():
    result = _run(
        """
        import logging, logging.config
        from cchc.webkit.logs import logging_config
        logging.config.dictConfig(logging_config(True, "", ""))
        logging.getLogger("x").info("not shown: WARNING by default with DEBUG")
        logging.getLogger("x").warning("shown")
        """
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.endswith("WARNING x shown")
    assert logging_config(True, "debug", "JSON")["root"]["level"] == "DEBUG"
    with pytest.raises(ImproperlyConfigured):
        logging_config(False, "LOUD", "")
    with pytest.raises(ImproperlyConfigured):
        logging_config(False, "", "xml")
