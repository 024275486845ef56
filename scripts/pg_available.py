"""Exit 0 if a PostgreSQL server answers at DATABASE_URL's host, 1 otherwise (with why)."""

import os
import sys

import psycopg

url = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Connect to the maintenance database: the test database does not exist yet.
base = url.rsplit("/", 1)[0] + "/postgres"
try:
    with psycopg.connect(base, connect_timeout=3) as conn:
        version = conn.execute("show server_version").fetchone()[0]
except Exception as exc:  # any failure means: no usable server
    print(f"PostgreSQL not reachable at {base}: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
print(f"PostgreSQL {version} answers at {base}")
