"""With the database unreachable (a PostgreSQL address where nothing listens): /healthz
still 200, /readyz a 503 naming the database, /metrics still answers with the failed
figures counted — never a 500, never a traceback, even with a session cookie."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.ops.gunicorn_settings"
import django
django.setup()
from django.test import Client

client = Client(HTTP_COOKIE="sessionid=" + "x" * 32)
out = {}
for path in ("/healthz", "/readyz", "/metrics"):
    response = client.get(path)
    out[path] = [response.status_code, response.content.decode()]
print("RESULT " + json.dumps(out))
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_probes_with_the_database_down(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "DEBUG": "true",
            "DATABASE_URL": f"postgres://cchc@127.0.0.1:{closed_port()}/cchc",
            "CCHC_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [line] = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")]
    out = json.loads(line.removeprefix("RESULT "))

    assert out["/healthz"] == [200, '{"status": "ok"}']

    status, body = out["/readyz"]
    assert status == 503
    checks = json.loads(body)["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"] == "OperationalError"
    assert checks["worker"] == {"ok": False, "skipped": "database"}
    assert checks["storage"]["ok"] is True
    assert "127.0.0.1" not in body  # no connection details

    status, body = out["/metrics"]
    assert status == 200
    for gauge in ("jobs", "queue", "payments", "notifications", "dossiers"):
        assert f'cchc_metrics_errors{{gauge="{gauge}"}} 1.0' in body
    assert "cchc_dossiers_open" not in body

    # What the operator reads: one JSON warning per failed check, with the error's first
    # line (its traceback only at DEBUG, which these settings show).
    logged = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    warnings = [x for x in logged if x["logger"] == "cchc.ops.checks" and x["level"] == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0]["message"].startswith("readiness check database failed: OperationalError")
    assert "exception" not in warnings[0]
    assert any(x.get("exc_type") == "OperationalError" for x in logged if x["level"] == "DEBUG")
    assert not any(x["level"] == "ERROR" for x in logged), logged
