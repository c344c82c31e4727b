"""The benchmarks' own PostgreSQL database and Redis database number.

The services are shared with the test suite and other work on this machine,
so a benchmark creates a database of its own (and drops it afterwards) and
flushes only its own Redis database number.
"""

from __future__ import annotations

import subprocess

POSTGRES_SERVER = "postgres@127.0.0.1:5432"
REDIS_SERVER = "127.0.0.1:6379"


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql],
        check=True,
        capture_output=True,
    )


def fresh_postgres(name: str) -> str:
    """Drop and create the database ``name``; its SQLAlchemy URL (asyncpg)."""
    drop_postgres(name)
    _psql(f'CREATE DATABASE "{name}"')
    return f"postgresql+asyncpg://{POSTGRES_SERVER}/{name}"


def drop_postgres(name: str) -> None:
    """Drop the database ``name`` if it exists (closing its connections)."""
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_redis(db: int) -> str:
    """Flush Redis database number ``db`` (only that one); its URL."""
    host, port = REDIS_SERVER.split(":")
    subprocess.run(
        ["redis-cli", "-h", host, "-p", port, "-n", str(db), "FLUSHDB"],
        check=True,
        capture_output=True,
    )
    return f"redis://{REDIS_SERVER}/{db}"
