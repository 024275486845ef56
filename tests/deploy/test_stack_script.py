"""scripts/stack.py, what `make serve` and `make run` start: its settings for localhost, its
signal handling and failure handling (with stand-in processes), and one real production
stack — migrate, collectstatic, gunicorn, worker, scheduler — answering, then stopping."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from cchc.config import build

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "stack.py"


def load_stack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cchc_stack_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


stack = load_stack()

# A stand-in for web/worker/scheduler: says it is ready, says goodbye on SIGTERM/SIGINT.
# `die` exits 3 on its own; `stubborn` ignores SIGTERM.
CHILD = """
import signal, sys, time
name, mode = sys.argv[1], sys.argv[2]
def bye(signum, frame):
    print(f"bye {name} {signal.Signals(signum).name}", flush=True)
    sys.exit(0)
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, signal.SIG_IGN if mode == "stubborn" else bye)
print(f"ready {name}", flush=True)
if mode == "die":
    time.sleep(0.5)
    print("giving up", flush=True)
    sys.exit(3)
while True:
    time.sleep(0.05)
"""


class Running:
    """A stack.py subprocess whose output lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n" + self.output)
            if self.proc.poll() is not None and not predicate():
                time.sleep(0.2)  # let the reader catch the last lines
                if not predicate():
                    raise AssertionError(f"stack exited before {what}:\n" + self.output)
            time.sleep(0.05)

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def stand_ins(tmp_path: Path, **modes: str) -> list[str]:
    child = tmp_path / "child.py"
    child.write_text(CHILD, encoding="utf-8")
    return [
        arg
        for name in ("web", "worker", "scheduler")
        for arg in ("--cmd", f"{name}={sys.executable} {child} {name} {modes.get(name, 'run')}")
    ]


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a stack on its own SQLite file and data directory: nothing from the
    test run (its database, DEBUG, the in-process jobs switch) leaks in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CCHC_", "GUNICORN_", "PROMETHEUS_", "DJANGO_"))
        and k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")
    }
    env["CCHC_VAR_DIR"] = str(tmp_path / "var")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'var' / 'stack.sqlite3'}"
    return env


# --- settings for localhost ---------------------------------------------------------------


def test_help_names_the_modes_and_switches():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    for word in ("serve", "run", "--no-worker", "--no-scheduler", "--no-setup", "--demo"):
        assert word in result.stdout


