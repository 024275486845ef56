"""Error reports to a Sentry-compatible server: the real SDK, over real HTTP, to a small
server in this test; the envelope it receives carries the error and no personal data."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cchc.ops.reporting import before_send, init_error_reporting

sentry_sdk = pytest.importorskip("sentry_sdk")

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "query": "001099012345",  # a citizen id number in the query string
    "body": "Nguyễn Văn Bình",  # a name in the form body
    "cookie": "c00kie-v4lue-personal",
    "email": "binh.nguyen@example.vn",
    "username": "binhnv",
    "local": "so-cccd-trong-bien-cuc-bo",  # a local variable of the failing frame
    "detail": "0987654321",  # quoted by the database on its DETAIL line
    "path": "HS-000777",  # a dossier code in the path
}


class Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        elif encoding == "br":
            import brotli  # only if the SDK chose it, which needs the package

            raw = brotli.decompress(raw)
        Receiver.bodies.append(raw)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


SCRIPT = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "cchc.settings"
import django
django.setup()
import sentry_sdk
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path
from cchc.ops.reporting import init_error_reporting

S = {secrets!r}

def fail(request, code):
    sentry_sdk.set_user({{"id": 42, "email": S["email"], "username": S["username"]}})
    citizen_number = S["local"]
    raise ValueError("insert failed\\nDETAIL:  Key (phone)=(" + S["detail"] + ") exists.")

urlpatterns = [path("hong/<str:code>/", fail)]
assert init_error_reporting(sys.argv[1], environment="test")
client = Client(raise_request_exception=False, HTTP_COOKIE="tracking=" + S["cookie"])
with override_settings(ROOT_URLCONF=__name__):
    response = client.post(
        "/hong/" + S["path"] + "/?cccd=" + S["query"], {{"ho_ten": S["body"]}}
    )
assert response.status_code == 500, response.status_code
sentry_sdk.flush(timeout=10)
print("sent")
"""


def test_error_reaches_the_server_without_personal_data(receiver, tmp_path):
    dsn = f"http://publickey@127.0.0.1:{receiver.server_address[1]}/1"
    script = textwrap.dedent(SCRIPT.format(secrets=SECRETS))
    result = subprocess.run(
        [sys.executable, "-c", script, dsn],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CCHC_VAR_DIR": str(tmp_path),
            # the same sentry-sdk as this process (a 2.x tree put first on the path)
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sent" in result.stdout
    envelopes = b"\n".join(Receiver.bodies).decode("utf-8", "replace")
    assert "ValueError" in envelopes and "insert failed" in envelopes
    assert '"id":"42"' in envelopes.replace(" ", "")  # the user as their numeric id
    for name, secret in SECRETS.items():
        assert secret not in envelopes, name
        assert secret.encode("unicode_escape").decode() not in envelopes, name


def test_before_send_strips_what_an_integration_added():
    event = {
        "request": {
            "method": "POST",
            "url": "https://cchc.example.vn/ho-so/?cccd=001099012345",
            "query_string": "cccd=001099012345",
            "data": {"ho_ten": "Nguyễn Văn Bình"},
            "cookies": {"sessionid": "abc"},
            "headers": {"Cookie": "sessionid=abc", "User-Agent": "ua", "Authorization": "x"},
            "env": {"REMOTE_ADDR": "203.0.113.5"},
        },
        "user": {"id": 7, "email": "a@b.vn", "username": "u", "ip_address": "203.0.113.5"},
        "exception": {
            "values": [
                {
                    "type": "IntegrityError",
                    "value": "dup\nDETAIL:  Key (email)=(a@b.vn) already exists.",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"name": "Bình"}}]},
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": "SELECT 1", "data": {"params": ["a@b.vn"]}},
                {"category": "httplib", "message": "GET http://sms/?to=0912345678"},
            ]
        },
    }
    cleaned = before_send(event, {})
    text = repr(cleaned)
    for secret in (
        "001099012345",
        "Nguyễn",
        "abc",
        "a@b.vn",
        "203.0.113.5",
        "Bình",
        "0912345678",
        "Authorization",
    ):
        assert secret not in text
    assert cleaned["request"]["url"] == "https://cchc.example.vn/ho-so/"
    assert cleaned["request"]["headers"] == {"User-Agent": "ua"}
    assert cleaned["user"] == {"id": "7"}


def test_no_dsn_no_reporting():
    assert init_error_reporting("") is False
    assert init_error_reporting("   ") is False
