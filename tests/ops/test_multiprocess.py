"""The latency histogram under real gunicorn with two worker processes: a scrape, answered
by either worker, counts the requests both of them served (prometheus_client multiprocess
mode through PROMETHEUS_MULTIPROC_DIR, as deploy/gunicorn.conf.py sets it up); and each
worker writes its access lines to stdout as JSON."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "cchc_http_request_duration_seconds_count" and sample.labels == {
                "view": "ops:healthz",
                "method": "GET",
                "status": "2xx",
            }:
                return sample.value
    return 0


def access_lines(log: Path) -> list[dict]:
    found = []
    for raw in log.read_text().splitlines():
        if raw.startswith("{"):
            line = json.loads(raw)
            if line.get("logger") == "cchc.access":
                found.append(line)
    return found


def test_histogram_sums_the_gunicorn_workers(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "CCHC_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "tests.ops.gunicorn_settings",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "1",
        "GUNICORN_MAX_REQUESTS": "0",
        "PYTHONPATH": str(REPO),
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", str(REPO / "deploy" / "gunicorn.conf.py"), "cchc.wsgi"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        sent = 1
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(40):  # until both workers have answered some
                statuses = list(pool.map(lambda _: get(port, "/healthz")[0], range(16)))
                assert statuses == [200] * 16
                sent += 16
                time.sleep(0.2)  # the lines reach the file
                if len({line["pid"] for line in access_lines(log)}) >= 2:
                    break
        pids = {line["pid"] for line in access_lines(log)}
        assert len(pids) == 2, "one worker served every request"
        status, body = get(port, "/metrics")
        assert status == 200, body
        # Every request both workers logged is in the one scrape (the start-up polling may
        # have had a request served whose answer it did not wait for: >=).
        lines = [line for line in access_lines(log) if line["view"] == "ops:healthz"]
        assert len(lines) >= sent
        assert healthz_count(body.decode()) == len(lines)
        assert {line["pid"] for line in lines} == pids
        assert all(line["status"] == 200 and line["request_id"] for line in lines)
        # Each worker wrote its own samples file; the scrape summed them.
        assert len(list(metrics_dir.glob("histogram_*.db"))) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)
