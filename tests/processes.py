"""Real processes against a scratch database of the leg's backend: for tests of what runs
outside the test process (the worker, the scheduler, the console script)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

CCHC = str(Path(sys.executable).with_name("cchc"))


@contextmanager
def scratch_database(tmp: Path, *, migrate: bool = True) -> Iterator[dict[str, str]]:
    """The environment of a process using a fresh database on this leg's backend (SQLite
    file under `tmp`, or a new PostgreSQL database dropped afterwards), migrated."""
    url = os.environ.get("DATABASE_URL", "")
    env = {
        **os.environ,
        "DEBUG": "true",
        "CCHC_JOBS_SYNC": "false",
        "CCHC_VAR_DIR": str(tmp / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    dbname = ""
    if url.startswith("postgres"):
        import psycopg

        parts = urlsplit(url)
        dbname = f"cchc_scratch_{uuid.uuid4().hex[:10]}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{dbname}"))
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'scratch.sqlite3'}"
    try:
        if migrate:
            run(env, "migrate", "--noinput", "-v0")
        yield env
    finally:
        if dbname:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def run(env: dict[str, str], *args: str, check: bool = True, timeout: float = 300) -> Any:
    """`cchc ARGS` to completion; output captured."""
    done = subprocess.run([CCHC, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"cchc {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    """`cchc ARGS` in the background, output to `log`."""
    out = log.open("wb")
    return subprocess.Popen([CCHC, *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM, then wait (SIGKILL if it does not stop in time)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def wait_until(check: Callable[[], Any], *, timeout: float = 60, every: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {check}")
        time.sleep(every)
