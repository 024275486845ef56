"""Run cchc's whole stack on this machine: the web process, the job worker and the scheduler.

    python scripts/stack.py serve   # production stack: gunicorn (deploy/gunicorn.conf.py)
    python scripts/stack.py run     # development: `cchc runserver` instead of gunicorn

`make serve` and `make run` call it. It prepares the database first (`cchc migrate`, and for
`serve` `cchc collectstatic`), then starts the three processes, prefixes each output line
with the process name, forwards Ctrl-C/SIGTERM to all of them and waits for them to finish
(graceful: gunicorn completes the requests in flight, the worker its current job). If one
process dies on its own, the others are stopped and the script exits non-zero, so that a
supervisor (or the person at the terminal) sees the failure instead of a half-running stack.

`serve` runs with DEBUG=false on localhost: the production checks of cchc.config apply, so
the script supplies what a single machine lacks — a SECRET_KEY generated once and kept in
<var>/secret_key (mode 0600), ALLOWED_HOSTS=127.0.0.1,localhost, SECURE_SSL_REDIRECT=false
(there is no TLS on localhost) — unless the environment already sets them, and says so.

Pure standard library and POSIX (process groups, signals); no Django import here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shlex
import signal
import site
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

REPO_DIR = Path(__file__).resolve().parent.parent
GUNICORN_CONF = REPO_DIR / "deploy" / "gunicorn.conf.py"
PROCESS_NAMES = ("web", "worker", "scheduler")
# Longer than gunicorn's graceful_timeout (30 s): workers finish their requests first.
DEFAULT_GRACE = 40.0
# After a leader exits, what is left in its process group gets this long before SIGKILL.
STRAGGLER_GRACE = 2.0


_print_lock = threading.Lock()


def say(message: str) -> None:
    """The script's own lines, marked so they stand out among the children's; written
    whole under the lock the children's lines take, so no two lines ever interleave."""
    with _print_lock:
        sys.stdout.write(f"stack: {message}\n")
        sys.stdout.flush()


# --- Environment --------------------------------------------------------------------------


def var_dir(env: Mapping[str, str]) -> Path:
    """The same default as cchc.config: CCHC_VAR_DIR, else var/ in the repository."""
    return Path(env.get("CCHC_VAR_DIR", "").strip() or REPO_DIR / "var").resolve()


