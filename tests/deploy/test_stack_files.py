"""The deployment files in deploy/: they load, follow their settings and name real things.

These are examples for a province's machines (docs/deployment.md says which run in CI): the
gunicorn configuration is loaded as gunicorn loads it; the systemd units are parsed, their
commands checked against this project and, when systemd-analyze is installed, verified; the
nginx file is checked for its limits and headers and, when nginx is installed, tested with
`nginx -t` and run in front of a stand-in application; the compose file is parsed.
"""

from __future__ import annotations

import configparser
import http.client
import http.server
import importlib.util
import json
import logging
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import get_commands

from cchc.config import SETTINGS_DOC, build

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
NGINX = (DEPLOY / "nginx" / "cchc.conf").read_text(encoding="utf-8")
INSTALL_DIR = "/opt/cchc"  # where the units expect the repository
GUNICORN_VARS = sorted(
    set(re.findall(r'_env_\w+\("(GUNICORN_\w+)"', GUNICORN_CONF.read_text(encoding="utf-8")))
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- gunicorn -----------------------------------------------------------------------------


def load_gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """Import deploy/gunicorn.conf.py afresh under `env` (what gunicorn does with -c)."""
    for name in [*GUNICORN_VARS, "PROMETHEUS_MULTIPROC_DIR", "CCHC_LOG_FORMAT", "DEBUG"]:
        # setenv first: monkeypatch then restores the variable's absence too, which matters
        # because the configuration sets PROMETHEUS_MULTIPROC_DIR in os.environ itself.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("cchc_gunicorn_conf", GUNICORN_CONF)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_defaults_are_sized_for_two_cores(monkeypatch, tmp_path):
    conf = load_gunicorn_conf(monkeypatch, CCHC_VAR_DIR=str(tmp_path))
    assert conf.worker_class == "gthread"
    assert (conf.workers, conf.threads) == (3, 4)
    assert (conf.timeout, conf.graceful_timeout, conf.keepalive) == (60, 30, 5)
    assert (conf.max_requests, conf.max_requests_jitter) == (1000, 100)
    assert conf.bind == ["127.0.0.1:8000"]
    assert conf.forwarded_allow_ips == "127.0.0.1,::1"
    assert conf.accesslog is None
    assert conf.limit_request_fields == 100
    assert conf.control_socket_disable is True
    assert conf.preload_app is False
    # Metrics across workers: a directory under the data directory unless given.
    assert str(tmp_path / "run" / "prometheus") == conf.PROMETHEUS_DIR


def test_gunicorn_values_follow_the_environment(monkeypatch, tmp_path):
    conf = load_gunicorn_conf(
        monkeypatch,
        GUNICORN_WORKERS="5",
        GUNICORN_THREADS="2",
        GUNICORN_TIMEOUT="90",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_KEEPALIVE="2",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_BIND="0.0.0.0:9000,unix:/run/cchc.sock",
        GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.2",
        GUNICORN_ACCESS_LOG="-",
        GUNICORN_CONTROL_SOCKET=str(tmp_path / "ctl"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    assert (conf.workers, conf.threads, conf.timeout) == (5, 2, 90)
    assert (conf.graceful_timeout, conf.keepalive, conf.max_requests) == (20, 2, 0)
    assert conf.bind == ["0.0.0.0:9000", "unix:/run/cchc.sock"]
    assert conf.forwarded_allow_ips == "10.0.0.2"
    assert conf.accesslog == "-"
    assert conf.logconfig_dict["loggers"]["gunicorn.access"]["level"] == "INFO"
    assert conf.control_socket == str(tmp_path / "ctl")
    assert conf.control_socket_disable is False
    assert str(tmp_path / "metrics") == conf.PROMETHEUS_DIR


@pytest.mark.parametrize("value", ["three", "0", "-1"])
def test_gunicorn_refuses_a_wrong_worker_count_naming_the_variable(monkeypatch, value):
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS"):
        load_gunicorn_conf(monkeypatch, GUNICORN_WORKERS=value)


def test_gunicorn_logs_json_in_production_and_text_in_development(monkeypatch, tmp_path):
    prod = load_gunicorn_conf(monkeypatch, DEBUG="false", CCHC_VAR_DIR=str(tmp_path))
    formatter = prod.logconfig_dict["formatters"]["cchc"]["()"]()
    record = logging.LogRecord("gunicorn.error", logging.INFO, "", 0, "Booting «%s»", ("w",), None)
    line = json.loads(formatter.format(record))
    assert line["message"] == "Booting «w»" and line["level"] == "INFO"
    # The access log stays off although a logging config is given (gunicorn would log it).
    assert prod.logconfig_dict["loggers"]["gunicorn.access"]["level"] == "CRITICAL"
    dev = load_gunicorn_conf(monkeypatch, DEBUG="true", CCHC_VAR_DIR=str(tmp_path))
    assert "format" in dev.logconfig_dict["formatters"]["cchc"]


def test_gunicorn_hooks_reset_metrics_and_forget_dead_workers(monkeypatch, tmp_path):
    metrics = tmp_path / "metrics"
    conf = load_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(metrics))
    metrics.mkdir()
    (metrics / "counter_999.db").write_bytes(b"old run")
    (metrics / "stale").mkdir()
    conf.on_starting(None)
    assert metrics.is_dir() and list(metrics.iterdir()) == []

    # A worker's live gauge file, as prometheus_client writes it, is dropped when it exits.
    (metrics / "gauge_livesum_4242.db").write_bytes(b"")
    (metrics / "gauge_all_4242.db").write_bytes(b"")

    class Worker:
        pid = 4242

    conf.child_exit(None, Worker())
    assert sorted(p.name for p in metrics.iterdir()) == ["gauge_all_4242.db"]


def test_gunicorn_accepts_the_file(tmp_path):
    """gunicorn itself reads the file (every name it knows, with its own validation) and
    loads the application with it."""
    env = {"PATH": "/usr/bin:/bin", "CCHC_VAR_DIR": str(tmp_path), "GUNICORN_WORKERS": "7"}
    out = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--print-config", "cchc.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    settings = dict(re.findall(r"^(\w+)\s+= (.*)$", out, flags=re.M))
    assert settings["workers"] == "7"
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == "4"
    assert settings["control_socket_disable"] == "True"


# --- systemd ------------------------------------------------------------------------------


def read_unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return parser


def test_there_is_a_unit_per_process():
    assert [u.name for u in UNITS] == [
        "cchc-scheduler.service",
        "cchc-web.service",
        "cchc-worker.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.stem)
def test_unit_is_hardened_restarts_and_stops_gracefully(unit):
    service = read_unit(unit)["Service"]
    assert read_unit(unit)["Unit"]["Description"]
    assert read_unit(unit)["Install"]["WantedBy"] == "multi-user.target"
    assert service["User"] == "cchc"
    assert service["EnvironmentFile"] == "/etc/cchc/cchc.env"
    assert service["WorkingDirectory"] == INSTALL_DIR
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert "/var/lib/cchc" in service["ReadWritePaths"].split()
    assert int(service["TimeoutStopSec"]) >= 30


def test_web_unit_outlasts_gunicorns_graceful_timeout(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)
    service = read_unit(DEPLOY / "systemd" / "cchc-web.service")["Service"]
    assert int(service["TimeoutStopSec"]) > conf.graceful_timeout
    assert service["Type"] == "notify"  # gunicorn reports readiness (sd_notify)
    assert service["Environment"].startswith("PROMETHEUS_MULTIPROC_DIR=/run/cchc-web/")
    assert service["RuntimeDirectory"] == "cchc-web"


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.stem)
def test_unit_runs_a_command_of_this_project(unit):
    argv = shlex.split(read_unit(unit)["Service"]["ExecStart"])
    program = Path(argv[0])
    assert program.parent == Path(INSTALL_DIR, ".venv", "bin")
    # Every program is one this project installs into its virtualenv.
    assert (ROOT / ".venv" / "bin" / program.name).exists(), program.name
    if program.name == "gunicorn":
        conf = argv[argv.index("-c") + 1]
        assert (ROOT / Path(conf).relative_to(INSTALL_DIR)).is_file()
        assert argv[-1] == "cchc.wsgi" and (ROOT / "src" / "cchc" / "wsgi.py").is_file()
    else:
        assert program.name == "cchc"
        assert argv[1] in ("worker", "scheduler")
        assert get_commands()[argv[1]] == "cchc.jobs"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    """systemd's own parser, with the install paths pointed at this checkout."""
    env_file = tmp_path / "cchc.env"
    env_file.write_text("DEBUG=false\n", encoding="utf-8")
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/etc/cchc/cchc.env", str(env_file)).replace(INSTALL_DIR, str(ROOT))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


# --- the settings file --------------------------------------------------------------------


def test_env_example_lists_every_setting_and_gunicorn_variable():
    text = (DEPLOY / "cchc.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    missing = sorted((set(SETTINGS_DOC) | set(GUNICORN_VARS)) - listed)
    assert missing == []


def test_env_example_values_are_accepted_by_the_configuration(tmp_path):
    """The uncommented lines, with the secret filled in, pass cchc's production checks."""
    text = (DEPLOY / "cchc.env.example").read_text(encoding="utf-8")
    env = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", text, flags=re.M))
    assert env["DEBUG"] == "false" and env["SECRET_KEY"] == ""
    env.update(SECRET_KEY="x" * 20 + "abcdefghij" * 4, CCHC_VAR_DIR=str(tmp_path))
    settings = build(env)
    assert settings["DEBUG"] is False
    assert settings["CCHC_TRUSTED_PROXIES"] == ["127.0.0.1"]
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert "statement_timeout" in settings["DATABASES"]["default"]["OPTIONS"]["options"]


def test_deployment_doc_explains_every_gunicorn_variable():
    doc = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    missing = [name for name in GUNICORN_VARS if name not in doc]
    assert missing == []
    assert "docs/backups.md" in doc or "(backups.md)" in doc
    for probe in ("/healthz", "/readyz", "/metrics", "CCHC_TRUSTED_PROXIES"):
        assert probe in doc


# --- nginx --------------------------------------------------------------------------------


def blocks(text: str, opener: str) -> list[str]:
    """The bodies of the `opener … { … }` blocks of an nginx file (braces matched)."""
    found = []
    for match in re.finditer(re.escape(opener) + r"[^{;]*\{", text):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                found.append(text[start:i])
                break
    return found


def directive(body: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", body, flags=re.M)


def test_nginx_limits_bodies_and_allows_imports_up_to_the_import_limit(tmp_path):
    import_limit = build({"CCHC_VAR_DIR": str(tmp_path)})["CCHC_IMPORT_MAX_BYTES"]
    assert f"{import_limit >> 20}m" == "512m"
    main = [b for b in blocks(NGINX, "server") if "listen 443 ssl http2" in b]
    assert len(main) == 1
    assert "25m" in directive(main[0], "client_max_body_size")
    imports = [
        b
        for opener in ("location /nhap-du-lieu/", "location = /thu-tuc/nhap/", "location ~")
        for b in blocks(NGINX, opener)
        if "nhap" in opener or "client_max_body_size 512m" in b
    ]
    assert len(imports) == 3
    for body in imports:
        assert directive(body, "client_max_body_size") == ["512m"]


def test_nginx_sends_the_client_address_scheme_and_request_id():
    for header, value in (
        ("X-Forwarded-For", "$remote_addr"),
        ("X-Forwarded-Proto", "$scheme"),
        ("X-Request-ID", "$request_id"),
        ("Host", "$host"),
    ):
        assert re.search(rf"proxy_set_header\s+{header}\s+{re.escape(value)};", NGINX), header
    assert "CCHC_TRUSTED_PROXIES" in NGINX
    assert re.search(r"proxy_read_timeout\s+60s;", NGINX)


def test_nginx_tls_hsts_redirect_and_protected_metrics():
    assert directive(NGINX, "ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    assert "Strict-Transport-Security" in NGINX and "max-age=31536000" in NGINX
    assert "return 301 https://$host$request_uri;" in NGINX
    metrics = blocks(NGINX, "location = /metrics")
    assert len(metrics) == 1 and "deny all;" in metrics[0]
    for probe in ("/healthz", "/readyz"):
        body = blocks(NGINX, f"location = {probe}")
        assert len(body) == 1 and "deny" not in body[0] and "proxy_pass" in body[0]


class _Echo(http.server.BaseHTTPRequestHandler):
    """The stand-in application: answers with the headers it received."""

    seen: list[dict[str, str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
        _Echo.seen.append({**dict(self.headers.items()), "_path": self.path, "_len": str(length)})
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def nginx_in_front(tmp_path):
    """nginx with deploy/nginx/cchc.conf on free ports, a self-signed certificate, and the
    stand-in application as its upstream."""
    if not shutil.which("nginx") or not shutil.which("openssl"):
        pytest.skip("nginx or openssl not installed")
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=motcua.example.gov.vn"),
            *("-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (
        NGINX.replace(
            "/etc/letsencrypt/live/motcua.example.gov.vn/fullchain.pem", str(tmp_path / "cert.pem")
        )
        .replace(
            "/etc/letsencrypt/live/motcua.example.gov.vn/privkey.pem", str(tmp_path / "key.pem")
        )
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app.server_address[1]};")
        .replace("listen 80", f"listen {http_port}")
        .replace("listen [::]:80", f"listen [::]:{http_port}")
        .replace("listen 443", f"listen {https_port}")
        .replace("listen [::]:443", f"listen [::]:{https_port}")
    )
    (tmp_path / "cchc.conf").write_text(site, encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"""
        {"user root;" if os.getuid() == 0 else ""}
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        daemon off;
        events {{}}
        http {{
            access_log off;
            client_body_temp_path {tmp_path}/tmp;
            proxy_temp_path {tmp_path}/tmp;
            include {tmp_path}/cchc.conf;
        }}
        """,
        encoding="utf-8",
    )
    check = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    _Echo.seen = []
    try:
        yield http_port, https_port
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        app.shutdown()


def _https(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    conn.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=30),
        server_hostname="motcua.example.gov.vn",
    )
    conn.request(
        method, path, body=body, headers={"Host": "motcua.example.gov.vn", **(headers or {})}
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_nginx_in_front_of_the_application(nginx_in_front):
    http_port, https_port = nginx_in_front
    # HTTP → HTTPS.
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    conn.request("GET", "/ho-so/?q=1", headers={"Host": "motcua.example.gov.vn"})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == "https://motcua.example.gov.vn/ho-so/?q=1"

    # Proxied with the client's address (not a forged one), the scheme and a request id.
    response = _https(https_port, "GET", "/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status == 200
    assert "max-age=31536000" in response.getheader("Strict-Transport-Security")
    seen = _Echo.seen[-1]
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "https"
    assert re.fullmatch(r"[0-9a-f]{32}", seen["X-Request-ID"])

    # 30 MB: refused on an ordinary page, accepted on the import page.
    big = b"x" * (30 << 20)
    assert _https(https_port, "POST", "/dang-nhap/", body=big).status == 413
    assert _https(https_port, "POST", "/nhap-du-lieu/ho-so/", body=big).status == 200
    assert _Echo.seen[-1]["_len"] == str(30 << 20)

    # An unknown host name gets no certificate at all.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        pytest.raises(ssl.SSLError),
        socket.create_connection(("127.0.0.1", https_port), timeout=10) as raw,
    ):
        context.wrap_socket(raw, server_hostname="other.example.com")


# --- containers ---------------------------------------------------------------------------


def test_compose_file_parses_and_runs_the_stack():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: compose.yaml not parsed")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web", "worker", "scheduler"}
    db = services["db"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    init_script = db["volumes"][1].split(":")[0]
    assert (DEPLOY / init_script).is_file()
    assert services["migrate"]["command"] == ["cchc", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "scheduler"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["DEBUG"] == "false"
        assert "cchc_app" in service["environment"]["DATABASE_URL"]
    assert "cchc:" in services["migrate"]["environment"]["DATABASE_URL"]  # the owner
    web = services["web"]["command"]
    assert web[:2] == ["gunicorn", "-c"] and (ROOT / web[2].removeprefix("/app/")).is_file()
    for name in ("worker", "scheduler"):
        command = services[name]["command"]
        assert command[0] == "cchc" and get_commands()[command[1]] == "cchc.jobs"
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_dockerfile_names_what_exists():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim-bookworm" in text
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run_packages = re.search(r"^RUN_PACKAGES\s*:=\s*(.+)$", makefile, flags=re.M)
    assert run_packages is not None
    for package in [*run_packages.group(1).split(), "postgresql-client"]:
        assert package in text, package
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.M):
        for item in source.split():
            assert (ROOT / item).exists(), item
    assert re.search(r"^USER cchc$", text, flags=re.M)
    assert "collectstatic" in text
    assert re.search(r"^HEALTHCHECK .*\n?.*deploy/healthcheck.py", text, flags=re.M)
    assert "/app/deploy/gunicorn.conf.py" in text


def _healthcheck(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py")],
        env={"PATH": "/usr/bin:/bin", "GUNICORN_BIND": f"0.0.0.0:{port}", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_container_healthcheck_asks_as_the_proxy_would():
    """deploy/healthcheck.py (the image's HEALTHCHECK): /healthz with the first allowed host
    and X-Forwarded-Proto https, so neither the host check nor the HTTPS redirect trips it."""
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    _Echo.seen = []
    try:
        result = _healthcheck(app.server_address[1], ALLOWED_HOSTS="motcua.example.gov.vn,x")
    finally:
        app.shutdown()
    assert result.returncode == 0, result.stderr
    seen = _Echo.seen[-1]
    assert seen["_path"] == "/healthz"
    assert seen["Host"] == "motcua.example.gov.vn"
    assert seen["X-Forwarded-Proto"] == "https"


def test_container_healthcheck_fails_without_a_server():
    result = _healthcheck(free_port())
    assert result.returncode == 1
    assert result.stderr.startswith("healthcheck: ") and "Traceback" not in result.stderr