def test_serve_fills_in_production_settings_for_localhost(tmp_path):
    env, notes = stack.prepare_env(
        "serve", {"CCHC_VAR_DIR": str(tmp_path), "DEBUG": "true"}, "127.0.0.1", 8001
    )
    assert env["DEBUG"] == "false"
    assert any("DEBUG=true ignored" in n for n in notes)
    assert env["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert env["SECURE_SSL_REDIRECT"] == "false"
    assert env["CCHC_SITE_URL"] == "http://127.0.0.1:8001"
    assert env["GUNICORN_BIND"] == "127.0.0.1:8001"
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert env["SECRET_KEY"] == key_file.read_text(encoding="ascii").strip()
    assert len(env["SECRET_KEY"]) >= 50
    # The key is kept: a second start signs sessions with the same one.
    again, notes = stack.prepare_env("serve", {"CCHC_VAR_DIR": str(tmp_path)}, "127.0.0.1", 8001)
    assert again["SECRET_KEY"] == env["SECRET_KEY"]
    assert any("read from" in n for n in notes)
    # ...and the settings pass cchc's production checks.
    assert build(env)["DEBUG"] is False


def test_serve_keeps_what_the_environment_sets(tmp_path):
    given = {
        "CCHC_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "cchc.test",
        "SECURE_SSL_REDIRECT": "true",
        "GUNICORN_BIND": "unix:/tmp/x.sock",
    }
    env, _ = stack.prepare_env("serve", given, "0.0.0.0", 8000)  # noqa: S104 - not binding
    for name, value in given.items():
        assert env[name] == value
    assert not (tmp_path / "secret_key").exists()


def test_serve_refuses_a_truncated_key_file(tmp_path):
    (tmp_path / "secret_key").write_text("short\n", encoding="ascii")
    with pytest.raises(SystemExit, match="secret_key"):
        stack.prepare_env("serve", {"CCHC_VAR_DIR": str(tmp_path)}, "127.0.0.1", 8000)


def test_run_is_development(tmp_path):
    env, notes = stack.prepare_env("run", {"CCHC_VAR_DIR": str(tmp_path)}, "127.0.0.1", 8000)
    assert env["DEBUG"] == "true" and "SECRET_KEY" not in env and notes == []


def test_commands_per_mode_and_switches():
    serve = dict(stack.process_commands("serve", "127.0.0.1", 8000))
    assert serve["web"][1:] == [
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "cchc.wsgi",
    ]
    assert serve["worker"][-1] == "worker" and serve["scheduler"][-1] == "scheduler"
    run = dict(stack.process_commands("run", "::1", 8080, worker=False))
    assert run["web"][-2:] == ["runserver", "[::1]:8080"]
    assert set(run) == {"web", "scheduler"}
    assert [n for n, _ in stack.setup_commands("serve", demo=True)] == [
        "migrate",
        "collectstatic",
        "demo",
    ]
    assert [n for n, _ in stack.setup_commands("run", demo=False)] == ["migrate"]


# --- supervision, with stand-in processes -------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_process_gracefully(tmp_path, signum):
    running = Running(["run", "--no-setup", *stand_ins(tmp_path)], clean_env(tmp_path))
    try:
        running.wait_for(lambda: running.output.count("| ready ") == 3, 60, "three ready lines")
        running.proc.send_signal(signum)
        assert running.finish() == 0
    finally:
        running.kill()
    out = running.output
    # Each line carries its process's name; each process got SIGTERM and said goodbye.
    for name in ("web", "worker", "scheduler"):
        assert re.search(rf"^{name}\s*\| ready {name}$", out, flags=re.M), out
        assert re.search(rf"^{name}\s*\| bye {name} SIGTERM$", out, flags=re.M), out
    assert "stack: stopped" in out


def test_one_process_dying_stops_the_others_and_fails(tmp_path):
    running = Running(
        ["run", "--no-setup", *stand_ins(tmp_path, scheduler="die")], clean_env(tmp_path)
    )
    try:
        code = running.finish()
    finally:
        running.kill()
    out = running.output
    assert code == 3, out
    assert "scheduler exited unexpectedly (exit 3)" in out
    assert re.search(r"^web\s*\| bye web SIGTERM$", out, flags=re.M), out
    assert re.search(r"^worker\s*\| bye worker SIGTERM$", out, flags=re.M), out


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    running = Running(
        ["run", "--no-setup", "--grace", "1", *stand_ins(tmp_path, worker="stubborn")],
        clean_env(tmp_path),
    )
    try:
        running.wait_for(lambda: running.output.count("| ready ") == 3, 60, "three ready lines")
        started = time.monotonic()
        running.proc.send_signal(signal.SIGTERM)
        assert running.finish() == 0
        assert time.monotonic() - started < 15
    finally:
        running.kill()
    assert "worker did not stop in time: killing it" in running.output


def test_no_worker_and_no_scheduler_start_only_the_web_process(tmp_path):
    running = Running(
        ["run", "--no-setup", "--no-worker", "--no-scheduler", *stand_ins(tmp_path)],
        clean_env(tmp_path),
    )
    try:
        running.wait_for(lambda: "| ready web" in running.output, 60, "the web process")
        time.sleep(0.3)
        running.proc.send_signal(signal.SIGTERM)
        assert running.finish() == 0
    finally:
        running.kill()
    assert "ready worker" not in running.output and "ready scheduler" not in running.output


def test_a_failing_setup_step_starts_nothing(tmp_path):
    env = clean_env(tmp_path) | {"DATABASE_URL": "nonsense://"}
    running = Running(["serve", *stand_ins(tmp_path)], env)
    try:
        code = running.finish()
    finally:
        running.kill()
    assert code == 2, running.output  # cchc's exit code for invalid configuration
    assert "migrate failed (exit 2); nothing started" in running.output
    assert "ready" not in running.output


# --- the real production stack ------------------------------------------------------------


def _get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _job_runs(env: dict[str, str], name: str) -> list[dict]:
    """The recorded runs of a periodic job, read from the stack's database by the CLI."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cchc")), "jobs", "runs", "--json", "--name", name],
        env=env | {"DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(done.stdout)["runs"] if done.returncode == 0 else []


def _worker_processes(tmp_path: Path) -> list[int]:
    """The `cchc worker` processes (the main one and its cluster) of this test's stack."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        mine = f"CCHC_VAR_DIR={tmp_path / 'var'}".encode() in environ
        if mine and b"worker" in argv and any(a.endswith(b"cchc") for a in argv):
            found.append(int(entry.name))
    return found


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the stack runs on its own SQLite file; the SQLite leg runs this test",
)
def test_make_serve_stack_answers_and_stops_cleanly(tmp_path):
    """migrate, collectstatic, gunicorn with deploy/gunicorn.conf.py, worker, scheduler:
    pages and static files served with DEBUG=false, the probes green, SIGTERM stops all."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = clean_env(tmp_path) | {
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        # a frozen worker shows on /readyz within seconds, not the production 90
        "CCHC_HEARTBEAT_STALE_SECONDS": "8",
    }
    # collectstatic (compression included) is most of this test's time: when STATIC_ROOT can
    # be set apart from the data directory, the collected files are kept between runs under
    # var/ and the stack skips collecting while they are up to date.
    shared_static = ROOT / "var" / "test-stack-static"
    if build({"CCHC_STATIC_ROOT": str(shared_static)}).get("STATIC_ROOT") == shared_static:
        env["CCHC_STATIC_ROOT"] = str(shared_static)
    running = Running(["serve", "--port", str(port)], env)
    try:
        running.wait_for(lambda: "Booting worker" in running.output, 900, "gunicorn")

        def answers() -> bool:
            try:
                return _get(port, "/dang-nhap/")[0] == 200
            except OSError:
                return False

        running.wait_for(answers, 60, "the sign-in page")
        status, headers, body = _get(port, "/dang-nhap/")
        assert "csrftoken" in headers.get("set-cookie", "") and "Secure" in headers["set-cookie"]
        # DEBUG is off: static files are the collected, hashed ones, served by WhiteNoise.
        hashed = re.search(rb"/static/([\w/.-]+\.[0-9a-f]{12}\.css)", body)
        assert hashed, body[:500]
        status, headers, _ = _get(port, "/static/" + hashed.group(1).decode())
        assert status == 200 and "max-age=315360000" in headers["cache-control"]
        # No HTTPS redirect on localhost, and an unknown host is refused.
        assert _get(port, "/")[0] == 302
        assert _get(port, "/", {"Host": "evil.example"})[0] == 400  # (logged by Django)
        assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600

        probes = _resolves("/healthz") and _resolves("/readyz")
        if probes:
            assert _get(port, "/healthz")[0] == 200
            # The container's HEALTHCHECK against the real application.
            check = subprocess.run(
                [sys.executable, str(ROOT / "deploy" / "healthcheck.py")],
                env={"GUNICORN_BIND": f"127.0.0.1:{port}", "ALLOWED_HOSTS": "localhost"},
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert check.returncode == 0, check.stderr
            running.wait_for(lambda: _get(port, "/readyz")[0] == 200, 90, "/readyz 200")
            # The every-minute job ran on the stack's worker and its run is recorded.
            running.wait_for(
                lambda: any(r["outcome"] == "ok" for r in _job_runs(env, "notifications-send")),
                150,
                "a recorded run of the every-minute job",
            )
            # A worker that stops answering (frozen: its heartbeat stops) turns /readyz red,
            # and green again when it resumes.
            worker = _worker_processes(tmp_path)
            assert worker, "no worker process found"
            for pid in worker:
                os.kill(pid, signal.SIGSTOP)
            try:
                running.wait_for(lambda: _get(port, "/readyz")[0] == 503, 60, "/readyz 503")
                body = json.loads(_get(port, "/readyz")[2])
                assert not body["checks"]["worker"]["ok"] and body["checks"]["scheduler"]["ok"]
            finally:
                for pid in worker:
                    os.kill(pid, signal.SIGCONT)
            running.wait_for(lambda: _get(port, "/readyz")[0] == 200, 60, "/readyz 200 again")

        running.proc.send_signal(signal.SIGTERM)
        assert running.finish(timeout=90) == 0
    finally:
        running.kill()
    out = running.output
    assert "stack: stopped" in out
    for name in ("migrate", "web", "worker", "scheduler"):
        assert re.search(rf"^{name}\s*\| ", out, flags=re.M), out
    if not probes:
        pytest.skip("served and stopped cleanly; /healthz and /readyz are not routed yet")