def secret_key(path: Path) -> tuple[str, bool]:
    """The key kept in `path`, generated (mode 0600, created exclusively) on first use.
    Returns (key, created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # a copied file may have lost its mode: keep it private
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 50:
            raise SystemExit(
                f"stack: {path} holds a key shorter than 50 characters; delete the file to "
                "generate a new one, or set SECRET_KEY."
            ) from None
        return key, False
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key, True


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def prepare_env(
    mode: str, base: Mapping[str, str], host: str, port: int
) -> tuple[dict[str, str], list[str]]:
    """The children's environment and the notes to print about what was filled in.

    Values already in `base` win, except DEBUG under `serve`, which is always false: `serve`
    is the production stack, and a production stack with DEBUG on is not what it tests."""
    env = dict(base)
    notes: list[str] = []
    env["PYTHONUNBUFFERED"] = "1"  # lines reach the prefixer as they are written
    if mode == "run":
        env.setdefault("DEBUG", "true")
        return env, notes

    if env.get("DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off"):
        notes.append(f"DEBUG={env['DEBUG']} ignored: serve always runs with DEBUG=false")
    env["DEBUG"] = "false"
    if env.get("SECRET_KEY"):
        notes.append("SECRET_KEY from the environment")
    else:
        path = var_dir(env) / "secret_key"
        env["SECRET_KEY"], created = secret_key(path)
        notes.append(f"SECRET_KEY {'generated into' if created else 'read from'} {path} (0600)")
    if not env.get("ALLOWED_HOSTS"):
        hosts = ["127.0.0.1", "localhost"]
        if _url_host(host) not in hosts and host not in ("0.0.0.0", "::"):  # noqa: S104
            hosts.append(host)
        env["ALLOWED_HOSTS"] = ",".join(hosts)
        notes.append(f"ALLOWED_HOSTS={env['ALLOWED_HOSTS']}")
    if "SECURE_SSL_REDIRECT" not in env:
        env["SECURE_SSL_REDIRECT"] = "false"
        notes.append("SECURE_SSL_REDIRECT=false (no TLS on localhost; keep it on behind a proxy)")
    site = f"http://{_url_host(host)}:{port}"
    if not env.get("CCHC_SITE_URL"):
        env["CCHC_SITE_URL"] = site
        notes.append(f"CCHC_SITE_URL={site}")
    if not env.get("CCHC_CACHE_URL"):
        # One cache for the gunicorn workers (and the job worker that changes the cells):
        # a dashboard computed by one worker is served warm by the others.
        env["CCHC_CACHE_URL"] = "file://"
        notes.append("CCHC_CACHE_URL=file:// (var/cache, shared by the web workers)")
    bind_host = f"[{host}]" if ":" in host else host
    env.setdefault("GUNICORN_BIND", f"{bind_host}:{port}")
    notes.append(
        "secure cookies stay on: sign in with a browser (it accepts them on http://localhost "
        "and 127.0.0.1), not with a cookie-less client over plain HTTP"
    )
    return env, notes


# --- Commands -----------------------------------------------------------------------------


def cchc(*args: str) -> list[str]:
    """`cchc ARGS` through this interpreter (works in .venv, a container and under systemd)."""
    return [sys.executable, "-m", "cchc", *args]


def static_root(env: Mapping[str, str]) -> Path:
    """STATIC_ROOT as cchc.settings computes it (CCHC_STATIC_ROOT, else <var>/static)."""
    explicit = env.get("CCHC_STATIC_ROOT", "").strip()
    return Path(explicit).resolve() if explicit else var_dir(env) / "static"


def static_up_to_date(root: Path) -> bool:
    """Whether the collected files are newer than every source of static files: the apps'
    static/ directories, htmx, and the installed packages (Django's admin, the API docs),
    whose directory changes whenever a package is installed or upgraded. collectstatic with
    compression takes tens of seconds on 2 cores: `make serve` skips it when nothing changed.
    """
    manifest = root / "staticfiles.json"
    if not manifest.is_file():
        return False
    sources = [d for d in (REPO_DIR / "src").rglob("static") if d.is_dir()]
    sources.append(REPO_DIR / "node_modules" / "htmx.org")
    newest = max((Path(p).stat().st_mtime for p in site.getsitepackages()), default=0.0)
    for directory in sources:
        for path in [directory, *directory.rglob("*")] if directory.exists() else []:
            newest = max(newest, path.stat().st_mtime)
    return manifest.stat().st_mtime >= newest


def setup_commands(
    mode: str, demo: bool, collectstatic: bool = True
) -> list[tuple[str, list[str]]]:
    steps = [("migrate", cchc("migrate", "--noinput"))]
    if mode == "serve" and collectstatic:
        steps.append(("collectstatic", cchc("collectstatic", "--noinput", "-v", "0")))
    if demo:
        steps.append(("demo", cchc("demo", "--if-empty")))
    return steps


def process_commands(
    mode: str,
    host: str,
    port: int,
    *,
    worker: bool = True,
    scheduler: bool = True,
    replace: Mapping[str, Sequence[str]] | None = None,
) -> list[tuple[str, list[str]]]:
    """(name, argv) of each long-running process, in start order."""
    if mode == "serve":
        web = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "cchc.wsgi"]
    else:
        bind_host = f"[{host}]" if ":" in host else host
        web = cchc("runserver", f"{bind_host}:{port}")
    wanted = {"web": web}
    if worker:
        wanted["worker"] = cchc("worker")
    if scheduler:
        wanted["scheduler"] = cchc("scheduler")
    for name, argv in (replace or {}).items():
        if name in wanted:
            wanted[name] = list(argv)
    return list(wanted.items())


# --- Children -----------------------------------------------------------------------------


@dataclass
class Child:
    """One process of the stack, in its own process group (so that the terminal's Ctrl-C
    reaches only this script, which then stops every child in order)."""

    name: str
    argv: list[str]
    width: int
    proc: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    expected_exit: bool = field(default=False)

    def start(self, env: Mapping[str, str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - argv built above, never from a shell
            self.argv,
            env=dict(env),
            cwd=REPO_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True)
        self.reader.start()

    def _pump(self, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        prefix = f"{self.name:<{self.width}} | "
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with _print_lock:
                sys.stdout.write(prefix + line + "\n")
                sys.stdout.flush()

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def signal(self, signum: int) -> None:
        """Signal the leader only: gunicorn's master stops its workers itself, gracefully."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signum)

    def kill_group(self, signum: int) -> bool:
        """Signal whatever is left in the process group; False when nothing is."""
        if self.proc is None:
            return False
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def finish(self) -> None:
        """After the leader exited: stop leftovers (runserver's reloaded child), flush output."""
        if self.kill_group(0):
            self.kill_group(signal.SIGTERM)
            deadline = time.monotonic() + STRAGGLER_GRACE
            while time.monotonic() < deadline and self.kill_group(0):
                time.sleep(0.05)
            self.kill_group(signal.SIGKILL)
        if self.reader is not None:
            self.reader.join(timeout=2)


class Stack:
    """Starts children, waits for a signal or a death, stops everything."""

    def __init__(self, env: Mapping[str, str], grace: float) -> None:
        self.env = dict(env)
        self.grace = grace
        self.children: list[Child] = []
        self.stop_signal: int | None = None
        self.force = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is not None:
            self.force = True  # a second Ctrl-C: stop waiting
        self.stop_signal = signum

    def install_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.on_signal)

    def run_step(self, name: str, argv: list[str], width: int) -> int:
        """A setup step, in the foreground; a signal stops it too."""
        child = Child(name, argv, width)
        child.start(self.env)
        while (code := child.poll()) is None:
            if self.stop_signal is not None:
                self.stop([child])
                return 130
            time.sleep(0.1)
        child.finish()
        return code

    def start(self, commands: Sequence[tuple[str, list[str]]], width: int) -> None:
        for name, argv in commands:
            child = Child(name, argv, width)
            say(f"starting {name}: {shlex.join(argv)}")
            child.start(self.env)
            self.children.append(child)

    def wait(self) -> Child | None:
        """Block until a stop is asked for (None) or a child exits (that child)."""
        while self.stop_signal is None:
            for child in self.children:
                if child.poll() is not None:
                    return child
            time.sleep(0.1)
        return None

    def stop(self, children: Sequence[Child] | None = None) -> None:
        """SIGTERM to every leader still running, wait up to the grace period, then kill."""
        targets = list(self.children if children is None else children)
        for child in targets:
            child.expected_exit = True
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while any(c.poll() is None for c in targets):
            if self.force or time.monotonic() > deadline:
                for child in targets:
                    if child.poll() is None:
                        say(f"{child.name} did not stop in time: killing it")
                        child.kill_group(signal.SIGKILL)
                break
            time.sleep(0.1)
        for child in targets:
            if child.proc is not None:
                child.proc.wait()
            child.finish()


