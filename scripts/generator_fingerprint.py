"""Fingerprint of the demo data on a fresh SQLite file: the base demo set, then N dossiers
of 2024 with a fixed seed (as `cchc demo --dossiers N --year 2024 --seed S`), hashed table
by table (`tests/demo/fingerprint.py`). Two runs of the same N and seed print the same
hashes; compare a run before and after a refactoring of the generator.

    .venv/bin/python scripts/generator_fingerprint.py [N] [SEED] [FILE]

(default 3000 dossiers, seed 11, var/fingerprint.sqlite3, removed first)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    path = Path(sys.argv[3]) if len(sys.argv) > 3 else ROOT / "var" / "fingerprint.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from tests.demo import fingerprint

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    result = fingerprint.load(n, seed=seed)
    seconds = time.perf_counter() - began
    tables = fingerprint.fingerprint()
    for label, table in tables.items():
        print(f"{label:26} {table['rows']:>8} {table['sha256']}")
    print(
        f"{n} dossiers (seed {seed}): {result.rows} generated rows, "
        f"generate {result.generate_seconds:.2f} s, load {seconds:.2f} s"
    )
    print(json.dumps({k: v["sha256"] for k, v in tables.items()}, sort_keys=True))


if __name__ == "__main__":
    main()
