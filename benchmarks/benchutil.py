"""Helpers shared by the benchmarks: throw-away PostgreSQL databases."""

from __future__ import annotations

from typing import Any


def pg_admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=3)


def pg_create(url: str, name: str) -> bool:
    """(Re)create database `name` on the server at `url`; False (and why) if unusable."""
    try:
        with pg_admin(url) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:
        print(f"PostgreSQL not usable: {exc}")
        return False
    return True


def pg_drop(url: str, name: str) -> None:
    with pg_admin(url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