def parse_replacements(items: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, command = item.partition("=")
        if not sep or name not in PROCESS_NAMES or not command.strip():
            raise SystemExit(
                f"stack: --cmd wants NAME=COMMAND with NAME in {', '.join(PROCESS_NAMES)}, "
                f"got {item!r}"
            )
        out[name] = shlex.split(command)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stack.py",
        description="Run cchc's web process, job worker and scheduler together (make serve, "
        "make run). Ctrl-C or SIGTERM stops all three gracefully; if one dies, the others are "
        "stopped and the exit status is non-zero.",
    )
    parser.add_argument(
        "mode",
        choices=("serve", "run"),
        help="serve: production stack with gunicorn and DEBUG=false; run: development, "
        "`cchc runserver` with DEBUG=true by default",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--no-worker", action="store_true", help="do not start `cchc worker`")
    parser.add_argument("--no-scheduler", action="store_true", help="do not start `cchc scheduler`")
    parser.add_argument(
        "--no-setup",
        action="store_true",
        help="skip `cchc migrate` (and `cchc collectstatic` under serve)",
    )
    parser.add_argument(
        "--collectstatic",
        action="store_true",
        help="run `cchc collectstatic` even when the collected files look up to date (serve)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="after migrating, run `cchc demo --if-empty`"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE,
        help=f"seconds the processes get to stop before being killed (default {DEFAULT_GRACE:g})",
    )
    parser.add_argument(
        "--cmd",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="replace the command of web, worker or scheduler (for tests and debugging, e.g. "
        "--cmd 'worker=cchc worker --verbose')",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env, notes = prepare_env(args.mode, os.environ, args.host, args.port)
    commands = process_commands(
        args.mode,
        args.host,
        args.port,
        worker=not args.no_worker,
        scheduler=not args.no_scheduler,
        replace=parse_replacements(args.cmd),
    )
    collect = args.collectstatic or not static_up_to_date(static_root(env))
    if args.mode == "serve" and not args.no_setup and not collect:
        notes.append(
            f"static files in {static_root(env)} are up to date: collectstatic skipped "
            "(--collectstatic forces it)"
        )
    steps = [] if args.no_setup else setup_commands(args.mode, args.demo, collect)
    width = max(len(name) for name, _ in [*commands, *steps])

    settings = (
        "production settings, DEBUG=false" if args.mode == "serve" else f"DEBUG={env['DEBUG']}"
    )
    say(f"{args.mode} — {settings}")
    for note in notes:
        say(f"  {note}")
    stack = Stack(env, args.grace)
    stack.install_handlers()
    for name, step in steps:
        code = stack.run_step(name, step, width)
        if stack.stop_signal is not None:
            say(f"{signal.Signals(stack.stop_signal).name} during {name}: stopped")
            return 0
        if code != 0:
            say(f"{name} failed (exit {code}); nothing started")
            return code if code > 0 else 1
    stack.start(commands, width)
    say(f"web on http://{_url_host(args.host)}:{args.port}/ — Ctrl-C stops everything")
    died = stack.wait()
    if died is None:
        say(f"{signal.Signals(stack.stop_signal or signal.SIGTERM).name}: stopping all")
        stack.stop()
        say("stopped")
        return 0
    code = died.poll()
    say(f"{died.name} exited unexpectedly (exit {code}); stopping the others")
    died.finish()
    stack.stop([c for c in stack.children if c is not died])
    return code if code is not None and code > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
